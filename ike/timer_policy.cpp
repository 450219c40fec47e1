#include "ike/timer_policy.hpp"

#include <algorithm>
#include <cmath>

namespace ikemesh::ike {
namespace {

Duration scale(Duration d, double factor) {
    return std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, Duration::period>(static_cast<double>(d.count()) * factor));
}

}  // namespace

std::optional<Duration> retransmit_wait(const EngineSettings& s, uint32_t attempt) {
    if (attempt > s.retransmit_tries) return std::nullopt;
    Duration wait = scale(s.retransmit_timeout, std::pow(s.retransmit_base, attempt));
    return std::min<Duration>(wait, s.retransmit_limit);
}

Duration retransmit_give_up_after(const EngineSettings& s) {
    Duration total{0};
    for (uint32_t n = 0; auto wait = retransmit_wait(s, n); ++n)
        total += *wait;
    return total;
}

Duration rekey_after(std::chrono::seconds lifetime, std::chrono::seconds margin,
                     std::chrono::seconds jitter, crypto::RandomSource& rng) {
    Duration at = lifetime - margin;
    if (jitter.count() > 0) {
        auto span_ms = static_cast<uint64_t>(std::chrono::milliseconds(jitter).count());
        at -= std::chrono::milliseconds(rng.uniform(span_ms));
    }
    return std::max<Duration>(at, lifetime / 2);
}

Duration reinitiate_backoff(const EngineSettings& s, uint32_t failures, crypto::RandomSource& rng) {
    uint32_t doublings = std::min<uint32_t>(failures > 0 ? failures - 1 : 0, 30);
    Duration nominal =
        std::min<Duration>(s.reinitiate_base * (int64_t{1} << doublings), s.reinitiate_max);
    double factor = 0.5 + static_cast<double>(rng.uniform(1000)) / 1000.0;
    return scale(nominal, factor);
}

std::optional<Duration> natt_keepalive_interval(std::chrono::seconds interval, bool behind_nat) {
    if (!behind_nat || interval.count() <= 0) return std::nullopt;
    return interval;
}

Duration mesh_follower_delay(crypto::RandomSource& rng) {
    return std::chrono::milliseconds(1000 + rng.uniform(2000));
}

}  // namespace ikemesh::ike
