#include "kernel/kernel.hpp"

#include <array>
#include <cstdio>
#include <type_traits>

#include "kernel/fake_kernel.hpp"
#include "kernel/pfkey_kernel.hpp"
#include "kernel/xfrm_kernel.hpp"

namespace ikemesh::kernel {

std::string_view name(Direction d) {
    switch (d) {
        case Direction::in:
            return "in";
        case Direction::out:
            return "out";
        case Direction::fwd:
            return "fwd";
    }
    return "?";
}

std::string_view name(Mode m) {
    switch (m) {
        case Mode::transport:
            return "transport";
        case Mode::tunnel:
            return "tunnel";
    }
    return "?";
}

std::string_view name(PolicyAction a) {
    switch (a) {
        case PolicyAction::ipsec:
            return "ipsec";
        case PolicyAction::allow:
            return "allow";
        case PolicyAction::block:
            return "block";
    }
    return "?";
}

std::string_view name(KernelKind k) {
    switch (k) {
        case KernelKind::xfrm:
            return "xfrm";
        case KernelKind::pfkey:
            return "pfkey";
        case KernelKind::fake:
            return "fake";
    }
    return "?";
}

std::optional<KernelKind> parse_kernel_kind(std::string_view text) {
    for (auto k : {KernelKind::xfrm, KernelKind::pfkey, KernelKind::fake}) {
        if (text == name(k)) return k;
    }
    return std::nullopt;
}

namespace {

uint8_t full_prefix(const IpAddress& a) {
    return a.is_v6() ? 128 : a.is_v4() ? 32 : 0;
}

IpAddress zero_address(IpAddress::Family family) {
    return family == IpAddress::Family::v6 ? IpAddress::v6({}) : IpAddress::v4({});
}

std::string protocol_name(uint8_t p) {
    switch (p) {
        case kProtoIcmp:
            return "icmp";
        case kProtoTcp:
            return "tcp";
        case kProtoUdp:
            return "udp";
        case kProtoEsp:
            return "esp";
        case kProtoIcmpv6:
            return "ipv6-icmp";
        case kProtoSctp:
            return "sctp";
        default:
            return std::to_string(p);
    }
}

}  // namespace

Selector Selector::host_to_host(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                uint16_t src_port, uint16_t dst_port) {
    return Selector{src, dst, full_prefix(src), full_prefix(dst), protocol, src_port, dst_port};
}

Selector Selector::any(IpAddress::Family family, uint8_t protocol, uint16_t src_port,
                       uint16_t dst_port) {
    return Selector{zero_address(family), zero_address(family), 0, 0, protocol, src_port, dst_port};
}

namespace {

uint16_t effective_mask(uint16_t port, uint16_t mask) {
    return mask != 0 ? mask : port != 0 ? 0xffff : 0;
}

// "[22]", "[0/0xffff]" for an exact 0, "" for any port.
std::string port_label(uint16_t port, uint16_t mask) {
    const uint16_t m = effective_mask(port, mask);
    if (m == 0) return "";
    std::string s = "[" + std::to_string(port);
    if (m != 0xffff || port == 0) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%04x", m);
        s += std::string("/") + hex;
    }
    return s + "]";
}

}  // namespace

uint16_t Selector::effective_src_mask() const {
    return effective_mask(src_port, src_port_mask);
}

uint16_t Selector::effective_dst_mask() const {
    return effective_mask(dst_port, dst_port_mask);
}

bool Selector::operator==(const Selector& o) const {
    return src == o.src && dst == o.dst && src_prefix == o.src_prefix &&
           dst_prefix == o.dst_prefix && protocol == o.protocol && src_port == o.src_port &&
           dst_port == o.dst_port && effective_src_mask() == o.effective_src_mask() &&
           effective_dst_mask() == o.effective_dst_mask();
}

bool PolicyIdLess::operator()(const PolicyId& a, const PolicyId& b) const {
    const auto& x = a.selector;
    const auto& y = b.selector;
    const uint16_t xs = x.effective_src_mask(), xd = x.effective_dst_mask();
    const uint16_t ys = y.effective_src_mask(), yd = y.effective_dst_mask();
    return std::tie(x.src, x.dst, x.src_prefix, x.dst_prefix, x.protocol, x.src_port, x.dst_port,
                    xs, xd, a.dir) < std::tie(y.src, y.dst, y.src_prefix, y.dst_prefix, y.protocol,
                                              y.src_port, y.dst_port, ys, yd, b.dir);
}

std::string Selector::to_string() const {
    std::string s = src.to_string() + "/" + std::to_string(src_prefix);
    s += port_label(src_port, src_port_mask);
    s += " -> " + dst.to_string() + "/" + std::to_string(dst_prefix);
    s += port_label(dst_port, dst_port_mask);
    if (protocol != kProtoAny) s += " " + protocol_name(protocol);
    return s;
}

SaParams SaParams::clone() const {
    SaParams c;
    c.src = src;
    c.dst = dst;
    c.spi = spi;
    c.reqid = reqid;
    c.mode = mode;
    c.encr = encr;
    c.integ = integ;
    c.encr_key = encr_key.clone();
    c.integ_key = integ_key.clone();
    c.esn = esn;
    c.replay_window = replay_window;
    c.soft = soft;
    c.hard = hard;
    c.encap = encap;
    c.selector = selector;
    c.acquire_seq = acquire_seq;
    return c;
}

std::vector<PolicyParams> transport_policies(const IpAddress& local, const IpAddress& peer,
                                             ReqId reqid, uint32_t priority) {
    std::vector<PolicyParams> out;
    PolicyParams p;
    p.action = PolicyAction::ipsec;
    p.priority = priority;
    p.reqid = reqid;
    p.mode = Mode::transport;

    p.id = {Selector::host_to_host(local, peer), Direction::out};
    p.tmpl_src = local;
    p.tmpl_dst = peer;
    out.push_back(p);

    p.id = {Selector::host_to_host(peer, local), Direction::in};
    p.tmpl_src = peer;
    p.tmpl_dst = local;
    out.push_back(p);
    return out;
}

std::vector<PolicyParams> bypass_policies(IpAddress::Family family, uint8_t protocol, uint16_t port,
                                          uint32_t priority) {
    std::vector<PolicyParams> out;
    auto add = [&](Direction dir, uint16_t sport, uint16_t dport) {
        PolicyParams p;
        p.id = {Selector::any(family, protocol, sport, dport), dir};
        p.action = PolicyAction::allow;
        p.priority = priority;
        out.push_back(p);
    };
    const bool icmp = protocol == kProtoIcmp || protocol == kProtoIcmpv6;
    if (icmp && port == 0) return icmp_bypass_policies(family, protocol, priority);
    if (port == 0 || icmp) {
        // Whole protocol, or one ICMP type (XFRM keeps the type in the source port field).
        add(Direction::out, port, 0);
        add(Direction::in, port, 0);
        return out;
    }
    // As a client we send to `port` and receive from it; as a server the other way round.
    add(Direction::out, 0, port);
    add(Direction::in, port, 0);
    add(Direction::in, 0, port);
    add(Direction::out, port, 0);
    return out;
}

std::vector<PolicyParams> icmp_bypass_policies(IpAddress::Family family, uint8_t protocol,
                                               uint32_t priority) {
    struct Types {
        uint8_t echo_request, echo_reply;
        std::array<uint8_t, 4> errors;  // inbound only; a 0 past the first is unused
        size_t error_count;
    };
    // RFC 792 / RFC 1122 3.2.2 for ICMP, RFC 4443 for ICMPv6.
    static constexpr Types kIcmp{8, 0, {3, 11, 12, 0}, 3};
    static constexpr Types kIcmpv6{128, 129, {1, 2, 3, 4}, 4};
    const Types& t = protocol == kProtoIcmpv6 ? kIcmpv6 : kIcmp;
    std::vector<PolicyParams> out;
    auto add = [&](Direction dir, uint8_t type) {
        PolicyParams p;
        p.id = {Selector::any(family, protocol, type, 0), dir};
        // Exact type, even 0 (echo reply), any code.
        p.id.selector.src_port_mask = 0xffff;
        p.action = PolicyAction::allow;
        p.priority = priority;
        out.push_back(p);
    };
    for (Direction dir : {Direction::out, Direction::in}) {
        add(dir, t.echo_request);
        add(dir, t.echo_reply);
    }
    for (size_t i = 0; i < t.error_count; ++i)
        add(Direction::in, t.errors[i]);
    return out;
}

std::vector<PolicyParams> essential_bypass_policies(IpAddress::Family family, uint32_t priority) {
    std::vector<PolicyParams> out;
    if (family != IpAddress::Family::v6) return out;
    // RFC 4861 4.1-4.5: router solicitation/advertisement, neighbour solicitation/
    // advertisement, redirect. Without these, host-to-host ipsec policies would swallow the
    // neighbour discovery that IPv6 needs before any ESP packet can reach the peer.
    for (uint16_t type = 133; type <= 137; ++type) {
        auto p = bypass_policies(family, kProtoIcmpv6, type, priority);
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

namespace {

std::string sa_label(const IpAddress& dst, EspSpi spi) {
    return dst.to_string() + " spi " + to_hex(spi);
}

std::string sa_label(const SaParams& sa) {
    return sa.src.to_string() + " -> " + sa_label(sa.dst, sa.spi);
}

std::string policy_label(const PolicyId& id) {
    return std::string(name(id.dir)) + " " + id.selector.to_string();
}

}  // namespace

std::string describe(const KernelOp& op) {
    return std::visit(
        [](const auto& o) -> std::string {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, AddSa>) {
                return "add SA " + sa_label(o.params);
            } else if constexpr (std::is_same_v<T, UpdateSa>) {
                return "update SA " + sa_label(o.params);
            } else if constexpr (std::is_same_v<T, DeleteSa>) {
                return "delete SA " + sa_label(o.dst, o.spi);
            } else if constexpr (std::is_same_v<T, AddPolicy>) {
                return "add policy " + policy_label(o.params.id);
            } else if constexpr (std::is_same_v<T, UpdatePolicy>) {
                return "update policy " + policy_label(o.params.id);
            } else {
                return "delete policy " + policy_label(o.id);
            }
        },
        op);
}

std::string describe(const KernelEvent& event) {
    return std::visit(
        [](const auto& e) -> std::string {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, AcquireEvent>) {
                return "acquire " + e.flow.to_string() + " reqid " + std::to_string(e.reqid.value) +
                       " seq " + std::to_string(e.seq);
            } else if constexpr (std::is_same_v<T, ExpireEvent>) {
                return std::string(e.hard ? "hard" : "soft") + " expire SA " +
                       sa_label(e.dst, e.spi) + " reqid " + std::to_string(e.reqid.value);
            } else if constexpr (std::is_same_v<T, SaDeletedEvent>) {
                return "SA " + sa_label(e.dst, e.spi) + " deleted by another process";
            } else if constexpr (std::is_same_v<T, PolicyDeletedEvent>) {
                return "policy " + policy_label(e.id) + " deleted by another process";
            } else if constexpr (std::is_same_v<T, MappingEvent>) {
                return "new mapping for SA " + sa_label(e.dst, e.spi) + ": " +
                       e.old_source.to_string() + " -> " + e.new_source.to_string();
            } else {
                return "resync needed: " + e.reason.message();
            }
        },
        event.data);
}

std::vector<Status> Kernel::submit(std::span<const KernelOp> ops) {
    std::vector<Status> results;
    results.reserve(ops.size());
    for (const auto& op : ops) {
        results.push_back(std::visit(
            [this](const auto& o) -> Status {
                using T = std::decay_t<decltype(o)>;
                if constexpr (std::is_same_v<T, AddSa>) {
                    return add_sa(o.params);
                } else if constexpr (std::is_same_v<T, UpdateSa>) {
                    return update_sa(o.params);
                } else if constexpr (std::is_same_v<T, DeleteSa>) {
                    return delete_sa(o.dst, o.spi);
                } else if constexpr (std::is_same_v<T, AddPolicy>) {
                    return add_policy(o.params);
                } else if constexpr (std::is_same_v<T, UpdatePolicy>) {
                    return update_policy(o.params);
                } else {
                    return delete_policy(o.id);
                }
            },
            op));
    }
    return results;
}

Result<size_t> Kernel::remove_owned() {
    auto owned = list_owned();
    if (!owned) return owned.take_error();
    std::vector<KernelOp> ops;
    ops.reserve(owned->sas.size() + owned->policies.size());
    // Policies first: with the SAs gone first, matching traffic would raise ACQUIREs for
    // nothing in the moment between.
    for (const auto& p : owned->policies)
        ops.emplace_back(DeletePolicy{p.id});
    for (const auto& sa : owned->sas)
        ops.emplace_back(DeleteSa{sa.dst, sa.spi});
    auto results = submit(ops);
    size_t removed = 0;
    for (size_t i = 0; i < results.size(); ++i) {
        if (results[i]) {
            ++removed;
        } else if (!results[i].error().is(Errc::kernel_no_entry)) {
            // Gone already is fine (expired meanwhile); anything else is worth reporting.
            return results[i].take_error();
        }
    }
    return removed;
}

Result<std::unique_ptr<Kernel>> open_kernel(KernelKind kind, OwnerTag owner) {
    switch (kind) {
        case KernelKind::fake:
            return std::unique_ptr<Kernel>(std::make_unique<FakeKernel>());
        case KernelKind::xfrm: {
            XfrmOptions options;
            options.owner = owner;
            auto k = XfrmKernel::open(options);
            if (!k) return k.take_error();
            return std::unique_ptr<Kernel>(std::move(*k));
        }
        case KernelKind::pfkey: {
            PfkeyOptions options;
            options.owner = owner;
            auto k = PfkeyKernel::open(options);
            if (!k) return k.take_error();
            return std::unique_ptr<Kernel>(std::move(*k));
        }
    }
    return Error{Errc::kernel_not_supported, "unknown kernel backend"};
}

}  // namespace ikemesh::kernel
