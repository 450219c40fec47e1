// Pure builders and parsers of the XFRM netlink messages ikemesh sends and receives.
//
// Builders append one complete netlink message (header, fixed struct, attributes) to a caller's
// buffer; parsers take one received datagram, split it into netlink messages with every length
// checked, and turn each into a plain value. Nothing here opens a socket or calls the kernel, so
// unit tests check exact bytes and a fuzzer throws arbitrary input at the parsers. Netlink is in
// host byte order (the numbers below are for x86_64/aarch64 little-endian layouts, checked by
// static_asserts against <linux/xfrm.h> in the .cpp); IP addresses and ports inside XFRM structs
// are in network order. The struct layouts are those of linux/xfrm.h; this header itself includes
// no kernel header.
//
// Secrets: messages built from SaParams carry ESP keys; the caller owns the buffer and must wipe
// it after sending (XfrmKernel does). Parsers never copy key bytes out of a message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "kernel/kernel.hpp"

namespace ikemesh::kernel::xfrm {

// --- netlink framing --------------------------------------------------------------------------

struct NetlinkMessage {
    uint16_t type = 0;
    uint16_t flags = 0;
    uint32_t seq = 0;
    uint32_t pid = 0;
    ByteView payload;  // after the 16-byte header, up to nlmsg_len (padding excluded)
};

// Every message of a datagram. Fails (truncated / bad_length) if any header or length does not
// fit: a datagram is taken whole or not at all.
Result<std::vector<NetlinkMessage>> split_messages(ByteView datagram);

// nlmsg_seq and nlmsg_pid of a request. The kernel copies both into the multicast notification
// a change causes, which is how the event socket tells our own changes from other processes'.
struct RequestHeader {
    uint32_t seq = 0;
    uint32_t pid = 0;
};

// --- builders ---------------------------------------------------------------------------------

// XFRM_MSG_NEWSA (update = false) or XFRM_MSG_UPDSA, with NLM_F_ACK. The selector (given or
// host-to-host) carries `owner` in its user field. validate_sa() runs first.
Status build_sa(Bytes& out, const SaParams& sa, bool update, RequestHeader h, OwnerTag owner);
// XFRM_MSG_ALLOCSPI for an inbound SA (src = peer, dst = us), SPI in [spi_min, spi_max]; the
// kernel answers with an XFRM_MSG_NEWSA describing the larval SA.
Status build_alloc_spi(Bytes& out, const IpAddress& src, const IpAddress& dst, ReqId reqid,
                       uint32_t spi_min, uint32_t spi_max, RequestHeader h);
// XFRM_MSG_DELSA (with NLM_F_ACK) and XFRM_MSG_GETSA (answered by an XFRM_MSG_NEWSA) of the
// ESP SA (dst, spi).
Status build_delete_sa(Bytes& out, const IpAddress& dst, EspSpi spi, RequestHeader h);
Status build_get_sa(Bytes& out, const IpAddress& dst, EspSpi spi, RequestHeader h);
// XFRM_MSG_NEWPOLICY (exclusive) or XFRM_MSG_UPDPOLICY, with NLM_F_ACK; ipsec policies carry
// one ESP template (XFRMA_TMPL, level required).
Status build_policy(Bytes& out, const PolicyParams& policy, bool update, RequestHeader h,
                    OwnerTag owner);
// XFRM_MSG_DELPOLICY by selector (with our owner mark) and direction, with NLM_F_ACK.
Status build_delete_policy(Bytes& out, const PolicyId& id, RequestHeader h, OwnerTag owner);
// Dumps (NLM_F_DUMP): all ESP SAs (filtered with XFRMA_PROTO) and all policies.
void build_dump_sas(Bytes& out, RequestHeader h);
void build_dump_policies(Bytes& out, RequestHeader h);
// The struct xfrm_userpolicy_info that setsockopt(IP_XFRM_POLICY / IPV6_XFRM_POLICY) takes to
// give one socket an allow policy for one direction (in or out). family: AF_INET / AF_INET6.
Result<Bytes> socket_bypass_policy(Direction dir, int family);

// --- parsed messages --------------------------------------------------------------------------

struct Template {
    IpAddress src;
    IpAddress dst;
    EspSpi spi;
    uint8_t protocol = 0;
    ReqId reqid;
    Mode mode = Mode::transport;
    bool optional = false;  // "level use" rather than "required"
};

struct SaInfo {
    Selector selector;
    uint32_t selector_user = 0;  // the owner mark (see OwnerTag)
    IpAddress src;
    IpAddress dst;
    EspSpi spi;
    uint8_t protocol = 0;
    ReqId reqid;
    Mode mode = Mode::transport;  // the raw XFRM mode; other values than 0/1 are kept as is
    uint32_t seq = 0;
    uint8_t flags = 0;           // XFRM_STATE_*
    uint32_t replay_window = 0;  // from XFRMA_REPLAY_ESN_VAL if present, else the legacy field
    bool esn = false;
    LifetimeLimits soft;
    LifetimeLimits hard;
    SaCounters counters;
    // Algorithm names and sizes as the kernel reports them (keys are never copied out).
    std::string encr_name;
    uint32_t encr_key_bits = 0;
    uint32_t icv_bits = 0;  // AEAD ICV, or the integrity truncation
    bool aead = false;
    std::string integ_name;
    uint32_t integ_key_bits = 0;
    std::optional<UdpEncap> encap;
};

struct PolicyInfo {
    Selector selector;
    uint32_t selector_user = 0;
    Direction dir = Direction::out;
    PolicyAction action = PolicyAction::allow;  // ipsec when allow carries templates
    uint32_t priority = 0;
    uint32_t index = 0;
    std::vector<Template> templates;  // at most XFRM_MAX_DEPTH (6)
};

struct Ack {              // NLMSG_ERROR: error 0 is a plain ACK
    int error = 0;        // a positive errno, or 0
    std::string message;  // the kernel's extended ACK text, if any ("Requested type not found")
};
struct Done {  // NLMSG_DONE ends a dump
    int error = 0;
};
struct SaMessage {  // XFRM_MSG_NEWSA / UPDSA: a dump entry, a reply, or a notification
    bool update = false;
    SaInfo sa;
};
struct SaDeleted {  // XFRM_MSG_DELSA notification
    IpAddress dst;
    EspSpi spi;
    uint8_t protocol = 0;
    std::optional<SaInfo> sa;  // from XFRMA_SA
};
struct PolicyMessage {  // XFRM_MSG_NEWPOLICY / UPDPOLICY
    bool update = false;
    PolicyInfo policy;
};
struct PolicyDeleted {  // XFRM_MSG_DELPOLICY notification
    Selector selector;
    uint32_t selector_user = 0;
    Direction dir = Direction::out;
    uint32_t index = 0;
    std::optional<PolicyInfo> policy;  // from XFRMA_POLICY
};
struct Acquire {  // XFRM_MSG_ACQUIRE
    IpAddress src;
    IpAddress dst;
    uint8_t protocol = 0;
    Selector flow;
    PolicyInfo policy;  // the matching policy, with its templates
    uint32_t seq = 0;
};
struct Expire {  // XFRM_MSG_EXPIRE
    SaInfo sa;
    bool hard = false;
};
struct PolicyExpire {  // XFRM_MSG_POLEXPIRE
    PolicyInfo policy;
    bool hard = false;
};
struct Flush {  // XFRM_MSG_FLUSHSA / FLUSHPOLICY
    bool policies = false;
    uint8_t protocol = 0;  // FLUSHSA: 0 = all protocols
};
struct Mapping {    // XFRM_MSG_MAPPING: encapsulated ESP for an inbound SA from a new source
    IpAddress dst;  // the SA (dst, spi, protocol)
    EspSpi spi;
    uint8_t protocol = 0;
    ReqId reqid;
    Endpoint old_source;
    Endpoint new_source;
};
struct Other {  // anything else (NOOP, NEWAE, ...): understood to be ignorable
    uint16_t type = 0;
};

using Message = std::variant<Ack, Done, SaMessage, SaDeleted, PolicyMessage, PolicyDeleted, Acquire,
                             Expire, PolicyExpire, Flush, Mapping, Other>;

// One netlink message as a value; truncated / bad_length / invalid_syntax / too_many_items on
// malformed input.
Result<Message> parse_message(const NetlinkMessage& message);

// What an event-socket message means to the engine: ACQUIRE for one of our policies, EXPIRE of
// one of our SAs, our SA or policy deleted by another process (nlmsg_pid != own_pid), a flush
// (resync), a new mapping of an ESP SA (which carries no owner mark: the engine matches its SPI
// against its own inbound SAs). Everything else, including notifications of our own changes, maps
// to nothing.
std::optional<KernelEvent> to_event(const NetlinkMessage& raw, const Message& message,
                                    uint32_t own_pid, OwnerTag owner);

// A netlink error as an ikemesh Error: `what` is the request ("add SA 10.0.0.2 spi c0ffee00"),
// `errno_value` positive, `kernel_message` the extended ACK text (may be empty). Adds a hint
// where the usual cause is known ("no ESP in this kernel?").
Error netlink_error(int errno_value, std::string_view what, std::string_view kernel_message);

}  // namespace ikemesh::kernel::xfrm
