// How ikectl shows the daemon's answers to a human, and the exit codes scripts rely on.
//
// Every function takes the `result` JSON exactly as it came over the control socket and returns
// text, so the output is unit-tested as golden text. Rendering never throws and never trusts the
// input's shape: a missing or mistyped field shows as "-" (a newer or older daemon must not crash
// ikectl). `--json` output does not come through here; it is the raw result.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon/control_protocol.hpp"

namespace ikemesh::daemon {

using nlohmann::json;

// ikectl's exit codes (docs/ikectl.md).
enum ExitCode : int {
    kExitOk = 0,
    kExitCommandFailed = 1,  // the daemon answered with an error
    kExitUsage = 2,          // bad command line
    kExitNoDaemon = 3,       // cannot connect, or the connection failed mid-answer
    kExitPeerDown = 4,       // `status` only: a peer with start = "always" is down
};

// Aligned columns separated by two spaces; the last column is not padded, so no line has
// trailing blanks. Widths count bytes (peer names are ASCII in practice).
class Table {
  public:
    explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    std::string render() const;

  private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

// 0 B, 1023 B, 1.0 KiB, 12.3 MiB, ... (binary units, one decimal above bytes).
std::string format_bytes(uint64_t bytes);
// 45s, 12m03s, 3h05m, 2d04h; "-" for negative values (unknown / not scheduled).
std::string format_duration(int64_t seconds);

std::string render_status(const json& result);
std::string render_list_peers(const json& result);
std::string render_list_sas(const json& result);
// `initiate`, `terminate`, `rekey`: one line such as "initiate node2: ok".
std::string render_peer_action(const json& result);
std::string render_reload(const json& result);
std::string render_check_config(const json& result);
std::string render_version(const json& result, const std::string& ikectl_version);
// One `monitor` event as a single human line (no trailing newline).
std::string render_event(const json& event);
// The whole human output of a successful answer to `command`.
std::string render_result(Command command, const json& result, const std::string& ikectl_version);

// kExitPeerDown if any peer with start "always" is "down", else kExitOk. Peers that are passive
// or on-demand are legitimately down while idle and never fail the check.
int status_exit_code(const json& result);

}  // namespace ikemesh::daemon
