#include "daemon/control_protocol.hpp"

#include <string>

namespace ikemesh::daemon {
namespace {

struct CommandName {
    Command command;
    const char* name;
};

constexpr CommandName kCommandNames[] = {
    {Command::status, "status"},
    {Command::list_sas, "list-sas"},
    {Command::list_peers, "list-peers"},
    {Command::initiate, "initiate"},
    {Command::terminate, "terminate"},
    {Command::rekey, "rekey"},
    {Command::reload, "reload"},
    {Command::metrics, "metrics"},
    {Command::monitor, "monitor"},
    {Command::version, "version"},
    {Command::check_config, "check-config"},
};

Error bad_request(std::string detail) {
    return Error{Errc::control_bad_request, std::move(detail)};
}

// The deepest bracket nesting outside strings, stopping early once `limit` is exceeded. The JSON
// parser is not trusted with unbounded nesting, and requests are flat.
int nesting_depth(std::string_view text, int limit) {
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) break;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

// Shortens user-supplied text quoted back in an error message.
std::string quote(std::string_view s) {
    constexpr size_t kMax = 64;
    std::string out = "'";
    out += s.substr(0, kMax);
    if (s.size() > kMax) out += "...";
    out += "'";
    return out;
}

bool takes_peer(Command c) {
    return c == Command::initiate || c == Command::terminate || c == Command::rekey;
}

}  // namespace

const char* command_name(Command c) {
    for (const auto& entry : kCommandNames) {
        if (entry.command == c) return entry.name;
    }
    return "unknown";
}

std::optional<Command> command_from_name(std::string_view name) {
    for (const auto& entry : kCommandNames) {
        if (name == entry.name) return entry.command;
    }
    return std::nullopt;
}

std::string dump_json(const json& value, int indent) {
    return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

Result<Request> parse_request(std::string_view line) {
    if (line.size() > kMaxRequestBytes) {
        return bad_request("request of " + std::to_string(line.size()) + " bytes exceeds the " +
                           std::to_string(kMaxRequestBytes) + "-byte limit");
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    if (line.empty()) return bad_request("empty request");
    if (nesting_depth(line, kMaxRequestDepth) > kMaxRequestDepth) {
        return bad_request("request nested deeper than " + std::to_string(kMaxRequestDepth));
    }
    // parse(..., allow_exceptions=false) reports failure as a discarded value instead of throwing.
    json doc = json::parse(line.begin(), line.end(), nullptr, false);
    if (doc.is_discarded()) return bad_request("request is not valid JSON");
    if (!doc.is_object()) return bad_request("request must be a JSON object");

    auto cmd = doc.find("command");
    if (cmd == doc.end()) return bad_request("request has no \"command\"");
    if (!cmd->is_string()) return bad_request("\"command\" must be a string");
    const auto& name = cmd->get_ref<const std::string&>();
    auto command = command_from_name(name);
    if (!command) {
        return Error{Errc::control_unknown_command, "unknown command " + quote(name)};
    }

    Request req;
    req.command = *command;
    for (const auto& [key, value] : doc.items()) {
        if (key == "command") continue;
        if (key == "peer" && takes_peer(req.command)) {
            if (!value.is_string()) return bad_request("\"peer\" must be a string");
            req.peer = value.get<std::string>();
            if (req.peer.empty()) return bad_request("\"peer\" must not be empty");
            if (req.peer.size() > kMaxPeerNameBytes) {
                return bad_request("\"peer\" is longer than " + std::to_string(kMaxPeerNameBytes) +
                                   " bytes");
            }
        } else if (key == "ike" && req.command == Command::rekey) {
            if (!value.is_boolean()) return bad_request("\"ike\" must be true or false");
            req.ike = value.get<bool>();
        } else {
            return bad_request("unknown argument " + quote(key) + " for command '" + name + "'");
        }
    }
    if (takes_peer(req.command) && req.peer.empty()) {
        return bad_request("command '" + name + "' needs \"peer\"");
    }
    return req;
}

std::string request_line(const Request& request) {
    json doc = {{"command", command_name(request.command)}};
    if (takes_peer(request.command)) doc["peer"] = request.peer;
    if (request.command == Command::rekey && request.ike) doc["ike"] = true;
    return dump_json(doc) + "\n";
}

std::string ok_response(const json& result) {
    json doc = {{"ok", true}, {"result", result}};
    return dump_json(doc) + "\n";
}

std::string error_response(const Error& error) {
    const char* code = error.code.category() == ikemesh_category()
                           ? errc_name(static_cast<Errc>(error.code.value()))
                           : "system_error";
    json doc = {{"ok", false}, {"error", error.message()}, {"code", code}};
    return dump_json(doc) + "\n";
}

std::string event_line(const json& event) {
    return dump_json(event) + "\n";
}

Result<Response> parse_response(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    json doc = json::parse(line.begin(), line.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        return bad_request("daemon response is not a JSON object");
    }
    auto ok = doc.find("ok");
    if (ok == doc.end() || !ok->is_boolean()) return bad_request("daemon response has no \"ok\"");
    Response r;
    r.ok = ok->get<bool>();
    if (r.ok) {
        auto result = doc.find("result");
        if (result != doc.end()) r.result = std::move(*result);
        return r;
    }
    auto error = doc.find("error");
    auto code = doc.find("code");
    r.error = error != doc.end() && error->is_string() ? error->get<std::string>() : "error";
    r.code = code != doc.end() && code->is_string() ? code->get<std::string>() : "";
    return r;
}

}  // namespace ikemesh::daemon
