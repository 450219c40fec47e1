#include "ike/timer_policy.hpp"

#include <catch2/catch.hpp>

#include "support/deterministic_random.hpp"

using namespace ikemesh;
using namespace ikemesh::ike;
using namespace std::chrono_literals;

namespace {
double secs(Duration d) {
    return std::chrono::duration<double>(d).count();
}
}  // namespace

TEST_CASE("retransmit schedule follows the table in timer_policy.hpp") {
    EngineSettings s;  // 2 s, 1.8, 5 tries, 30 s cap
    const double expected[] = {2.0, 3.6, 6.48, 11.664, 20.9952, 30.0};
    for (uint32_t n = 0; n < 6; ++n) {
        auto wait = retransmit_wait(s, n);
        REQUIRE(wait);
        CHECK(secs(*wait) == Approx(expected[n]).epsilon(1e-6));
    }
    CHECK_FALSE(retransmit_wait(s, 6));
    CHECK(secs(retransmit_give_up_after(s)) == Approx(74.7392).epsilon(1e-6));
}

TEST_CASE("retransmit schedule with short test settings") {
    EngineSettings s;
    s.retransmit_timeout = 500ms;
    s.retransmit_base = 2.0;
    s.retransmit_tries = 2;
    CHECK(secs(*retransmit_wait(s, 0)) == Approx(0.5));
    CHECK(secs(*retransmit_wait(s, 1)) == Approx(1.0));
    CHECK(secs(*retransmit_wait(s, 2)) == Approx(2.0));
    CHECK_FALSE(retransmit_wait(s, 3));
    CHECK(secs(retransmit_give_up_after(s)) == Approx(3.5));
}

TEST_CASE("rekey time lies in [lifetime - margin - jitter, lifetime - margin] and varies") {
    test::DeterministicRandom rng(7);
    Duration lo = Duration::max(), hi = Duration::min();
    for (int i = 0; i < 200; ++i) {
        Duration at = rekey_after(3600s, 540s, 180s, rng);
        CHECK(at <= Duration(3060s));
        CHECK(at >= Duration(2880s));
        lo = std::min(lo, at);
        hi = std::max(hi, at);
    }
    CHECK(hi - lo > Duration(120s));  // jitter actually spreads the mesh
}

TEST_CASE("rekey is never scheduled before half the lifetime") {
    test::DeterministicRandom rng(3);
    CHECK(rekey_after(60s, 50s, 30s, rng) == Duration(30s));
}

TEST_CASE("re-initiation back-off doubles, caps and jitters by +-50%") {
    EngineSettings s;  // 2 s base, 120 s max
    test::DeterministicRandom rng(11);
    const double nominal[] = {2, 4, 8, 16, 32, 64, 120, 120};
    for (uint32_t f = 1; f <= 8; ++f) {
        for (int i = 0; i < 50; ++i) {
            double d = secs(reinitiate_backoff(s, f, rng));
            CHECK(d >= nominal[f - 1] * 0.5);
            CHECK(d < nominal[f - 1] * 1.5);
        }
    }
}

TEST_CASE("mesh follower delay is between one and three seconds") {
    test::DeterministicRandom rng(5);
    for (int i = 0; i < 100; ++i) {
        double d = secs(mesh_follower_delay(rng));
        CHECK(d >= 1.0);
        CHECK(d < 3.0);
    }
}
