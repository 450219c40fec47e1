#include "crypto/ike_kdf.hpp"

#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

namespace {
IkeSpi spi(const std::string& hex) {
    return IkeSpi{std::stoull(hex, nullptr, 16)};
}

std::string concat(const IkeKeys& k) {
    return to_hex(k.sk_d.view()) + to_hex(k.sk_ai.view()) + to_hex(k.sk_ar.view()) +
           to_hex(k.sk_ei.view()) + to_hex(k.sk_er.view()) + to_hex(k.sk_pi.view()) +
           to_hex(k.sk_pr.view());
}
}  // namespace

TEST_CASE("IKEv2 key schedule matches the NIST CAVP SP 800-135 IKEv2 vectors") {
    const auto vectors = test::read_vectors("crypto/ikev2_kdf_cavp.txt");
    REQUIRE(vectors.size() == 2);
    for (const auto& v : vectors) {
        REQUIRE(v.at("hash") == "SHA-1");
        const Prf prf(PrfAlg::hmac_sha1);
        const Bytes ni = test::hex(v.at("ni")), nr = test::hex(v.at("nr"));
        const Bytes gir = test::hex(v.at("gir")), gir_new = test::hex(v.at("gir_new"));
        const Bytes dkm = test::hex(v.at("dkm"));
        REQUIRE(dkm.size() == 132);

        auto seed = compute_skeyseed(prf, gir, ni, nr);
        REQUIRE(seed.ok());
        CHECK(to_hex(seed->view()) == v.at("skeyseed"));

        // DKM is the whole prf+ output; with SHA-1 (3 x 20 octets for SK_d/SK_pi/SK_pr) a key
        // split of integ 20 + encr 16 covers exactly its 132 octets.
        auto keys = derive_ike_keys(prf, gir, ni, nr, spi(v.at("spii")), spi(v.at("spir")),
                                    {.encr = 16, .integ = 20});
        REQUIRE(keys.ok());
        CHECK(concat(*keys) == v.at("dkm"));
        CHECK(keys->sk_d.size() == 20);
        CHECK(keys->sk_ei.size() == 16);
        CHECK(keys->sk_ar.size() == 20);

        const auto sk_d = keys->sk_d.view();
        auto child = derive_child_keymat(prf, sk_d, {}, ni, nr, 132);
        REQUIRE(child.ok());
        CHECK(to_hex(child->view()) == v.at("dkm_child"));
        auto child_dh = derive_child_keymat(prf, sk_d, gir_new, ni, nr, 132);
        REQUIRE(child_dh.ok());
        CHECK(to_hex(child_dh->view()) == v.at("dkm_child_dh"));
        auto rekey = compute_rekey_skeyseed(prf, sk_d, gir_new, ni, nr);
        REQUIRE(rekey.ok());
        CHECK(to_hex(rekey->view()) == v.at("skeyseed_rekey"));

        // The rekeyed SA's keys are prf+ of that SKEYSEED, exactly like the first SA's.
        auto rekeyed = derive_rekeyed_ike_keys(prf, sk_d, gir_new, ni, nr, spi(v.at("spii")),
                                               spi(v.at("spir")), {.encr = 16, .integ = 20});
        auto expanded = expand_ike_keys(prf, rekey->view(), ni, nr, spi(v.at("spii")),
                                        spi(v.at("spir")), {.encr = 16, .integ = 20});
        REQUIRE(rekeyed.ok());
        REQUIRE(expanded.ok());
        CHECK(concat(*rekeyed) == concat(*expanded));
        CHECK(concat(*rekeyed) != concat(*keys));
    }
}

TEST_CASE("SK_* sizes follow the negotiated PRF, ENCR and INTEG") {
    const Prf prf(PrfAlg::hmac_sha2_256);
    const Bytes ni(32, 0x11), nr(32, 0x22), gir(32, 0x33);
    // AES-GCM-16-256 (36 octets with salt) and no INTEG.
    auto aead = derive_ike_keys(prf, gir, ni, nr, IkeSpi{1}, IkeSpi{2}, {.encr = 36, .integ = 0});
    REQUIRE(aead.ok());
    CHECK(aead->sk_d.size() == 32);
    CHECK(aead->sk_ai.empty());
    CHECK(aead->sk_ar.empty());
    CHECK(aead->sk_ei.size() == 36);
    CHECK(aead->sk_er.size() == 36);
    CHECK(aead->sk_pi.size() == 32);
    CHECK(aead->sk_pr.size() == 32);
    CHECK_FALSE(aead->sk_ei.equals(aead->sk_er));
    // The SPIs enter the seed: other SPIs give other keys.
    auto other = derive_ike_keys(prf, gir, ni, nr, IkeSpi{1}, IkeSpi{3}, {.encr = 36});
    CHECK_FALSE(other->sk_d.equals(aead->sk_d));
    CHECK(derive_ike_keys(prf, gir, {}, nr, IkeSpi{1}, IkeSpi{2}, {}).error().is(Errc::bad_length));
}

TEST_CASE("PSK AUTH is prf(prf(PSK, \"Key Pad for IKEv2\"), msg | nonce | prf(SK_p, ID'))") {
    const Prf prf(PrfAlg::hmac_sha2_256);
    const Bytes psk =
        Bytes(test::text("a shared secret").begin(), test::text("a shared secret").end());
    const Bytes msg = test::hex("0011223344"), nonce = test::hex("aabbccdd");
    const Bytes sk_p(32, 0x5a);
    const Bytes id = test::hex("02000000");  // ID type FQDN, reserved octets, no data
    auto mid = maced_id(prf, sk_p, id);
    REQUIRE(mid.ok());
    CHECK(mid->equals(*prf.compute(sk_p, id)));
    auto auth = psk_auth(prf, psk, msg, nonce, mid->view());
    REQUIRE(auth.ok());
    auto pad = prf.compute(psk, test::text("Key Pad for IKEv2"));
    Bytes signed_octets = msg;
    signed_octets.insert(signed_octets.end(), nonce.begin(), nonce.end());
    signed_octets.insert(signed_octets.end(), mid->view().begin(), mid->view().end());
    auto want = prf.compute(pad->view(), signed_octets);
    CHECK(auth->equals(*want));
    // The pad string is exactly 17 octets: with a NUL it would differ.
    auto with_nul = prf.compute(psk, test::text(std::string_view("Key Pad for IKEv2\0", 18)));
    CHECK_FALSE(with_nul->equals(*pad));
}
