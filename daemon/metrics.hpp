// Prometheus metrics: the text exposition format (version 0.0.4) rendered from engine snapshots,
// the kernel's /proc/net/xfrm_stat counters, and the daemon's own counters.
//
// Rendering is a pure function of a MetricsInput so it is unit-tested against the format's rules
// (one HELP and one TYPE line per family before its samples, samples of a family together, label
// values escaped, counters named *_total). EspTotals is the one piece of state: it turns the
// per-SA kernel counters, which start from zero at every rekey, into per-peer counters that only
// go up. This unit does not serve HTTP (metrics_http.hpp) and does not read files except through
// read_xfrm_stat.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ike/status.hpp"

namespace ikemesh::daemon {

// Escaping rules of the text format: label values escape backslash, double quote and newline;
// HELP text escapes backslash and newline.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view text);

// Builds a text exposition family by family. Families must be declared with `family()` before
// their samples; a family name is declared once (a second declaration is ignored, so samples
// stay together only if callers emit them together, which render_metrics does).
class PromWriter {
  public:
    using Labels = std::vector<std::pair<std::string, std::string>>;

    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const Labels& labels, uint64_t value);
    void sample(std::string_view name, const Labels& labels, double value);
    std::string take() { return std::move(out_); }

  private:
    void sample_prefix(std::string_view name, const Labels& labels);

    std::string out_;
    std::vector<std::string> declared_;
};

// /proc/net/xfrm_stat: "XfrmInError   0" per line. Lines that do not parse are skipped, so a
// kernel that adds fields or columns cannot break the daemon.
std::vector<std::pair<std::string, uint64_t>> parse_xfrm_stat(std::string_view text);
// nullopt when the file is absent or unreadable (kernels without CONFIG_XFRM_STATISTICS).
std::optional<std::vector<std::pair<std::string, uint64_t>>> read_xfrm_stat(
    const char* path = "/proc/net/xfrm_stat");

struct EspCounters {
    uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
    bool operator==(const EspCounters&) const = default;
};

// Per-peer ESP counters that survive rekeys. Each update() sees the live CHILD SAs; an SA that
// disappeared since the previous update adds its last seen counters to its peer's retired total.
// Traffic an SA carried between the last update and its deletion is not counted (updates happen
// on every scrape and status request, so that gap is small). Peers gone from the configuration
// are forgotten.
class EspTotals {
  public:
    void update(const ike::EngineStatus& status);
    // Sorted by peer name.
    const std::map<std::string, EspCounters>& totals() const { return totals_; }

  private:
    struct PeerState {
        EspCounters retired;
        std::map<uint32_t, EspCounters> live;  // by inbound SPI
    };
    std::map<std::string, PeerState> peers_;
    std::map<std::string, EspCounters> totals_;
};

// Counters kept by the daemon itself (the engine counts protocol events).
struct DaemonCounters {
    uint64_t datagrams_received = 0;
    uint64_t datagrams_sent = 0;
    uint64_t datagrams_dropped = 0;  // truncated, send failures, stray ESP on the NAT-T port
    uint64_t natt_keepalives = 0;    // RFC 3948 2.3 keepalives received (and dropped)
    uint64_t control_requests = 0;
    uint64_t control_errors = 0;
    uint64_t reloads = 0;
    uint64_t reload_failures = 0;
};

struct MetricsInput {
    const ike::EngineStatus& status;
    const ike::EngineCounters& counters;
    const std::map<std::string, EspCounters>& esp;
    const DaemonCounters& daemon;
    const std::optional<std::vector<std::pair<std::string, uint64_t>>>& xfrm_stat;
    std::string version;
    double uptime_seconds = 0;
};

std::string render_metrics(const MetricsInput& in);

}  // namespace ikemesh::daemon
