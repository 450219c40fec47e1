// The crypto suite keeps per-thread OpenSSL contexts and shares read-only group parameters;
// several threads using it at once must each get correct results.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "crypto/key_exchange.hpp"
#include "crypto/prf.hpp"
#include "crypto/sk_cipher.hpp"
#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

TEST_CASE("key exchange, PRF and SK protection agree across concurrent threads") {
    const Bytes expected_mac =
        *from_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    std::atomic<int> failures{0};
    auto work = [&](int seed) {
        for (int round = 0; round < 20; ++round) {
            for (auto g : {DhGroup::curve25519, DhGroup::ecp256, DhGroup::modp2048}) {
                auto a = generate_key_exchange(g);
                auto b = generate_key_exchange(g);
                auto sa = (*a)->shared_secret((*b)->public_key());
                auto sb = (*b)->shared_secret((*a)->public_key());
                if (!sa || !sb || !sa->equals(*sb)) ++failures;
            }
            auto mac = Prf(PrfAlg::hmac_sha2_256)
                           .compute(test::text("Jefe"), test::text("what do ya want for nothing?"));
            if (!mac || to_hex(mac->view()) != to_hex(expected_mac)) ++failures;
            auto c = SkCipher::create({EncrAlg::aes_gcm_16, 256}, IntegAlg::none,
                                      SecretBytes(Bytes(36, static_cast<uint8_t>(seed))), {});
            Bytes pt(100, static_cast<uint8_t>(round)), ct(100), tag(16), back(100);
            if (!c->seal({}, Bytes(8), pt, ct, tag) || !c->open({}, Bytes(8), ct, tag, back) ||
                back != pt)
                ++failures;
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back(work, t);
    for (auto& t : threads)
        t.join();
    CHECK(failures == 0);
}
