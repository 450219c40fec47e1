#include "daemon/reload.hpp"

namespace ikemesh::daemon {

void pin_running_ports(const DaemonOptions& running, ike::EngineConfig& engine) {
    engine.port = running.port;
    engine.port_natt = running.port_natt;
}

Result<json> perform_reload(ReloadSteps& steps) {
    steps.begin();
    auto loaded = steps.load();
    Result<json> outcome = Errc::config_invalid;
    if (!loaded) {
        const Error& e = loaded.error();
        outcome = e.is(Errc::config_invalid) ? e : Error{Errc::config_invalid, e.message()};
    } else {
        size_t peers = loaded->engine.peers.size();
        json details = steps.apply(std::move(*loaded));
        json reply{{"applied", true}, {"peers", peers}};
        if (details.is_object()) reply.update(details);
        outcome = std::move(reply);
    }
    steps.end(outcome);
    return outcome;
}

}  // namespace ikemesh::daemon
