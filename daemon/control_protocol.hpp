// The control socket protocol between ikectl and ikemeshd, as pure functions.
//
// One request per line, one response per line, both JSON objects (docs/ikectl.md is the reference).
// A request is `{"command":"NAME", ...arguments}`; a response is `{"ok":true,"result":...}` or
// `{"ok":false,"error":"text","code":"errc_name"}`. `monitor` answers once and then streams event
// objects (`{"event":"ike_up",...}`) on the same connection. This unit parses and builds those
// lines and nothing else: it owns no socket, knows no engine, and never throws (nlohmann::json
// errors are caught here), so the fuzzer can drive it directly with arbitrary bytes.
#pragma once

#include <array>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace ikemesh::daemon {

using nlohmann::json;

// A request line longer than this is refused before it is parsed: the largest legitimate request
// (`rekey` with a long peer name) is under 300 bytes, so 64 KiB bounds memory per client with a
// wide margin.
inline constexpr size_t kMaxRequestBytes = 64 * 1024;
// Requests are flat objects; deeper nesting is refused before the JSON parser sees it.
inline constexpr int kMaxRequestDepth = 8;
// Peer names are TOML table names; anything longer cannot be a configured peer.
inline constexpr size_t kMaxPeerNameBytes = 255;

enum class Command {
    status,
    list_sas,
    list_peers,
    initiate,
    terminate,
    rekey,
    reload,
    metrics,
    monitor,
    version,
    check_config,
};

inline constexpr std::array kAllCommands{
    Command::status,    Command::list_sas, Command::list_peers,   Command::initiate,
    Command::terminate, Command::rekey,    Command::reload,       Command::metrics,
    Command::monitor,   Command::version,  Command::check_config,
};

// The wire name, as ikectl spells the verb: "list-sas", "check-config".
const char* command_name(Command c);
std::optional<Command> command_from_name(std::string_view name);

struct Request {
    Command command = Command::status;
    std::string peer;  // initiate, terminate, rekey
    bool ike = false;  // rekey: the IKE SA instead of the CHILD SAs

    bool operator==(const Request&) const = default;
};

// Parses one request line (without or with its trailing "\n" / "\r\n"). Errors:
// control_bad_request (too large, too deep, not JSON, not an object, bad or unknown argument),
// control_unknown_command (well-formed, but no such verb). The detail says what was wrong.
Result<Request> parse_request(std::string_view line);
// The request line ikectl sends, newline included.
std::string request_line(const Request& request);

// Response lines, newline included. Strings that are not valid UTF-8 are replaced, never thrown.
std::string ok_response(const json& result);
std::string error_response(const Error& error);
// One streamed `monitor` event (an object with an "event" key), newline included.
std::string event_line(const json& event);

// The client's view of a response line.
struct Response {
    bool ok = false;
    json result;        // when ok
    std::string error;  // when !ok: human text
    std::string code;   // when !ok: errc_name
};
// control_bad_request if the line is not a response object.
Result<Response> parse_response(std::string_view line);

// Serialises without throwing (invalid UTF-8 is replaced by U+FFFD).
std::string dump_json(const json& value, int indent = -1);

}  // namespace ikemesh::daemon
