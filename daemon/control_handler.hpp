// What the control socket's verbs do, separated from how requests arrive.
//
// ControlHandler is the daemon seen from the control socket: the runner implements it on top of
// the engine, tests implement it with a scripted handler. `dispatch` maps a parsed Request to the
// handler call and renders the result JSON (status_json.hpp), so everything between "a request
// line arrived" and "a response line leaves" is testable without sockets or an engine. `monitor`
// is not dispatched here: the control server keeps that connection open and streams events.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "daemon/control_protocol.hpp"
#include "ike/status.hpp"

namespace ikemesh::daemon {

class ControlHandler {
  public:
    virtual ~ControlHandler() = default;

    virtual ike::EngineStatus status() = 0;
    // Prometheus text exposition (metrics.hpp).
    virtual std::string metrics() = 0;
    // Errc::unknown_peer for names not in the configuration.
    virtual Status initiate(std::string_view peer) = 0;
    virtual Status terminate(std::string_view peer) = 0;
    virtual Status rekey(std::string_view peer, bool ike) = 0;
    // Re-reads the configuration and applies it if valid (reload.hpp); the JSON summarises what
    // happened. Errc::config_invalid (nothing changed) with every error in the detail otherwise.
    virtual Result<json> reload() = 0;
    // Reads and validates the configuration without applying it.
    virtual Result<json> check_config() = 0;
    // {"version":"0.1.0","daemon":"ikemeshd", ...}
    virtual json version() = 0;
};

// Runs one request. `monitor` yields Errc::state_error: the server handles it itself.
Result<json> dispatch(ControlHandler& handler, const Request& request);

// The response to an already parsed request (or to the parse error), and whether it is an ok.
struct ControlReply {
    std::string line;
    bool ok = false;
};
ControlReply respond(ControlHandler& handler, const Result<Request>& request);

// One complete exchange as the server performs it for every verb but `monitor`: parse the line,
// dispatch, render the response line (newline included). Never throws.
std::string handle_request_line(ControlHandler& handler, std::string_view line);

}  // namespace ikemesh::daemon
