// plan_capabilities(): which capabilities a configuration needs while starting and afterwards.
// The process-touching half (check, limit) is proven where capabilities are real: the systemd
// guest scenario (tests/e2e/scenarios/systemd_operator.sh) and by hand as root.
#include "daemon/capabilities.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace ikemesh;
using namespace ikemesh::daemon;

namespace {

std::vector<Capability> caps(const std::vector<CapabilityNeed>& needs) {
    std::vector<Capability> out;
    for (const auto& n : needs)
        out.push_back(n.capability);
    return out;
}

const CapabilityNeed* find(const std::vector<CapabilityNeed>& needs, Capability c) {
    for (const auto& n : needs) {
        if (n.capability == c) return &n;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("the defaults need CAP_NET_ADMIN for good and CAP_NET_BIND_SERVICE to start") {
    DaemonOptions d;  // kernel xfrm, ports 500 and 4500
    ProcessFacts facts;
    auto plan = plan_capabilities(d, facts);
    CHECK(caps(plan.startup) == std::vector{Capability::net_admin, Capability::net_bind_service});
    CHECK(caps(plan.running) == std::vector{Capability::net_admin});
    REQUIRE(find(plan.startup, Capability::net_admin));
    CHECK(find(plan.startup, Capability::net_admin)->reason == "kernel = \"xfrm\" (XFRM netlink)");
    CHECK(find(plan.startup, Capability::net_bind_service)->reason == "port = 500");
    CHECK(describe(plan.startup) == "CAP_NET_ADMIN CAP_NET_BIND_SERVICE");
}

TEST_CASE("pfkey needs CAP_NET_ADMIN, the fake kernel nothing") {
    DaemonOptions d;
    d.port = 15000;
    d.port_natt = 15001;
    d.kernel = "pfkey";
    auto plan = plan_capabilities(d, {});
    CHECK(caps(plan.running) == std::vector{Capability::net_admin});
    CHECK(plan.startup.front().reason == "kernel = \"pfkey\" (PF_KEY)");

    d.kernel = "fake";
    plan = plan_capabilities(d, {});
    CHECK(plan.startup.empty());
    CHECK(plan.running.empty());
    CHECK(describe(plan.running) == "none");
}

TEST_CASE("ports below the unprivileged start need CAP_NET_BIND_SERVICE, only while starting") {
    DaemonOptions d;
    d.kernel = "fake";
    d.port = 1500;
    d.port_natt = 1023;
    ProcessFacts facts;
    auto plan = plan_capabilities(d, facts);
    REQUIRE(caps(plan.startup) == std::vector{Capability::net_bind_service});
    CHECK(plan.startup[0].reason == "port_natt = 1023");
    CHECK(plan.running.empty());

    // Both ports privileged: one need naming both reasons.
    d.port = 500;
    d.port_natt = 4500;
    facts.unprivileged_port_start = 5000;
    plan = plan_capabilities(d, facts);
    REQUIRE(plan.startup.size() == 1);
    CHECK(plan.startup[0].reason == "port = 500, port_natt = 4500");

    // The sysctl lowered to 0: nothing is privileged.
    facts.unprivileged_port_start = 0;
    CHECK(plan_capabilities(d, facts).startup.empty());

    d.port = 15000;
    d.port_natt = 15001;
    facts.unprivileged_port_start = 1024;
    d.metrics_listen = Endpoint{*IpAddress::parse("127.0.0.1"), 80};
    plan = plan_capabilities(d, facts);
    REQUIRE(plan.startup.size() == 1);
    CHECK(plan.startup[0].reason == "metrics listen port 80");
}

TEST_CASE("a control_group the process is not in needs CAP_CHOWN to start") {
    DaemonOptions d;
    d.kernel = "fake";
    d.port = 15000;
    d.port_natt = 15001;
    d.control_group = "ikemesh";
    ProcessFacts facts;
    facts.egid = 0;
    facts.control_gid = 998;
    auto plan = plan_capabilities(d, facts);
    REQUIRE(caps(plan.startup) == std::vector{Capability::chown});
    CHECK(plan.startup[0].reason.find("control_group = \"ikemesh\"") == 0);
    CHECK(plan.running.empty());

    // The unit's Group=ikemesh: the owner may hand the socket to its own group.
    facts.egid = 998;
    CHECK(plan_capabilities(d, facts).startup.empty());
    // A supplementary group does as well.
    facts.egid = 0;
    facts.groups = {4, 998};
    CHECK(plan_capabilities(d, facts).startup.empty());
    // An unknown group is the control socket's error to report, not a capability.
    facts.groups.clear();
    facts.control_gid.reset();
    CHECK(plan_capabilities(d, facts).startup.empty());
}

TEST_CASE("capability names are the kernel's") {
    CHECK(std::string(capability_name(Capability::net_admin)) == "CAP_NET_ADMIN");
    CHECK(std::string(capability_name(Capability::net_bind_service)) == "CAP_NET_BIND_SERVICE");
    CHECK(std::string(capability_name(Capability::chown)) == "CAP_CHOWN");
}
