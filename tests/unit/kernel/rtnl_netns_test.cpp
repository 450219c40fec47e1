// RtnlRoutes against the running kernel's routing, in a network namespace of its own (see
// netns.hpp): the answers agree with `ip route get`, "no route" in its forms is no address, and
// the notification socket turns readable on address and route changes.
//
//   one namespace per test:   lo up;  v0 10.98.0.1/24 2001:db8:98::1/64 <--veth--> v1
#include <poll.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "kernel/rtnl_routes.hpp"
#include "layout.hpp"
#include "netns.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using namespace ikemesh::kernel::test;

namespace {

bool setup(Checks& c) {
    // No IPv6 link-local addresses (their DAD would notify later, at random): quiet when idle.
    return c.check(shell("sysctl -qw net.ipv6.conf.default.addr_gen_mode=1") == 0, "sysctl") &&
           c.check(shell("ip link add v0 type veth peer name v1") == 0, "veth") &&
           c.check(shell("ip addr add 10.98.0.1/24 dev v0") == 0, "IPv4 address") &&
           // nodad: usable as a source at once (a tentative address is not)
           c.check(shell("ip -6 addr add 2001:db8:98::1/64 dev v0 nodad") == 0, "IPv6 address") &&
           c.check(shell("ip link set v0 up && ip link set v1 up") == 0, "links up");
}

std::string source(RtnlRoutes& r, const char* dst) {
    auto s = r.source_for(ip(dst));
    if (!s) return "error: " + s.error().message();
    return *s ? (*s)->to_string() : "none";
}

// Waits (bounded) for the notification socket to say something changed.
bool changed_within(RtnlRoutes& r, std::chrono::milliseconds budget) {
    const auto until = std::chrono::steady_clock::now() + budget;
    while (std::chrono::steady_clock::now() < until) {
        pollfd p{r.change_fd(), POLLIN, 0};
        if (::poll(&p, 1, 50) == 1 && r.read_changes()) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("route lookups give the source `ip route get` shows, and none without a route",
          "[netns]") {
    std::string report = in_new_netns([](Checks& c) {
        if (!setup(c)) return;
        auto routes = RtnlRoutes::open();
        if (!c.check(routes.ok(), "open")) return;
        RtnlRoutes& r = **routes;
        c.check(source(r, "10.98.0.2") == "10.98.0.1", "IPv4: " + source(r, "10.98.0.2"));
        c.check(shell_output("ip route get 10.98.0.2").find("src 10.98.0.1") != std::string::npos,
                "ip route get agrees");
        c.check(source(r, "2001:db8:98::2") == "2001:db8:98::1",
                "IPv6: " + source(r, "2001:db8:98::2"));
        c.check(source(r, "192.0.2.9") == "none", "IPv4 no route: " + source(r, "192.0.2.9"));
        c.check(source(r, "2001:db8:99::9") == "none",
                "IPv6 no route: " + source(r, "2001:db8:99::9"));
        // A route's own `src` wins over the interface's first address.
        c.check(shell("ip addr add 10.98.0.7/32 dev v0") == 0, "second address");
        c.check(shell("ip route add 192.0.2.0/24 dev v0 src 10.98.0.7") == 0, "route with src");
        c.check(source(r, "192.0.2.9") == "10.98.0.7", "route src: " + source(r, "192.0.2.9"));
        // unreachable and prohibit routes are no route.
        c.check(shell("ip route add unreachable 198.51.100.0/24") == 0, "unreachable route");
        c.check(shell("ip route add prohibit 203.0.113.0/24") == 0, "prohibit route");
        c.check(source(r, "198.51.100.1") == "none", "unreachable: " + source(r, "198.51.100.1"));
        c.check(source(r, "203.0.113.1") == "none", "prohibit: " + source(r, "203.0.113.1"));
        // Several lookups in a row on one socket stay in step.
        for (int i = 0; i < 50; ++i) {
            if (!c.check(source(r, i % 2 ? "10.98.0.2" : "2001:db8:98::2") ==
                             (i % 2 ? "10.98.0.1" : "2001:db8:98::1"),
                         "lookup " + std::to_string(i)))
                break;
        }
    });
    INFO(report);
    CHECK(report.empty());
}

TEST_CASE("address and route changes make the notification socket readable", "[netns]") {
    std::string report = in_new_netns([](Checks& c) {
        if (!setup(c)) return;
        auto routes = RtnlRoutes::open();
        if (!c.check(routes.ok(), "open")) return;
        RtnlRoutes& r = **routes;
        c.check(r.change_fd() >= 0, "change_fd");
        for (int i = 0; i < 50 && changed_within(r, std::chrono::milliseconds(200)); ++i) {
        }  // whatever the setup left
        c.check(!r.read_changes(), "quiet: nothing pending");
        c.check(shell("ip addr add 10.98.1.1/24 dev v0") == 0, "add IPv4 address");
        c.check(changed_within(r, std::chrono::seconds(2)), "IPv4 address added");
        c.check(source(r, "10.98.1.2") == "10.98.1.1", "new subnet: " + source(r, "10.98.1.2"));
        c.check(shell("ip route add 192.0.2.0/24 via 10.98.0.2") == 0, "add route");
        c.check(changed_within(r, std::chrono::seconds(2)), "IPv4 route added");
        c.check(source(r, "192.0.2.1") == "10.98.0.1", "via gateway: " + source(r, "192.0.2.1"));
        c.check(shell("ip -6 addr add 2001:db8:97::1/64 dev v0 nodad") == 0, "add IPv6 address");
        c.check(changed_within(r, std::chrono::seconds(2)), "IPv6 address added");
        c.check(shell("ip addr del 10.98.1.1/24 dev v0") == 0, "delete IPv4 address");
        c.check(changed_within(r, std::chrono::seconds(2)), "IPv4 address deleted");
        c.check(source(r, "10.98.1.2") == "none", "subnet gone: " + source(r, "10.98.1.2"));
        c.check(shell("ip link set v0 down") == 0, "link down");
        c.check(changed_within(r, std::chrono::seconds(2)), "link down");
        c.check(source(r, "10.98.0.2") == "none", "link down: " + source(r, "10.98.0.2"));
    });
    INFO(report);
    CHECK(report.empty());
}
