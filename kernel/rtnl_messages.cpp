#include "kernel/rtnl_messages.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

namespace ikemesh::kernel::rtnl {
namespace {

static_assert(sizeof(nlmsghdr) == 16 && sizeof(rtmsg) == 12 && sizeof(rtattr) == 4);

constexpr size_t align4(size_t n) {
    return (n + 3) & ~size_t{3};
}

void append(Bytes& out, const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    out.insert(out.end(), p, p + n);
}

}  // namespace

void build_get_route(Bytes& out, const IpAddress& dst, uint32_t seq) {
    const auto addr = dst.bytes();
    const size_t attr_len = sizeof(rtattr) + addr.size();
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(sizeof h + sizeof(rtmsg) + align4(attr_len));
    h.nlmsg_type = RTM_GETROUTE;
    h.nlmsg_flags = NLM_F_REQUEST;
    h.nlmsg_seq = seq;
    rtmsg r{};
    r.rtm_family = dst.is_v4() ? AF_INET : AF_INET6;
    r.rtm_dst_len = static_cast<uint8_t>(addr.size() * 8);
    rtattr a{};
    a.rta_len = static_cast<uint16_t>(attr_len);
    a.rta_type = RTA_DST;
    const size_t start = out.size();
    append(out, &h, sizeof h);
    append(out, &r, sizeof r);
    append(out, &a, sizeof a);
    append(out, addr.data(), addr.size());
    out.resize(start + h.nlmsg_len, 0);
}

Result<std::optional<IpAddress>> parse_route_answer(const NetlinkMessage& m,
                                                    IpAddress::Family family) {
    const size_t addr_len = family == IpAddress::Family::v4 ? 4 : 16;
    if (m.type == NLMSG_ERROR) {
        int32_t err = 0;
        if (m.payload.size() < sizeof err) return Error{Errc::truncated, "netlink error message"};
        std::memcpy(&err, m.payload.data(), sizeof err);
        switch (-err) {
            case 0:
                return Error{Errc::kernel_failure, "route lookup: an ACK instead of a route"};
            case ENETUNREACH:
            case EHOSTUNREACH:
            case ENETDOWN:
            case EACCES:  // a "prohibit" route
            case EINVAL:  // a "blackhole" route
                return std::optional<IpAddress>{};
            default:
                return xfrm::netlink_error(-err, "route lookup", {});
        }
    }
    if (m.type != RTM_NEWROUTE) {
        return Error{Errc::kernel_failure,
                     "route lookup: unexpected message type " + std::to_string(m.type)};
    }
    rtmsg r;
    if (m.payload.size() < sizeof r) return Error{Errc::truncated, "rtmsg"};
    std::memcpy(&r, m.payload.data(), sizeof r);
    const int want = family == IpAddress::Family::v4 ? AF_INET : AF_INET6;
    if (r.rtm_family != want) return Error{Errc::kernel_failure, "route lookup: wrong family"};
    if (r.rtm_type == RTN_UNREACHABLE || r.rtm_type == RTN_PROHIBIT ||
        r.rtm_type == RTN_BLACKHOLE) {
        return std::optional<IpAddress>{};
    }
    std::optional<IpAddress> source;
    size_t pos = align4(sizeof r);
    while (pos < m.payload.size()) {
        if (m.payload.size() - pos < sizeof(rtattr)) return Error{Errc::truncated, "rtattr"};
        rtattr a;
        std::memcpy(&a, m.payload.data() + pos, sizeof a);
        if (a.rta_len < sizeof a || a.rta_len > m.payload.size() - pos) {
            return Error{Errc::bad_length, "rtattr length"};
        }
        ByteView value = m.payload.subspan(pos + sizeof a, a.rta_len - sizeof a);
        if (a.rta_type == RTA_PREFSRC) {
            if (value.size() != addr_len) return Error{Errc::bad_length, "RTA_PREFSRC length"};
            source = IpAddress::from_bytes(value);
        }
        pos += std::min(align4(a.rta_len), m.payload.size() - pos);
    }
    return source;
}

uint32_t change_groups() {
    return RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
           RTMGRP_IPV6_ROUTE;
}

bool is_change(uint16_t type) {
    switch (type) {
        case RTM_NEWADDR:
        case RTM_DELADDR:
        case RTM_NEWROUTE:
        case RTM_DELROUTE:
        case RTM_NEWLINK:
        case RTM_DELLINK:
            return true;
        default:
            return false;
    }
}

}  // namespace ikemesh::kernel::rtnl
