// IP addresses and endpoints as plain values, usable by every layer without Asio or sockets.
//
// IpAddress holds an IPv4 or IPv6 address in network byte order; Endpoint adds a UDP port. They
// convert to and from text and raw bytes; the daemon converts them to Asio endpoints at its edge.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ikemesh {

class IpAddress {
  public:
    enum class Family : uint8_t { none = 0, v4 = 4, v6 = 6 };

    IpAddress() = default;
    static IpAddress v4(std::array<uint8_t, 4> b);
    static IpAddress v6(std::array<uint8_t, 16> b);
    // From 4 or 16 raw bytes; nullopt for any other length.
    static std::optional<IpAddress> from_bytes(std::span<const uint8_t> b);
    // From "192.0.2.1" or "2001:db8::1"; nullopt if neither.
    static std::optional<IpAddress> parse(std::string_view text);

    Family family() const { return family_; }
    bool is_v4() const { return family_ == Family::v4; }
    bool is_v6() const { return family_ == Family::v6; }
    bool empty() const { return family_ == Family::none; }
    // 4 or 16 bytes in network order (0 bytes when empty).
    std::span<const uint8_t> bytes() const {
        return {bytes_.data(), family_ == Family::v4 ? 4u : family_ == Family::v6 ? 16u : 0u};
    }
    std::string to_string() const;

    auto operator<=>(const IpAddress&) const = default;

  private:
    Family family_ = Family::none;
    std::array<uint8_t, 16> bytes_{};
};

struct Endpoint {
    IpAddress address;
    uint16_t port = 0;

    std::string to_string() const;  // "192.0.2.1:500" or "[2001:db8::1]:500"
    auto operator<=>(const Endpoint&) const = default;
};

}  // namespace ikemesh
