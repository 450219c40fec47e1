// Strong types for the identifiers and times that are easy to mix up: IKE SPIs (8 bytes) versus
// ESP SPIs (4 bytes), message ids, kernel reqids, and the monotonic time the engine runs on.
// Values are held in host order; the codec converts at the wire.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace ikemesh {

template <typename Tag, typename Rep>
struct StrongId {
    Rep value{};

    constexpr StrongId() = default;
    constexpr explicit StrongId(Rep v) : value(v) {}
    constexpr auto operator<=>(const StrongId&) const = default;
    constexpr bool is_zero() const { return value == 0; }
};

using IkeSpi = StrongId<struct IkeSpiTag, uint64_t>;
using EspSpi = StrongId<struct EspSpiTag, uint32_t>;
using MessageId = StrongId<struct MessageIdTag, uint32_t>;
using ReqId = StrongId<struct ReqIdTag, uint32_t>;

// 16 lowercase hex digits, as `ikectl` and logs show IKE SPIs.
std::string to_hex(IkeSpi spi);
// 8 lowercase hex digits.
std::string to_hex(EspSpi spi);

// The engine's monotonic clock. It is a type of its own so engine code cannot take
// std::chrono::steady_clock::now() by accident: time always comes from the injected clock.
struct MonoClock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<MonoClock>;
    static constexpr bool is_steady = true;
};
using TimePoint = MonoClock::time_point;
using Duration = std::chrono::nanoseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

}  // namespace ikemesh

template <typename Tag, typename Rep>
struct std::hash<ikemesh::StrongId<Tag, Rep>> {
    size_t operator()(const ikemesh::StrongId<Tag, Rep>& id) const noexcept {
        return std::hash<Rep>{}(id.value);
    }
};
