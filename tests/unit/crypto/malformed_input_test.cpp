// Peer-controlled input (KE data, AUTH data, certificates, SK payloads) must give a typed error,
// never a crash or an out-of-bounds read. Random and mutated inputs, run under ASan+UBSan too.
#include <catch2/catch.hpp>
#include <random>

#include "crypto/certificate.hpp"
#include "crypto/key_exchange.hpp"
#include "crypto/signature.hpp"
#include "crypto/sk_cipher.hpp"
#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

namespace {
Bytes random_bytes(std::mt19937& rng, size_t max_len) {
    Bytes b(rng() % (max_len + 1));
    for (auto& x : b)
        x = static_cast<uint8_t>(rng());
    return b;
}
Bytes mutate(std::mt19937& rng, Bytes b) {
    if (b.empty()) return b;
    switch (rng() % 3) {
        case 0:
            b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
            break;
        case 1:
            b.resize(rng() % b.size());
            break;
        default:
            b.insert(b.begin() + static_cast<long>(rng() % b.size()), static_cast<uint8_t>(rng()));
    }
    return b;
}
}  // namespace

TEST_CASE("random and mutated peer input never crashes and is refused with a typed error") {
    std::mt19937 rng(20261123);
    auto cert = Certificate::load_file(test::vector_path("pki/node1.pem"));
    REQUIRE(cert.ok());
    const Bytes der(cert->der().begin(), cert->der().end());
    auto key = *cert->public_key();
    auto x = generate_key_exchange(DhGroup::curve25519);
    auto p = generate_key_exchange(DhGroup::ecp256);
    auto m = generate_key_exchange(DhGroup::modp2048);
    auto c = SkCipher::create({EncrAlg::aes_cbc, 128}, IntegAlg::hmac_sha2_256_128,
                              SecretBytes(Bytes(16, 1)), SecretBytes(Bytes(32, 2)));
    const Bytes auth_alg = test::hex("0c300a06082a8648ce3d040302");
    int refused = 0;
    for (int i = 0; i < 2000; ++i) {
        const Bytes junk = random_bytes(rng, 300);
        if (!Certificate::from_der(junk).ok()) ++refused;
        auto mutated = Certificate::from_der(mutate(rng, der));
        (void)mutated;  // a flipped bit inside a signature still parses; only no crash matters
        if (!PublicKey::from_der(junk).ok()) ++refused;
        Bytes auth = auth_alg;
        auth.insert(auth.end(), junk.begin(), junk.end());
        CHECK(verify_auth(key, mutate(rng, auth), junk).error().is(Errc::signature_invalid));
        const Bytes u = mutate(rng, junk);
        auto xr = (*x)->shared_secret(u);
        if (u.size() != 32) CHECK(xr.error().is(Errc::invalid_public_key));
        auto ecp = (*p)->shared_secret(random_bytes(rng, 70));
        CHECK_FALSE(ecp.ok());  // a random x||y is on the curve with negligible probability
        auto modp = (*m)->shared_secret(junk);
        if (junk.size() != 256) CHECK(modp.error().is(Errc::invalid_public_key));
        Bytes out(junk.size());
        auto open = c->open(junk, Bytes(16), junk, Bytes(16), out);
        CHECK_FALSE(open.ok());
    }
    CHECK(refused == 4000);
}
