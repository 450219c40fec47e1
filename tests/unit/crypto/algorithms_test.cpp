#include "crypto/algorithms.hpp"

#include <catch2/catch.hpp>

using namespace ikemesh::crypto;

TEST_CASE("every algorithm enumerator has a strongSwan name that parses back") {
    for (auto g :
         {DhGroup::modp2048, DhGroup::modp3072, DhGroup::modp4096, DhGroup::ecp256, DhGroup::ecp384,
          DhGroup::ecp521, DhGroup::curve25519, DhGroup::curve448, DhGroup::none}) {
        CHECK(name(g) != "unknown");
        CHECK(parse_dh_group(name(g)) == g);
    }
    for (auto a :
         {PrfAlg::hmac_sha1, PrfAlg::hmac_sha2_256, PrfAlg::hmac_sha2_384, PrfAlg::hmac_sha2_512}) {
        CHECK(name(a) != "unknown");
        CHECK(parse_prf(name(a)) == a);
    }
    for (auto a : {IntegAlg::none, IntegAlg::hmac_sha1_96, IntegAlg::hmac_sha2_256_128,
                   IntegAlg::hmac_sha2_384_192, IntegAlg::hmac_sha2_512_256}) {
        CHECK(name(a) != "unknown");
        CHECK(parse_integ(name(a)) == a);
    }
    for (auto e : {EncrSpec{EncrAlg::aes_gcm_16, 128}, EncrSpec{EncrAlg::aes_gcm_16, 256},
                   EncrSpec{EncrAlg::aes_cbc, 128}, EncrSpec{EncrAlg::aes_cbc, 192},
                   EncrSpec{EncrAlg::aes_cbc, 256}, EncrSpec{EncrAlg::chacha20_poly1305, 256}}) {
        CHECK(name(e) != "unknown");
        CHECK(parse_encr(name(e)) == e);
    }
}

TEST_CASE("names are the strongSwan spellings, with its aliases accepted") {
    CHECK(name(DhGroup::curve25519) == "x25519");
    CHECK(parse_dh_group("curve25519") == DhGroup::curve25519);
    CHECK(parse_dh_group("curve448") == DhGroup::curve448);
    CHECK(name(EncrSpec{EncrAlg::aes_gcm_16, 128}) == "aes128gcm16");
    CHECK(name(EncrSpec{EncrAlg::chacha20_poly1305, 0}) == "chacha20poly1305");
    CHECK(parse_encr("aes256gcm") == EncrSpec{EncrAlg::aes_gcm_16, 256});
    CHECK(name(IntegAlg::hmac_sha2_256_128) == "sha256");
    CHECK(name(PrfAlg::hmac_sha2_384) == "prfsha384");
    CHECK_FALSE(parse_dh_group("modp1024").has_value());
    CHECK_FALSE(parse_encr("3des").has_value());
    CHECK_FALSE(parse_prf("sha256").has_value());
    CHECK_FALSE(parse_integ("prfsha256").has_value());
    CHECK(name(static_cast<DhGroup>(2)) == "unknown");
}

TEST_CASE("key, ICV, PRF and KE sizes follow the RFCs") {
    // RFC 5282 7.1 and RFC 7634 2: AEAD keys carry a 4-octet salt.
    CHECK(encr_key_size({EncrAlg::aes_gcm_16, 128}) == 20u);
    CHECK(encr_key_size({EncrAlg::aes_gcm_16, 256}) == 36u);
    CHECK(encr_key_size({EncrAlg::chacha20_poly1305, 0}) == 36u);
    CHECK(encr_key_size({EncrAlg::aes_cbc, 192}) == 24u);
    CHECK_FALSE(encr_key_size({EncrAlg::aes_gcm_16, 192}).has_value());
    CHECK_FALSE(encr_key_size({EncrAlg::aes_cbc, 64}).has_value());
    CHECK_FALSE(encr_key_size({EncrAlg::chacha20_poly1305, 128}).has_value());
    // RFC 4868 2.1.1/2.3, RFC 2404.
    CHECK(integ_key_size(IntegAlg::hmac_sha2_256_128) == 32u);
    CHECK(integ_icv_size(IntegAlg::hmac_sha2_256_128) == 16u);
    CHECK(integ_key_size(IntegAlg::hmac_sha2_384_192) == 48u);
    CHECK(integ_icv_size(IntegAlg::hmac_sha2_384_192) == 24u);
    CHECK(integ_key_size(IntegAlg::hmac_sha2_512_256) == 64u);
    CHECK(integ_icv_size(IntegAlg::hmac_sha2_512_256) == 32u);
    CHECK(integ_key_size(IntegAlg::hmac_sha1_96) == 20u);
    CHECK(integ_icv_size(IntegAlg::hmac_sha1_96) == 12u);
    CHECK(integ_icv_size(IntegAlg::none) == 0u);
    CHECK(prf_size(PrfAlg::hmac_sha1) == 20u);
    CHECK(prf_size(PrfAlg::hmac_sha2_512) == 64u);
    CHECK(dh_public_size(DhGroup::modp3072) == 384u);
    CHECK(dh_public_size(DhGroup::ecp521) == 132u);
    CHECK(dh_public_size(DhGroup::curve448) == 56u);
    CHECK(is_aead(EncrAlg::chacha20_poly1305));
    CHECK_FALSE(is_aead(EncrAlg::aes_cbc));
}
