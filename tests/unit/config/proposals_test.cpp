#include "config/proposals.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace ikemesh;
using namespace ikemesh::config;
using crypto::DhGroup;
using crypto::EncrAlg;
using crypto::EncrSpec;
using crypto::IntegAlg;
using crypto::PrfAlg;

namespace {

std::string ike_error(std::string_view text) {
    auto r = parse_ike_proposal(text);
    INFO(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is(Errc::config_invalid));
    return r.error().detail;
}

std::string esp_error(std::string_view text) {
    auto r = parse_esp_proposal(text);
    INFO(text);
    REQUIRE_FALSE(r.ok());
    return r.error().detail;
}

}  // namespace

TEST_CASE("an AEAD IKE proposal") {
    auto p = *parse_ike_proposal("aes128gcm16-prfsha256-x25519");
    CHECK(p.encr == std::vector<EncrSpec>{{EncrAlg::aes_gcm_16, 128}});
    CHECK(p.integ.empty());
    CHECK(p.prf == std::vector<PrfAlg>{PrfAlg::hmac_sha2_256});
    CHECK(p.dh == std::vector<DhGroup>{DhGroup::curve25519});
}

TEST_CASE("a cipher+integrity IKE proposal implies its PRF as strongSwan does") {
    auto p = *parse_ike_proposal("aes256-sha256-modp3072");
    CHECK(p.encr == std::vector<EncrSpec>{{EncrAlg::aes_cbc, 256}});
    CHECK(p.integ == std::vector<IntegAlg>{IntegAlg::hmac_sha2_256_128});
    CHECK(p.prf == std::vector<PrfAlg>{PrfAlg::hmac_sha2_256});
    CHECK(p.dh == std::vector<DhGroup>{DhGroup::modp3072});
    auto q = *parse_ike_proposal("aes128-sha1-sha512-ecp256");
    CHECK(q.prf == std::vector<PrfAlg>{PrfAlg::hmac_sha1, PrfAlg::hmac_sha2_512});
    // An explicit PRF wins over the implied one.
    auto r = *parse_ike_proposal("aes128-sha256-prfsha384-ecp384");
    CHECK(r.prf == std::vector<PrfAlg>{PrfAlg::hmac_sha2_384});
}

TEST_CASE("several names of a kind are alternatives in the order written") {
    auto p = *parse_ike_proposal("aes256-aes128-sha384-sha256-x25519-ecp256-modp3072");
    CHECK(p.encr == std::vector<EncrSpec>{{EncrAlg::aes_cbc, 256}, {EncrAlg::aes_cbc, 128}});
    CHECK(p.integ ==
          std::vector<IntegAlg>{IntegAlg::hmac_sha2_384_192, IntegAlg::hmac_sha2_256_128});
    CHECK(p.prf == std::vector<PrfAlg>{PrfAlg::hmac_sha2_384, PrfAlg::hmac_sha2_256});
    CHECK(p.dh == std::vector<DhGroup>{DhGroup::curve25519, DhGroup::ecp256, DhGroup::modp3072});
    // Order of kinds in the text does not matter; repeated names count once.
    auto q = *parse_ike_proposal("x25519-prfsha256-aes128gcm16-x25519");
    CHECK(q == *parse_ike_proposal("aes128gcm16-prfsha256-x25519"));
}

TEST_CASE("strongSwan aliases name the same algorithms") {
    auto base = *parse_ike_proposal("aes128gcm16-prfsha256-x25519");
    CHECK(*parse_ike_proposal("aes128gcm-prfsha256-curve25519") == base);
    CHECK(*parse_ike_proposal("aes128gcm128-prfsha256-x25519") == base);
    CHECK(*parse_ike_proposal("aes256gcm-prfsha256-curve448") ==
          *parse_ike_proposal("aes256gcm16-prfsha256-x448"));
    CHECK(*parse_ike_proposal("aes-sha2_256-modp2048") ==
          *parse_ike_proposal("aes128-sha256-modp2048"));
    CHECK(*parse_ike_proposal("aes128-sha-modp2048") ==
          *parse_ike_proposal("aes128-sha1-modp2048"));
}

TEST_CASE("every algorithm a proposal may carry is printed by crypto::name and parses back") {
    for (const auto& a : proposal_algorithms()) {
        std::string name = canonical_name(a);
        INFO(name);
        CHECK(name != "unknown");
        REQUIRE(find_algorithm(name));
        CHECK(*find_algorithm(name) == a);
    }
    // Every spelling, alias or not, stands for one of them.
    auto all = proposal_algorithms();
    for (auto spelling : algorithm_spellings()) {
        INFO(spelling);
        auto a = find_algorithm(spelling);
        REQUIRE(a);
        CHECK(std::find(all.begin(), all.end(), *a) != all.end());
    }
    // Every enumerator of crypto/algorithms.hpp except the placeholders is offered.
    auto offered = [&](Algorithm probe) {
        return std::find(all.begin(), all.end(), probe) != all.end();
    };
    for (auto g : {DhGroup::modp2048, DhGroup::modp3072, DhGroup::modp4096, DhGroup::ecp256,
                   DhGroup::ecp384, DhGroup::ecp521, DhGroup::curve25519, DhGroup::curve448}) {
        CHECK(offered(*find_algorithm(crypto::name(g))));
    }
    for (auto i : {IntegAlg::hmac_sha1_96, IntegAlg::hmac_sha2_256_128, IntegAlg::hmac_sha2_384_192,
                   IntegAlg::hmac_sha2_512_256}) {
        CHECK(offered(*find_algorithm(crypto::name(i))));
    }
    for (auto f :
         {PrfAlg::hmac_sha1, PrfAlg::hmac_sha2_256, PrfAlg::hmac_sha2_384, PrfAlg::hmac_sha2_512}) {
        CHECK(offered(*find_algorithm(crypto::name(f))));
    }
    for (auto e : {EncrSpec{EncrAlg::aes_cbc, 128}, EncrSpec{EncrAlg::aes_cbc, 192},
                   EncrSpec{EncrAlg::aes_cbc, 256}, EncrSpec{EncrAlg::aes_gcm_16, 128},
                   EncrSpec{EncrAlg::aes_gcm_16, 256}, EncrSpec{EncrAlg::chacha20_poly1305, 256}}) {
        CHECK(offered(*find_algorithm(crypto::name(e))));
    }
    // crypto's "none" placeholders are not algorithms to offer.
    CHECK_FALSE(find_algorithm("none"));
    CHECK(ike_error("aes128gcm16-prfsha256-none") == "unknown algorithm \"none\"");
}

TEST_CASE("IKE proposal rules") {
    CHECK(ike_error("") == "empty proposal");
    CHECK(ike_error("aes128gcm16--x25519") == "empty algorithm name (two dashes in a row?)");
    CHECK(ike_error("prfsha256-x25519") == "no encryption algorithm");
    CHECK(ike_error("aes128gcm16-x25519") == "an AEAD IKE proposal needs a PRF such as prfsha256");
    CHECK(ike_error("aes128-prfsha256-x25519") ==
          "a non-AEAD cipher needs an integrity algorithm such as sha256");
    CHECK(ike_error("aes128gcm16-sha256-prfsha256-x25519") ==
          "an AEAD cipher takes no integrity algorithm");
    CHECK(ike_error("aes128gcm16-aes128-sha256-prfsha256-x25519") ==
          "AEAD and non-AEAD encryption algorithms cannot be mixed in one proposal");
    CHECK(ike_error("aes128gcm16-prfsha256") ==
          "an IKE proposal needs a key exchange group such as x25519");
    CHECK(ike_error("aes128gcm16-prfsha256-x25519-esn") == "\"esn\" applies to ESP proposals only");
}

TEST_CASE("unknown algorithm names are named in the error, with a suggestion when close") {
    CHECK(ike_error("aes128gcm8-prfsha256-x25519") ==
          "unknown algorithm \"aes128gcm8\" (did you mean \"aes128gcm\"?)");
    CHECK(ike_error("aes128gcm16-prfsha256-x2519") ==
          "unknown algorithm \"x2519\" (did you mean \"x25519\"?)");
    CHECK(ike_error("3des-md5-modp1024") == "unknown algorithm \"3des\"");
    CHECK(ike_error("AES128GCM16-prfsha256-x25519").find("\"AES128GCM16\"") != std::string::npos);
}

TEST_CASE("ESP proposals") {
    auto a = *parse_esp_proposal("aes128gcm16");
    CHECK(a.encr == std::vector<EncrSpec>{{EncrAlg::aes_gcm_16, 128}});
    CHECK(a.integ.empty());
    CHECK(a.dh.empty());
    CHECK_FALSE(a.esn);
    auto b = *parse_esp_proposal("aes256-sha256-ecp256-esn");
    CHECK(b.integ == std::vector<IntegAlg>{IntegAlg::hmac_sha2_256_128});
    CHECK(b.dh == std::vector<DhGroup>{DhGroup::ecp256});  // PFS on rekey
    CHECK(b.esn);
    CHECK_FALSE(parse_esp_proposal("chacha20poly1305-noesn")->esn);
    CHECK(esp_error("aes128gcm16-prfsha256") ==
          "\"prfsha256\": a PRF is not part of an ESP proposal");
    CHECK(esp_error("aes128gcm16-esn-noesn") ==
          "\"esn\" and \"noesn\" together are not supported; choose one");
    CHECK(esp_error("aes256") == "a non-AEAD cipher needs an integrity algorithm such as sha256");
    CHECK(esp_error("sha256") == "no encryption algorithm");
    CHECK(esp_error("aes128gcm16-bogus") == "unknown algorithm \"bogus\"");
}

TEST_CASE("proposals print canonically and parse back to the same value") {
    for (const char* text :
         {"aes128gcm16-prfsha256-x25519", "aes256-sha256-prfsha256-modp3072",
          "aes256gcm16-aes128gcm16-prfsha384-prfsha256-x448-ecp521-modp4096",
          "chacha20poly1305-prfsha512-x25519", "aes192-sha1-sha512-prfsha1-prfsha512-ecp384"}) {
        auto p = *parse_ike_proposal(text);
        CHECK(to_string(p) == text);
        CHECK(*parse_ike_proposal(to_string(p)) == p);
    }
    CHECK(to_string(*parse_ike_proposal("aes-sha2_256-curve25519")) ==
          "aes128-sha256-prfsha256-x25519");
    for (const char* text : {"aes128gcm16", "aes256-sha384-ecp384-esn", "chacha20poly1305"}) {
        auto p = *parse_esp_proposal(text);
        CHECK(to_string(p) == text);
        CHECK(*parse_esp_proposal(to_string(p)) == p);
    }
}

TEST_CASE("the PRF implied by each integrity algorithm") {
    CHECK(prf_for_integrity(IntegAlg::hmac_sha1_96) == PrfAlg::hmac_sha1);
    CHECK(prf_for_integrity(IntegAlg::hmac_sha2_256_128) == PrfAlg::hmac_sha2_256);
    CHECK(prf_for_integrity(IntegAlg::hmac_sha2_384_192) == PrfAlg::hmac_sha2_384);
    CHECK(prf_for_integrity(IntegAlg::hmac_sha2_512_256) == PrfAlg::hmac_sha2_512);
    CHECK_FALSE(prf_for_integrity(IntegAlg::none));
}
