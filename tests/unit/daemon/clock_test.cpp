#include "daemon/clock.hpp"

#include <catch2/catch.hpp>

using namespace ikemesh;
using namespace ikemesh::daemon;
using namespace std::chrono;

TEST_CASE("engine time and steady_clock share their epoch and round-trip exactly") {
    auto now = steady_clock::now();
    TimePoint t = to_engine_time(now);
    CHECK(t.time_since_epoch() == duration_cast<Duration>(now.time_since_epoch()));
    CHECK(to_steady_time(t) == now);
    CHECK(to_engine_time(now + seconds(30)) - t == seconds(30));
    auto before = to_engine_time(steady_clock::now());
    auto e = engine_now();
    CHECK(e >= before);
}

TEST_CASE("'no timer' maps to the far end of both clocks") {
    CHECK(to_steady_time(TimePoint::max()) == steady_clock::time_point::max());
    CHECK(to_engine_time(steady_clock::time_point::max()) == TimePoint::max());
}
