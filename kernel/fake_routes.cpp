#include <algorithm>

#include "kernel/routes.hpp"

namespace ikemesh::kernel {

bool in_prefix(const IpAddress& a, const IpAddress& prefix, uint8_t length) {
    if (a.family() != prefix.family() || a.empty()) return false;
    const auto x = a.bytes();
    const auto p = prefix.bytes();
    const size_t bits = std::min<size_t>(length, x.size() * 8);
    for (size_t i = 0; i < bits / 8; ++i) {
        if (x[i] != p[i]) return false;
    }
    if (bits % 8 != 0) {
        const auto mask = static_cast<uint8_t>(0xff << (8 - bits % 8));
        if ((x[bits / 8] & mask) != (p[bits / 8] & mask)) return false;
    }
    return true;
}

void FakeRoutes::add(const IpAddress& prefix, uint8_t length, const IpAddress& source) {
    remove(prefix, length);
    routes_.push_back(Route{prefix, length, source});
}

void FakeRoutes::remove(const IpAddress& prefix, uint8_t length) {
    std::erase_if(routes_,
                  [&](const Route& r) { return r.prefix == prefix && r.length == length; });
}

void FakeRoutes::remove_source(const IpAddress& source) {
    std::erase_if(routes_, [&](const Route& r) { return r.source == source; });
}

Result<std::optional<IpAddress>> FakeRoutes::source_for(const IpAddress& remote) {
    ++lookups_;
    const Route* best = nullptr;
    for (const Route& r : routes_) {
        if (in_prefix(remote, r.prefix, r.length) && (!best || r.length > best->length)) best = &r;
    }
    if (!best) return std::optional<IpAddress>{};
    return std::optional<IpAddress>{best->source};
}

}  // namespace ikemesh::kernel
