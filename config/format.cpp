// to_string(Config) and describe(PeerConfig): the effective configuration as text, secrets
// replaced by "<secret>".
#include <sstream>

#include "config/config.hpp"
#include "config/proposals.hpp"
#include "config/values.hpp"

namespace ikemesh::config {
namespace {

constexpr std::string_view kStartNames[] = {"always", "on-demand", "passive"};

// A TOML basic string (unlike quote() in messages, never shortened).
std::string toml_quote(std::string_view text) {
    std::string out = "\"";
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20 || c == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string identity_text(const ike::Identity& id) {
    std::string prefix = std::string(id_kind_name(id.kind)) + ":";
    if (id.text.empty()) return prefix + to_hex(id.data);
    if (id.text.compare(0, prefix.size(), prefix) == 0) return id.text;
    return prefix + id.text;
}

template <typename T, typename F>
std::string list(const std::vector<T>& items, F to_text) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ", ";
        out += toml_quote(to_text(items[i]));
    }
    return out + "]";
}

std::string dur(std::chrono::milliseconds d) {
    return toml_quote(format_duration(d));
}

}  // namespace

std::string describe(const ike::PeerConfig& p) {
    std::string out = p.name + " " + p.address.to_string() + " id=" + identity_text(p.id);
    if (p.auth == ike::AuthMethod::psk) out += p.psk ? " psk=<secret>" : " psk=<none>";
    out += " start=" + std::string(kStartNames[static_cast<size_t>(p.start)]);
    return out;
}

std::string to_string(const Config& c) {
    std::ostringstream o;
    const DaemonConfig& d = c.daemon;
    o << "[daemon]\n"
      << "control_socket = " << toml_quote(d.control_socket) << "\n"
      << "control_group = " << toml_quote(d.control_group) << "\n"
      << "kernel = " << toml_quote(to_string(d.kernel)) << "\n"
      << "log_level = " << toml_quote(to_string(d.log_level)) << "\n"
      << "listen = " << list(d.listen, [](const IpAddress& a) { return a.to_string(); }) << "\n"
      << "port = " << d.port << "\n"
      << "port_natt = " << d.port_natt << "\n";
    if (!d.log_levels.empty()) {
        o << "\n[daemon.log_levels]\n";
        for (const auto& [name, level] : d.log_levels) {
            o << name << " = " << toml_quote(to_string(level)) << "\n";
        }
    }
    const ike::LocalConfig& l = c.local;
    o << "\n[local]\n"
      << "id = " << toml_quote(identity_text(l.id)) << "\n"
      << "auth = " << (l.auth == ike::AuthMethod::psk ? "\"psk\"" : "\"cert\"") << "\n"
      << "addresses = " << list(l.addresses, [](const IpAddress& a) { return a.to_string(); })
      << "\n";
    if (l.auth == ike::AuthMethod::cert) {
        o << "cert = " << (l.cert ? "\"<loaded>\"" : "\"<none>\"") << "\n"
          << "key = " << (l.key ? "\"<secret>\"" : "\"<none>\"") << "\n"
          << "ca = " << (l.ca ? "\"<loaded>\"" : "\"<none>\"") << "\n";
    }
    const ike::EngineSettings& e = c.engine;
    o << "\n[tuning]\n"
      << "retransmit_timeout = " << dur(e.retransmit_timeout) << "\n"
      << "retransmit_base = " << e.retransmit_base << "\n"
      << "retransmit_tries = " << e.retransmit_tries << "\n"
      << "retransmit_limit = " << dur(e.retransmit_limit) << "\n"
      << "cookie_threshold = " << e.cookie_threshold << "\n"
      << "cookie_secret_lifetime = " << dur(e.cookie_secret_lifetime) << "\n"
      << "fragment_size = " << e.fragment_size << "\n"
      << "reinitiate_base = " << dur(e.reinitiate_base) << "\n"
      << "reinitiate_max = " << dur(e.reinitiate_max) << "\n"
      << "half_open_timeout = " << dur(e.half_open_timeout) << "\n";
    if (c.metrics.listen) {
        o << "\n[metrics]\nlisten = " << toml_quote(c.metrics.listen->to_string()) << "\n";
    }
    for (const auto& p : c.peers) {
        o << "\n[peer." << p.name << "]\n"
          << "address = " << toml_quote(p.address.to_string()) << "\n"
          << "port = " << p.port << "\n"
          << "id = " << toml_quote(identity_text(p.id)) << "\n";
        if (p.auth == ike::AuthMethod::psk) {
            o << "psk = " << (p.psk ? "\"<secret>\"" : "\"<none>\"") << "\n";
        }
        o << "ike = " << list(p.ike, [](const ike::IkeProposal& x) { return config::to_string(x); })
          << "\n"
          << "esp = " << list(p.esp, [](const ike::EspProposal& x) { return config::to_string(x); })
          << "\n"
          << "start = " << toml_quote(kStartNames[static_cast<size_t>(p.start)]) << "\n"
          << "dpd_delay = " << dur(p.dpd_delay) << "\n"
          << "natt_keepalive = " << dur(p.natt_keepalive) << "\n"
          << "ike_lifetime = " << dur(p.ike_lifetime) << "\n"
          << "child_lifetime = " << dur(p.child_lifetime) << "\n"
          << "rekey_margin = " << dur(p.rekey_margin) << "\n"
          << "rekey_jitter = " << dur(p.rekey_jitter) << "\n"
          << "child_lifetime_bytes = " << p.child_limits.bytes << "\n"
          << "child_lifetime_packets = " << p.child_limits.packets << "\n"
          << "replay_window = " << p.replay_window << "\n"
          << "bypass = "
          << list(p.bypass, [](const ike::TrafficSpec& t) { return config::to_string(t); }) << "\n"
          << "traffic = "
          << list(p.traffic, [](const ike::TrafficSpec& t) { return config::to_string(t); }) << "\n"
          << "childless = " << (p.childless ? "true" : "false") << "\n";
    }
    return o.str();
}

}  // namespace ikemesh::config
