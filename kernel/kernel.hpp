// The kernel interface: the narrow set of verbs the IKE engine needs from the kernel's IPsec
// databases (SAD and SPD), as one abstract class over plain parameter structs.
//
// The engine calls these verbs synchronously (they are quick request/ack round trips whose
// results, such as an allocated SPI or an install error, feed the exchange being processed) and
// receives the kernel's own events (ACQUIRE, EXPIRE, deletions by someone else, lost events)
// through event_fd()/read_events() in the daemon's event loop. Implementations: XFRM netlink
// (kernel/xfrm_kernel.hpp, the default), PF_KEY v2 (kernel/pfkey_kernel.hpp, with the limits
// kernel/README.md lists) and an in-memory fake for tests (kernel/fake_kernel.hpp). This header
// knows nothing of netlink, PF_KEY or sockets beyond plain file descriptors: no kernel header is
// included here.
//
// Ownership: a backend marks everything it installs (see OwnerTag) so that list_owned() finds
// this daemon's entries, including a previous run's leftovers, and never anyone else's. Nothing
// here ever flushes the whole SAD or SPD.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "common/types.hpp"
#include "crypto/algorithms.hpp"
#include "crypto/secret.hpp"

namespace ikemesh::kernel {

// IP protocol numbers used in selectors and SAs (IANA "Assigned Internet Protocol Numbers").
inline constexpr uint8_t kProtoAny = 0;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoEsp = 50;  // RFC 4303: the only SA protocol ikemesh installs
inline constexpr uint8_t kProtoIcmpv6 = 58;
inline constexpr uint8_t kProtoSctp = 132;

// The marker a backend puts on everything it installs. XFRM keeps it in the selector's `user`
// field (struct xfrm_selector.user), which the kernel stores and dumps but never uses to match
// packets: entries stay functionally identical to unmarked ones, and two processes' entries with
// the same selector stay distinct. The default spells "IKM1" in ASCII; tests use their own.
struct OwnerTag {
    uint32_t value = 0x494b4d31;
    bool operator==(const OwnerTag&) const = default;
};

// Values are XFRM's (XFRM_POLICY_IN/OUT/FWD, XFRM_MODE_TRANSPORT/TUNNEL).
enum class Direction : uint8_t { in = 0, out = 1, fwd = 2 };
enum class Mode : uint8_t { transport = 0, tunnel = 1 };

// What a policy does with matching traffic: protect it with ESP (with no SA yet, the kernel
// raises ACQUIRE: that is how on-demand "trap" policies work), let it pass in the clear
// (bypass), or drop it.
enum class PolicyAction : uint8_t { ipsec, allow, block };

std::string_view name(Direction d);
std::string_view name(Mode m);
std::string_view name(PolicyAction a);

// A traffic selector as XFRM understands it: address prefixes, one protocol (0 = any) and one
// port each way (0 = any). For ICMP/ICMPv6 XFRM puts the type in the source port field and the
// code in the destination port field (as `ip xfrm` does).
struct Selector {
    IpAddress src;
    IpAddress dst;
    uint8_t src_prefix = 0;  // 0..32 or 0..128
    uint8_t dst_prefix = 0;
    uint8_t protocol = kProtoAny;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    // 0 (the usual case): derived, the port alone if it is set, any port if it is 0. Otherwise
    // the bits of the port that must match. For ICMP, where XFRM keeps the type in the source
    // port and the code in the destination port, {src_port 0, src_port_mask 0xffff} is echo reply
    // (type 0) and not every type.
    uint16_t src_port_mask = 0;
    uint16_t dst_port_mask = 0;

    // src/32 -> dst/32 (or /128), optionally narrowed to a protocol and ports.
    static Selector host_to_host(const IpAddress& src, const IpAddress& dst,
                                 uint8_t protocol = kProtoAny, uint16_t src_port = 0,
                                 uint16_t dst_port = 0);
    // 0.0.0.0/0 -> 0.0.0.0/0 (or ::/0) for one family, optionally narrowed.
    static Selector any(IpAddress::Family family, uint8_t protocol = kProtoAny,
                        uint16_t src_port = 0, uint16_t dst_port = 0);

    IpAddress::Family family() const { return src.family(); }
    uint16_t effective_src_mask() const;  // what the kernel is given: 0 (any) .. 0xffff (exact)
    uint16_t effective_dst_mask() const;
    std::string to_string() const;  // "10.0.0.1/32[tcp/22] -> 10.0.0.2/32"
    // Masks compare as the kernel sees them: {port 8, mask 0} == {port 8, mask 0xffff}.
    bool operator==(const Selector& o) const;
};

// Limits for one side (soft or hard) of an SA's lifetime; 0 means no limit.
struct LifetimeLimits {
    std::chrono::seconds time{0};  // since the SA was added
    uint64_t bytes = 0;
    uint64_t packets = 0;
    bool operator==(const LifetimeLimits&) const = default;
};

// UDP encapsulation of ESP for NAT traversal (RFC 3948), in the kernel's convention: `sport` is
// the UDP source port of the SA's packets and `dport` their destination port. On an outbound SA
// sport is ours (normally 4500) and dport the peer's (whatever its NAT mapped); on an inbound SA
// it is the other way round, and the kernel reports a mapping (MappingEvent) when encapsulated
// ESP arrives from another source port or address than the SA names.
struct UdpEncap {
    uint16_t sport = 4500;
    uint16_t dport = 4500;
    bool operator==(const UdpEncap&) const = default;
};

// One ESP SA. Outbound SAs (src = us) are added with add_sa; inbound SAs (dst = us) complete
// the larval SA that alloc_spi created, through update_sa.
struct SaParams {
    IpAddress src;
    IpAddress dst;
    EspSpi spi;
    ReqId reqid;  // binds the SA to the policies' templates carrying the same reqid
    Mode mode = Mode::transport;

    crypto::EncrSpec encr;
    crypto::IntegAlg integ = crypto::IntegAlg::none;  // none for AEAD
    // ESP keys from the CHILD SA KEYMAT (RFC 7296 2.17). AEAD keys end with their 4-byte salt
    // (RFC 4106 8.1, RFC 7634 2), as the kernel's rfc4106/rfc7539esp templates expect.
    crypto::SecretBytes encr_key;
    crypto::SecretBytes integ_key;

    bool esn = false;             // RFC 4303 2.2.1 extended sequence numbers
    uint32_t replay_window = 64;  // packets; 0 turns replay protection off (outbound SAs)
    LifetimeLimits soft;          // already jittered by the engine
    LifetimeLimits hard;
    std::optional<UdpEncap> encap;
    // The traffic this SA carries (transport mode). nullopt = all traffic between src and dst.
    std::optional<Selector> selector;
    // Sequence number of the ACQUIRE this SA answers (0 = none), so the kernel can retire the
    // larval state it created for that ACQUIRE.
    uint32_t acquire_seq = 0;

    SaParams clone() const;  // deliberate copy, keys included
};

// A policy is identified by its selector and direction (and the backend's owner tag).
struct PolicyId {
    Selector selector;
    Direction dir = Direction::out;
    bool operator==(const PolicyId&) const = default;
};
// A strict weak order that agrees with PolicyId's == (ports under their effective masks), for
// sets and maps of policies.
struct PolicyIdLess {
    bool operator()(const PolicyId& a, const PolicyId& b) const;
};

struct PolicyParams {
    PolicyId id;
    PolicyAction action = PolicyAction::ipsec;
    // Lower wins (XFRM semantics). Bypass policies must sit below the ipsec ones.
    uint32_t priority = 0;
    // action = ipsec only: the ESP template. In transport mode the kernel takes the addresses
    // from the packet; they are still filled in for `ip xfrm policy` readers.
    ReqId reqid;
    Mode mode = Mode::transport;
    IpAddress tmpl_src;
    IpAddress tmpl_dst;

    bool operator==(const PolicyParams&) const = default;
};

// Priority bands for the policies ikemesh installs (XFRM: lower value = preferred).
inline constexpr uint32_t kPriorityBypass = 1000;
inline constexpr uint32_t kPriorityIpsec = 2000;

// The out and in policies protecting all traffic (or `protocol`/`port`) between us and a peer in
// transport mode, with `reqid` binding them to the CHILD SA pair.
std::vector<PolicyParams> transport_policies(const IpAddress& local, const IpAddress& peer,
                                             ReqId reqid, uint32_t priority = kPriorityIpsec);
// The allow policies that let `protocol`/`port` (port 0 = any) pass in the clear in both
// directions, as client and as server (`bypass = ["tcp/22"]`: out and in, with 22 as either the
// source or the destination port). For ICMP and ICMPv6 `port` is one type, allowed both ways;
// the whole of ICMP (port 0) is narrower, see icmp_bypass_policies.
std::vector<PolicyParams> bypass_policies(IpAddress::Family family, uint8_t protocol, uint16_t port,
                                          uint32_t priority = kPriorityBypass);
// `bypass = ["icmp"]` (or "ipv6-icmp"): ping both ways, and inbound the errors routers send,
// but nothing else out. Out: echo request and reply only (ICMP 8/0, ICMPv6 128/129). In: those
// plus destination unreachable (incl. fragmentation needed), time exceeded and parameter
// problem (ICMP 3/11/12; ICMPv6 1-4, 2 being packet too big). An error this host generates for
// a packet it received through ESP (port unreachable quoting the decrypted datagram...) thus
// matches no allow policy and follows the host-to-host ESP policy instead of leaking in clear.
std::vector<PolicyParams> icmp_bypass_policies(IpAddress::Family family, uint8_t protocol,
                                               uint32_t priority = kPriorityBypass);
// What every node needs in the clear whatever the config says: for IPv6, neighbour discovery
// (ICMPv6 types 133-137), which host-to-host policies would otherwise swallow. Empty for IPv4
// (ARP is not IP).
std::vector<PolicyParams> essential_bypass_policies(IpAddress::Family family,
                                                    uint32_t priority = kPriorityBypass);

struct SaCounters {
    uint64_t bytes = 0;
    uint64_t packets = 0;
    // Wall-clock seconds since the epoch as the kernel reports them; nullopt = never.
    std::optional<std::chrono::sys_seconds> add_time;
    std::optional<std::chrono::sys_seconds> first_use;
    // XFRM: XFRMA_LASTUSED, sent only when the kernel keeps it. Debian's 6.1 kernel did not,
    // for ESP transport SAs in either direction (measured in the guest): liveness checks must
    // compare `packets` between queries rather than rely on this.
    std::optional<std::chrono::sys_seconds> last_use;
    uint32_t replay_dropped = 0;
    uint32_t integrity_failed = 0;
};

struct OwnedSa {
    IpAddress src;
    IpAddress dst;
    EspSpi spi;
    ReqId reqid;
    Mode mode = Mode::transport;
    bool operator==(const OwnedSa&) const = default;
};

struct OwnedPolicy {
    PolicyId id;
    PolicyAction action = PolicyAction::ipsec;
    uint32_t priority = 0;
    ReqId reqid;
    bool operator==(const OwnedPolicy&) const = default;
};

struct OwnedState {
    std::vector<OwnedSa> sas;
    std::vector<OwnedPolicy> policies;
};

// --- events -----------------------------------------------------------------------------------

// Traffic hit an ipsec policy that has no SA (on-demand start, RFC 4301 5.1 "trap").
struct AcquireEvent {
    Selector flow;  // the triggering packet: addresses, protocol, ports
    IpAddress src;  // the SA endpoints the template asks for
    IpAddress dst;
    ReqId reqid;  // of the matching policy's template
    uint32_t policy_index = 0;
    uint32_t seq = 0;  // pass back in SaParams::acquire_seq
};

// A lifetime limit was reached: soft = rekey now, hard = the kernel removed the SA.
struct ExpireEvent {
    IpAddress src;
    IpAddress dst;
    EspSpi spi;
    ReqId reqid;
    bool hard = false;
};

// One of our SAs or policies was removed by someone else (`ip xfrm state delete`, another
// daemon): the engine must not rely on it any longer.
struct SaDeletedEvent {
    IpAddress src;
    IpAddress dst;
    EspSpi spi;
    ReqId reqid;
};
struct PolicyDeletedEvent {
    PolicyId id;
};

// UDP-encapsulated ESP for one of our inbound SAs arrived from another source address or port
// than the SA names (XFRM_MSG_MAPPING): the peer's NAT rebound. Authenticated by the ESP
// integrity check and after the replay check, so it cannot be forged by anyone without the keys;
// the engine still only follows it for peers behind a NAT.
struct MappingEvent {
    IpAddress dst;  // the inbound SA is (dst, spi)
    EspSpi spi;
    ReqId reqid;
    Endpoint old_source;  // what the SA names
    Endpoint new_source;  // where the packet came from
};

// The event stream is no longer a complete picture (the socket overran, or someone flushed the
// SAD/SPD): the engine must resync its view through list_owned().
struct ResyncEvent {
    Error reason;
};

struct KernelEvent {
    std::variant<AcquireEvent, ExpireEvent, SaDeletedEvent, PolicyDeletedEvent, MappingEvent,
                 ResyncEvent>
        data;
};
std::string describe(const KernelEvent& event);  // one log line

// --- batched requests -------------------------------------------------------------------------

struct AddSa {
    SaParams params;
};
struct UpdateSa {
    SaParams params;
};
struct DeleteSa {
    IpAddress dst;
    EspSpi spi;
};
struct AddPolicy {
    PolicyParams params;
};
struct UpdatePolicy {
    PolicyParams params;
};
struct DeletePolicy {
    PolicyId id;
};
using KernelOp = std::variant<AddSa, UpdateSa, DeleteSa, AddPolicy, UpdatePolicy, DeletePolicy>;
std::string describe(const KernelOp& op);  // "add SA 10.0.0.1 -> 10.0.0.2 spi c0ffee00"

// --- the interface ----------------------------------------------------------------------------

class Kernel {
  public:
    virtual ~Kernel() = default;

    virtual std::string_view kind() const = 0;  // "xfrm", "pfkey", "fake"

    // Reserves an inbound SPI: src = peer, dst = us. The kernel holds a larval SA for it until
    // update_sa completes it (or it times out, 30 s by default on Linux).
    virtual Result<EspSpi> alloc_spi(const IpAddress& src, const IpAddress& dst, ReqId reqid) = 0;
    virtual Status add_sa(const SaParams& sa) = 0;     // outbound; kernel_exists if present
    virtual Status update_sa(const SaParams& sa) = 0;  // inbound, completes the larval SA
    virtual Status delete_sa(const IpAddress& dst, EspSpi spi) = 0;  // kernel_no_entry if absent
    virtual Result<SaCounters> query_sa(const IpAddress& dst, EspSpi spi) = 0;

    virtual Status add_policy(const PolicyParams& policy) = 0;     // kernel_exists if present
    virtual Status update_policy(const PolicyParams& policy) = 0;  // adds or replaces
    virtual Status delete_policy(const PolicyId& id) = 0;

    // Many independent requests at once; one Status per op, in order. Backends that can
    // pipeline (XFRM) send them all before collecting the answers; the default runs the verbs
    // one by one.
    virtual std::vector<Status> submit(std::span<const KernelOp> ops);

    // Per-socket allow policies in both directions (IP_XFRM_POLICY / IPV6_XFRM_POLICY), so the
    // IKE sockets are never caught by our own policies. family: AF_INET or AF_INET6.
    virtual Status bypass_socket(int fd, int family) = 0;
    // UDP_ENCAP_ESPINUDP on the NAT-T socket (RFC 3948): the kernel then takes ESP-in-UDP
    // packets off it and hands only non-ESP-marked IKE to the daemon.
    virtual Status enable_udp_encap(int fd) = 0;

    // Every SA and policy carrying this backend's owner tag.
    virtual Result<OwnedState> list_owned() = 0;
    // Deletes everything list_owned() reports, and nothing else. Returns how many entries went.
    Result<size_t> remove_owned();

    // A descriptor that becomes readable when events are pending (for the daemon's loop), and a
    // non-blocking drain of them.
    virtual int event_fd() const = 0;
    virtual void read_events(const std::function<void(const KernelEvent&)>& handler) = 0;
};

enum class KernelKind : uint8_t { xfrm, pfkey, fake };
std::string_view name(KernelKind k);
std::optional<KernelKind> parse_kernel_kind(std::string_view text);

// Opens the backend of the given kind with the given owner tag. Fails with
// kernel_not_supported when the kernel lacks XFRM netlink, or PF_KEY (no af_key) for "pfkey".
Result<std::unique_ptr<Kernel>> open_kernel(KernelKind kind, OwnerTag owner = {});

}  // namespace ikemesh::kernel
