#include "crypto/sk_cipher.hpp"

#include <catch2/catch.hpp>

#include "crypto/prf.hpp"
#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

namespace {
EncrSpec spec_of(const std::string& alg) {
    if (alg == "gcm128") return {EncrAlg::aes_gcm_16, 128};
    if (alg == "gcm256") return {EncrAlg::aes_gcm_16, 256};
    return {EncrAlg::chacha20_poly1305, 256};
}

SkCipher make(EncrSpec e, IntegAlg i, uint8_t fill = 0x42) {
    auto c = SkCipher::create(e, i, SecretBytes(Bytes(*encr_key_size(e), fill)),
                              SecretBytes(Bytes(integ_key_size(i), fill ^ 0xff)));
    REQUIRE(c.ok());
    return std::move(*c);
}
}  // namespace

TEST_CASE("AEAD SK protection reproduces GCM, RFC 8439 and RFC 7634 Appendix B") {
    int n = 0;
    for (const auto& v : test::read_vectors("crypto/aead.txt")) {
        INFO(v.at("alg"));
        auto c = SkCipher::create(spec_of(v.at("alg")), IntegAlg::none,
                                  SecretBytes(test::hex(v.at("key"))), SecretBytes{});
        REQUIRE(c.ok());
        CHECK(c->iv_size() == 8);
        CHECK(c->icv_size() == 16);
        CHECK(c->block_size() == 1);
        const Bytes aad = test::hex(v.at("aad")), iv = test::hex(v.at("iv"));
        const Bytes pt = test::hex(v.at("pt"));
        Bytes ct(pt.size()), tag(16), back(pt.size());
        REQUIRE(c->seal(aad, iv, pt, ct, tag).ok());
        CHECK(to_hex(ct) == to_hex(test::hex(v.at("ct"))));
        CHECK(to_hex(tag) == v.at("tag"));
        REQUIRE(c->open(aad, iv, ct, tag, back).ok());
        CHECK(back == pt);
        ++n;
    }
    CHECK(n == 4);
}

TEST_CASE("every SK cipher round-trips and refuses any tampering") {
    const std::vector<std::pair<EncrSpec, IntegAlg>> suites{
        {{EncrAlg::aes_gcm_16, 128}, IntegAlg::none},
        {{EncrAlg::aes_gcm_16, 256}, IntegAlg::none},
        {{EncrAlg::chacha20_poly1305, 0}, IntegAlg::none},
        {{EncrAlg::aes_cbc, 128}, IntegAlg::hmac_sha2_256_128},
        {{EncrAlg::aes_cbc, 192}, IntegAlg::hmac_sha2_384_192},
        {{EncrAlg::aes_cbc, 256}, IntegAlg::hmac_sha2_512_256},
        {{EncrAlg::aes_cbc, 128}, IntegAlg::hmac_sha1_96},
    };
    for (auto [e, i] : suites) {
        INFO(name(e) << "-" << name(i));
        const SkCipher c = make(e, i);
        const Bytes aad =
            test::hex("0011223344556677 8899aabbccddeeff 2e202508 00000001 00000050 21000034");
        Bytes iv(c.iv_size(), 0x07);
        Bytes pt(48, 0);
        for (size_t k = 0; k < pt.size(); ++k)
            pt[k] = static_cast<uint8_t>(k);
        Bytes ct(pt.size()), icv(c.icv_size()), back(pt.size());
        REQUIRE(c.seal(aad, iv, pt, ct, icv).ok());
        CHECK(ct != pt);
        REQUIRE(c.open(aad, iv, ct, icv, back).ok());
        CHECK(back == pt);

        auto rejected = [&](Bytes a, Bytes v, Bytes x, Bytes t) {
            Bytes out(x.size(), 0xee);
            auto s = c.open(a, v, x, t, out);
            // Nothing of an unauthenticated message may reach the caller.
            return !s.ok() && s.error().is(Errc::integrity_check_failed) && out != pt;
        };
        Bytes bad_icv = icv;
        bad_icv.back() ^= 0x80;
        CHECK(rejected(aad, iv, ct, bad_icv));
        Bytes bad_ct = ct;
        bad_ct[0] ^= 1;
        CHECK(rejected(aad, iv, bad_ct, icv));
        Bytes bad_aad = aad;
        bad_aad[3] ^= 1;
        CHECK(rejected(bad_aad, iv, ct, icv));
        Bytes bad_iv = iv;
        bad_iv[0] ^= 1;
        CHECK(rejected(aad, bad_iv, ct, icv));
        // Another key of the same kind cannot open it either.
        const SkCipher other = make(e, i, 0x43);
        CHECK(other.open(aad, iv, ct, icv, back).error().is(Errc::integrity_check_failed));
        // In place (ciphertext buffer = plaintext buffer) works too.
        Bytes inplace = pt;
        REQUIRE(c.seal(aad, iv, inplace, inplace, icv).ok());
        CHECK(inplace == ct);
        REQUIRE(c.open(aad, iv, inplace, icv, inplace).ok());
        CHECK(inplace == pt);
    }
}

TEST_CASE(
    "AES-CBC ICV is the truncated HMAC over header | IV | ciphertext (RFC 7296 3.14, RFC 4868)") {
    for (auto [i, prf, len] : {std::tuple{IntegAlg::hmac_sha2_256_128, PrfAlg::hmac_sha2_256, 16},
                               std::tuple{IntegAlg::hmac_sha2_384_192, PrfAlg::hmac_sha2_384, 24},
                               std::tuple{IntegAlg::hmac_sha2_512_256, PrfAlg::hmac_sha2_512, 32},
                               std::tuple{IntegAlg::hmac_sha1_96, PrfAlg::hmac_sha1, 12}}) {
        const Bytes ikey(integ_key_size(i), 0x0b);
        auto c = SkCipher::create({EncrAlg::aes_cbc, 128}, i,
                                  SecretBytes(test::hex("2b7e151628aed2a6abf7158809cf4f3c")),
                                  SecretBytes(ikey));
        REQUIRE(c.ok());
        CHECK(c->icv_size() == static_cast<size_t>(len));
        // NIST SP 800-38A F.2.1: CBC-AES128 known answer for two blocks.
        const Bytes aad = test::hex("a0a1a2a3");
        const Bytes iv = test::hex("000102030405060708090a0b0c0d0e0f");
        const Bytes pt =
            test::hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        Bytes ct(32), icv(c->icv_size());
        REQUIRE(c->seal(aad, iv, pt, ct, icv).ok());
        CHECK(to_hex(ct) == "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2");
        Bytes mac_input = aad;
        mac_input.insert(mac_input.end(), iv.begin(), iv.end());
        mac_input.insert(mac_input.end(), ct.begin(), ct.end());
        auto full = Prf(prf).compute(ikey, mac_input);
        CHECK(to_hex(icv) == to_hex(full->view().first(static_cast<size_t>(len))));
    }
}

TEST_CASE("SkCipher refuses wrong key sizes, mixed suites and wrong buffer sizes") {
    auto bad = [](EncrSpec e, IntegAlg i, size_t ek, size_t ik) {
        return SkCipher::create(e, i, SecretBytes(ek), SecretBytes(ik));
    };
    CHECK(bad({EncrAlg::aes_gcm_16, 128}, IntegAlg::none, 16, 0).error().is(Errc::bad_key_length));
    CHECK(bad({EncrAlg::aes_gcm_16, 256}, IntegAlg::none, 20, 0).error().is(Errc::bad_key_length));
    CHECK(bad({EncrAlg::chacha20_poly1305, 0}, IntegAlg::none, 32, 0)
              .error()
              .is(Errc::bad_key_length));
    CHECK(bad({EncrAlg::aes_cbc, 128}, IntegAlg::hmac_sha2_256_128, 16, 16)
              .error()
              .is(Errc::bad_key_length));
    CHECK(bad({EncrAlg::aes_cbc, 256}, IntegAlg::hmac_sha2_256_128, 24, 32)
              .error()
              .is(Errc::bad_key_length));
    CHECK(bad({EncrAlg::aes_cbc, 128}, IntegAlg::none, 16, 0)
              .error()
              .is(Errc::unsupported_algorithm));
    CHECK(bad({EncrAlg::aes_gcm_16, 128}, IntegAlg::hmac_sha2_256_128, 20, 32)
              .error()
              .is(Errc::unsupported_algorithm));
    CHECK(bad({EncrAlg::aes_gcm_16, 192}, IntegAlg::none, 28, 0)
              .error()
              .is(Errc::unsupported_algorithm));

    const SkCipher cbc = make({EncrAlg::aes_cbc, 128}, IntegAlg::hmac_sha2_256_128);
    CHECK(cbc.iv_size() == 16);
    CHECK(cbc.block_size() == 16);
    Bytes iv(16), icv(16), out15(15), in15(15), out16(16), in16(16);
    CHECK(cbc.seal({}, iv, in15, out15, icv).error().is(Errc::bad_length));  // not whole blocks
    CHECK(cbc.seal({}, Bytes(8), in16, out16, icv).error().is(Errc::bad_length));
    CHECK(cbc.seal({}, iv, in16, out15, icv).error().is(Errc::bad_length));
    CHECK(cbc.open({}, iv, in16, Bytes(12), out16).error().is(Errc::bad_length));
    const SkCipher gcm = make({EncrAlg::aes_gcm_16, 128}, IntegAlg::none);
    CHECK(gcm.open({}, Bytes(8), in15, Bytes(15), out15).error().is(Errc::bad_length));
    // An empty plaintext is legal for an AEAD (the ICV alone authenticates the header).
    Bytes tag(16);
    REQUIRE(gcm.seal(test::hex("01"), Bytes(8), {}, {}, tag).ok());
    CHECK(gcm.open(test::hex("01"), Bytes(8), {}, tag, {}).ok());
    CHECK(
        gcm.open(test::hex("02"), Bytes(8), {}, tag, {}).error().is(Errc::integrity_check_failed));
}

TEST_CASE("an SkCipher holds little more than its key bytes") {
    // Two per IKE SA (one per direction); OpenSSL contexts are per thread, not per SA.
    CHECK(sizeof(SkCipher) <= 48);
}
