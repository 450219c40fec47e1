#include "crypto/key_exchange.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

namespace {
DhGroup group_of(const test::VectorBlock& v) {
    return static_cast<DhGroup>(std::stoi(v.at("group")));
}
std::unique_ptr<KeyExchange> from_private(DhGroup g, const Bytes& priv) {
    auto k = key_exchange_from_private(g, priv);
    REQUIRE(k.ok());
    return std::move(*k);
}
}  // namespace

TEST_CASE("ECP groups 19, 20, 21 reproduce RFC 5903 section 8") {
    const auto vectors = test::read_vectors("crypto/ecp_rfc5903.txt");
    REQUIRE(vectors.size() == 3);
    for (const auto& v : vectors) {
        const DhGroup g = group_of(v);
        INFO(name(g));
        auto gi = test::hex(v.at("gix")), giy = test::hex(v.at("giy"));
        gi.insert(gi.end(), giy.begin(), giy.end());
        auto gr = test::hex(v.at("grx")), gry = test::hex(v.at("gry"));
        gr.insert(gr.end(), gry.begin(), gry.end());
        auto i = from_private(g, test::hex(v.at("i")));
        CHECK(to_hex(i->public_key()) == to_hex(gi));  // KE data is x || y, no 0x04
        CHECK(i->public_key().size() == dh_public_size(g));
        auto s1 = i->shared_secret(gr);
        REQUIRE(s1.ok());
        CHECK(to_hex(s1->view()) == to_hex(test::hex(v.at("girx"))));  // RFC 5903 7: x only
        if (v.count("r")) {  // the responder's side where the file gives r
            auto r = from_private(g, test::hex(v.at("r")));
            CHECK(to_hex(r->public_key()) == to_hex(gr));
            auto s2 = r->shared_secret(gi);
            REQUIRE(s2.ok());
            CHECK(s1->equals(*s2));
        }
    }
}

TEST_CASE("X25519 and X448 reproduce RFC 7748 5.2, 6.1 and 6.2") {
    int n = 0;
    for (const auto& v : test::read_vectors("crypto/xdh_rfc7748.txt")) {
        const DhGroup g = group_of(v);
        if (v.count("k")) {
            auto k = from_private(g, test::hex(v.at("k")));
            auto out = k->shared_secret(test::hex(v.at("u")));
            REQUIRE(out.ok());
            CHECK(to_hex(out->view()) == v.at("out"));
        } else {
            auto a = from_private(g, test::hex(v.at("a")));
            auto b = from_private(g, test::hex(v.at("b")));
            CHECK(to_hex(a->public_key()) == v.at("pub_a"));
            CHECK(to_hex(b->public_key()) == v.at("pub_b"));
            auto ka = a->shared_secret(b->public_key());
            auto kb = b->shared_secret(a->public_key());
            REQUIRE(ka.ok());
            REQUIRE(kb.ok());
            CHECK(to_hex(ka->view()) == v.at("shared"));
            CHECK(to_hex(kb->view()) == v.at("shared"));
        }
        ++n;
    }
    CHECK(n == 4);
}

TEST_CASE("X25519/X448 public keys agree with OpenSSL's own key generation") {
    // Our public key is the ladder's X25519(a, 9) / X448(a, 5) (crypto/key_exchange.cpp); OpenSSL
    // computes it from the private key with other code. Random scalars, with the bits clamping
    // clears left set, must give the same value both ways.
    for (auto [g, type] : {std::pair{DhGroup::curve25519, "X25519"}, {DhGroup::curve448, "X448"}}) {
        INFO(type);
        for (int i = 0; i < 32; ++i) {
            Bytes priv(dh_public_size(g));
            REQUIRE(RAND_bytes(priv.data(), static_cast<int>(priv.size())) == 1);
            priv[0] |= 0x07;
            priv.back() |= 0x80;
            EVP_PKEY* ref =
                EVP_PKEY_new_raw_private_key_ex(nullptr, type, nullptr, priv.data(), priv.size());
            REQUIRE(ref != nullptr);
            Bytes want(priv.size());
            size_t len = want.size();
            const bool got = EVP_PKEY_get_raw_public_key(ref, want.data(), &len) == 1;
            EVP_PKEY_free(ref);
            REQUIRE(got);
            CHECK(to_hex(from_private(g, priv)->public_key()) == to_hex(want));
        }
    }
}

TEST_CASE("an X25519 key derives with several peers, interleaved with other keys") {
    // One derivation context per key pair is re-pointed at each peer, and the peer value goes
    // through one object per thread: interleaving must not mix them up.
    auto a = from_private(DhGroup::curve25519, Bytes(32, 0x11));
    auto b = from_private(DhGroup::curve25519, Bytes(32, 0x22));
    auto c = from_private(DhGroup::curve25519, Bytes(32, 0x33));
    auto ab = a->shared_secret(b->public_key());
    auto ac = a->shared_secret(c->public_key());
    auto ba = b->shared_secret(a->public_key());
    auto ca = c->shared_secret(a->public_key());
    auto ab2 = a->shared_secret(b->public_key());
    REQUIRE((ab.ok() && ac.ok() && ba.ok() && ca.ok() && ab2.ok()));
    CHECK(ab->equals(*ba));
    CHECK(ac->equals(*ca));
    CHECK(ab->equals(*ab2));
    CHECK_FALSE(ab->equals(*ac));
    // A refused peer value leaves the key usable.
    CHECK(a->shared_secret(Bytes(32, 0)).error().is(Errc::invalid_public_key));
    auto ab3 = a->shared_secret(b->public_key());
    REQUIRE(ab3.ok());
    CHECK(ab->equals(*ab3));
}

TEST_CASE("every supported group agrees with itself on fresh keys") {
    for (auto g : {DhGroup::modp2048, DhGroup::modp3072, DhGroup::modp4096, DhGroup::ecp256,
                   DhGroup::ecp384, DhGroup::ecp521, DhGroup::curve25519, DhGroup::curve448}) {
        INFO(name(g));
        CHECK(is_supported(g));
        auto a = generate_key_exchange(g);
        auto b = generate_key_exchange(g);
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        CHECK((*a)->group() == g);
        CHECK((*a)->public_key().size() == dh_public_size(g));
        CHECK(to_hex((*a)->public_key()) != to_hex((*b)->public_key()));
        auto sa = (*a)->shared_secret((*b)->public_key());
        auto sb = (*b)->shared_secret((*a)->public_key());
        REQUIRE(sa.ok());
        REQUIRE(sb.ok());
        CHECK(sa->equals(*sb));
    }
    CHECK_FALSE(is_supported(DhGroup::none));
    CHECK(generate_key_exchange(static_cast<DhGroup>(2)).error().is(Errc::unsupported_algorithm));
    SystemKeyExchangeFactory factory;
    auto f = factory.create(DhGroup::curve25519);
    REQUIRE(f.ok());
    CHECK((*f)->group() == DhGroup::curve25519);
}

TEST_CASE("MODP group 14 is the RFC 3526 prime with generator 2, values zero-padded") {
    const Bytes p = test::hex(test::read_vectors("crypto/modp_rfc3526.txt").at(0).at("p"));
    REQUIRE(p.size() == 256);
    // Private exponent 2047: g^x = 2^2047 < p (p's top 64 bits are all ones), so the KE data is
    // 0x80 followed by 255 zero octets. Exponent 11: 2^11 = 0x0800, zero-padded to 256 octets.
    auto big = from_private(DhGroup::modp2048, test::hex("07ff"));
    Bytes want(256, 0);
    want[0] = 0x80;
    CHECK(to_hex(big->public_key()) == to_hex(want));
    auto small = from_private(DhGroup::modp2048, test::hex("0b"));
    Bytes want_small(256, 0);
    want_small[254] = 0x08;
    CHECK(to_hex(small->public_key()) == to_hex(want_small));
    // Shared secret with x = 2 and y = 2^1000: 2^2000, octet 5 = 0x01, zero-padded.
    auto two = from_private(DhGroup::modp2048, test::hex("02"));
    Bytes y(256, 0);
    y[256 - 1 - 125] = 0x01;  // 2^1000 = bit 1000 = octet 125 from the end
    auto z = two->shared_secret(y);
    REQUIRE(z.ok());
    Bytes want_z(256, 0);
    want_z[5] = 0x01;
    CHECK(to_hex(z->view()) == to_hex(want_z));
    // The peer range 1 < y < p-1 is decided against exactly the RFC prime.
    Bytes p_minus_1 = p, p_minus_2 = p;
    p_minus_1.back() -= 1;
    p_minus_2.back() -= 2;
    CHECK(two->shared_secret(p_minus_2).ok());
    CHECK(two->shared_secret(p_minus_1).error().is(Errc::invalid_public_key));
    CHECK(two->shared_secret(p).error().is(Errc::invalid_public_key));
}

TEST_CASE("bad peer values are refused as RFC 6989 and RFC 7296 ask") {
    SECTION("MODP: y = 0, y = 1, y = p-1, wrong length") {
        for (auto g : {DhGroup::modp2048, DhGroup::modp3072, DhGroup::modp4096}) {
            auto k = generate_key_exchange(g);
            REQUIRE(k.ok());
            const size_t n = dh_public_size(g);
            Bytes zero(n, 0), one(n, 0), all_ones(n, 0xff);
            one.back() = 1;
            CHECK((*k)->shared_secret(zero).error().is(Errc::invalid_public_key));
            CHECK((*k)->shared_secret(one).error().is(Errc::invalid_public_key));
            CHECK((*k)->shared_secret(all_ones).error().is(Errc::invalid_public_key));
            Bytes shorter((*k)->public_key().begin(), (*k)->public_key().end() - 1);
            CHECK((*k)->shared_secret(shorter).error().is(Errc::invalid_public_key));
        }
        // y = p-1 for group 14 (the RFC 3526 prime minus one).
        Bytes pm1 = test::hex(test::read_vectors("crypto/modp_rfc3526.txt").at(0).at("p"));
        pm1.back() -= 1;
        auto k = generate_key_exchange(DhGroup::modp2048);
        CHECK((*k)->shared_secret(pm1).error().is(Errc::invalid_public_key));
    }
    SECTION("ECP: off-curve points, the all-zero encoding, the SEC 1 form, wrong length") {
        for (auto g : {DhGroup::ecp256, DhGroup::ecp384, DhGroup::ecp521}) {
            INFO(name(g));
            auto a = generate_key_exchange(g);
            auto b = generate_key_exchange(g);
            Bytes off((*b)->public_key().begin(), (*b)->public_key().end());
            off.back() ^= 1;  // y changed: not on the curve any more
            CHECK((*a)->shared_secret(off).error().is(Errc::invalid_public_key));
            const Bytes zeros(dh_public_size(g), 0);  // (0, 0) is not on these curves
            CHECK((*a)->shared_secret(zeros).error().is(Errc::invalid_public_key));
            Bytes sec1{0x04};
            sec1.insert(sec1.end(), (*b)->public_key().begin(), (*b)->public_key().end());
            CHECK((*a)->shared_secret(sec1).error().is(Errc::invalid_public_key));
            Bytes x_beyond_p(dh_public_size(g), 0xff);  // coordinates >= p
            CHECK((*a)->shared_secret(x_beyond_p).error().is(Errc::invalid_public_key));
        }
    }
    SECTION("X25519/X448: small-order points give an all-zero secret and are refused") {
        auto k = generate_key_exchange(DhGroup::curve25519);
        // u = 0 and u = 1 are points of small order (RFC 7748 6.1).
        Bytes u0(32, 0), u1(32, 0);
        u1[0] = 1;
        CHECK((*k)->shared_secret(u0).error().is(Errc::invalid_public_key));
        CHECK((*k)->shared_secret(u1).error().is(Errc::invalid_public_key));
        CHECK((*k)->shared_secret(Bytes(31, 9)).error().is(Errc::invalid_public_key));
        auto k448 = generate_key_exchange(DhGroup::curve448);
        CHECK((*k448)->shared_secret(Bytes(56, 0)).error().is(Errc::invalid_public_key));
        CHECK((*k448)->shared_secret(Bytes(32, 9)).error().is(Errc::invalid_public_key));
    }
}

TEST_CASE("private keys out of range are refused") {
    CHECK(key_exchange_from_private(DhGroup::modp2048, Bytes{0}).error().is(Errc::bad_key_length));
    CHECK(key_exchange_from_private(DhGroup::modp2048, {}).error().is(Errc::bad_key_length));
    CHECK(
        key_exchange_from_private(DhGroup::ecp256, Bytes(32, 0)).error().is(Errc::bad_key_length));
    CHECK(key_exchange_from_private(DhGroup::ecp256, Bytes(32, 0xff))
              .error()
              .is(Errc::bad_key_length));  // above the group order
    CHECK(key_exchange_from_private(DhGroup::curve25519, Bytes(31, 1))
              .error()
              .is(Errc::bad_key_length));
    CHECK(key_exchange_from_private(DhGroup::none, Bytes(32, 1))
              .error()
              .is(Errc::unsupported_algorithm));
}
