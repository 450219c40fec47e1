// Plain snapshots of the engine's state for `ikectl status`, `list-sas`, metrics and `monitor`.
//
// These are values copied out of the engine on request; the daemon renders them as tables, JSON
// (the shape is the interface contract in architecture.md) or Prometheus text. Nothing here refers
// back into engine state, and no key material is ever copied into them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.hpp"
#include "common/types.hpp"

namespace ikemesh::ike {

struct ChildSaStatus {
    EspSpi spi_in;
    EspSpi spi_out;
    ReqId reqid;
    std::string mode = "transport";
    std::string state;     // "installed", "rekeying", "deleting"
    std::string proposal;  // "aes128gcm16" or "aes256-sha256"
    uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
    int64_t established_seconds = 0;  // age
    int64_t rekey_in_seconds = -1;    // until the scheduled rekey, -1 if none
};

struct IkeSaStatus {
    IkeSpi spi_i;
    IkeSpi spi_r;
    bool initiator = false;  // true if this node initiated the IKE SA
    std::string state;       // "connecting", "established", "rekeying", "deleting"
    std::string proposal;    // "aes128gcm16-prfsha256-x25519"
    Endpoint local, remote;
    bool nat_detected = false;
    bool behind_nat = false;       // this node is behind a NAT (it sends NAT-keepalives)
    bool peer_behind_nat = false;  // the peer is (this node follows its mapping)
    int64_t established_seconds = 0;
    int64_t rekey_in_seconds = -1;
    int64_t last_heard_seconds = -1;  // since the last authenticated message or ESP from the peer
};

struct PeerStatus {
    std::string name;
    IpAddress address;                 // the peer's address in use
    std::vector<IpAddress> addresses;  // every configured address, in preference order
    // Our address towards the peer (configured, or the route's source); empty when there is
    // no route to it.
    IpAddress local_address;
    std::string id;
    std::string start;  // "always", "on-demand", "passive"
    std::string state;  // "established", "connecting" or "down"
    // Why the peer is not (fully) up: the first reason of the last failure, e.g.
    // "authentication failed", "peer not responding", "CHILD SA failed: NO_PROPOSAL_CHOSEN".
    std::string last_error;
    std::string child_error;  // last CHILD SA failure while the IKE SA stands
    std::vector<IkeSaStatus> ike_sas;
    std::vector<ChildSaStatus> child_sas;
};

struct EngineStatus {
    std::vector<PeerStatus> peers;  // sorted by name
    uint32_t half_open = 0;
};

// Peers by state, as `ikectl status`, the metrics and systemd's STATUS= line count them: every
// state other than "established" and "connecting" is "down".
struct PeerStateCounts {
    uint64_t established = 0, connecting = 0, down = 0;
};

inline PeerStateCounts count_peer_states(const EngineStatus& status) {
    PeerStateCounts c;
    for (const auto& peer : status.peers) {
        if (peer.state == "established") {
            ++c.established;
        } else if (peer.state == "connecting") {
            ++c.connecting;
        } else {
            ++c.down;
        }
    }
    return c;
}

// Monotonic counters since start; rendered as Prometheus counters by the daemon.
struct EngineCounters {
    uint64_t handshakes_started = 0;
    uint64_t handshakes_completed = 0;
    std::map<std::string, uint64_t> handshakes_failed;  // by reason (errc_name)
    uint64_t retransmissions = 0;
    uint64_t dpd_failures = 0;
    uint64_t ike_rekeys = 0;
    uint64_t child_rekeys = 0;
    uint64_t cookies_sent = 0;
    uint64_t messages_dropped = 0;  // unauthenticated garbage, silently dropped
    uint64_t messages_received = 0;
    uint64_t messages_sent = 0;
    uint64_t natt_keepalives_sent = 0;  // RFC 3948 2.3, while behind a NAT
    // The peer's NAT mapping moved (XFRM_MSG_MAPPING or an authenticated IKE message from a new
    // address or port): followed, or refused (no NAT on the peer's side). With NATs on both
    // sides a path check goes first; it fails when the peer does not answer there.
    uint64_t nat_mappings_followed = 0;
    uint64_t nat_mappings_refused = 0;
    uint64_t nat_path_checks = 0;
    uint64_t nat_path_checks_failed = 0;
};

// What `ikectl monitor` streams and logs record: something happened to an SA.
struct SaEvent {
    enum class Kind {
        ike_up,
        ike_down,
        ike_rekeyed,
        child_up,
        child_down,
        child_rekeyed,
        child_failed,
        peer_dead,
    };
    Kind kind;
    std::string peer;
    IkeSpi spi_i, spi_r;
    EspSpi spi_in, spi_out;  // zero for IKE events
    std::string reason;      // for *_down, *_failed, peer_dead
};

const char* to_string(SaEvent::Kind kind);

}  // namespace ikemesh::ike
