// The engine's view of configuration: immutable values handed to the engine by value.
//
// config/ parses TOML into these types (and validates them); the engine never reads files or
// settings itself. A PeerConfig is everything the engine needs to run one peer; LocalConfig is who
// we are; EngineSettings are the daemon-wide protocol knobs. Equality is by value (secrets compare
// by content) so a reload can tell changed peers from unchanged ones.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/ip.hpp"
#include "common/types.hpp"
#include "crypto/algorithms.hpp"
#include "crypto/secret.hpp"

namespace ikemesh::crypto {
class PrivateKey;   // crypto/signature.hpp
class Certificate;  // crypto/certificate.hpp
class CertStore;    // crypto/certificate.hpp
}  // namespace ikemesh::crypto

namespace ikemesh::ike {

// RFC 7296 3.5 identification types we accept in configuration.
enum class IdKind : uint8_t {
    ipv4 = 1,
    fqdn = 2,
    rfc822 = 3,
    ipv6 = 5,
    der_asn1_dn = 9,
    key_id = 11,
};

// An IKE identity: the ID payload type and its data exactly as on the wire (4/16 address bytes,
// the name's octets, the DER of a distinguished name). `text` is how the config wrote it, kept
// for logs and `ikectl`.
struct Identity {
    IdKind kind = IdKind::fqdn;
    Bytes data;
    std::string text;

    // Same kind and data; distinguished names compare canonically (X509_NAME_cmp), since a
    // certificate may spell the same name with other ASN.1 string types than the config does.
    bool operator==(const Identity& o) const;
};

// One proposal in strongSwan notation, e.g. "aes128gcm16-prfsha256-x25519". Every list holds the
// algorithms in preference order; the responder picks the first combination it supports.
struct IkeProposal {
    std::vector<crypto::EncrSpec> encr;
    std::vector<crypto::IntegAlg> integ;  // empty for AEAD-only proposals
    std::vector<crypto::PrfAlg> prf;
    std::vector<crypto::DhGroup> dh;

    bool operator==(const IkeProposal&) const = default;
};

// "aes128gcm16" or "aes256-sha256-x25519" (a DH group in an ESP proposal means PFS on rekey).
struct EspProposal {
    std::vector<crypto::EncrSpec> encr;
    std::vector<crypto::IntegAlg> integ;
    std::vector<crypto::DhGroup> dh;
    bool esn = false;

    bool operator==(const EspProposal&) const = default;
};

enum class StartAction : uint8_t {
    always,     // initiate at start and keep the SA up (re-initiate after failures)
    on_demand,  // install trap policies; initiate on the kernel's ACQUIRE
    passive,    // only respond
};

enum class AuthMethod : uint8_t { psk, cert };

// A class of traffic, as in `bypass = ["tcp/22", "icmp"]` or a peer's `traffic = ["tcp/8140"]`.
// protocol 0 = any; port 0 = any port (only meaningful for tcp, udp, sctp).
struct TrafficSpec {
    uint8_t protocol = 0;
    uint16_t port = 0;

    bool operator==(const TrafficSpec&) const = default;
};

struct Lifetime {
    std::chrono::seconds time{0};  // 0 = no limit
    uint64_t bytes = 0;            // 0 = no limit
    uint64_t packets = 0;          // 0 = no limit

    bool operator==(const Lifetime&) const = default;
};

struct PeerConfig {
    std::string name;  // the TOML table name, unique in the config
    // The first (preferred) of `addresses`: how logs, the mesh rules and the uniqueness check
    // name the peer.
    IpAddress address;
    // Every address of the peer in preference order (never empty once configured): where IKE
    // is sent, tried in turn by the initiator; the one in use is also the transport-mode host
    // address of its CHILD SAs and policies. A responder accepts the peer from any of them.
    std::vector<IpAddress> addresses;
    uint16_t port = 500;  // the peer's IKE port
    Identity id;          // the identity the peer must authenticate as
    AuthMethod auth = AuthMethod::psk;
    // Pre-shared key (auth = psk); shared so that copying a config does not copy the key.
    std::shared_ptr<const crypto::SecretBytes> psk;

    std::vector<IkeProposal> ike;
    std::vector<EspProposal> esp;
    StartAction start = StartAction::always;

    std::chrono::seconds dpd_delay{30};  // liveness check after this long without traffic
    std::chrono::seconds ike_lifetime{4 * 3600};
    std::chrono::seconds child_lifetime{3600};
    // Rekey this long before the lifetime ends; the actual point is randomised by up to
    // `rekey_jitter` earlier still, so a mesh does not rekey in lockstep.
    std::chrono::seconds rekey_margin{540};
    std::chrono::seconds rekey_jitter{180};
    Lifetime child_limits;  // byte/packet limits for CHILD SAs (time comes from child_lifetime)
    uint32_t replay_window = 64;
    std::vector<TrafficSpec> bypass;   // sent in the clear, never through ESP
    std::vector<TrafficSpec> traffic;  // what the CHILD SA protects; empty = all traffic
    bool childless = false;            // bring up the IKE SA without a CHILD SA (RFC 6023)
    // NAT-keepalive interval (RFC 3948 2.3) while this node is behind a NAT; 0 = none.
    std::chrono::seconds natt_keepalive{20};

    bool operator==(const PeerConfig& o) const;
};

struct LocalConfig {
    Identity id;
    AuthMethod auth = AuthMethod::psk;
    std::shared_ptr<const crypto::PrivateKey> key;    // auth = cert
    std::shared_ptr<const crypto::Certificate> cert;  // our end-entity certificate
    std::shared_ptr<const crypto::CertStore> ca;      // trust anchors for peers' certificates
    // The DER of every trust anchor in `ca`, in the order configured: what `ca` holds, so a
    // reload can compare trust anchors by content, and what CERTREQ (RFC 7296 3.7) is built from.
    std::vector<Bytes> ca_certificates;
    std::vector<IpAddress> addresses;  // local addresses to use (empty = any)

    bool operator==(const LocalConfig& o) const;
};

// Daemon-wide protocol behaviour. Defaults follow strongSwan where it has one.
struct EngineSettings {
    // Retransmission (RFC 7296 2.1): timeout * base^n, `retransmit_tries` retransmissions.
    std::chrono::milliseconds retransmit_timeout{2000};
    double retransmit_base = 1.8;
    uint32_t retransmit_tries = 5;
    std::chrono::milliseconds retransmit_limit{30000};  // cap on a single wait
    // Above this many half-open IKE SAs the responder demands COOKIEs (RFC 7296 2.6).
    uint32_t cookie_threshold = 1000;
    std::chrono::seconds cookie_secret_lifetime{120};
    // Fragment IKE_AUTH and later messages larger than this (RFC 7383), if the peer supports it.
    uint32_t fragment_size = 1280;
    // Back-off for re-initiating `start = always` peers after a failure: base doubled each failure
    // up to max, with +-50% jitter.
    std::chrono::seconds reinitiate_base{2};
    std::chrono::seconds reinitiate_max{120};
    // How long a half-open IKE SA (no IKE_AUTH yet) may live before it is dropped.
    std::chrono::seconds half_open_timeout{30};

    bool operator==(const EngineSettings&) const = default;
};

}  // namespace ikemesh::ike
