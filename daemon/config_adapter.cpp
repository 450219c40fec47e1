#include "daemon/config_adapter.hpp"

#include "daemon/logging.hpp"

namespace ikemesh::daemon {

RuntimeConfig to_runtime_config(std::shared_ptr<const config::Config> config) {
    RuntimeConfig rc;
    const config::DaemonConfig& d = config->daemon;
    rc.daemon.control_socket = d.control_socket;
    rc.daemon.control_group = d.control_group;
    rc.daemon.kernel = std::string(config::to_string(d.kernel));
    rc.daemon.log.level = std::string(config::to_string(d.log_level));
    for (const auto& [subsystem, level] : d.log_levels) {
        rc.daemon.log.subsystems[subsystem] = std::string(config::to_string(level));
    }
    rc.daemon.listen = d.listen;
    rc.daemon.port = d.port;
    rc.daemon.port_natt = d.port_natt;
    rc.daemon.metrics_listen = config->metrics.listen;

    rc.engine.settings = config->engine;
    rc.engine.local = config->local;
    rc.engine.peers = config->peers;
    rc.engine.port = d.port;
    rc.engine.port_natt = d.port_natt;
    rc.source = std::move(config);
    return rc;
}

Result<RuntimeConfig> load_runtime_config(const std::filesystem::path& dir) {
    config::Diagnostics diagnostics;
    auto loaded = config::load_config(dir, &diagnostics);
    for (const auto& d : diagnostics.items()) {
        if (d.severity == config::Severity::warning)
            log(Subsystem::config).warn("{}", d.to_string());
    }
    if (!loaded) return loaded.take_error();
    return to_runtime_config(std::make_shared<const config::Config>(std::move(*loaded)));
}

json config_change_json(const config::ConfigDiff& diff) {
    return json{
        {"added", diff.added},
        {"removed", diff.removed},
        {"changed", diff.changed},
        {"unchanged", diff.unchanged.size()},
        {"local_changed", diff.local_changed},
        {"settings_changed", diff.settings_changed},
        {"logging_changed", diff.logging_changed},
        {"restart_required", diff.restart_required},
    };
}

}  // namespace ikemesh::daemon
