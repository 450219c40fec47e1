// The reload sequence: what a reload (SIGHUP, `ikectl reload`, systemd ExecReload) does with a
// freshly loaded configuration, independent of where the request came from.
//
// The rule: parse and validate everything first; if anything is wrong, nothing changes and every
// error is reported. Otherwise the configuration is applied: the engine gets the new EngineConfig
// (it keeps unchanged peers' SAs untouched) and log levels change at once. Settings bound to
// resources opened at start (listen addresses, ports, control socket, kernel backend, metrics
// listener) keep their running values and are reported as needing a restart: a reload never
// restarts the daemon and never flushes anything. This unit sequences and decides; the runner's
// ReloadSteps carry it out.
#pragma once

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "daemon/options.hpp"

namespace ikemesh::daemon {

using nlohmann::json;

// Pins the engine's IKE ports to the sockets actually open: they cannot move without a restart,
// and the engine must keep naming the sockets that exist.
void pin_running_ports(const DaemonOptions& running, ike::EngineConfig& engine);

// The steps of one reload, in the order perform_reload calls them.
class ReloadSteps {
  public:
    virtual ~ReloadSteps() = default;
    virtual void begin() = 0;  // e.g. sd_notify RELOADING=1
    virtual Result<RuntimeConfig> load() = 0;
    // Only called with a valid configuration. Returns what changed (config_change_json).
    virtual json apply(RuntimeConfig config) = 0;
    virtual void end(const Result<json>& outcome) = 0;  // e.g. sd_notify READY=1, log the outcome
};

// Runs one reload: begin, load, apply if valid, end. The result is the reply to `ikectl reload`:
// {"applied":true,"peers":N, ...what apply returned} or Errc::config_invalid with every error
// (a load failure of another kind, such as an unreadable directory, is reported as
// config_invalid too, its text kept).
Result<json> perform_reload(ReloadSteps& steps);

}  // namespace ikemesh::daemon
