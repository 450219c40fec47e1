// JSON views of the engine's snapshots: the results of `status`, `list-sas`, `list-peers` and the
// events `monitor` streams.
//
// The shape of `status` is the interface contract of architecture.md: one object with a `peers`
// array; each peer has `name`, `address`, `state`, `ike_sas` (each with `spi_i`, `spi_r`,
// `initiator`, `state`), `child_sas` (each with `spi_in`, `spi_out`, `mode` and byte/packet
// counters) and `last_error`. SPIs are lowercase hex without 0x. Fields are only ever added, never
// renamed. These are pure functions of ike::EngineStatus values; they do not touch the engine.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>

#include "ike/status.hpp"

namespace ikemesh::daemon {

using nlohmann::json;

json child_sa_json(const ike::ChildSaStatus& child);
json ike_sa_json(const ike::IkeSaStatus& sa);
json peer_json(const ike::PeerStatus& peer);  // with its SAs

// `status`: {"peers":[...], "summary":{"peers":N,"established":N,"connecting":N,"down":N},
// "half_open":N}
json status_json(const ike::EngineStatus& status);
// `list-peers`: {"peers":[{name,address,id,start,state,last_error,child_error,ike_sas:N,
// child_sas:N}]} without the SA details.
json list_peers_json(const ike::EngineStatus& status);
// `list-sas`: {"ike_sas":[{peer,...}], "child_sas":[{peer,...}]}, flat, one entry per SA.
json list_sas_json(const ike::EngineStatus& status);

// Every event kind; `monitor` names them with ike::to_string ("ike_up", "child_failed", ...), and
// a test pins those names because docs/ikectl.md promises them to scripts.
inline constexpr ike::SaEvent::Kind kAllEventKinds[] = {
    ike::SaEvent::Kind::ike_up,       ike::SaEvent::Kind::ike_down,
    ike::SaEvent::Kind::ike_rekeyed,  ike::SaEvent::Kind::child_up,
    ike::SaEvent::Kind::child_down,   ike::SaEvent::Kind::child_rekeyed,
    ike::SaEvent::Kind::child_failed, ike::SaEvent::Kind::peer_dead,
};
// {"event":"ike_up","time":"2026-01-02T03:04:05.678Z","peer":"node2","spi_i":..,"spi_r":..,
//  "spi_in":..,"spi_out":..,"reason":..}; ESP SPIs and reason only when set.
json event_json(const ike::SaEvent& event, std::chrono::system_clock::time_point when);

// "2026-01-02T03:04:05.678Z"
std::string format_utc(std::chrono::system_clock::time_point when);

}  // namespace ikemesh::daemon
