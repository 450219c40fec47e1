#include "daemon/reload.hpp"

namespace ikemesh::daemon {
namespace {

Error as_config_error(const Error& error) {
    // Loader errors are normally config_invalid already; an I/O error reading the directory is
    // still "the configuration could not be loaded" to the operator, with its own text kept.
    if (error.is(Errc::config_invalid)) return error;
    return Error{Errc::config_invalid, error.message()};
}

}  // namespace

std::vector<std::string> restart_required(const DaemonOptions& running,
                                          const DaemonOptions& candidate) {
    std::vector<std::string> out;
    if (running.listen != candidate.listen) out.emplace_back("listen");
    if (running.port != candidate.port) out.emplace_back("port");
    if (running.port_natt != candidate.port_natt) out.emplace_back("port_natt");
    if (running.control_socket != candidate.control_socket) out.emplace_back("control_socket");
    if (running.control_group != candidate.control_group) out.emplace_back("control_group");
    if (running.kernel != candidate.kernel) out.emplace_back("kernel");
    if (running.metrics_listen != candidate.metrics_listen) out.emplace_back("metrics.listen");
    return out;
}

void pin_running_ports(const DaemonOptions& running, ike::EngineConfig& engine) {
    engine.port = running.port;
    engine.port_natt = running.port_natt;
}

Result<json> perform_reload(ReloadSteps& steps) {
    steps.begin();
    auto loaded = steps.load();
    Result<json> outcome = Errc::config_invalid;
    if (!loaded) {
        outcome = as_config_error(loaded.error());
    } else {
        const DaemonOptions& running = steps.running();
        auto restart = restart_required(running, loaded->daemon);
        size_t peers = loaded->engine.peers.size();
        pin_running_ports(running, loaded->engine);
        steps.apply(std::move(*loaded));
        outcome = json{{"applied", true}, {"peers", peers}, {"restart_required", restart}};
    }
    steps.end(outcome);
    return outcome;
}

Result<json> check_config_result(const DaemonOptions& running,
                                 const Result<RuntimeConfig>& candidate) {
    if (!candidate) return as_config_error(candidate.error());
    return json{{"valid", true},
                {"peers", candidate->engine.peers.size()},
                {"restart_required", restart_required(running, candidate->daemon)}};
}

}  // namespace ikemesh::daemon
