// Internal to the engine: the IKE SA, CHILD SA and peer records and the Engine::Impl that owns
// them. Only ike/*.cpp include this header.
//
// The IKE SA keeps a coarse state (connecting, established, rekeyed, deleting); what is in flight
// is described by at most one outstanding request (window size 1, RFC 7296 2.3) and a queue of
// intents waiting for it. Each SA owns its deadlines (retransmit, liveness, rekey, expiry); the
// engine's heap only says "wake SA x at time t" and a wake-up re-reads the SA's deadlines, so a
// stale wake-up is harmless by construction.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/ike_kdf.hpp"
#include "crypto/key_exchange.hpp"
#include "crypto/prf.hpp"
#include "crypto/sk_cipher.hpp"
#include "ike/engine.hpp"
#include "ike/proposals.hpp"
#include "ike/traffic_selectors.hpp"
#include "ike/wire/build.hpp"
#include "ike/wire/encrypted.hpp"
#include "ike/wire/parse.hpp"
#include "ike/wire/reassembly.hpp"
#include "kernel/kernel.hpp"

namespace spdlog {
class logger;
}

namespace ikemesh::ike {

inline constexpr TimePoint kNever = TimePoint::max();
inline constexpr size_t kNonceSize = 32;  // RFC 7296 2.10: >= 128 bits and >= half the PRF key
inline constexpr uint32_t kMaxInitRetries = 3;  // INVALID_KE_PAYLOAD / COOKIE round trips

enum class IkeState : uint8_t {
    connecting,   // IKE_SA_INIT / IKE_AUTH in progress
    established,  // authenticated; CHILD SAs may exist
    rekeyed,      // replaced by a rekeyed IKE SA; waiting for the old one's Delete exchange
    deleting,     // we sent a Delete for it
};
const char* to_string(IkeState s);

enum class ChildState : uint8_t {
    installed,  // in the kernel, carrying traffic
    rekeying,   // a rekey of it is in flight (ours)
    rekeyed,    // replaced; its Delete exchange is pending
    deleting,   // we sent a Delete for it
};
const char* to_string(ChildState s);

struct ChildSa {
    uint64_t id = 0;  // engine-wide unique, never reused
    EspSpi spi_in;
    EspSpi spi_out;
    EspSuite suite;
    ChildState state = ChildState::installed;
    TsPair ts;
    TimePoint established{};
    TimePoint rekey_at = kNever;
    TimePoint expire_at = kNever;
    uint64_t seen_in_bytes = 0;  // inbound bytes at the last liveness look
    // Rekey bookkeeping: the child that replaces this one (its pending outbound SA is installed
    // when the peer deletes this one), and, during a simultaneous rekey (RFC 7296 2.8.1), the
    // child the peer's exchange created and the smaller nonce of that exchange.
    uint64_t replaced_by = 0;
    uint64_t collision_child = 0;
    Bytes collision_nonce;
    // A rekey responder installs the new outbound SA only when the initiator deletes the old one
    // (or after a grace period), so nothing is sent on an SA the peer has not installed inbound
    // yet. Until then the parameters (keys included) wait here.
    std::unique_ptr<kernel::SaParams> pending_outbound;
    TimePoint pending_outbound_at = kNever;
    // UDP-encapsulated children keep both SAs' parameters as installed (keys included, wiped
    // with the child), so that when the peer's NAT mapping moves the SAs can be re-installed at
    // the new port or address: the kernel cannot change an SA's address in place, and a new SA
    // needs the keys. Null for plain ESP.
    std::unique_ptr<kernel::SaParams> encap_in;
    std::unique_ptr<kernel::SaParams> encap_out;
};

// Work that needs an exchange we initiate; queued while another request is in flight.
enum class Task : uint8_t {
    ike_sa_init,
    ike_auth,
    create_child,
    rekey_child,
    rekey_ike,
    delete_child,
    delete_ike,
    dpd,
    // An empty INFORMATIONAL to an endpoint the peer was seen at, when both sides are behind
    // NATs: followed only if the peer answers from there (see may_follow_peer).
    path_check,
};
const char* to_string(Task t);

struct Intent {
    Task task = Task::dpd;
    uint64_t child_id = 0;       // rekey_child: the child to rekey
    std::vector<EspSpi> spis;    // delete_child: our inbound SPIs to announce
    std::optional<Endpoint> to;  // path_check: where to send it (else the SA's remote)
};

// An exchange we initiated and whose response we await, with what its response handler needs.
struct Request {
    Task task = Task::dpd;
    MessageId id;
    std::vector<Bytes> datagrams;  // as sent (several when fragmented), for retransmission
    uint32_t attempt = 0;
    TimePoint retransmit_at = kNever;
    // CREATE_CHILD_SA context
    uint64_t child_id = 0;                    // rekey_child: the child being rekeyed
    EspSpi new_spi_in;                        // create/rekey child: the inbound SPI we allocated
    Bytes nonce;                              // our Ni
    std::unique_ptr<crypto::KeyExchange> ke;  // PFS or IKE rekey
    IkeSpi new_ike_spi;                       // rekey_ike: our SPI of the new IKE SA
    TsPair ts;                                // create/rekey child: what we proposed
    std::vector<EspSpi> spis;                 // delete_child: what we announced
    std::optional<Endpoint> to;               // path_check: sent there, not to the SA's remote
};

// What IKE_SA_INIT leaves for IKE_AUTH; freed once the IKE SA is established.
struct Setup {
    std::unique_ptr<crypto::KeyExchange> ke;
    Bytes ni, nr;
    Bytes init_request;   // RealMessage1 (RFC 7296 2.15) as sent / received
    Bytes init_response;  // RealMessage2
    Bytes cookie;         // the responder's COOKIE to echo (initiator)
    crypto::SecretBytes sk_pi, sk_pr;
    std::vector<uint16_t> peer_sig_hashes;  // RFC 7427 SIGNATURE_HASH_ALGORITHMS
    uint32_t init_retries = 0;
    // The first CHILD SA of IKE_AUTH (initiator): our inbound SPI and proposed selectors.
    EspSpi child_spi_in;
    TsPair child_ts;
};

struct Peer;

struct IkeSa {
    uint64_t id = 0;       // our SPI's value; the key of the SA table
    Peer* peer = nullptr;  // null on a responder until IKE_AUTH identifies the peer
    bool initiator = false;
    IkeState state = IkeState::connecting;
    IkeSpi spi_i, spi_r;
    Endpoint local, remote;
    bool natt = false;          // IKE (and ESP) float to the NAT-T port
    bool nat_detected = false;  // some NAT between us (RFC 7296 2.23)
    // Which side the NAT is on: ours (the peer's NAT_DETECTION_DESTINATION_IP did not match our
    // address: we send NAT-keepalives) and the peer's (its NAT_DETECTION_SOURCE_IP did not match
    // where its message came from: we follow its mapping when it moves).
    bool behind_nat = false;
    bool peer_behind_nat = false;
    bool mapping_refusal_logged = false;  // log a refused mapping once per SA, then count only
    bool peer_fragmentation = false;
    IkeSuite suite;
    crypto::SecretBytes sk_d;
    std::optional<crypto::SkCipher> seal;  // our direction
    std::optional<crypto::SkCipher> open;  // the peer's direction

    uint32_t next_out = 0;  // message id of our next request
    uint32_t next_in = 0;   // message id we expect of the peer's next request
    std::optional<Request> inflight;
    std::vector<Intent> queue;
    MessageId cached_id;
    std::vector<Bytes> cached_response;  // our last response, for retransmitted requests
    std::unique_ptr<wire::FragmentReassembler> reassembler;
    std::unique_ptr<Setup> setup;

    TimePoint created{};
    TimePoint established_at{};
    TimePoint last_heard{};
    TimePoint dpd_at = kNever;
    TimePoint rekey_at = kNever;
    TimePoint expire_at = kNever;  // half-open timeout, or the end of the lifetime
    TimePoint child_retry_at = kNever;
    TimePoint keepalive_at = kNever;  // next NAT-keepalive (RFC 3948 2.3)
    uint32_t child_failures = 0;
    TimePoint armed_at = kNever;  // earliest wake-up in the heap for this SA

    std::vector<ChildSa> children;
    std::string reason;        // the first teardown reason
    uint64_t replaced_by = 0;  // IKE rekey successor
    bool initial_contact_seen = false;
    // IKE_SA_INIT went unanswered: the peer's address to try next (an index into its remotes).
    std::optional<size_t> fallback_to;
    crypto::DhGroup rekey_group = crypto::DhGroup::none;  // after INVALID_KE_PAYLOAD on a rekey
    // A simultaneous IKE rekey (RFC 7296 2.8.2): the SA the peer's exchange created and the
    // smaller nonce of that exchange, until our own rekey's response decides.
    uint64_t collision_sa = 0;
    Bytes collision_nonce;

    IkeSpi local_spi() const { return initiator ? spi_i : spi_r; }
    IkeSpi remote_spi() const { return initiator ? spi_r : spi_i; }
};

struct Peer {
    uint64_t id = 0;
    PeerConfig cfg;
    ReqId reqid;
    // The peer's addresses in preference order (PeerConfig::addresses, or just `address`), our
    // address towards each (empty: no route to it), and the one in use: where IKE goes, and the
    // host pair of its CHILD SAs and policies. Every SA with CHILD SAs is on the address in use.
    std::vector<IpAddress> remotes;
    std::vector<IpAddress> locals;
    size_t in_use = 0;
    IpAddress remote;                   // remotes[in_use]
    IpAddress local_address;            // locals[in_use]: our address towards this peer
    bool designated_initiator = false;  // docs/mesh.md
    bool admin_down = false;            // `terminate` until the next `initiate` or reload
    std::vector<uint64_t> sas;          // our SPIs of IKE SAs with this peer, in creation order
    uint32_t initiated = 0;             // how many of them we initiated
    uint32_t failures = 0;              // consecutive failed attempts
    TimePoint start_at = kNever;        // pending (re)initiation
    TimePoint armed_at = kNever;
    std::string last_error;
    std::string child_error;
    std::vector<kernel::PolicyParams> policies;  // what we installed for this peer
    uint32_t acquire_seq = 0;                    // of an ACQUIRE waiting for a CHILD SA
};

// The addresses of an IKE SA's ESP SAs in the kernel, the one place that decides them: across
// NAT-T the IKE SA's own endpoints (this node's address, the peer's as it is seen, which follows
// its mapping), else the peer's configured pair. An SA is found in the kernel by (dst, SPI).
struct EspAddresses {
    IpAddress local;
    IpAddress remote;
};
inline EspAddresses esp_addresses(const IkeSa& sa) {
    if (sa.natt) return {sa.local.address, sa.remote.address};
    return {sa.peer->local_address, sa.peer->remote};
}

class Engine::Impl {
  public:
    Impl(EngineDeps deps, EngineConfig config, TimePoint now);
    ~Impl();

    // --- engine.cpp: the public API and dispatch
    void start(TimePoint now);
    void on_datagram(ByteView data, const Endpoint& local, const Endpoint& remote, TimePoint now);
    void on_timer(TimePoint now);
    TimePoint next_timer() const;
    void on_kernel_event(const kernel::KernelEvent& event, TimePoint now);
    void on_addresses_changed(TimePoint now);
    Status initiate(std::string_view name, TimePoint now);
    Status terminate(std::string_view name, TimePoint now);
    Status rekey(std::string_view name, bool ike, TimePoint now);
    void reconfigure(EngineConfig config, TimePoint now);
    void shutdown(TimePoint now);
    EngineStatus status(TimePoint now);

    std::vector<OutDatagram> outbox;
    std::vector<SaEvent> events;
    EngineCounters counters;

    // --- everything below is shared by the exchange files

    EngineDeps deps;
    EngineConfig cfg;
    std::shared_ptr<spdlog::logger> log;

    std::unordered_map<uint64_t, std::unique_ptr<IkeSa>> sas;     // by our SPI
    std::map<std::pair<uint64_t, Endpoint>, uint64_t> half_open;  // (SPIi, peer) -> our SPI
    std::map<std::string, std::unique_ptr<Peer>, std::less<>> peers;
    std::unordered_map<uint64_t, Peer*> peers_by_id;
    std::vector<IkeProposal> all_ike_proposals;  // responder offer for unknown addresses
    uint64_t next_peer_id = 1;
    uint64_t next_child_id = 1;
    uint32_t next_reqid = 1;
    bool shutting_down = false;
    // Our SAs found in the kernel at start: a previous run's, left by a crash or SIGKILL (a clean
    // stop removes its own). Each is removed once a new CHILD SA with its peer is up in both
    // directions, so traffic keeps flowing on the old pair until then (docs/operations.md).
    std::vector<kernel::OwnedSa> previous_run_sas;
    // While a protected request is handled: where it came from, where its answer goes.
    std::optional<Endpoint> request_from;

    struct Wake {
        TimePoint when;
        uint64_t key;       // SA id or peer id
        bool peer = false;  // which of the two
        bool operator>(const Wake& o) const { return when > o.when; }
    };
    std::priority_queue<Wake, std::vector<Wake>, std::greater<>> wakes;

    // Cookie secrets (RFC 7296 2.6): the current one and its predecessor stay valid.
    struct CookieSecret {
        uint8_t version = 0;
        Bytes secret;
        TimePoint expires{};
    };
    CookieSecret cookie_current, cookie_previous;

    // engine.cpp
    IkeSa* find_sa(uint64_t id);
    Peer* find_peer(std::string_view name);
    // The only peer with this address; null when none or several share it (nodes behind one
    // NAT): then only the identity at IKE_AUTH tells them apart.
    Peer* peer_by_address(const IpAddress& a);
    Peer* peer_by_identity(const Identity& id);
    // `id` = 0: a fresh random SPI.
    IkeSa& create_sa(bool initiator, Peer* peer, const Endpoint& local, const Endpoint& remote,
                     TimePoint now, uint64_t id = 0);
    void arm(IkeSa& sa);
    void arm(Peer& peer);
    void wake_sa(IkeSa& sa, TimePoint now);
    void wake_peer(Peer& peer, TimePoint now);
    void send(const IkeSa& sa, const Bytes& datagram);
    void send_raw(const Endpoint& local, const Endpoint& remote, Bytes datagram);
    // Changes the IKE SA's remote endpoint (the half-open table is keyed by it).
    void set_remote(IkeSa& sa, const Endpoint& to);
    // NAT traversal (engine.cpp): the NAT-keepalive, and following the peer's NAT when its
    // mapping moves (RFC 7296 2.23, RFC 3948): `to` came from authenticated, fresh input.
    void send_keepalive(IkeSa& sa, TimePoint now);
    void arm_keepalive(IkeSa& sa, TimePoint now);
    enum class Follow : uint8_t { yes, check_first, no };
    Follow may_follow_peer(IkeSa& sa, const Endpoint& to, std::string_view how);
    // The peer was seen at `to` (an authenticated IKE message or ESP): follow it, check the path
    // first, or stay, as may_follow_peer decides.
    void peer_seen_at(IkeSa& sa, const Endpoint& to, std::string_view how, TimePoint now);
    void follow_peer(IkeSa& sa, const Endpoint& to, std::string_view how);
    void send_request_datagrams(const IkeSa& sa, const Request& req);
    void move_child_encap(IkeSa& sa, ChildSa& child);
    void emit(SaEvent::Kind kind, const IkeSa& sa, const ChildSa* child, std::string reason);
    std::string prefix(const IkeSa& sa) const;
    uint64_t random_spi();
    Bytes random_bytes(size_t n);

    // Transport of protected exchanges (engine.cpp).
    void queue_intent(IkeSa& sa, Intent intent, TimePoint now);
    void start_next_request(IkeSa& sa, TimePoint now);
    // Encrypts `chain` as message `id` (fragmenting when needed) into datagrams.
    Result<std::vector<Bytes>> protect(IkeSa& sa, wire::ExchangeType exchange, MessageId id,
                                       bool response, wire::ChainBuilder& chain);
    void transmit_request(IkeSa& sa, Request request, TimePoint now);
    void respond(IkeSa& sa, wire::ExchangeType exchange, MessageId id, wire::ChainBuilder& chain);
    // Answers the request `h` with a single Notify (an error or refusal).
    void respond_notify(IkeSa& sa, const wire::Header& h, wire::NotifyType type,
                        ByteView data = {});
    void handle_protected(IkeSa& sa, ByteView datagram, const wire::Message& msg,
                          const Endpoint& local, const Endpoint& remote, TimePoint now);
    void dispatch_request(IkeSa& sa, const wire::Header& header, const wire::PayloadList& inner,
                          TimePoint now);
    void dispatch_response(IkeSa& sa, const wire::Header& header, const wire::PayloadList& inner,
                           TimePoint now);
    void on_retransmit_timeout(IkeSa& sa, TimePoint now);

    // Tear-down (engine.cpp). `silently`: no Delete to the peer (it is dead or lost its state).
    void delete_ike_sa(IkeSa& sa, Error reason, TimePoint now);
    void forget_sa(uint64_t id);
    void peer_failed(Peer& peer, const Error& reason, TimePoint now);

    // exchange_init.cpp: IKE_SA_INIT
    // From the first usable address of the peer (a new attempt goes back to its first preference).
    void initiate_ike_sa(Peer& peer, TimePoint now);
    void initiate_on(Peer& peer, size_t index, TimePoint now);
    void send_init_request(IkeSa& sa, TimePoint now);
    void on_init_request(ByteView datagram, const wire::Message& msg, const Endpoint& local,
                         const Endpoint& remote, TimePoint now);
    void on_init_response(IkeSa& sa, ByteView datagram, const wire::Message& msg,
                          const Endpoint& local, const Endpoint& remote, TimePoint now);
    void respond_stateless(const wire::Header& request, const Endpoint& local,
                           const Endpoint& remote, wire::NotifyType type, ByteView data);
    void rotate_cookie_secret(TimePoint now);
    Bytes make_cookie(const wire::Header& h, ByteView ni, const Endpoint& remote,
                      uint8_t version) const;
    bool cookie_valid(const wire::Header& h, ByteView ni, const Endpoint& remote,
                      ByteView cookie) const;
    Status derive_ike_sa_keys(IkeSa& sa, ByteView shared_secret);

    // exchange_auth.cpp: IKE_AUTH
    void send_auth_request(IkeSa& sa, TimePoint now);
    void on_auth_request(IkeSa& sa, const wire::Header& h, const wire::PayloadList& inner,
                         TimePoint now);
    void on_auth_response(IkeSa& sa, const wire::PayloadList& inner, TimePoint now);
    void ike_sa_established(IkeSa& sa, TimePoint now);

    // exchange_child.cpp: CREATE_CHILD_SA (new child, child rekey, IKE rekey)
    std::optional<Request> build_create_child(IkeSa& sa, const Intent& intent,
                                              wire::ChainBuilder& chain, TimePoint now);
    std::optional<Request> build_rekey_ike(IkeSa& sa, wire::ChainBuilder& chain);
    void on_create_child_request(IkeSa& sa, const wire::Header& h, const wire::PayloadList& inner,
                                 TimePoint now);
    void on_create_child_response(IkeSa& sa, Request& req, const wire::PayloadList& inner,
                                  TimePoint now);
    void on_rekey_ike_response(IkeSa& sa, Request& req, const wire::PayloadList& inner,
                               TimePoint now);
    void on_rekey_ike_request(IkeSa& sa, const wire::Header& h, const wire::PayloadList& inner,
                              TimePoint now);
    Status derive_rekeyed(IkeSa& old, IkeSa& fresh, ByteView shared, ByteView ni, ByteView nr);
    IkeSa& create_rekeyed_sa(IkeSa& old, bool initiator, uint64_t id, TimePoint now);
    void rekeyed_sa_up(IkeSa& fresh, TimePoint now);
    // Moves the CHILD SAs of `old` to `fresh` and retires `old` (RFC 7296 2.18).
    void adopt_rekeyed(IkeSa& old, IkeSa& fresh, TimePoint now);
    void child_failed(IkeSa& sa, const Error& reason, TimePoint now);

    // exchange_info.cpp: INFORMATIONAL (delete, liveness)
    void build_informational(IkeSa& sa, const Intent& intent, wire::ChainBuilder& chain,
                             Request& req);
    void on_informational_request(IkeSa& sa, const wire::Header& h, const wire::PayloadList& inner,
                                  TimePoint now);
    void on_informational_response(IkeSa& sa, Request& req, const wire::PayloadList& inner,
                                   TimePoint now);
    void check_liveness(IkeSa& sa, TimePoint now);

    // child_sa.cpp: CHILD SA keys and kernel state
    struct ChildKeys {
        crypto::SecretBytes encr_i, integ_i, encr_r, integ_r;
    };
    Result<ChildKeys> child_keys(const IkeSa& sa, const EspSuite& suite, ByteView shared,
                                 ByteView ni, ByteView nr);
    kernel::SaParams child_sa_params(const IkeSa& sa, const EspSuite& suite, bool inbound,
                                     EspSpi spi, crypto::SecretBytes encr,
                                     crypto::SecretBytes integ, const TsPair& ts, TimePoint now,
                                     TimePoint rekey_at) const;
    // Installs both directions (or the inbound only, with the outbound deferred) and records the
    // child. On failure nothing stays in the kernel.
    Result<ChildSa*> install_child(IkeSa& sa, const EspSuite& suite, EspSpi spi_in, EspSpi spi_out,
                                   ChildKeys keys, const TsPair& ts, bool defer_outbound,
                                   bool we_initiated, TimePoint now);
    // Responder half of a CHILD SA negotiation (IKE_AUTH or CREATE_CHILD_SA): choose, narrow,
    // allocate, derive and install. The answer's payloads are added by add_child_answer().
    struct ChildAnswer {
        uint64_t child_id = 0;
        EspChoice choice;
        EspSpi spi_in;
        std::array<uint8_t, 4> spi_bytes{};
        TsPair ts;
    };
    Result<ChildAnswer> accept_child(IkeSa& sa, const wire::PayloadList& req, ByteView ni,
                                     ByteView nr, ByteView shared,
                                     std::optional<crypto::DhGroup> pfs_group, bool ike_auth,
                                     bool defer_outbound, TimePoint now);
    void add_child_answer(wire::ChainBuilder& out, const ChildAnswer& a, ByteView nonce,
                          const crypto::KeyExchange* ke);
    // Initiator half: check the responder's answer, derive and install. Returns the child id.
    Result<uint64_t> accept_child_answer(IkeSa& sa, const wire::PayloadList& resp, EspSpi spi_in,
                                         const TsPair& proposed, ByteView ni, ByteView nr,
                                         ByteView shared, bool with_dh, TimePoint now);
    static wire::NotifyType notify_for(const Error& e);
    void install_pending_outbound(IkeSa& sa, ChildSa& child);
    void remove_child_kernel_state(IkeSa& sa, ChildSa& child);
    void remove_child(IkeSa& sa, uint64_t child_id, const std::string& reason);
    ChildSa* find_child(IkeSa& sa, uint64_t child_id);
    ChildSa* child_by_spi_out(IkeSa& sa, EspSpi spi);
    void free_spi(const Peer& peer, EspSpi spi);
    void schedule_child_retry(IkeSa& sa, TimePoint now);

    // peers.cpp: peer life cycle, policies, mesh rules, configuration, operator verbs;
    // kernel_events.cpp: kernel events and resync; peer_status.cpp: status snapshots
    void add_peer(const PeerConfig& pc, TimePoint now);
    // Our address towards each of the peer's addresses: the configured local address of its
    // family, else the route's source (EngineDeps::source_address); empty when there is none.
    std::vector<IpAddress> resolve_locals(const Peer& peer) const;
    std::string no_local_address_reason(const Peer& peer) const;
    static constexpr size_t kNoAddress = ~size_t{0};
    // The first of the peer's addresses from `from` on that we have a local address for.
    size_t first_usable(const Peer& peer, size_t from) const;
    size_t index_of(const Peer& peer, const IpAddress& a) const;
    bool has_address(const Peer& peer, const IpAddress& a) const;
    // The peer's pair of addresses in use becomes (remotes[index], locals[index]) (kNoAddress:
    // none, no route any more): the SAs on the old pair go (their Delete is sent from the old
    // address, detached from the peer), the policies move. Nothing happens if the pair is the
    // same. `restart`: start the peer again from the new pair (`start = "always"`).
    void use_address(Peer& peer, size_t index, TimePoint now, bool restart);
    void remove_peer(Peer& peer, TimePoint now);
    void install_policies(Peer& peer);
    void remove_policies(Peer& peer);
    void schedule_start(Peer& peer, TimePoint now, bool follower_delay);
    void begin_delete(IkeSa& sa, Error reason, TimePoint now);
    void refresh_proposals();
    void heal_child(IkeSa& sa, uint64_t child_id, const std::string& why, TimePoint now);
    std::pair<IkeSa*, ChildSa*> child_by_kernel_spi(const IpAddress& dst, EspSpi spi);
    void resync_kernel(TimePoint now);
    void remove_stale_policies(const std::vector<kernel::OwnedPolicy>& previous);
    void retire_previous_run_sas(Peer& peer);
    void apply_initial_contact(IkeSa& fresh, TimePoint now);
    void resolve_duplicates(Peer& peer, TimePoint now);
    bool we_sort_first(const PeerConfig& pc) const;
    std::string peer_state(const Peer& peer) const;
};

// Wire encodings the exchanges need in several places: an IKE SPI's 8 octets (RFC 7296 3.1) and
// a group's 2 octets as INVALID_KE_PAYLOAD carries them (RFC 7296 3.10.1).
inline std::array<uint8_t, 8> wire_bytes(IkeSpi spi) {
    std::array<uint8_t, 8> b{};
    for (int i = 0; i < 8; ++i)
        b[i] = static_cast<uint8_t>(spi.value >> (56 - 8 * i));
    return b;
}
inline std::array<uint8_t, 2> wire_bytes(crypto::DhGroup g) {
    const auto v = static_cast<uint16_t>(g);
    return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

// How a teardown reason reads in logs and status: the detail when there is one ("deleted by
// peer", "no response to IKE_AUTH after 3 retransmissions"), else the code's message.
inline std::string reason_text(const Error& e) {
    return e.detail.empty() ? e.code.message() : e.detail;
}

// Lookup of `T` in a payload list where the rule table guarantees presence.
template <typename T>
const T& must(const wire::PayloadList& list) {
    return *wire::find_first<T>(list);
}

}  // namespace ikemesh::ike
