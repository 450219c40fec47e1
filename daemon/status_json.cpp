#include "daemon/status_json.hpp"

#include <cstdio>
#include <ctime>

namespace ikemesh::daemon {

json child_sa_json(const ike::ChildSaStatus& child) {
    return json{
        {"spi_in", to_hex(child.spi_in)},
        {"spi_out", to_hex(child.spi_out)},
        {"reqid", child.reqid.value},
        {"mode", child.mode},
        {"state", child.state},
        {"proposal", child.proposal},
        {"bytes_in", child.bytes_in},
        {"bytes_out", child.bytes_out},
        {"packets_in", child.packets_in},
        {"packets_out", child.packets_out},
        {"established_seconds", child.established_seconds},
        {"rekey_in_seconds", child.rekey_in_seconds},
    };
}

json ike_sa_json(const ike::IkeSaStatus& sa) {
    return json{
        {"spi_i", to_hex(sa.spi_i)},
        {"spi_r", to_hex(sa.spi_r)},
        {"initiator", sa.initiator},
        {"state", sa.state},
        {"proposal", sa.proposal},
        {"local", sa.local.address.empty() ? std::string() : sa.local.to_string()},
        {"remote", sa.remote.address.empty() ? std::string() : sa.remote.to_string()},
        {"nat_detected", sa.nat_detected},
        {"behind_nat", sa.behind_nat},
        {"peer_behind_nat", sa.peer_behind_nat},
        {"established_seconds", sa.established_seconds},
        {"rekey_in_seconds", sa.rekey_in_seconds},
        {"last_heard_seconds", sa.last_heard_seconds},
    };
}

namespace {

json addresses_json(const std::vector<IpAddress>& addresses) {
    json out = json::array();
    for (const IpAddress& a : addresses)
        out.push_back(a.to_string());
    return out;
}

json peer_summary_json(const ike::PeerStatus& peer) {
    return json{
        {"name", peer.name},
        {"address", peer.address.to_string()},
        {"addresses", addresses_json(peer.addresses)},
        {"local_address",
         peer.local_address.empty() ? std::string() : peer.local_address.to_string()},
        {"id", peer.id},
        {"start", peer.start},
        {"state", peer.state},
        {"last_error", peer.last_error},
        {"child_error", peer.child_error},
    };
}

}  // namespace

json peer_json(const ike::PeerStatus& peer) {
    json j = peer_summary_json(peer);
    json ike_sas = json::array();
    for (const auto& sa : peer.ike_sas)
        ike_sas.push_back(ike_sa_json(sa));
    json child_sas = json::array();
    for (const auto& child : peer.child_sas)
        child_sas.push_back(child_sa_json(child));
    j["ike_sas"] = std::move(ike_sas);
    j["child_sas"] = std::move(child_sas);
    return j;
}

json status_json(const ike::EngineStatus& status) {
    json peers = json::array();
    for (const auto& peer : status.peers)
        peers.push_back(peer_json(peer));
    const auto [established, connecting, down] = ike::count_peer_states(status);
    return json{
        {"peers", std::move(peers)},
        {"summary",
         {{"peers", status.peers.size()},
          {"established", established},
          {"connecting", connecting},
          {"down", down}}},
        {"half_open", status.half_open},
    };
}

json list_peers_json(const ike::EngineStatus& status) {
    json peers = json::array();
    for (const auto& peer : status.peers) {
        json j = peer_summary_json(peer);
        j["ike_sas"] = peer.ike_sas.size();
        j["child_sas"] = peer.child_sas.size();
        peers.push_back(std::move(j));
    }
    return json{{"peers", std::move(peers)}};
}

json list_sas_json(const ike::EngineStatus& status) {
    json ike_sas = json::array();
    json child_sas = json::array();
    for (const auto& peer : status.peers) {
        for (const auto& sa : peer.ike_sas) {
            json j = ike_sa_json(sa);
            j["peer"] = peer.name;
            ike_sas.push_back(std::move(j));
        }
        for (const auto& child : peer.child_sas) {
            json j = child_sa_json(child);
            j["peer"] = peer.name;
            child_sas.push_back(std::move(j));
        }
    }
    return json{{"ike_sas", std::move(ike_sas)}, {"child_sas", std::move(child_sas)}};
}

std::string format_utc(std::chrono::system_clock::time_point when) {
    using namespace std::chrono;
    auto secs = time_point_cast<seconds>(when);
    if (secs > when) secs -= seconds(1);  // floor for times before the epoch
    auto millis = duration_cast<milliseconds>(when - secs).count();
    std::time_t t = system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];  // room for any int the compiler imagines in each field
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    return buf;
}

json event_json(const ike::SaEvent& event, std::chrono::system_clock::time_point when) {
    json j{
        {"event", ike::to_string(event.kind)}, {"time", format_utc(when)},     {"peer", event.peer},
        {"spi_i", to_hex(event.spi_i)},        {"spi_r", to_hex(event.spi_r)},
    };
    if (!event.spi_in.is_zero() || !event.spi_out.is_zero()) {
        j["spi_in"] = to_hex(event.spi_in);
        j["spi_out"] = to_hex(event.spi_out);
    }
    if (!event.reason.empty()) j["reason"] = event.reason;
    return j;
}

}  // namespace ikemesh::daemon
