// The configuration of one ikemesh node as one immutable value, and how to load it.
//
// load_config() reads DIR/ikemesh.conf and every DIR/peers.d/*.conf (TOML, lexical order) and
// returns a Config in which every default is resolved, every value is validated and every peer is
// complete: the engine takes its slices (LocalConfig, EngineSettings, PeerConfigs) by value and
// the daemon its DaemonConfig, and nobody reads a setting from anywhere else. On any error nothing
// is returned but the full list of problems, each with file, line and key (see diagnostics.hpp).
// parse_config() is the same without the disk: file texts come in as values and files the config
// refers to (psk_file, key, cert, ca) are reached through a FileAccess, so tests and the fuzzer
// need no files. The format is documented in docs/config.md.
// Not here: applying a configuration (the daemon and engine do that) and comparing two of them
// (diff.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "config/diagnostics.hpp"
#include "config/file_access.hpp"
#include "ike/engine_config.hpp"

namespace ikemesh::config {

inline constexpr const char* kMainFileName = "ikemesh.conf";
inline constexpr const char* kPeersDirName = "peers.d";
inline constexpr const char* kDefaultControlSocket = "/run/ikemesh/ikemesh.sock";

// RFC 7296 2.15: "The pre-shared key needs to contain as much unpredictability as the strongest
// key being negotiated." The strongest keys ikemesh negotiates are 256 bits (AES-256,
// ChaCha20-Poly1305, the prfsha256 keys SK_d/SK_a), so a PSK must have at least 32 bytes. This
// is a length check only; docs/config.md says how to generate a random key.
inline constexpr size_t kMinPskBytes = 32;

// Bounds that keep a hostile or broken config directory from exhausting memory.
inline constexpr size_t kMaxConfigFileBytes = 4 * 1024 * 1024;
inline constexpr size_t kMaxPeers = 100000;

enum class KernelKind : uint8_t { xfrm, pfkey, fake };
std::string_view to_string(KernelKind kind);

// spdlog's level names.
enum class LogLevel : uint8_t { trace, debug, info, warn, error, critical, off };
std::string_view to_string(LogLevel level);

// The subsystems `[daemon.log_levels]` may name (the daemon's loggers).
inline constexpr std::array<std::string_view, 5> kLogSubsystems{"daemon", "ike", "kernel", "config",
                                                                "control"};

struct DaemonConfig {
    std::string control_socket = kDefaultControlSocket;
    std::string control_group;  // empty: the daemon's own group
    KernelKind kernel = KernelKind::xfrm;
    LogLevel log_level = LogLevel::info;
    std::map<std::string, LogLevel> log_levels;  // per-subsystem overrides
    std::vector<IpAddress> listen;               // default: 0.0.0.0 and ::
    uint16_t port = 500;                         // RFC 7296 2
    uint16_t port_natt = 4500;                   // RFC 3948, RFC 7296 2.23

    bool operator==(const DaemonConfig&) const = default;
};

struct MetricsConfig {
    std::optional<Endpoint> listen;  // Prometheus HTTP listener; none by default

    bool operator==(const MetricsConfig&) const = default;
};

struct Config {
    DaemonConfig daemon;
    MetricsConfig metrics;
    ike::LocalConfig local;
    ike::EngineSettings engine;
    std::vector<ike::PeerConfig> peers;  // sorted by name, names and addresses unique

    // The peer called `name`, or nullptr (binary search).
    const ike::PeerConfig* find_peer(std::string_view name) const;
};

// One configuration file's text and how the operator knows it.
struct SourceFile {
    std::string name;  // "ikemesh.conf" or "peers.d/node2.conf", used in messages
    std::string text;
    // Readable by group or others. Such a file must not hold an inline `psk`. load_config sets
    // it from the file's mode; parse_config callers may set it to test the rule.
    bool readable_by_others = false;
};

struct ParseOptions {
    // Relative paths in the config (psk_file, key, cert, ca) are resolved against this.
    std::filesystem::path base_dir;
    // How referenced files are read; nullptr refuses every reference with an error.
    const FileAccess* files = nullptr;
};

// Loads DIR/ikemesh.conf and DIR/peers.d/*.conf (names not starting with '.', in lexical
// order). On failure the Error is Errc::config_invalid (or io_error when the main file cannot be
// read) with every error as one line of its detail; `diagnostics`, when given, receives every
// error and warning either way.
Result<Config> load_config(const std::filesystem::path& dir, Diagnostics* diagnostics = nullptr);
// The same with a FileAccess of the caller's (tests).
Result<Config> load_config(const std::filesystem::path& dir, const FileAccess& files,
                           Diagnostics* diagnostics = nullptr);

// The pure variant: `main` is ikemesh.conf, `peer_files` the drop-ins in load order.
Result<Config> parse_config(const SourceFile& main, std::span<const SourceFile> peer_files,
                            const ParseOptions& options = {}, Diagnostics* diagnostics = nullptr);

// The effective configuration as TOML-like text, every default filled in, secrets shown as
// "<secret>"; for `ikemeshd --check --verbose` and for tests.
std::string to_string(const Config& config);
// A one-line summary of a peer without its secret ("node2 10.0.0.2 id=fqdn:node2 psk=<secret>").
std::string describe(const ike::PeerConfig& peer);

}  // namespace ikemesh::config
