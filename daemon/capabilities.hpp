// The Linux capabilities ikemeshd holds: which ones the configuration needs, and when, and the
// libcap-ng calls that take every other one away, whoever started the daemon.
//
// Two phases. While starting, the daemon may need CAP_NET_BIND_SERVICE (IKE or metrics ports
// below net.ipv4.ip_unprivileged_port_start) and CAP_CHOWN (the control socket handed to a
// `control_group` the process is not a member of); once its sockets are open it keeps only
// CAP_NET_ADMIN, which every XFRM netlink request and PF_KEY message is checked against, and
// nothing at all with `kernel = "fake"`. A reload needs nothing more: the keys whose change would
// need a socket or a chown (`control_socket`, `control_group`, `listen`, ports, `metrics.listen`,
// `kernel`) only take effect at a restart, which starts from the unit's grant again.
//
// plan_capabilities() is pure (the process's groups and the sysctl come in as facts) and unit
// tested; read_process_facts(), check_capabilities() and limit_capabilities() touch the process.
// Capabilities are per thread: limit_capabilities() must run while the daemon has one thread,
// which it does (one io_context, no thread pool).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "daemon/options.hpp"

namespace ikemesh::daemon {

enum class Capability { net_admin, net_bind_service, chown };

// "CAP_NET_ADMIN", ...
const char* capability_name(Capability c);

struct CapabilityNeed {
    Capability capability;
    std::string reason;  // for the operator: "kernel = \"xfrm\" (XFRM netlink)"

    bool operator==(const CapabilityNeed&) const = default;
};

// What about the process decides the plan besides the configuration.
struct ProcessFacts {
    gid_t egid = 0;
    std::vector<gid_t> groups;           // supplementary groups
    std::optional<gid_t> control_gid;    // control_group resolved; none if unset or unknown
    int unprivileged_port_start = 1024;  // net.ipv4.ip_unprivileged_port_start
};

struct CapabilityPlan {
    std::vector<CapabilityNeed> startup;  // held from the check until the sockets are open
    std::vector<CapabilityNeed> running;  // kept afterwards (a subset of startup)
};

CapabilityPlan plan_capabilities(const DaemonOptions& options, const ProcessFacts& facts);

// The process's groups, control_group looked up, the sysctl read (1024 when unreadable).
ProcessFacts read_process_facts(const DaemonOptions& options);

// Fails naming the first needed capability the process cannot have (not in its permitted set):
// "missing capability CAP_NET_ADMIN, needed for kernel = ...".
Status check_capabilities(const std::vector<CapabilityNeed>& needs);

// Makes `needs` the whole of the process's capabilities: effective and permitted hold exactly
// them, inheritable and ambient nothing, the bounding set only them when the process may change
// it (CAP_SETPCAP; under the systemd unit it is already that small), and no_new_privs is set so
// that no exec could ever give back what was dropped. Verifies the result.
Status limit_capabilities(const std::vector<CapabilityNeed>& needs);

// "CAP_NET_ADMIN CAP_NET_BIND_SERVICE" (or "none"), for the log.
std::string describe(const std::vector<CapabilityNeed>& needs);

}  // namespace ikemesh::daemon
