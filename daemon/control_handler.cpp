#include "daemon/control_handler.hpp"

#include <exception>

#include "daemon/status_json.hpp"

namespace ikemesh::daemon {
namespace {

Result<json> peer_action(Status status, const Request& request) {
    if (!status) return status.take_error();
    json j{{"peer", request.peer}, {"action", command_name(request.command)}};
    if (request.command == Command::rekey) j["ike"] = request.ike;
    return j;
}

}  // namespace

Result<json> dispatch(ControlHandler& handler, const Request& request) {
    switch (request.command) {
        case Command::status:
            return status_json(handler.status());
        case Command::list_sas:
            return list_sas_json(handler.status());
        case Command::list_peers:
            return list_peers_json(handler.status());
        case Command::initiate:
            return peer_action(handler.initiate(request.peer), request);
        case Command::terminate:
            return peer_action(handler.terminate(request.peer), request);
        case Command::rekey:
            return peer_action(handler.rekey(request.peer, request.ike), request);
        case Command::reload:
            return handler.reload();
        case Command::check_config:
            return handler.check_config();
        case Command::metrics:
            return json(handler.metrics());
        case Command::version:
            return handler.version();
        case Command::monitor:
            return Error{Errc::state_error, "monitor is handled by the control server"};
    }
    return Error{Errc::control_unknown_command};
}

ControlReply respond(ControlHandler& handler, const Result<Request>& request) {
    if (!request) return {error_response(request.error()), false};
    // nlohmann::json can throw (allocation, type errors in a handler's JSON); the control socket
    // is the edge where that becomes an error response instead of a dead daemon.
    try {
        auto result = dispatch(handler, *request);
        if (!result) return {error_response(result.error()), false};
        return {ok_response(*result), true};
    } catch (const std::exception& e) {
        return {
            error_response(Error{Errc::state_error, std::string("internal error: ") + e.what()}),
            false};
    }
}

std::string handle_request_line(ControlHandler& handler, std::string_view line) {
    return respond(handler, parse_request(line)).line;
}

}  // namespace ikemesh::daemon
