#include "ike/traffic_selectors.hpp"

#include <algorithm>

namespace ikemesh::ike {
namespace {

bool is_range(const wire::TrafficSelector& ts) {
    return ts.type == wire::TsType::ipv4_addr_range || ts.type == wire::TsType::ipv6_addr_range;
}

}  // namespace

wire::TrafficSelector host_selector(const IpAddress& host, uint8_t protocol, uint16_t start_port,
                                    uint16_t end_port) {
    wire::TrafficSelector ts;
    ts.type = host.is_v6() ? wire::TsType::ipv6_addr_range : wire::TsType::ipv4_addr_range;
    ts.ip_protocol = protocol;
    ts.start_port = start_port;
    ts.end_port = end_port;
    ts.start_address = host;
    ts.end_address = host;
    return ts;
}

TsPair allowed_selectors(const IpAddress& local, const IpAddress& remote,
                         std::span<const TrafficSpec> traffic) {
    TsPair pair;
    if (traffic.empty()) {
        pair.local.push_back(host_selector(local));
        pair.remote.push_back(host_selector(remote));
        return pair;
    }
    // A class's port may be at either end (a service on this node or on the peer), so the CHILD
    // SA is negotiated for the protocol and the ports are left to the kernel policies
    // (peer_policies in peers.cpp). Two classes of one protocol give one selector pair.
    for (const TrafficSpec& spec : traffic) {
        const bool seen = std::any_of(
            pair.local.begin(), pair.local.end(),
            [&](const wire::TrafficSelector& ts) { return ts.ip_protocol == spec.protocol; });
        if (seen) continue;
        pair.local.push_back(host_selector(local, spec.protocol));
        pair.remote.push_back(host_selector(remote, spec.protocol));
    }
    return pair;
}

std::optional<wire::TrafficSelector> intersect(const wire::TrafficSelector& a,
                                               const wire::TrafficSelector& b) {
    if (!is_range(a) || !is_range(b) || a.type != b.type) return std::nullopt;
    if (a.start_address.family() != b.start_address.family()) return std::nullopt;
    wire::TrafficSelector out = a;
    if (a.ip_protocol != 0 && b.ip_protocol != 0 && a.ip_protocol != b.ip_protocol) {
        return std::nullopt;
    }
    out.ip_protocol = a.ip_protocol ? a.ip_protocol : b.ip_protocol;
    out.start_port = std::max(a.start_port, b.start_port);
    out.end_port = std::min(a.end_port, b.end_port);
    if (out.start_port > out.end_port) return std::nullopt;
    // Addresses compare as big-endian byte strings of equal length.
    out.start_address = std::max(a.start_address, b.start_address);
    out.end_address = std::min(a.end_address, b.end_address);
    if (out.end_address < out.start_address) return std::nullopt;
    return out;
}

bool contains(const wire::TrafficSelector& outer, const wire::TrafficSelector& inner) {
    auto i = intersect(outer, inner);
    return i && i->ip_protocol == inner.ip_protocol && i->start_port == inner.start_port &&
           i->end_port == inner.end_port && i->start_address == inner.start_address &&
           i->end_address == inner.end_address;
}

namespace {

Selectors narrow_side(const Selectors& offered, const Selectors& allowed) {
    Selectors out;
    for (const auto& o : offered) {
        for (const auto& a : allowed) {
            auto i = intersect(o, a);
            if (i && std::find_if(out.begin(), out.end(), [&](const wire::TrafficSelector& x) {
                         return contains(x, *i);
                     }) == out.end()) {
                out.push_back(*i);
            }
        }
    }
    return out;
}

bool within(const Selectors& answer, const Selectors& proposed) {
    if (answer.empty()) return false;
    return std::all_of(answer.begin(), answer.end(), [&](const wire::TrafficSelector& a) {
        return std::any_of(proposed.begin(), proposed.end(),
                           [&](const wire::TrafficSelector& p) { return contains(p, a); });
    });
}

}  // namespace

Result<TsPair> narrow(const TsPair& offered, const TsPair& allowed) {
    TsPair out{narrow_side(offered.local, allowed.local),
               narrow_side(offered.remote, allowed.remote)};
    if (out.local.empty() || out.remote.empty()) {
        return Error{Errc::ts_unacceptable, "offered " + to_string(offered.remote) + " -> " +
                                                to_string(offered.local) + " outside " +
                                                to_string(allowed.remote) + " -> " +
                                                to_string(allowed.local)};
    }
    return out;
}

Status check_narrowed(const TsPair& answer, const TsPair& proposed) {
    if (!within(answer.local, proposed.local) || !within(answer.remote, proposed.remote)) {
        return Error{Errc::ts_unacceptable, "responder answered selectors we did not propose"};
    }
    return {};
}

std::string to_string(const wire::TrafficSelector& ts) {
    std::string s = ts.start_address.to_string();
    if (ts.end_address != ts.start_address) s += "-" + ts.end_address.to_string();
    if (ts.ip_protocol != 0 || ts.start_port != 0 || ts.end_port != 65535) {
        s += "[" + std::to_string(ts.ip_protocol);
        if (ts.start_port != 0 || ts.end_port != 65535) {
            s += "/" + std::to_string(ts.start_port);
            if (ts.end_port != ts.start_port) s += "-" + std::to_string(ts.end_port);
        }
        s += "]";
    }
    return s;
}

std::string to_string(const Selectors& list) {
    std::string s;
    for (const auto& ts : list) {
        if (!s.empty()) s += ",";
        s += to_string(ts);
    }
    return s;
}

}  // namespace ikemesh::ike
