#include "common/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace ikemesh {

IpAddress IpAddress::v4(std::array<uint8_t, 4> b) {
    IpAddress a;
    a.family_ = Family::v4;
    std::copy(b.begin(), b.end(), a.bytes_.begin());
    return a;
}

IpAddress IpAddress::v6(std::array<uint8_t, 16> b) {
    IpAddress a;
    a.family_ = Family::v6;
    a.bytes_ = b;
    return a;
}

std::optional<IpAddress> IpAddress::from_bytes(std::span<const uint8_t> b) {
    IpAddress a;
    if (b.size() == 4) {
        a.family_ = Family::v4;
    } else if (b.size() == 16) {
        a.family_ = Family::v6;
    } else {
        return std::nullopt;
    }
    std::copy(b.begin(), b.end(), a.bytes_.begin());
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    char buf[INET6_ADDRSTRLEN + 1];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress a;
    if (inet_pton(AF_INET, buf, a.bytes_.data()) == 1) {
        a.family_ = Family::v4;
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.bytes_.data()) == 1) {
        a.family_ = Family::v6;
        return a;
    }
    return std::nullopt;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    switch (family_) {
        case Family::v4:
            return inet_ntop(AF_INET, bytes_.data(), buf, sizeof buf);
        case Family::v6:
            return inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf);
        case Family::none:
            break;
    }
    return "";
}

std::string Endpoint::to_string() const {
    if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(port);
    return address.to_string() + ":" + std::to_string(port);
}

}  // namespace ikemesh
