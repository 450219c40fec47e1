// Internal to config/: the steps that turn parsed TOML sections into the parts of a Config.
//
// Each builder reads one section through a Section (which records every problem with its place)
// and fills in its part of the Config, starting from the built-in defaults. The peer builder
// merges [defaults] into each [peer.NAME], loads PSKs, and runs the checks that span several
// keys or peers. Nothing here touches the disk except through the ParseOptions' FileAccess.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/section.hpp"

namespace ikemesh::config {

void build_daemon(Section& section, DaemonConfig& out);
void build_metrics(Section& section, MetricsConfig& out);
void build_tuning(Section& section, ike::EngineSettings& out);
void build_local(Section& section, const ParseOptions& options, const DaemonConfig& daemon,
                 ike::LocalConfig& out);

// A path from the config, resolved against the config directory.
std::filesystem::path resolve_path(const ParseOptions& options, const std::string& path);
// "cannot read /etc/ikemesh/x.key: ..." from a FileAccess error, without secret content.
std::string file_error_message(const std::filesystem::path& path, const Error& error);

// The keys [defaults] and [peer.NAME] share, as written (nullopt = not set here).
struct PeerSettings {
    std::optional<std::vector<ike::IkeProposal>> ike;
    std::optional<std::vector<ike::EspProposal>> esp;
    std::optional<ike::StartAction> start;
    std::optional<std::chrono::seconds> dpd_delay, natt_keepalive, ike_lifetime, child_lifetime,
        rekey_margin, rekey_jitter;
    std::optional<uint64_t> child_lifetime_bytes, child_lifetime_packets;
    std::optional<uint32_t> replay_window;
    std::optional<std::vector<ike::TrafficSpec>> bypass, traffic;
    std::optional<bool> childless;
    std::optional<uint16_t> port;

    // The PSK as configured here: inline (already decoded) or a file to read.
    enum class PskKind : uint8_t { none, inline_value, file };
    PskKind psk_kind = PskKind::none;
    Origin psk_origin;
    std::shared_ptr<const crypto::SecretBytes> psk_value;
    std::filesystem::path psk_path;
    bool psk_broken = false;  // an error about this PSK was reported already
};

class PeerBuilder {
  public:
    PeerBuilder(const ParseOptions& options, Diagnostics& diagnostics, const DaemonConfig& daemon,
                const ike::LocalConfig& local);

    // [defaults] of the main file; `exposed`: that file is readable by group or others.
    void set_defaults(Section& section, bool exposed);
    // One [peer.NAME] table.
    void add_peer(Section& section, std::string_view name, bool exposed);
    // Cross-peer checks; the peers sorted by name.
    std::vector<ike::PeerConfig> finish();

  private:
    void read_settings(Section& section, PeerSettings& out, bool exposed);
    void read_psk(Section& section, PeerSettings& out, bool exposed);
    // The PSK a peer uses given its own settings and the defaults; nullptr after reporting.
    std::shared_ptr<const crypto::SecretBytes> resolve_psk(Section& section,
                                                           const PeerSettings& own);
    std::shared_ptr<const crypto::SecretBytes> load_psk_file(const PeerSettings& s);
    bool check_psk_strength(const crypto::SecretBytes& psk, const Origin& where);
    // Lifetime arithmetic; reported at `section` for the keys it sets.
    void check_lifetimes(Section& section, const PeerSettings& own,
                         const ike::PeerConfig& effective, bool is_defaults);

    const ParseOptions& options_;
    Diagnostics& diag_;
    const DaemonConfig& daemon_;
    const ike::LocalConfig& local_;
    PeerSettings defaults_;

    struct FileSecret {
        std::shared_ptr<const crypto::SecretBytes> secret;  // nullptr when reading failed
    };
    std::map<std::filesystem::path, FileSecret> psk_files_;

    struct Placed {
        ike::PeerConfig peer;
        Origin where;  // the table header
        Origin address_at;
    };
    std::vector<Placed> peers_;
    std::map<std::string, size_t, std::less<>> by_name_;
};

}  // namespace ikemesh::config
