// The one place where real time meets the engine's time.
//
// The engine runs on ike TimePoint (a MonoClock of its own, so engine code cannot read a clock by
// accident); the daemon feeds it std::chrono::steady_clock, whose epoch it shares. TimePoint::max()
// ("no timer") maps to steady_clock's max and back.
#pragma once

#include <chrono>

#include "common/types.hpp"

namespace ikemesh::daemon {

inline TimePoint to_engine_time(std::chrono::steady_clock::time_point t) {
    if (t == std::chrono::steady_clock::time_point::max()) return TimePoint::max();
    return TimePoint(std::chrono::duration_cast<Duration>(t.time_since_epoch()));
}

inline std::chrono::steady_clock::time_point to_steady_time(TimePoint t) {
    if (t == TimePoint::max()) return std::chrono::steady_clock::time_point::max();
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch()));
}

inline TimePoint engine_now() {
    return to_engine_time(std::chrono::steady_clock::now());
}

}  // namespace ikemesh::daemon
