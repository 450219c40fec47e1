#include "daemon/capabilities.hpp"

#include <cap-ng.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <system_error>

namespace ikemesh::daemon {
namespace {

unsigned int cap_number(Capability c) {
    switch (c) {
        case Capability::net_admin:
            return CAP_NET_ADMIN;
        case Capability::net_bind_service:
            return CAP_NET_BIND_SERVICE;
        case Capability::chown:
            return CAP_CHOWN;
    }
    return CAP_NET_ADMIN;
}

void add(std::vector<CapabilityNeed>& needs, Capability c, std::string reason) {
    for (auto& n : needs) {
        if (n.capability == c) {
            n.reason += ", " + reason;
            return;
        }
    }
    needs.push_back({c, std::move(reason)});
}

Error permission_error(std::string what) {
    return Error{std::make_error_code(std::errc::operation_not_permitted), std::move(what)};
}

}  // namespace

const char* capability_name(Capability c) {
    switch (c) {
        case Capability::net_admin:
            return "CAP_NET_ADMIN";
        case Capability::net_bind_service:
            return "CAP_NET_BIND_SERVICE";
        case Capability::chown:
            return "CAP_CHOWN";
    }
    return "CAP_?";
}

CapabilityPlan plan_capabilities(const DaemonOptions& options, const ProcessFacts& facts) {
    CapabilityPlan plan;
    // Every XFRM netlink request is checked against the sender at the time it is sent, and
    // PF_KEY sockets can only be created with it: kept for the daemon's whole life.
    if (options.kernel != "fake") {
        std::string why = "kernel = \"" + options.kernel + "\" (" +
                          (options.kernel == "pfkey" ? "PF_KEY" : "XFRM netlink") + ")";
        add(plan.startup, Capability::net_admin, why);
        add(plan.running, Capability::net_admin, why);
    }
    auto privileged = [&](uint16_t port) {
        return static_cast<int>(port) < facts.unprivileged_port_start;
    };
    if (privileged(options.port)) {
        add(plan.startup, Capability::net_bind_service, "port = " + std::to_string(options.port));
    }
    if (privileged(options.port_natt)) {
        add(plan.startup, Capability::net_bind_service,
            "port_natt = " + std::to_string(options.port_natt));
    }
    if (options.metrics_listen && privileged(options.metrics_listen->port)) {
        add(plan.startup, Capability::net_bind_service,
            "metrics listen port " + std::to_string(options.metrics_listen->port));
    }
    // The owner of a file may give it to any group it is a member of; only another group needs
    // CAP_CHOWN. Under the unit (Group=ikemesh) the default control_group needs nothing.
    if (facts.control_gid) {
        gid_t gid = *facts.control_gid;
        bool member = gid == facts.egid || std::find(facts.groups.begin(), facts.groups.end(),
                                                     gid) != facts.groups.end();
        if (!member) {
            add(plan.startup, Capability::chown,
                "control_group = \"" + options.control_group +
                    "\", which is not the daemon's group (or give the daemon that group)");
        }
    }
    return plan;
}

ProcessFacts read_process_facts(const DaemonOptions& options) {
    ProcessFacts facts;
    facts.egid = ::getegid();
    int n = ::getgroups(0, nullptr);
    if (n > 0) {
        facts.groups.resize(static_cast<size_t>(n));
        n = ::getgroups(n, facts.groups.data());
        facts.groups.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    if (!options.control_group.empty()) {
        std::vector<char> buf(16384);
        group grp{};
        group* found = nullptr;
        // Unknown: the control socket reports it when it opens; nothing to plan for here.
        if (getgrnam_r(options.control_group.c_str(), &grp, buf.data(), buf.size(), &found) == 0 &&
            found != nullptr) {
            facts.control_gid = found->gr_gid;
        }
    }
    std::ifstream sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    int start = 0;
    if (sysctl >> start) facts.unprivileged_port_start = start;
    return facts;
}

Status check_capabilities(const std::vector<CapabilityNeed>& needs) {
    if (capng_get_caps_process() != 0) {
        return Error{std::error_code(errno, std::generic_category()),
                     "cannot read the process's capabilities"};
    }
    for (const auto& n : needs) {
        if (capng_have_capability(CAPNG_PERMITTED, cap_number(n.capability)) == 0) {
            return permission_error(
                std::string("missing capability ") + capability_name(n.capability) +
                ", needed for " + n.reason +
                "; start ikemeshd as root or with that capability (the systemd unit grants it "
                "with AmbientCapabilities=)");
        }
    }
    return {};
}

Status limit_capabilities(const std::vector<CapabilityNeed>& needs) {
    if (capng_get_caps_process() != 0) {
        return Error{std::error_code(errno, std::generic_category()),
                     "cannot read the process's capabilities"};
    }
    // Dropping from the bounding set takes CAP_SETPCAP, which root started by hand has and the
    // unit does not give (its CapabilityBoundingSet= is already just what we may need).
    bool bounds = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) != 0;
    capng_clear(CAPNG_SELECT_ALL);
    for (const auto& n : needs) {
        unsigned int cap = cap_number(n.capability);
        int type = CAPNG_EFFECTIVE | CAPNG_PERMITTED | (bounds ? CAPNG_BOUNDING_SET : 0);
        if (capng_update(CAPNG_ADD, static_cast<capng_type_t>(type), cap) != 0) {
            return permission_error(std::string("cannot keep ") + capability_name(n.capability));
        }
    }
    int select = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT | (bounds ? CAPNG_SELECT_BOUNDS : 0);
    if (int rc = capng_apply(static_cast<capng_select_t>(select)); rc != 0) {
        return permission_error("capng_apply failed (" + std::to_string(rc) + ")");
    }
    // With no_new_privs an exec can never add capabilities, not even for uid 0 with a bounding
    // set we could not shrink.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return Error{std::error_code(errno, std::generic_category()), "PR_SET_NO_NEW_PRIVS"};
    }

    // Verify what the kernel now says, not what we asked for.
    if (capng_get_caps_process() != 0) {
        return Error{std::error_code(errno, std::generic_category()),
                     "cannot read the process's capabilities"};
    }
    for (unsigned int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        bool wanted = std::any_of(needs.begin(), needs.end(), [cap](const CapabilityNeed& n) {
            return cap_number(n.capability) == cap;
        });
        for (capng_type_t type :
             {CAPNG_EFFECTIVE, CAPNG_PERMITTED, CAPNG_INHERITABLE, CAPNG_AMBIENT}) {
            bool held = capng_have_capability(type, cap) != 0;
            bool expected = wanted && (type == CAPNG_EFFECTIVE || type == CAPNG_PERMITTED);
            if (held != expected) {
                const char* name = capng_capability_to_name(cap);
                return permission_error(std::string("capability ") + (name ? name : "?") +
                                        (held ? " still held" : " lost") + " after dropping");
            }
        }
    }
    return {};
}

std::string describe(const std::vector<CapabilityNeed>& needs) {
    if (needs.empty()) return "none";
    std::string s;
    for (const auto& n : needs) {
        if (!s.empty()) s += ' ';
        s += capability_name(n.capability);
    }
    return s;
}

}  // namespace ikemesh::daemon
