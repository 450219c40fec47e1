// The reload decision: what a reload (SIGHUP, `ikectl reload`, systemd ExecReload) does with a
// freshly loaded configuration, independent of where the request came from.
//
// The rule: parse and validate everything first; if anything is wrong, nothing changes and every
// error is reported. Otherwise the engine gets the new EngineConfig (it keeps unchanged peers'
// SAs untouched) and log levels change at once. Settings bound to resources opened at start (listen
// addresses, ports, control socket, kernel backend, metrics listener) are kept as they are and
// reported as needing a restart: a reload never restarts the daemon and never flushes anything.
// This unit decides and sequences; the runner's ReloadSteps carry it out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "daemon/options.hpp"

namespace ikemesh::daemon {

using nlohmann::json;

// Names of the daemon settings that differ between `running` and `candidate` and only take
// effect on restart, in a fixed order ("listen", "port", ...).
std::vector<std::string> restart_required(const DaemonOptions& running,
                                          const DaemonOptions& candidate);

// Pins the engine's IKE ports to the sockets actually open: they cannot move without a restart,
// and the engine must keep naming the sockets that exist.
void pin_running_ports(const DaemonOptions& running, ike::EngineConfig& engine);

// The steps of one reload, in the order perform_reload calls them.
class ReloadSteps {
  public:
    virtual ~ReloadSteps() = default;
    virtual void begin() = 0;  // e.g. sd_notify RELOADING=1
    virtual Result<RuntimeConfig> load() = 0;
    virtual const DaemonOptions& running() const = 0;
    // Only called with a valid configuration. `config.engine` already has the running ports.
    virtual void apply(RuntimeConfig config) = 0;
    virtual void end(const Result<json>& outcome) = 0;  // e.g. sd_notify READY=1, log the outcome
};

// Runs one reload: begin, load, (apply if valid), end. The result is the reply to `ikectl reload`:
// {"applied":true,"peers":N,"restart_required":[...]} or Errc::config_invalid with the errors.
Result<json> perform_reload(ReloadSteps& steps);

// The reply to `ikectl check-config` for a loaded (not applied) configuration:
// {"valid":true,"peers":N,"restart_required":[...]} or the load error.
Result<json> check_config_result(const DaemonOptions& running,
                                 const Result<RuntimeConfig>& candidate);

}  // namespace ikemesh::daemon
