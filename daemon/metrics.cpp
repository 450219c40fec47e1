#include "daemon/metrics.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>

namespace ikemesh::daemon {

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

void PromWriter::family(std::string_view name, std::string_view type, std::string_view help) {
    if (std::find(declared_.begin(), declared_.end(), name) != declared_.end()) return;
    declared_.emplace_back(name);
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += escape_help(help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void PromWriter::sample_prefix(std::string_view name, const Labels& labels) {
    out_ += name;
    if (!labels.empty()) {
        out_ += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
            if (i) out_ += ',';
            out_ += labels[i].first;
            out_ += "=\"";
            out_ += escape_label_value(labels[i].second);
            out_ += '"';
        }
        out_ += '}';
    }
    out_ += ' ';
}

void PromWriter::sample(std::string_view name, const Labels& labels, uint64_t value) {
    sample_prefix(name, labels);
    out_ += std::to_string(value);
    out_ += '\n';
}

void PromWriter::sample(std::string_view name, const Labels& labels, double value) {
    sample_prefix(name, labels);
    if (std::isnan(value)) {
        out_ += "NaN";
    } else if (std::isinf(value)) {
        out_ += value > 0 ? "+Inf" : "-Inf";
    } else {
        char buf[64];  // shortest text that reads back as the same double
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
        out_.append(buf, ec == std::errc{} ? end : buf);
    }
    out_ += '\n';
}

std::vector<std::pair<std::string, uint64_t>> parse_xfrm_stat(std::string_view text) {
    std::vector<std::pair<std::string, uint64_t>> out;
    while (!text.empty()) {
        size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);

        size_t name_end = 0;
        while (
            name_end < line.size() &&
            (std::isalnum(static_cast<unsigned char>(line[name_end])) || line[name_end] == '_')) {
            ++name_end;
        }
        if (name_end == 0) continue;
        std::string_view rest = line.substr(name_end);
        size_t digits = rest.find_first_not_of(" \t");
        if (digits == std::string_view::npos) continue;
        rest = rest.substr(digits);
        uint64_t value = 0;
        auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
        if (ec != std::errc{}) continue;
        std::string_view tail = rest.substr(static_cast<size_t>(ptr - rest.data()));
        if (tail.find_first_not_of(" \t\r") != std::string_view::npos) continue;
        out.emplace_back(std::string(line.substr(0, name_end)), value);
    }
    return out;
}

std::optional<std::vector<std::pair<std::string, uint64_t>>> read_xfrm_stat(const char* path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    // procfs files report size 0, so read until EOF; the real file is about 1 KiB.
    std::string text;
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<size_t>(in.gcount()));
        if (text.size() > (1u << 20)) break;
    }
    return parse_xfrm_stat(text);
}

void EspTotals::update(const ike::EngineStatus& status) {
    std::set<std::string> present;
    for (const auto& peer : status.peers) {
        present.insert(peer.name);
        PeerState& st = peers_[peer.name];
        std::map<uint32_t, EspCounters> live;
        for (const auto& child : peer.child_sas) {
            live[child.spi_in.value] =
                EspCounters{child.bytes_in, child.bytes_out, child.packets_in, child.packets_out};
        }
        for (const auto& [spi, last] : st.live) {
            if (live.count(spi)) continue;
            st.retired.bytes_in += last.bytes_in;
            st.retired.bytes_out += last.bytes_out;
            st.retired.packets_in += last.packets_in;
            st.retired.packets_out += last.packets_out;
        }
        st.live = std::move(live);
    }
    std::erase_if(peers_, [&](const auto& kv) { return !present.count(kv.first); });

    totals_.clear();
    for (const auto& [name, st] : peers_) {
        EspCounters sum = st.retired;
        for (const auto& [spi, c] : st.live) {
            sum.bytes_in += c.bytes_in;
            sum.bytes_out += c.bytes_out;
            sum.packets_in += c.packets_in;
            sum.packets_out += c.packets_out;
        }
        totals_[name] = sum;
    }
}

std::string render_metrics(const MetricsInput& in) {
    PromWriter w;
    using L = PromWriter::Labels;

    w.family("ikemesh_build_info", "gauge", "Version of the running ikemeshd (always 1).");
    w.sample("ikemesh_build_info", L{{"version", in.version}}, uint64_t{1});
    w.family("ikemesh_uptime_seconds", "gauge", "Seconds since ikemeshd started.");
    w.sample("ikemesh_uptime_seconds", L{}, in.uptime_seconds);

    const auto [established, connecting, down] = ike::count_peer_states(in.status);
    uint64_t ike_sas = 0, child_sas = 0;
    for (const auto& peer : in.status.peers) {
        ike_sas += peer.ike_sas.size();
        child_sas += peer.child_sas.size();
    }
    w.family("ikemesh_peers", "gauge", "Configured peers by state.");
    w.sample("ikemesh_peers", L{{"state", "established"}}, established);
    w.sample("ikemesh_peers", L{{"state", "connecting"}}, connecting);
    w.sample("ikemesh_peers", L{{"state", "down"}}, down);
    w.family("ikemesh_peer_up", "gauge", "1 if the peer is established, 0 otherwise.");
    for (const auto& peer : in.status.peers) {
        w.sample("ikemesh_peer_up", L{{"peer", peer.name}},
                 uint64_t{peer.state == "established" ? 1u : 0u});
    }
    w.family("ikemesh_ike_sas", "gauge", "IKE SAs, in any state.");
    w.sample("ikemesh_ike_sas", L{}, ike_sas);
    w.family("ikemesh_child_sas", "gauge", "CHILD SAs, in any state.");
    w.sample("ikemesh_child_sas", L{}, child_sas);
    w.family("ikemesh_half_open_ike_sas", "gauge",
             "Responder IKE SAs waiting for IKE_AUTH (COOKIEs are demanded above the threshold).");
    w.sample("ikemesh_half_open_ike_sas", L{}, uint64_t{in.status.half_open});

    const auto& c = in.counters;
    auto counter = [&](const char* name, const char* help, uint64_t value) {
        w.family(name, "counter", help);
        w.sample(name, L{}, value);
    };
    counter("ikemesh_handshakes_started_total", "IKE SA handshakes started (either role).",
            c.handshakes_started);
    counter("ikemesh_handshakes_completed_total", "IKE SA handshakes completed.",
            c.handshakes_completed);
    w.family("ikemesh_handshakes_failed_total", "counter", "IKE SA handshakes failed, by reason.");
    for (const auto& [reason, n] : c.handshakes_failed) {
        w.sample("ikemesh_handshakes_failed_total", L{{"reason", reason}}, n);
    }
    counter("ikemesh_retransmissions_total", "IKE requests retransmitted.", c.retransmissions);
    counter("ikemesh_dpd_failures_total", "Peers declared dead by the liveness check.",
            c.dpd_failures);
    w.family("ikemesh_rekeys_total", "counter", "Completed rekeys, by SA kind.");
    w.sample("ikemesh_rekeys_total", L{{"sa", "ike"}}, c.ike_rekeys);
    w.sample("ikemesh_rekeys_total", L{{"sa", "child"}}, c.child_rekeys);
    counter("ikemesh_cookies_sent_total", "COOKIE notifies sent (RFC 7296 2.6).", c.cookies_sent);
    counter("ikemesh_messages_received_total", "IKE messages received.", c.messages_received);
    counter("ikemesh_messages_sent_total", "IKE messages sent.", c.messages_sent);
    counter("ikemesh_messages_dropped_total", "IKE messages dropped silently (unauthenticated).",
            c.messages_dropped);
    counter("ikemesh_natt_keepalives_sent_total",
            "NAT-T keepalives sent while behind a NAT (RFC 3948 2.3).", c.natt_keepalives_sent);
    w.family("ikemesh_nat_mappings_total", "counter",
             "The peer's NAT mapping moved (kernel report or IKE from a new address or port), "
             "by outcome.");
    w.sample("ikemesh_nat_mappings_total", L{{"outcome", "followed"}}, c.nat_mappings_followed);
    w.sample("ikemesh_nat_mappings_total", L{{"outcome", "refused"}}, c.nat_mappings_refused);
    w.sample("ikemesh_nat_mappings_total", L{{"outcome", "unconfirmed"}}, c.nat_path_checks_failed);
    counter("ikemesh_nat_path_checks_total",
            "Path checks sent to a peer's new NAT mapping (both sides behind NATs).",
            c.nat_path_checks);

    w.family("ikemesh_esp_bytes_total", "counter", "ESP payload bytes per peer and direction.");
    for (const auto& [peer, e] : in.esp) {
        w.sample("ikemesh_esp_bytes_total", L{{"peer", peer}, {"direction", "in"}}, e.bytes_in);
        w.sample("ikemesh_esp_bytes_total", L{{"peer", peer}, {"direction", "out"}}, e.bytes_out);
    }
    w.family("ikemesh_esp_packets_total", "counter", "ESP packets per peer and direction.");
    for (const auto& [peer, e] : in.esp) {
        w.sample("ikemesh_esp_packets_total", L{{"peer", peer}, {"direction", "in"}}, e.packets_in);
        w.sample("ikemesh_esp_packets_total", L{{"peer", peer}, {"direction", "out"}},
                 e.packets_out);
    }

    const auto& d = in.daemon;
    counter("ikemesh_udp_datagrams_received_total", "UDP datagrams received on the IKE sockets.",
            d.datagrams_received);
    counter("ikemesh_udp_datagrams_sent_total", "UDP datagrams sent from the IKE sockets.",
            d.datagrams_sent);
    counter("ikemesh_udp_datagrams_dropped_total",
            "UDP datagrams dropped by the daemon (truncated, send failure, stray ESP).",
            d.datagrams_dropped);
    counter("ikemesh_natt_keepalives_received_total", "NAT-T keepalives received (RFC 3948).",
            d.natt_keepalives);
    counter("ikemesh_control_requests_total", "Control socket requests.", d.control_requests);
    counter("ikemesh_control_errors_total", "Control socket requests answered with an error.",
            d.control_errors);
    counter("ikemesh_reloads_total", "Configuration reloads attempted.", d.reloads);
    counter("ikemesh_reload_failures_total", "Configuration reloads refused (invalid config).",
            d.reload_failures);

    if (in.xfrm_stat) {
        w.family("ikemesh_xfrm_errors_total", "counter",
                 "Kernel XFRM error counters from /proc/net/xfrm_stat.");
        for (const auto& [name, value] : *in.xfrm_stat) {
            w.sample("ikemesh_xfrm_errors_total", L{{"counter", name}}, value);
        }
    }
    return w.take();
}

}  // namespace ikemesh::daemon
