#include "crypto/prf.hpp"

#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

TEST_CASE("HMAC PRFs match RFC 4231 (and RFC 4868 2.7.2's PRF/ICV vector)") {
    int checked = 0;
    for (const auto& v : test::read_vectors("crypto/hmac_rfc4231_4868.txt")) {
        const Bytes key = test::hex(v.at("key"));
        const Bytes data = test::hex(v.at("data"));
        for (auto [field, alg] : {std::pair{"sha256", PrfAlg::hmac_sha2_256},
                                  std::pair{"sha384", PrfAlg::hmac_sha2_384},
                                  std::pair{"sha512", PrfAlg::hmac_sha2_512}}) {
            auto it = v.find(field);
            if (it == v.end()) continue;
            const Bytes want = test::hex(it->second);
            auto out = Prf(alg).compute(key, data);
            REQUIRE(out.ok());
            // Integrity vectors list the truncated ICV: compare the leading octets.
            CHECK(to_hex(out->view().first(want.size())) == to_hex(want));
            if (v.at("kind") == "prf") CHECK(out->size() == want.size());
            ++checked;
        }
    }
    CHECK(checked == 8);
}

TEST_CASE("PRF over pieces equals PRF over the concatenation") {
    const Prf prf(PrfAlg::hmac_sha2_384);
    const Bytes key = test::hex("000102030405");
    const Bytes a = test::hex("aabbcc"), b = test::hex(""), c = test::hex("ddeeff00");
    Bytes whole = a;
    whole.insert(whole.end(), c.begin(), c.end());
    Bytes out(prf.size());
    REQUIRE(prf.compute(key, {a, b, c}, out).ok());
    auto ref = prf.compute(key, whole);
    REQUIRE(ref.ok());
    CHECK(to_hex(out) == to_hex(ref->view()));
}

TEST_CASE("an empty PRF key is a zero key, not the previous caller's key") {
    const Prf prf(PrfAlg::hmac_sha2_256);
    const Bytes data{'x'};
    auto keyed = prf.compute(test::hex("0102"), data);
    auto empty1 = prf.compute({}, data);
    auto zero = prf.compute(test::hex("00"), data);  // HMAC pads keys with zeros
    REQUIRE(keyed.ok());
    REQUIRE(empty1.ok());
    REQUIRE(zero.ok());
    CHECK_FALSE(empty1->equals(*keyed));
    CHECK(empty1->equals(*zero));
}

TEST_CASE("prf+ is T1 | T2 | ... with Tn = prf(K, Tn-1 | S | n) (RFC 7296 2.13)") {
    const Prf prf(PrfAlg::hmac_sha2_256);
    const Bytes key = test::hex("4b657931"), seed = test::hex("5365656431");
    auto out = prf.prf_plus(key, seed, 80);
    REQUIRE(out.ok());
    Bytes t1_in = seed;
    t1_in.push_back(1);
    auto t1 = prf.compute(key, t1_in);
    Bytes t2_in(t1->view().begin(), t1->view().end());
    t2_in.insert(t2_in.end(), seed.begin(), seed.end());
    t2_in.push_back(2);
    auto t2 = prf.compute(key, t2_in);
    Bytes t3_in(t2->view().begin(), t2->view().end());
    t3_in.insert(t3_in.end(), seed.begin(), seed.end());
    t3_in.push_back(3);
    auto t3 = prf.compute(key, t3_in);
    const std::string want = to_hex(t1->view()) + to_hex(t2->view()) + to_hex(t3->view().first(16));
    CHECK(to_hex(out->view()) == want);
    // A shorter request is a prefix; pieces equal the concatenated seed.
    auto shorter = prf.prf_plus(key, seed, 33);
    CHECK(to_hex(shorter->view()) == want.substr(0, 66));
    auto pieces = prf.prf_plus(key, {test::hex("5365"), test::hex("6564"), test::hex("31")}, 80);
    CHECK(pieces->equals(*out));
}

TEST_CASE("prf+ stops at 255 blocks and output buffers must fit") {
    const Prf prf(PrfAlg::hmac_sha1);
    CHECK(prf.prf_plus(Bytes{1}, Bytes{2}, 255 * 20).ok());
    auto too_long = prf.prf_plus(Bytes{1}, Bytes{2}, 255 * 20 + 1);
    REQUIRE_FALSE(too_long.ok());
    CHECK(too_long.error().is(Errc::bad_length));
    Bytes small(19);
    CHECK(prf.compute(Bytes{1}, Bytes{2}, small).error().is(Errc::bad_length));
    CHECK(Prf(static_cast<PrfAlg>(99))
              .compute(Bytes{1}, Bytes{2})
              .error()
              .is(Errc::unsupported_algorithm));
}
