// rtnetlink route lookup messages against golden bytes spelled out from linux/rtnetlink.h's
// layouts (struct nlmsghdr 16 bytes, struct rtmsg 12, struct rtattr 4), answers as the kernel
// sends them (`ip route get` in message form), and malformed input.
#include "kernel/rtnl_messages.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

#include "layout.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using ikemesh::kernel::test::ip;
using ikemesh::kernel::test::Layout;

namespace {

// An RTM_NEWROUTE answer: rtmsg, then RTA_TABLE, RTA_DST, RTA_OIF and (if given) RTA_PREFSRC, as
// inet_rtm_getroute/inet6_rtm_getroute fill them.
Bytes route_answer(const IpAddress& dst, const IpAddress* prefsrc, uint8_t type = RTN_UNICAST) {
    const size_t a = dst.is_v4() ? 4 : 16;
    const size_t size = 16 + 12 + 8 + (4 + a) + 8 + (prefsrc ? 4 + a : 0);
    Layout l(size);
    l.header(RTM_NEWROUTE, 0, 7, 1234);
    l.u8(16, dst.is_v4() ? AF_INET : AF_INET6).u8(17, static_cast<uint8_t>(a * 8));
    l.u8(20, RT_TABLE_MAIN).u8(23, type);
    size_t off = 28;
    l.attr(off, 8, RTA_TABLE).u32(off + 4, RT_TABLE_MAIN);
    off += 8;
    l.attr(off, static_cast<uint16_t>(4 + a), RTA_DST).addr(off + 4, dst);
    off += 4 + a;
    l.attr(off, 8, RTA_OIF).u32(off + 4, 3);
    off += 8;
    if (prefsrc) l.attr(off, static_cast<uint16_t>(4 + a), RTA_PREFSRC).addr(off + 4, *prefsrc);
    return l.get();
}

Bytes error_answer(int err) {
    Layout l(16 + 4 + 16);  // nlmsgerr with the request's header only (NETLINK_CAP_ACK)
    l.header(NLMSG_ERROR, 0x100 /* NLM_F_CAPPED */, 7, 1234).u32(16, static_cast<uint32_t>(-err));
    return l.get();
}

Result<std::optional<IpAddress>> parse(const Bytes& datagram, IpAddress::Family family) {
    auto msgs = xfrm::split_messages(datagram);
    REQUIRE(msgs);
    REQUIRE(msgs->size() == 1);
    return rtnl::parse_route_answer(msgs->front(), family);
}

}  // namespace

TEST_CASE("RTM_GETROUTE for an IPv4 and an IPv6 destination (golden)") {
    Bytes v4;
    rtnl::build_get_route(v4, ip("192.0.2.2"), 41);
    Layout want4(16 + 12 + 8);
    want4.header(RTM_GETROUTE, NLM_F_REQUEST, 41, 0)
        .u8(16, AF_INET)
        .u8(17, 32)  // rtm_dst_len
        .attr(28, 8, RTA_DST)
        .addr(32, ip("192.0.2.2"));
    CHECK(v4 == want4.get());

    Bytes v6;
    rtnl::build_get_route(v6, ip("2001:db8::2"), 42);
    Layout want6(16 + 12 + 20);
    want6.header(RTM_GETROUTE, NLM_F_REQUEST, 42, 0)
        .u8(16, AF_INET6)
        .u8(17, 128)
        .attr(28, 20, RTA_DST)
        .addr(32, ip("2001:db8::2"));
    CHECK(v6 == want6.get());

    // Appends: two requests in one buffer split back into two messages.
    Bytes both = v4;
    rtnl::build_get_route(both, ip("2001:db8::2"), 42);
    auto msgs = xfrm::split_messages(both);
    REQUIRE(msgs);
    REQUIRE(msgs->size() == 2);
    CHECK(msgs->at(1).seq == 42);
}

TEST_CASE("the route answer's RTA_PREFSRC is the source address") {
    const IpAddress src4 = ip("10.0.0.1"), src6 = ip("2001:db8::1");
    auto v4 = parse(route_answer(ip("10.0.0.2"), &src4), IpAddress::Family::v4);
    REQUIRE(v4);
    CHECK(*v4 == src4);
    auto v6 = parse(route_answer(ip("2001:db8::2"), &src6), IpAddress::Family::v6);
    REQUIRE(v6);
    CHECK(*v6 == src6);
    // No usable source (IPv6 with only tentative addresses): no PREFSRC, no address.
    auto none = parse(route_answer(ip("2001:db8::2"), nullptr), IpAddress::Family::v6);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    // Unreachable / prohibit / blackhole routes answered as routes: no address either.
    for (uint8_t type : {RTN_UNREACHABLE, RTN_PROHIBIT, RTN_BLACKHOLE}) {
        auto r = parse(route_answer(ip("10.0.0.2"), &src4, type), IpAddress::Family::v4);
        REQUIRE(r);
        CHECK_FALSE(r->has_value());
    }
}

TEST_CASE("no route is no address; other errors are errors") {
    for (int err : {ENETUNREACH, EHOSTUNREACH, EACCES, EINVAL, ENETDOWN}) {
        INFO(err);
        auto r = parse(error_answer(err), IpAddress::Family::v4);
        REQUIRE(r);
        CHECK_FALSE(r->has_value());
    }
    auto perm = parse(error_answer(EPERM), IpAddress::Family::v4);
    REQUIRE_FALSE(perm);
    CHECK(perm.error().is(Errc::kernel_permission_denied));
    auto ack = parse(error_answer(0), IpAddress::Family::v4);
    CHECK_FALSE(ack);
}

TEST_CASE("malformed route answers are refused, never read past their end") {
    const IpAddress src4 = ip("10.0.0.1");
    SECTION("wrong family") {
        auto r = parse(route_answer(ip("10.0.0.2"), &src4), IpAddress::Family::v6);
        CHECK_FALSE(r);
    }
    SECTION("PREFSRC of the wrong length") {
        Bytes b = route_answer(ip("2001:db8::2"), nullptr);
        // an IPv4-sized PREFSRC in an IPv6 answer
        Layout extra(8);
        extra.attr(0, 8, RTA_PREFSRC).addr(4, src4);
        b.insert(b.end(), extra.get().begin(), extra.get().end());
        const uint32_t len = static_cast<uint32_t>(b.size());
        std::memcpy(b.data(), &len, 4);
        CHECK_FALSE(parse(b, IpAddress::Family::v6));
    }
    SECTION("attribute longer than the message") {
        Bytes b = route_answer(ip("10.0.0.2"), &src4);
        b[b.size() - 8] = 0x40;  // PREFSRC's rta_len
        CHECK_FALSE(parse(b, IpAddress::Family::v4));
    }
    SECTION("rtmsg cut short, error cut short, unexpected type") {
        Layout shortr(16 + 8);
        shortr.header(RTM_NEWROUTE, 0, 1, 0);
        CHECK_FALSE(parse(shortr.get(), IpAddress::Family::v4));
        Layout shorte(16 + 2);
        shorte.header(NLMSG_ERROR, 0, 1, 0);
        CHECK_FALSE(parse(shorte.get(), IpAddress::Family::v4));
        Layout other(16 + 12);
        other.header(RTM_NEWADDR, 0, 1, 0);
        CHECK_FALSE(parse(other.get(), IpAddress::Family::v4));
    }
    SECTION("every truncation of a good answer loses the source, never reads past the end") {
        Bytes b = route_answer(ip("10.0.0.2"), &src4);
        for (size_t n = 0; n < b.size(); ++n) {
            Bytes cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
            if (n >= 4) {
                const uint32_t len = static_cast<uint32_t>(n);
                std::memcpy(cut.data(), &len, 4);
            }
            auto msgs = xfrm::split_messages(cut);
            if (!msgs || msgs->empty()) continue;
            auto r = rtnl::parse_route_answer(msgs->front(), IpAddress::Family::v4);
            // PREFSRC is the last attribute: any cut loses it.
            CHECK((!r || !r->has_value()));
        }
    }
}

TEST_CASE("address, route and link notifications count as changes; others do not") {
    for (int t : {RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWLINK, RTM_DELLINK}) {
        CHECK(rtnl::is_change(static_cast<uint16_t>(t)));
    }
    for (int t : {int{RTM_NEWNEIGH}, int{RTM_DELNEIGH}, int{RTM_NEWRULE}, NLMSG_DONE}) {
        CHECK_FALSE(rtnl::is_change(static_cast<uint16_t>(t)));
    }
    const uint32_t g = rtnl::change_groups();
    CHECK((g & RTMGRP_IPV4_IFADDR) != 0);
    CHECK((g & RTMGRP_IPV6_IFADDR) != 0);
    CHECK((g & RTMGRP_IPV4_ROUTE) != 0);
    CHECK((g & RTMGRP_IPV6_ROUTE) != 0);
    CHECK((g & RTMGRP_NEIGH) == 0);
}
