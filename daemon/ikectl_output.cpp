#include "daemon/ikectl_output.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace ikemesh::daemon {
namespace {

// Tolerant accessors: the wrong type or a missing key reads as absent.
const json* field(const json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

std::string str(const json& obj, const char* key, const std::string& fallback = "-") {
    const json* v = field(obj, key);
    if (v && v->is_string()) {
        const auto& s = v->get_ref<const std::string&>();
        return s.empty() ? fallback : s;
    }
    return fallback;
}

uint64_t u64(const json& obj, const char* key) {
    const json* v = field(obj, key);
    if (v && v->is_number_unsigned()) return v->get<uint64_t>();
    if (v && v->is_number_integer() && v->get<int64_t>() >= 0) return v->get<uint64_t>();
    return 0;
}

int64_t i64(const json& obj, const char* key, int64_t fallback = -1) {
    const json* v = field(obj, key);
    return v && v->is_number_integer() ? v->get<int64_t>() : fallback;
}

bool boolean(const json& obj, const char* key) {
    const json* v = field(obj, key);
    return v && v->is_boolean() && v->get<bool>();
}

const json& array(const json& obj, const char* key) {
    static const json empty = json::array();
    const json* v = field(obj, key);
    return v && v->is_array() ? *v : empty;
}

std::string ike_pair(const json& sa) {
    return str(sa, "spi_i", "?") + "/" + str(sa, "spi_r", "?");
}

std::string child_pair(const json& child) {
    return str(child, "spi_in", "?") + "/" + str(child, "spi_out", "?");
}

std::string child_bytes(const json& child) {
    return format_bytes(u64(child, "bytes_in")) + "/" + format_bytes(u64(child, "bytes_out"));
}

// Why a peer is not (fully) up: the IKE failure, else the CHILD failure while the IKE SA stands.
std::string reason(const json& peer) {
    std::string state = str(peer, "state", "");
    std::string last = str(peer, "last_error", "");
    std::string child = str(peer, "child_error", "");
    if (state != "established" && !last.empty()) return last;
    if (!child.empty()) return "CHILD SA: " + child;
    return state == "established" ? "" : last;
}

}  // namespace

std::string Table::render() const {
    std::vector<size_t> width(headers_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
            width[i] = std::max(width[i], row[i].size());
        }
    };
    measure(headers_);
    for (const auto& row : rows_)
        measure(row);

    std::string out;
    auto emit = [&](const std::vector<std::string>& row) {
        std::string line;
        for (size_t i = 0; i < width.size(); ++i) {
            const std::string cell = i < row.size() ? row[i] : std::string();
            line += cell;
            if (i + 1 < width.size()) line.append(width[i] - cell.size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line;
        out += '\n';
    };
    emit(headers_);
    for (const auto& row : rows_)
        emit(row);
    return out;
}

std::string format_bytes(uint64_t bytes) {
    static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) return std::to_string(bytes) + " B";
    double v = static_cast<double>(bytes) / 1024.0;
    size_t unit = 0;
    while (v >= 1024.0 && unit + 1 < std::size(units)) {
        v /= 1024.0;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[unit]);
    return buf;
}

std::string format_duration(int64_t seconds) {
    if (seconds < 0) return "-";
    char buf[32];
    int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
    if (d > 0) {
        std::snprintf(buf, sizeof buf, "%" PRId64 "d%02" PRId64 "h", d, h);
    } else if (h > 0) {
        std::snprintf(buf, sizeof buf, "%" PRId64 "h%02" PRId64 "m", h, m);
    } else if (m > 0) {
        std::snprintf(buf, sizeof buf, "%" PRId64 "m%02" PRId64 "s", m, s);
    } else {
        std::snprintf(buf, sizeof buf, "%" PRId64 "s", s);
    }
    return buf;
}

std::string render_status(const json& result) {
    Table table({"PEER", "ADDRESS", "LOCAL", "STATE", "IKE SA (I/R)", "CHILD SA (IN/OUT)",
                 "BYTES (IN/OUT)", "REASON"});
    uint64_t established = 0, connecting = 0, down = 0;
    const json& peers = array(result, "peers");
    for (const auto& peer : peers) {
        std::string state = str(peer, "state");
        if (state == "established") {
            ++established;
        } else if (state == "connecting") {
            ++connecting;
        } else {
            ++down;
        }
        const json& ike = array(peer, "ike_sas");
        const json& child = array(peer, "child_sas");
        size_t lines = std::max<size_t>({1, ike.size(), child.size()});
        for (size_t i = 0; i < lines; ++i) {
            bool first = i == 0;
            table.add({
                first ? str(peer, "name") : "",
                first ? str(peer, "address") : "",
                first ? str(peer, "local_address") : "",
                first ? state : "",
                i < ike.size() ? ike_pair(ike[i]) : (first ? "-" : ""),
                i < child.size() ? child_pair(child[i]) : (first ? "-" : ""),
                i < child.size() ? child_bytes(child[i]) : (first ? "-" : ""),
                first ? reason(peer) : "",
            });
        }
    }
    std::string out = table.render();
    out += std::to_string(peers.size()) + (peers.size() == 1 ? " peer: " : " peers: ") +
           std::to_string(established) + " established, " + std::to_string(connecting) +
           " connecting, " + std::to_string(down) + " down\n";
    return out;
}

std::string render_list_peers(const json& result) {
    Table table({"PEER", "ADDRESS", "ID", "START", "STATE", "IKE", "CHILD", "REASON"});
    for (const auto& peer : array(result, "peers")) {
        table.add({str(peer, "name"), str(peer, "address"), str(peer, "id"), str(peer, "start"),
                   str(peer, "state"), std::to_string(u64(peer, "ike_sas")),
                   std::to_string(u64(peer, "child_sas")), reason(peer)});
    }
    return table.render();
}

std::string render_list_sas(const json& result) {
    Table ike(
        {"PEER", "SPI_I", "SPI_R", "ROLE", "STATE", "PROPOSAL", "REMOTE", "AGE", "REKEY", "HEARD"});
    for (const auto& sa : array(result, "ike_sas")) {
        std::string remote = str(sa, "remote");
        if (boolean(sa, "nat_detected")) remote += " (NAT)";
        ike.add({str(sa, "peer"), str(sa, "spi_i"), str(sa, "spi_r"),
                 boolean(sa, "initiator") ? "initiator" : "responder", str(sa, "state"),
                 str(sa, "proposal"), remote, format_duration(i64(sa, "established_seconds")),
                 format_duration(i64(sa, "rekey_in_seconds")),
                 format_duration(i64(sa, "last_heard_seconds"))});
    }
    Table child({"PEER", "SPI_IN", "SPI_OUT", "MODE", "STATE", "PROPOSAL", "BYTES_IN", "BYTES_OUT",
                 "PACKETS_IN", "PACKETS_OUT", "AGE", "REKEY"});
    for (const auto& c : array(result, "child_sas")) {
        child.add({str(c, "peer"), str(c, "spi_in"), str(c, "spi_out"), str(c, "mode"),
                   str(c, "state"), str(c, "proposal"), format_bytes(u64(c, "bytes_in")),
                   format_bytes(u64(c, "bytes_out")), std::to_string(u64(c, "packets_in")),
                   std::to_string(u64(c, "packets_out")),
                   format_duration(i64(c, "established_seconds")),
                   format_duration(i64(c, "rekey_in_seconds"))});
    }
    return "IKE SAs:\n" + ike.render() + "\nCHILD SAs:\n" + child.render();
}

std::string render_peer_action(const json& result) {
    std::string action = str(result, "action", "request");
    if (action == "rekey" && boolean(result, "ike")) action = "rekey (IKE SA)";
    return action + " " + str(result, "peer") + ": ok\n";
}

namespace {

std::string join_names(const json& names) {
    std::string out;
    for (const auto& n : names) {
        if (!n.is_string()) continue;
        if (!out.empty()) out += ' ';
        out += n.get<std::string>();
    }
    return out;
}

// The peer changes and restart-only settings of a reload or check-config result.
std::string change_lines(const json& result, const char* restart_intro) {
    std::string out;
    for (const char* key : {"added", "removed", "changed"}) {
        const json& names = array(result, key);
        if (!names.empty()) out += std::string(key) + ": " + join_names(names) + "\n";
    }
    const json& restart = array(result, "restart_required");
    if (!restart.empty()) out += std::string(restart_intro) + ": " + join_names(restart) + "\n";
    return out;
}

std::string change_counts(const json& result) {
    return std::to_string(array(result, "added").size()) + " added, " +
           std::to_string(array(result, "removed").size()) + " removed, " +
           std::to_string(array(result, "changed").size()) + " changed, " +
           std::to_string(u64(result, "unchanged")) + " unchanged";
}

}  // namespace

std::string render_reload(const json& result) {
    return "configuration reloaded: " + std::to_string(u64(result, "peers")) + " peers (" +
           change_counts(result) + ")\n" +
           change_lines(result, "not applied until ikemeshd restarts");
}

std::string render_check_config(const json& result) {
    return "configuration is valid: " + std::to_string(u64(result, "peers")) +
           " peers; against the running daemon: " + change_counts(result) + "\n" +
           change_lines(result, "would need a restart");
}

std::string render_version(const json& result, const std::string& ikectl_version) {
    return "ikectl " + ikectl_version + "\n" + str(result, "daemon", "ikemeshd") + " " +
           str(result, "version") + "\n";
}

std::string render_event(const json& event) {
    std::string line = str(event, "time") + "  " + str(event, "event") + "  " + str(event, "peer") +
                       "  " + str(event, "spi_i", "?") + "/" + str(event, "spi_r", "?");
    if (field(event, "spi_in")) line += "  " + child_pair(event);
    std::string why = str(event, "reason", "");
    if (!why.empty()) line += "  (" + why + ")";
    return line;
}

std::string render_result(Command command, const json& result, const std::string& ikectl_version) {
    switch (command) {
        case Command::status:
            return render_status(result);
        case Command::list_peers:
            return render_list_peers(result);
        case Command::list_sas:
            return render_list_sas(result);
        case Command::initiate:
        case Command::terminate:
        case Command::rekey:
            return render_peer_action(result);
        case Command::reload:
            return render_reload(result);
        case Command::check_config:
            return render_check_config(result);
        case Command::version:
            return render_version(result, ikectl_version);
        case Command::metrics:
            return result.is_string() ? result.get<std::string>() : std::string();
        case Command::monitor:  // the events are rendered one by one (render_event)
            return {};
    }
    return {};
}

int status_exit_code(const json& result) {
    for (const auto& peer : array(result, "peers")) {
        if (str(peer, "state", "") == "down" && str(peer, "start", "always") == "always") {
            return kExitPeerDown;
        }
    }
    return kExitOk;
}

}  // namespace ikemesh::daemon
