// What a reload changes: the difference between the running configuration and a new one.
//
// Peers are compared by name and by value (ike::PeerConfig equality, PSKs by content). A change
// of [local] (our identity, key, certificate, trust anchors) or of [defaults] reaches every
// affected peer through its resolved PeerConfig or through `local_changed`, so such peers are
// reported as changed and get re-established; a peer whose resolved settings are identical is
// unchanged and must keep its SAs. Node-wide settings are reported separately, split into those
// a running daemon applies at once and those that only take effect on restart.
// This unit decides nothing about how changes are applied; the daemon and engine do that.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace ikemesh::config {

struct ConfigDiff {
    // Peer names, each sorted.
    std::vector<std::string> added;
    std::vector<std::string> removed;
    std::vector<std::string> changed;
    std::vector<std::string> unchanged;

    bool local_changed = false;     // [local] differs: every kept peer is in `changed`
    bool settings_changed = false;  // [tuning] (ike::EngineSettings) differs
    bool logging_changed = false;   // daemon.log_level or [daemon.log_levels] differs
    // Keys whose change needs a restart to take effect, e.g. "daemon.port", "metrics.listen".
    std::vector<std::string> restart_required;

    // True when the two configurations are equivalent.
    bool empty() const;
};

// `old_config` is the running configuration, `new_config` the candidate.
ConfigDiff diff(const Config& old_config, const Config& new_config);

// Keys that are never applied by a reload (listening sockets, control socket, kernel backend,
// metrics listener), in the order diff() reports them.
inline constexpr std::array<std::string_view, 7> kRestartKeys{
    "daemon.control_socket", "daemon.control_group", "daemon.kernel", "daemon.listen",
    "daemon.port",           "daemon.port_natt",     "metrics.listen"};

}  // namespace ikemesh::config
