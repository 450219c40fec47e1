// Pure builders and parsers of the PF_KEY v2 messages ikemesh sends and receives (RFC 2367 with
// the Linux extensions: SADB_X_EXT_SA2, SADB_X_EXT_POLICY with its ipsec requests, the SPD
// messages SADB_X_SPDADD/SPDUPDATE/SPDDELETE2/SPDDUMP, SADB_X_EXT_NAT_T_*).
//
// A PF_KEY message is a 16-byte struct sadb_msg followed by extensions, every length counted in
// 64-bit words; one read of a PF_KEY socket returns exactly one message. Builders append one
// complete message to a caller's buffer; parse_message takes one received datagram, checks every
// length before it reads a field, and turns the known extensions into plain values. Nothing here
// opens a socket, so unit tests check exact bytes and a fuzzer throws arbitrary input at the
// parser. Integers are in host order except SPIs, ports and addresses (network order), as in
// <linux/pfkeyv2.h>; this header itself includes no kernel header.
//
// Secrets: ADD/UPDATE requests carry ESP keys, and so do the kernel's ADD/UPDATE notifications,
// GET replies and SA dumps: the caller owns the buffers and wipes them (PfkeyKernel does). The
// parser only records key lengths, never key bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "kernel/kernel.hpp"

namespace ikemesh::kernel::pfkey {

// sadb_msg_seq and sadb_msg_pid of a request. The kernel copies both into its reply (and into
// the notification it broadcasts to every PF_KEY socket), which is how replies are matched and
// how our own changes are told from other processes'.
struct RequestHeader {
    uint32_t seq = 0;
    uint32_t pid = 0;
};

// How the backend marks what it installs (PF_KEY keeps no free-form tag; kernel/README.md says
// why these two fields):
// - SAs and ipsec-policy templates carry kernel reqid = reqid_base + the engine's reqid, within
//   [reqid_base, reqid_base + reqid_count). Linux keeps template reqids (level unique) only up to
//   IPSEC_MANUAL_REQID_MAX (0x3fff), and an SA must carry exactly its template's reqid.
// - Policies carry priority = priority_base + the engine's priority (< priority_span), so the
//   engine's relative order (bypass before ipsec) holds inside the band.
struct Marking {
    uint32_t reqid_base = 0x2000;
    uint32_t reqid_count = 0x2000;  // 0x2000..0x3fff
    uint32_t priority_base = 0x494b0000;
    uint32_t priority_span = 0x10000;

    // The default band: the owner tag's upper 16 bits ("IK" for the default tag) as priority base.
    static Marking from(OwnerTag owner);

    Result<uint32_t> kernel_reqid(ReqId reqid) const;
    Result<uint32_t> kernel_priority(uint32_t priority) const;
    bool owns_reqid(uint32_t kernel_reqid) const;
    bool owns_priority(uint32_t kernel_priority) const;
    ReqId engine_reqid(uint32_t kernel_reqid) const;  // for an owned reqid
    uint32_t engine_priority(uint32_t kernel_priority) const;
};

// The PF_KEY numbers of an SA's algorithms (SADB_X_EALG_* / SADB_*AALG_*) and key sizes.
struct SadbAlgorithms {
    uint8_t encrypt = 0;
    uint8_t auth = 0;  // SADB_AALG_NONE for AEAD
    uint16_t encrypt_key_bits = 0;
    uint16_t auth_key_bits = 0;
};
// AES-CBC -> SADB_X_EALG_AESCBC; AES-GCM-16 -> SADB_X_EALG_AES_GCM_ICV16 (20); HMAC-SHA1-96,
// HMAC-SHA2-384-192 and -512-256 -> SADB_AALG_SHA1HMAC / SADB_X_AALG_SHA2_384HMAC / _512HMAC.
// kernel_not_supported: ChaCha20-Poly1305 (no SADB number in Linux) and HMAC-SHA2-256-128
// (Linux's PF_KEY truncates hmac(sha256) to 96 bits, which breaks RFC 4868 interop).
Result<SadbAlgorithms> map_algorithms(const SaParams& sa);
// What PF_KEY cannot express of an SA, checked before anything is built: ESN and a replay window
// above 32 packets (kernel_not_supported), and the algorithm mapping above. validate_sa() runs
// first. SaParams::selector is not sent (Linux's PF_KEY leaves transport SAs' selectors open; the
// policies do the narrowing).
Status check_sa(const SaParams& sa);

// --- builders ---------------------------------------------------------------------------------

// SADB_GETSPI for an inbound SA (src = peer, dst = us), transport mode, SPI in [spi_min,
// spi_max]; the kernel answers with a SADB_GETSPI carrying the larval SA's SPI.
Status build_getspi(Bytes& out, const IpAddress& src, const IpAddress& dst, uint32_t kernel_reqid,
                    uint32_t spi_min, uint32_t spi_max, RequestHeader h);
// SADB_ADD (update = false) or SADB_UPDATE of the ESP SA, transport mode, with SA2 (reqid),
// lifetimes, keys and NAT-T extensions. check_sa() runs first.
Status build_sa(Bytes& out, const SaParams& sa, bool update, uint32_t kernel_reqid,
                RequestHeader h);
// SADB_DELETE and SADB_GET of the ESP SA (dst, spi). The kernel looks SAs up by (dst, SPI,
// protocol); the source address extension it requires is sent as the unspecified address.
Status build_delete_sa(Bytes& out, const IpAddress& dst, EspSpi spi, RequestHeader h);
Status build_get_sa(Bytes& out, const IpAddress& dst, EspSpi spi, RequestHeader h);
// SADB_X_SPDADD (exclusive) or SADB_X_SPDUPDATE; ipsec policies carry one ESP transport request
// at level unique with `kernel_reqid`, allow policies map to IPSEC_POLICY_NONE, block to DISCARD.
Status build_policy(Bytes& out, const PolicyParams& policy, bool update, uint32_t kernel_priority,
                    uint32_t kernel_reqid, RequestHeader h);
// SADB_X_SPDDELETE2: the policy with this kernel index (never by selector: that could hit
// another process's policy with the same selector).
Status build_delete_policy(Bytes& out, Direction dir, uint32_t index, RequestHeader h);
// SADB_DUMP of the ESP SAs, SADB_X_SPDDUMP, SADB_REGISTER for ESP (ACQUIRE and EXPIRE).
void build_dump_sas(Bytes& out, RequestHeader h);
void build_dump_policies(Bytes& out, RequestHeader h);
void build_register(Bytes& out, RequestHeader h);
// The struct sadb_x_policy that setsockopt(IP_IPSEC_POLICY / IPV6_IPSEC_POLICY) takes to let one
// socket bypass IPsec in one direction (in or out).
Result<Bytes> socket_bypass_policy(Direction dir);

// --- parsed messages --------------------------------------------------------------------------

struct AddressExt {  // SADB_EXT_ADDRESS_*
    IpAddress address;
    uint16_t port = 0;
    uint8_t prefix = 0;
    uint8_t protocol = 0;  // IPSEC_ULPROTO_ANY (255) kept as kProtoAny
};
struct SaExt {  // SADB_EXT_SA
    EspSpi spi;
    uint8_t replay = 0;
    uint8_t state = 0;  // SADB_SASTATE_*
    uint8_t auth = 0;
    uint8_t encrypt = 0;
    uint32_t flags = 0;
};
struct LifetimeExt {  // SADB_EXT_LIFETIME_*
    uint32_t allocations = 0;
    uint64_t bytes = 0;
    uint64_t addtime = 0;
    uint64_t usetime = 0;
};
struct Sa2Ext {        // SADB_X_EXT_SA2
    uint8_t mode = 0;  // IPSEC_MODE_TRANSPORT (1) / TUNNEL (2), 0 = any
    uint32_t sequence = 0;
    uint32_t reqid = 0;
};
struct IpsecRequest {  // struct sadb_x_ipsecrequest
    uint16_t protocol = 0;
    uint8_t mode = 0;
    uint8_t level = 0;  // IPSEC_LEVEL_*
    uint32_t reqid = 0;
    std::optional<IpAddress> src;  // tunnel mode only
    std::optional<IpAddress> dst;
};
struct PolicyExt {      // SADB_X_EXT_POLICY
    uint16_t type = 0;  // IPSEC_POLICY_*
    uint8_t dir = 0;    // IPSEC_DIR_*
    uint32_t id = 0;    // the kernel's policy index
    uint32_t priority = 0;
    std::vector<IpsecRequest> requests;  // at most 6 (XFRM_MAX_DEPTH)
};
struct NatTExt {
    uint8_t type = 0;  // SADB_X_EXT_NAT_T_TYPE
    std::optional<uint16_t> sport;
    std::optional<uint16_t> dport;
};

struct Message {
    uint8_t type = 0;  // SADB_*
    uint8_t errno_value = 0;
    uint8_t satype = 0;
    uint32_t seq = 0;
    uint32_t pid = 0;

    std::optional<SaExt> sa;
    std::optional<LifetimeExt> current;
    std::optional<LifetimeExt> hard;
    std::optional<LifetimeExt> soft;
    std::optional<AddressExt> src;
    std::optional<AddressExt> dst;
    std::optional<uint16_t> auth_key_bits;  // key extensions: lengths only, never the bytes
    std::optional<uint16_t> encrypt_key_bits;
    std::optional<std::pair<uint32_t, uint32_t>> spirange;
    std::optional<Sa2Ext> sa2;
    std::optional<PolicyExt> policy;
    std::optional<NatTExt> nat_t;
    std::vector<uint8_t> supported_auth;  // SADB_REGISTER replies: algorithm ids
    std::vector<uint8_t> supported_encrypt;
};

// The header alone (for matching replies before a full parse); truncated / bad_version /
// bad_length unless the datagram is exactly one message.
Result<Message> parse_header(ByteView datagram);
// The whole message: truncated / bad_length / invalid_syntax / too_many_items on malformed
// input (an extension that overruns the message, a duplicate extension, an address whose
// sockaddr does not fit, ...). Unknown extension types are skipped.
Result<Message> parse_message(ByteView datagram);

// The policy's selector from its address extensions (ports and protocol included) and its
// direction; kernel_invalid_request if they are missing or of two families.
Result<PolicyId> policy_id(const Message& m);
// Counters from the current lifetime (GET replies, dumps, EXPIRE).
SaCounters counters(const Message& m);

// What an event-socket message means to the engine: ACQUIRE for one of our policies, EXPIRE of
// one of our SAs, our SA or policy deleted by another process (sadb_msg_pid != own_pid), a flush
// of the SAD or SPD by another process (resync). Everything else maps to nothing. An ACQUIRE
// carries no reqid; AcquireEvent::reqid is left 0 for the backend to fill from the policy index.
std::optional<KernelEvent> to_event(const Message& m, uint32_t own_pid, const Marking& marking);

// A PF_KEY error (sadb_msg_errno, or a failed send) as an ikemesh Error, with a hint where the
// usual cause is known.
Error pfkey_error(int errno_value, std::string_view what);

}  // namespace ikemesh::kernel::pfkey
