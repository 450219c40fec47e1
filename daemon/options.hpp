// The daemon's own slice of the configuration: everything ikemeshd needs besides the engine's
// EngineConfig (sockets, control socket, kernel backend, logging, metrics listener).
//
// config/ parses TOML into config::Config; config_adapter.hpp converts that into a RuntimeConfig
// once per load, so the rest of daemon/ depends on these few plain values and not on the config
// layer's types (the source Config rides along for diffing on reload). Nothing here reads files
// or validates: by the time a RuntimeConfig exists it is valid.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.hpp"
#include "ike/engine.hpp"

namespace ikemesh::config {
struct Config;
}

namespace ikemesh::daemon {

inline constexpr const char* kDefaultConfigDir = "/etc/ikemesh";
inline constexpr const char* kDefaultControlSocket = "/run/ikemesh/ikemesh.sock";

// Log levels: `level` for every subsystem, overridden per subsystem ("daemon", "ike", "kernel",
// "config", "control"). Level names are spdlog's: trace, debug, info, warn, error, critical, off.
struct LogOptions {
    std::string level = "info";
    std::map<std::string, std::string> subsystems;

    bool operator==(const LogOptions&) const = default;
};

struct DaemonOptions {
    std::string control_socket = kDefaultControlSocket;
    std::string control_group;  // empty: the daemon's own group
    std::string kernel = "xfrm";
    LogOptions log;
    std::vector<IpAddress> listen;           // empty: every IPv4 and IPv6 address (0.0.0.0 and ::)
    uint16_t port = 500;                     // RFC 7296 2
    uint16_t port_natt = 4500;               // RFC 3948 / RFC 7296 2.23
    std::optional<Endpoint> metrics_listen;  // Prometheus HTTP listener; none by default

    bool operator==(const DaemonOptions&) const = default;
};

struct RuntimeConfig {
    DaemonOptions daemon;
    ike::EngineConfig engine;
    // The configuration this was made from (null in tests that build a RuntimeConfig by hand).
    std::shared_ptr<const config::Config> source;
};

}  // namespace ikemesh::daemon
