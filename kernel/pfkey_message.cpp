#include "kernel/pfkey_message.hpp"

#include <linux/ipsec.h>
#include <linux/pfkeyv2.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "kernel/esp_algorithms.hpp"

namespace ikemesh::kernel::pfkey {

// The golden-byte tests spell these layouts out (RFC 2367 section 2.3 and Linux's extensions).
static_assert(sizeof(sadb_msg) == 16 && sizeof(sadb_ext) == 4);
static_assert(sizeof(sadb_sa) == 16 && sizeof(sadb_lifetime) == 32 && sizeof(sadb_address) == 8);
static_assert(sizeof(sadb_key) == 8 && sizeof(sadb_spirange) == 16 && sizeof(sadb_x_sa2) == 16);
static_assert(sizeof(sadb_x_policy) == 16 && sizeof(sadb_x_ipsecrequest) == 16);
static_assert(sizeof(sadb_x_nat_t_type) == 8 && sizeof(sadb_x_nat_t_port) == 8);
static_assert(sizeof(sadb_supported) == 8 && sizeof(sadb_alg) == 8);
static_assert(sizeof(sockaddr_in) == 16 && sizeof(sockaddr_in6) == 28);

namespace {

constexpr size_t kWord = 8;  // PF_KEY lengths count 64-bit words
// The kernel's XFRM_MAX_DEPTH: no policy has more templates than this.
constexpr size_t kMaxRequests = 6;
// Linux's PF_KEY keeps a replay bitmap of 32 packets (IPSEC_REPLAYWSIZE) and clamps larger
// sadb_sa_replay values to it.
constexpr uint32_t kMaxPfkeyReplayWindow = IPSEC_REPLAYWSIZE;

constexpr size_t words(size_t bytes) {
    return (bytes + kWord - 1) / kWord;
}

// --- writing ---

class MessageWriter {
  public:
    MessageWriter(Bytes& out, uint8_t type, RequestHeader h) : out_(out), start_(out.size()) {
        sadb_msg m{};
        m.sadb_msg_version = PF_KEY_V2;
        m.sadb_msg_type = type;
        m.sadb_msg_satype = SADB_SATYPE_ESP;
        m.sadb_msg_seq = h.seq;
        m.sadb_msg_pid = h.pid;
        put(m);
    }
    // Sets sadb_msg_satype (SPD messages carry SADB_SATYPE_UNSPEC).
    void satype(uint8_t value) { out_[start_ + offsetof(sadb_msg, sadb_msg_satype)] = value; }

    template <typename T>
    void put(const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        const auto* p = reinterpret_cast<const uint8_t*>(&value);
        out_.insert(out_.end(), p, p + sizeof value);
    }
    void raw(ByteView data) { out_.insert(out_.end(), data.begin(), data.end()); }
    void pad() { out_.resize(start_ + words(out_.size() - start_) * kWord, 0); }

    // An extension: its struct (first two u16 are length and type, filled here) plus a tail.
    template <typename T>
    void ext(T value, uint16_t type, ByteView tail = {}) {
        static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % kWord == 0);
        const size_t len = words(sizeof value + tail.size());
        auto* hdr = reinterpret_cast<sadb_ext*>(&value);
        hdr->sadb_ext_len = static_cast<uint16_t>(len);
        hdr->sadb_ext_type = type;
        const size_t at = out_.size();
        put(value);
        raw(tail);
        out_.resize(at + len * kWord, 0);
    }

    void address(uint16_t type, const IpAddress& a, uint8_t prefix, uint8_t protocol,
                 uint16_t port) {
        sadb_address ext{};
        ext.sadb_address_proto = protocol == kProtoAny ? IPSEC_ULPROTO_ANY : protocol;
        ext.sadb_address_prefixlen = prefix;
        const auto b = a.bytes();
        if (a.is_v6()) {
            sockaddr_in6 sin6{};
            sin6.sin6_family = AF_INET6;
            sin6.sin6_port = htons(port);
            std::memcpy(&sin6.sin6_addr, b.data(), 16);
            ext_address(type, ext, &sin6, sizeof sin6);
        } else {
            sockaddr_in sin{};
            sin.sin_family = AF_INET;
            sin.sin_port = htons(port);
            std::memcpy(&sin.sin_addr, b.data(), 4);
            ext_address(type, ext, &sin, sizeof sin);
        }
    }
    void host(uint16_t type, const IpAddress& a) {
        address(type, a, a.is_v6() ? 128 : 32, kProtoAny, 0);
    }

    void finish() {
        const auto len = static_cast<uint16_t>((out_.size() - start_) / kWord);
        std::memcpy(out_.data() + start_ + offsetof(sadb_msg, sadb_msg_len), &len, sizeof len);
    }

  private:
    void ext_address(uint16_t type, sadb_address ext, const void* sa, size_t sa_len) {
        ext.sadb_address_len = static_cast<uint16_t>(words(sizeof ext + sa_len));
        ext.sadb_address_exttype = type;
        const size_t at = out_.size();
        put(ext);
        raw(ByteView(static_cast<const uint8_t*>(sa), sa_len));
        out_.resize(at + ext.sadb_address_len * kWord, 0);
    }

    Bytes& out_;
    size_t start_;
};

Status check_family(const IpAddress& a, const IpAddress& b, std::string_view what) {
    if (a.empty() || a.family() != b.family()) {
        return Error{Errc::kernel_invalid_request,
                     std::string(what) + " needs two addresses of one family"};
    }
    return {};
}

IpAddress unspecified(const IpAddress& like) {
    return like.is_v6() ? IpAddress::v6({}) : IpAddress::v4({});
}

uint8_t pfkey_dir(Direction d) {
    switch (d) {
        case Direction::in:
            return IPSEC_DIR_INBOUND;
        case Direction::out:
            return IPSEC_DIR_OUTBOUND;
        case Direction::fwd:
            return IPSEC_DIR_FWD;
    }
    return IPSEC_DIR_INVALID;
}

sadb_lifetime to_lifetime(const LifetimeLimits& l) {
    // 0 means "no limit" in PF_KEY as in ikemesh (the kernel maps it to XFRM_INF).
    sadb_lifetime lt{};
    lt.sadb_lifetime_allocations = static_cast<uint32_t>(std::min<uint64_t>(l.packets, 0xffffffff));
    lt.sadb_lifetime_bytes = l.bytes;
    lt.sadb_lifetime_addtime = static_cast<uint64_t>(l.time.count());
    return lt;
}

// --- reading ---

class Reader {
  public:
    explicit Reader(ByteView b) : b_(b) {}
    size_t size() const { return b_.size(); }
    uint8_t u8(size_t off) const { return b_[off]; }
    uint16_t u16(size_t off) const {
        uint16_t v;
        std::memcpy(&v, b_.data() + off, sizeof v);
        return v;
    }
    uint32_t u32(size_t off) const {
        uint32_t v;
        std::memcpy(&v, b_.data() + off, sizeof v);
        return v;
    }
    uint64_t u64(size_t off) const {
        uint64_t v;
        std::memcpy(&v, b_.data() + off, sizeof v);
        return v;
    }
    uint16_t be16(size_t off) const { return load_be16(b_.data() + off); }
    uint32_t be32(size_t off) const { return load_be32(b_.data() + off); }
    ByteView sub(size_t off, size_t len) const { return b_.subspan(off, len); }

  private:
    ByteView b_;
};

Error malformed(Errc e, std::string detail) {
    return Error{e, "PF_KEY message: " + std::move(detail)};
}

// A sockaddr_in or sockaddr_in6 at the start of `b`; `used` gets its size.
Result<std::pair<IpAddress, uint16_t>> parse_sockaddr(ByteView b, size_t& used) {
    if (b.size() < 2) return malformed(Errc::truncated, "sockaddr without a family");
    Reader r(b);
    const uint16_t family = r.u16(0);
    if (family == AF_INET) {
        if (b.size() < sizeof(sockaddr_in)) return malformed(Errc::truncated, "short sockaddr_in");
        used = sizeof(sockaddr_in);
        auto a = IpAddress::from_bytes(b.subspan(offsetof(sockaddr_in, sin_addr), 4));
        return std::pair{*a, r.be16(offsetof(sockaddr_in, sin_port))};
    }
    if (family == AF_INET6) {
        if (b.size() < sizeof(sockaddr_in6)) {
            return malformed(Errc::truncated, "short sockaddr_in6");
        }
        used = sizeof(sockaddr_in6);
        auto a = IpAddress::from_bytes(b.subspan(offsetof(sockaddr_in6, sin6_addr), 16));
        return std::pair{*a, r.be16(offsetof(sockaddr_in6, sin6_port))};
    }
    return malformed(Errc::invalid_syntax, "address family " + std::to_string(family));
}

Result<AddressExt> parse_address(ByteView e) {
    if (e.size() < sizeof(sadb_address)) return malformed(Errc::truncated, "short address");
    Reader r(e);
    AddressExt a;
    const uint8_t proto = r.u8(offsetof(sadb_address, sadb_address_proto));
    a.protocol = proto == IPSEC_ULPROTO_ANY ? kProtoAny : proto;
    a.prefix = r.u8(offsetof(sadb_address, sadb_address_prefixlen));
    size_t used = 0;
    auto sa = parse_sockaddr(e.subspan(sizeof(sadb_address)), used);
    if (!sa) return sa.take_error();
    a.address = sa->first;
    a.port = sa->second;
    if (a.prefix > (a.address.is_v6() ? 128 : 32)) {
        return malformed(Errc::invalid_syntax, "prefix length " + std::to_string(a.prefix));
    }
    return a;
}

LifetimeExt parse_lifetime(const Reader& r) {
    LifetimeExt l;
    l.allocations = r.u32(offsetof(sadb_lifetime, sadb_lifetime_allocations));
    l.bytes = r.u64(offsetof(sadb_lifetime, sadb_lifetime_bytes));
    l.addtime = r.u64(offsetof(sadb_lifetime, sadb_lifetime_addtime));
    l.usetime = r.u64(offsetof(sadb_lifetime, sadb_lifetime_usetime));
    return l;
}

Result<PolicyExt> parse_policy(ByteView e) {
    Reader r(e);
    PolicyExt p;
    p.type = r.u16(offsetof(sadb_x_policy, sadb_x_policy_type));
    p.dir = r.u8(offsetof(sadb_x_policy, sadb_x_policy_dir));
    p.id = r.u32(offsetof(sadb_x_policy, sadb_x_policy_id));
    p.priority = r.u32(offsetof(sadb_x_policy, sadb_x_policy_priority));
    size_t off = sizeof(sadb_x_policy);
    // Requests follow, each with its length in bytes (not words); trailing padding shorter than
    // a request is allowed.
    while (e.size() - off >= sizeof(sadb_x_ipsecrequest)) {
        const uint16_t len = r.u16(off + offsetof(sadb_x_ipsecrequest, sadb_x_ipsecrequest_len));
        if (len == 0 && p.type != IPSEC_POLICY_IPSEC) break;  // padding of a non-ipsec policy
        if (len < sizeof(sadb_x_ipsecrequest) || len > e.size() - off) {
            return malformed(Errc::bad_length, "ipsec request length " + std::to_string(len));
        }
        if (p.requests.size() == kMaxRequests) {
            return malformed(Errc::too_many_items, "more than 6 ipsec requests");
        }
        IpsecRequest q;
        q.protocol = r.u16(off + offsetof(sadb_x_ipsecrequest, sadb_x_ipsecrequest_proto));
        q.mode = r.u8(off + offsetof(sadb_x_ipsecrequest, sadb_x_ipsecrequest_mode));
        q.level = r.u8(off + offsetof(sadb_x_ipsecrequest, sadb_x_ipsecrequest_level));
        q.reqid = r.u32(off + offsetof(sadb_x_ipsecrequest, sadb_x_ipsecrequest_reqid));
        if (len > sizeof(sadb_x_ipsecrequest)) {
            // Tunnel endpoints: two sockaddrs.
            ByteView rest =
                e.subspan(off + sizeof(sadb_x_ipsecrequest), len - sizeof(sadb_x_ipsecrequest));
            size_t used = 0;
            auto src = parse_sockaddr(rest, used);
            if (!src) return src.take_error();
            auto dst = parse_sockaddr(rest.subspan(used), used);
            if (!dst) return dst.take_error();
            q.src = src->first;
            q.dst = dst->first;
        }
        p.requests.push_back(q);
        off += len;
    }
    return p;
}

std::vector<uint8_t> parse_supported(ByteView e) {
    std::vector<uint8_t> ids;
    for (size_t off = sizeof(sadb_supported); off + sizeof(sadb_alg) <= e.size();
         off += sizeof(sadb_alg)) {
        ids.push_back(e[off + offsetof(sadb_alg, sadb_alg_id)]);
    }
    return ids;
}

template <typename T>
Status set_once(std::optional<T>& slot, T value, uint16_t type) {
    if (slot) return malformed(Errc::invalid_syntax, "duplicate extension " + std::to_string(type));
    slot = std::move(value);
    return {};
}

Status parse_extension(Message& m, uint16_t type, ByteView e) {
    Reader r(e);
    auto need = [&](size_t n) -> Status {
        if (e.size() < n) {
            return malformed(Errc::truncated, "extension " + std::to_string(type) + " too short");
        }
        return {};
    };
    switch (type) {
        case SADB_EXT_SA: {
            if (auto s = need(sizeof(sadb_sa)); !s) return s;
            SaExt sa;
            sa.spi = EspSpi{r.be32(offsetof(sadb_sa, sadb_sa_spi))};
            sa.replay = r.u8(offsetof(sadb_sa, sadb_sa_replay));
            sa.state = r.u8(offsetof(sadb_sa, sadb_sa_state));
            sa.auth = r.u8(offsetof(sadb_sa, sadb_sa_auth));
            sa.encrypt = r.u8(offsetof(sadb_sa, sadb_sa_encrypt));
            sa.flags = r.u32(offsetof(sadb_sa, sadb_sa_flags));
            return set_once(m.sa, sa, type);
        }
        case SADB_EXT_LIFETIME_CURRENT:
        case SADB_EXT_LIFETIME_HARD:
        case SADB_EXT_LIFETIME_SOFT: {
            if (auto s = need(sizeof(sadb_lifetime)); !s) return s;
            auto& slot = type == SADB_EXT_LIFETIME_CURRENT ? m.current
                         : type == SADB_EXT_LIFETIME_HARD  ? m.hard
                                                           : m.soft;
            return set_once(slot, parse_lifetime(r), type);
        }
        case SADB_EXT_ADDRESS_SRC:
        case SADB_EXT_ADDRESS_DST: {
            auto a = parse_address(e);
            if (!a) return a.take_error();
            return set_once(type == SADB_EXT_ADDRESS_SRC ? m.src : m.dst, *a, type);
        }
        case SADB_EXT_KEY_AUTH:
        case SADB_EXT_KEY_ENCRYPT: {
            if (auto s = need(sizeof(sadb_key)); !s) return s;
            const uint16_t bits = r.u16(offsetof(sadb_key, sadb_key_bits));
            if (words(sizeof(sadb_key) + (bits + 7u) / 8) * kWord > e.size()) {
                return malformed(Errc::bad_length,
                                 "key of " + std::to_string(bits) + " bits overruns its extension");
            }
            return set_once(type == SADB_EXT_KEY_AUTH ? m.auth_key_bits : m.encrypt_key_bits, bits,
                            type);
        }
        case SADB_EXT_SPIRANGE: {
            if (auto s = need(sizeof(sadb_spirange)); !s) return s;
            return set_once(m.spirange,
                            std::pair{r.u32(offsetof(sadb_spirange, sadb_spirange_min)),
                                      r.u32(offsetof(sadb_spirange, sadb_spirange_max))},
                            type);
        }
        case SADB_X_EXT_SA2: {
            if (auto s = need(sizeof(sadb_x_sa2)); !s) return s;
            Sa2Ext sa2;
            sa2.mode = r.u8(offsetof(sadb_x_sa2, sadb_x_sa2_mode));
            sa2.sequence = r.u32(offsetof(sadb_x_sa2, sadb_x_sa2_sequence));
            sa2.reqid = r.u32(offsetof(sadb_x_sa2, sadb_x_sa2_reqid));
            return set_once(m.sa2, sa2, type);
        }
        case SADB_X_EXT_POLICY: {
            if (auto s = need(sizeof(sadb_x_policy)); !s) return s;
            auto p = parse_policy(e);
            if (!p) return p.take_error();
            return set_once(m.policy, std::move(*p), type);
        }
        case SADB_X_EXT_NAT_T_TYPE: {
            if (auto s = need(sizeof(sadb_x_nat_t_type)); !s) return s;
            if (!m.nat_t) m.nat_t = NatTExt{};
            m.nat_t->type = r.u8(offsetof(sadb_x_nat_t_type, sadb_x_nat_t_type_type));
            return {};
        }
        case SADB_X_EXT_NAT_T_SPORT:
        case SADB_X_EXT_NAT_T_DPORT: {
            if (auto s = need(sizeof(sadb_x_nat_t_port)); !s) return s;
            if (!m.nat_t) m.nat_t = NatTExt{};
            auto& slot = type == SADB_X_EXT_NAT_T_SPORT ? m.nat_t->sport : m.nat_t->dport;
            return set_once(slot, r.be16(offsetof(sadb_x_nat_t_port, sadb_x_nat_t_port_port)),
                            type);
        }
        case SADB_EXT_SUPPORTED_AUTH:
            m.supported_auth = parse_supported(e);
            return {};
        case SADB_EXT_SUPPORTED_ENCRYPT:
            m.supported_encrypt = parse_supported(e);
            return {};
        default:
            return {};  // identities, sensitivity, proposals, ...: not ours to read
    }
}

std::optional<ReqId> owned_reqid(const Message& m, const Marking& marking) {
    if (!m.sa2 || !marking.owns_reqid(m.sa2->reqid)) return std::nullopt;
    return marking.engine_reqid(m.sa2->reqid);
}

}  // namespace

// --- marking ----------------------------------------------------------------------------------

Marking Marking::from(OwnerTag owner) {
    Marking m;
    m.priority_base = owner.value & 0xffff0000u;
    return m;
}

Result<uint32_t> Marking::kernel_reqid(ReqId reqid) const {
    if (reqid.value >= reqid_count) {
        return Error{Errc::kernel_not_supported, "reqid " + std::to_string(reqid.value) +
                                                     " is outside what PF_KEY can mark (0.." +
                                                     std::to_string(reqid_count - 1) + ")"};
    }
    return reqid_base + reqid.value;
}

Result<uint32_t> Marking::kernel_priority(uint32_t priority) const {
    if (priority >= priority_span) {
        return Error{Errc::kernel_not_supported, "policy priority " + std::to_string(priority) +
                                                     " is outside what PF_KEY can mark"};
    }
    return priority_base + priority;
}

bool Marking::owns_reqid(uint32_t kernel_reqid) const {
    return kernel_reqid >= reqid_base && kernel_reqid - reqid_base < reqid_count;
}

bool Marking::owns_priority(uint32_t kernel_priority) const {
    return kernel_priority >= priority_base && kernel_priority - priority_base < priority_span;
}

ReqId Marking::engine_reqid(uint32_t kernel_reqid) const {
    return ReqId{kernel_reqid - reqid_base};
}

uint32_t Marking::engine_priority(uint32_t kernel_priority) const {
    return kernel_priority - priority_base;
}

// --- algorithms -------------------------------------------------------------------------------

Result<SadbAlgorithms> map_algorithms(const SaParams& sa) {
    SadbAlgorithms a;
    a.encrypt_key_bits = static_cast<uint16_t>(sa.encr_key.size() * 8);
    a.auth_key_bits = static_cast<uint16_t>(sa.integ_key.size() * 8);
    switch (sa.encr.alg) {
        case crypto::EncrAlg::aes_cbc:
            a.encrypt = SADB_X_EALG_AESCBC;
            break;
        case crypto::EncrAlg::aes_gcm_16:
            a.encrypt = SADB_X_EALG_AES_GCM_ICV16;
            break;
        case crypto::EncrAlg::chacha20_poly1305:
            return Error{Errc::kernel_not_supported,
                         "ChaCha20-Poly1305 has no PF_KEY algorithm number in Linux (use "
                         "kernel = \"xfrm\")"};
    }
    switch (sa.integ) {
        case crypto::IntegAlg::none:
            a.auth = SADB_AALG_NONE;
            break;
        case crypto::IntegAlg::hmac_sha1_96:
            a.auth = SADB_AALG_SHA1HMAC;
            break;
        case crypto::IntegAlg::hmac_sha2_256_128:
            return Error{Errc::kernel_not_supported,
                         "HMAC-SHA2-256-128 through PF_KEY: Linux truncates hmac(sha256) to 96 "
                         "bits there, not RFC 4868's 128 (use sha384/sha512, or kernel = "
                         "\"xfrm\")"};
        case crypto::IntegAlg::hmac_sha2_384_192:
            a.auth = SADB_X_AALG_SHA2_384HMAC;
            break;
        case crypto::IntegAlg::hmac_sha2_512_256:
            a.auth = SADB_X_AALG_SHA2_512HMAC;
            break;
    }
    return a;
}

Status check_sa(const SaParams& sa) {
    if (auto s = validate_sa(sa); !s) return s;
    if (sa.mode != Mode::transport) {
        return Error{Errc::kernel_not_supported, "the PF_KEY backend installs transport mode only"};
    }
    if (sa.esn) {
        return Error{Errc::kernel_not_supported,
                     "extended sequence numbers cannot be set through PF_KEY (use kernel = "
                     "\"xfrm\")"};
    }
    if (sa.replay_window > kMaxPfkeyReplayWindow) {
        return Error{Errc::kernel_not_supported,
                     "replay window " + std::to_string(sa.replay_window) +
                         " above PF_KEY's 32 packets (use kernel = \"xfrm\")"};
    }
    auto a = map_algorithms(sa);
    if (!a) return a.take_error();
    return {};
}

// --- builders ---------------------------------------------------------------------------------

Status build_getspi(Bytes& out, const IpAddress& src, const IpAddress& dst, uint32_t kernel_reqid,
                    uint32_t spi_min, uint32_t spi_max, RequestHeader h) {
    if (auto s = check_family(src, dst, "GETSPI"); !s) return s;
    if (spi_min < 256 || spi_min > spi_max) {
        return Error{Errc::kernel_invalid_request, "SPI range must lie above 255"};
    }
    MessageWriter w(out, SADB_GETSPI, h);
    sadb_x_sa2 sa2{};
    sa2.sadb_x_sa2_mode = IPSEC_MODE_TRANSPORT;
    sa2.sadb_x_sa2_reqid = kernel_reqid;
    w.ext(sa2, SADB_X_EXT_SA2);
    w.host(SADB_EXT_ADDRESS_SRC, src);
    w.host(SADB_EXT_ADDRESS_DST, dst);
    sadb_spirange range{};
    range.sadb_spirange_min = spi_min;
    range.sadb_spirange_max = spi_max;
    w.ext(range, SADB_EXT_SPIRANGE);
    w.finish();
    return {};
}

Status build_sa(Bytes& out, const SaParams& sa, bool update, uint32_t kernel_reqid,
                RequestHeader h) {
    if (auto s = check_sa(sa); !s) return s;
    auto alg = map_algorithms(sa);
    MessageWriter w(out, update ? SADB_UPDATE : SADB_ADD, h);
    sadb_sa ext{};
    ext.sadb_sa_spi = htonl(sa.spi.value);
    ext.sadb_sa_replay = static_cast<uint8_t>(sa.replay_window);
    ext.sadb_sa_state = SADB_SASTATE_MATURE;
    ext.sadb_sa_auth = alg->auth;
    ext.sadb_sa_encrypt = alg->encrypt;
    w.ext(ext, SADB_EXT_SA);
    sadb_x_sa2 sa2{};
    sa2.sadb_x_sa2_mode = IPSEC_MODE_TRANSPORT;
    sa2.sadb_x_sa2_reqid = kernel_reqid;
    w.ext(sa2, SADB_X_EXT_SA2);
    w.host(SADB_EXT_ADDRESS_SRC, sa.src);
    w.host(SADB_EXT_ADDRESS_DST, sa.dst);
    // Linux wants both or neither.
    w.ext(to_lifetime(sa.hard), SADB_EXT_LIFETIME_HARD);
    w.ext(to_lifetime(sa.soft), SADB_EXT_LIFETIME_SOFT);
    sadb_key key{};
    key.sadb_key_bits = alg->encrypt_key_bits;
    w.ext(key, SADB_EXT_KEY_ENCRYPT, sa.encr_key.view());
    if (alg->auth != SADB_AALG_NONE) {
        key.sadb_key_bits = alg->auth_key_bits;
        w.ext(key, SADB_EXT_KEY_AUTH, sa.integ_key.view());
    }
    if (sa.encap) {
        sadb_x_nat_t_type type{};
        type.sadb_x_nat_t_type_type = UDP_ENCAP_ESPINUDP;
        w.ext(type, SADB_X_EXT_NAT_T_TYPE);
        sadb_x_nat_t_port port{};
        port.sadb_x_nat_t_port_port = htons(sa.encap->sport);
        w.ext(port, SADB_X_EXT_NAT_T_SPORT);
        port.sadb_x_nat_t_port_port = htons(sa.encap->dport);
        w.ext(port, SADB_X_EXT_NAT_T_DPORT);
    }
    w.finish();
    return {};
}

namespace {

Status build_sa_by_id(Bytes& out, uint8_t type, const IpAddress& dst, EspSpi spi, RequestHeader h) {
    if (dst.empty()) return Error{Errc::kernel_invalid_request, "SA request without an address"};
    if (spi.value == 0) return Error{Errc::kernel_invalid_request, "SA request with SPI 0"};
    MessageWriter w(out, type, h);
    sadb_sa ext{};
    ext.sadb_sa_spi = htonl(spi.value);
    w.ext(ext, SADB_EXT_SA);
    w.host(SADB_EXT_ADDRESS_SRC, unspecified(dst));
    w.host(SADB_EXT_ADDRESS_DST, dst);
    w.finish();
    return {};
}

}  // namespace

Status build_delete_sa(Bytes& out, const IpAddress& dst, EspSpi spi, RequestHeader h) {
    return build_sa_by_id(out, SADB_DELETE, dst, spi, h);
}

Status build_get_sa(Bytes& out, const IpAddress& dst, EspSpi spi, RequestHeader h) {
    return build_sa_by_id(out, SADB_GET, dst, spi, h);
}

Status build_policy(Bytes& out, const PolicyParams& policy, bool update, uint32_t kernel_priority,
                    uint32_t kernel_reqid, RequestHeader h) {
    if (auto s = validate_policy(policy); !s) return s;
    if (policy.action == PolicyAction::ipsec && policy.mode != Mode::transport) {
        return Error{Errc::kernel_not_supported, "the PF_KEY backend installs transport mode only"};
    }
    const Selector& sel = policy.id.selector;
    // PF_KEY carries a port, not a mask: Linux matches a port exactly when it is set and any port
    // when it is 0. An exact 0 (ICMP echo reply, type 0) would become every type; refuse it
    // rather than let ICMP errors out in clear (config.md, Traffic classes).
    if (sel.effective_src_mask() != (sel.src_port != 0 ? 0xffff : 0) ||
        sel.effective_dst_mask() != (sel.dst_port != 0 ? 0xffff : 0)) {
        return Error{Errc::kernel_not_supported,
                     "PF_KEY cannot express the port (ICMP type) mask of " + sel.to_string() +
                         "; kernel = \"xfrm\" can"};
    }
    MessageWriter w(out, update ? SADB_X_SPDUPDATE : SADB_X_SPDADD, h);
    w.satype(SADB_SATYPE_UNSPEC);
    w.address(SADB_EXT_ADDRESS_SRC, sel.src, sel.src_prefix, sel.protocol, sel.src_port);
    w.address(SADB_EXT_ADDRESS_DST, sel.dst, sel.dst_prefix, sel.protocol, sel.dst_port);
    sadb_x_policy pol{};
    pol.sadb_x_policy_dir = pfkey_dir(policy.id.dir);
    pol.sadb_x_policy_priority = kernel_priority;
    switch (policy.action) {
        case PolicyAction::allow:
            pol.sadb_x_policy_type = IPSEC_POLICY_NONE;
            w.ext(pol, SADB_X_EXT_POLICY);
            break;
        case PolicyAction::block:
            pol.sadb_x_policy_type = IPSEC_POLICY_DISCARD;
            w.ext(pol, SADB_X_EXT_POLICY);
            break;
        case PolicyAction::ipsec: {
            pol.sadb_x_policy_type = IPSEC_POLICY_IPSEC;
            // Transport mode: the kernel takes the addresses from the packet, so the request
            // carries none; level unique is what makes Linux keep the reqid.
            sadb_x_ipsecrequest rq{};
            rq.sadb_x_ipsecrequest_len = sizeof rq;
            rq.sadb_x_ipsecrequest_proto = kProtoEsp;
            rq.sadb_x_ipsecrequest_mode = IPSEC_MODE_TRANSPORT;
            rq.sadb_x_ipsecrequest_level = IPSEC_LEVEL_UNIQUE;
            rq.sadb_x_ipsecrequest_reqid = kernel_reqid;
            const auto* p = reinterpret_cast<const uint8_t*>(&rq);
            w.ext(pol, SADB_X_EXT_POLICY, ByteView(p, sizeof rq));
            break;
        }
    }
    w.finish();
    return {};
}

Status build_delete_policy(Bytes& out, Direction dir, uint32_t index, RequestHeader h) {
    if (index == 0) return Error{Errc::kernel_invalid_request, "policy index 0"};
    MessageWriter w(out, SADB_X_SPDDELETE2, h);
    w.satype(SADB_SATYPE_UNSPEC);
    sadb_x_policy pol{};
    pol.sadb_x_policy_dir = pfkey_dir(dir);
    pol.sadb_x_policy_id = index;
    w.ext(pol, SADB_X_EXT_POLICY);
    w.finish();
    return {};
}

void build_dump_sas(Bytes& out, RequestHeader h) {
    MessageWriter w(out, SADB_DUMP, h);
    w.finish();
}

void build_dump_policies(Bytes& out, RequestHeader h) {
    MessageWriter w(out, SADB_X_SPDDUMP, h);
    w.satype(SADB_SATYPE_UNSPEC);
    w.finish();
}

void build_register(Bytes& out, RequestHeader h) {
    MessageWriter w(out, SADB_REGISTER, h);
    w.finish();
}

Result<Bytes> socket_bypass_policy(Direction dir) {
    if (dir == Direction::fwd) {
        return Error{Errc::kernel_invalid_request, "socket policies are in or out"};
    }
    sadb_x_policy pol{};
    pol.sadb_x_policy_len = sizeof pol / kWord;
    pol.sadb_x_policy_exttype = SADB_X_EXT_POLICY;
    pol.sadb_x_policy_type = IPSEC_POLICY_BYPASS;
    pol.sadb_x_policy_dir = pfkey_dir(dir);
    const auto* p = reinterpret_cast<const uint8_t*>(&pol);
    return Bytes(p, p + sizeof pol);
}

// --- parsing ----------------------------------------------------------------------------------

Result<Message> parse_header(ByteView datagram) {
    if (datagram.size() < sizeof(sadb_msg)) return malformed(Errc::truncated, "short header");
    Reader r(datagram);
    Message m;
    if (r.u8(offsetof(sadb_msg, sadb_msg_version)) != PF_KEY_V2) {
        return malformed(Errc::bad_version, "not PF_KEY v2");
    }
    const size_t len = size_t{r.u16(offsetof(sadb_msg, sadb_msg_len))} * kWord;
    if (len < sizeof(sadb_msg) || len != datagram.size()) {
        return malformed(Errc::bad_length, "length " + std::to_string(len) + " for a datagram of " +
                                               std::to_string(datagram.size()) + " bytes");
    }
    m.type = r.u8(offsetof(sadb_msg, sadb_msg_type));
    m.errno_value = r.u8(offsetof(sadb_msg, sadb_msg_errno));
    m.satype = r.u8(offsetof(sadb_msg, sadb_msg_satype));
    m.seq = r.u32(offsetof(sadb_msg, sadb_msg_seq));
    m.pid = r.u32(offsetof(sadb_msg, sadb_msg_pid));
    return m;
}

Result<Message> parse_message(ByteView datagram) {
    auto m = parse_header(datagram);
    if (!m) return m;
    Reader r(datagram);
    size_t off = sizeof(sadb_msg);
    while (off < datagram.size()) {
        if (datagram.size() - off < sizeof(sadb_ext)) {
            return malformed(Errc::truncated, "extension header");
        }
        const size_t len = size_t{r.u16(off + offsetof(sadb_ext, sadb_ext_len))} * kWord;
        const uint16_t type = r.u16(off + offsetof(sadb_ext, sadb_ext_type));
        if (len == 0 || len > datagram.size() - off) {
            return malformed(Errc::bad_length, "extension " + std::to_string(type) + " length " +
                                                   std::to_string(len));
        }
        if (type == SADB_EXT_RESERVED) return malformed(Errc::invalid_syntax, "extension type 0");
        if (auto s = parse_extension(*m, type, r.sub(off, len)); !s) return s.take_error();
        off += len;
    }
    return m;
}

Result<PolicyId> policy_id(const Message& m) {
    if (!m.src || !m.dst || !m.policy || m.src->address.family() != m.dst->address.family()) {
        return Error{Errc::kernel_invalid_request, "PF_KEY policy without addresses"};
    }
    PolicyId id;
    id.selector = Selector{m.src->address,  m.dst->address, m.src->prefix, m.dst->prefix,
                           m.src->protocol, m.src->port,    m.dst->port};
    switch (m.policy->dir) {
        case IPSEC_DIR_INBOUND:
            id.dir = Direction::in;
            break;
        case IPSEC_DIR_OUTBOUND:
            id.dir = Direction::out;
            break;
        case IPSEC_DIR_FWD:
            id.dir = Direction::fwd;
            break;
        default:
            return Error{Errc::kernel_invalid_request,
                         "PF_KEY policy direction " + std::to_string(m.policy->dir)};
    }
    return id;
}

SaCounters counters(const Message& m) {
    SaCounters c;
    if (!m.current) return c;
    c.bytes = m.current->bytes;
    c.packets = m.current->allocations;
    auto at = [](uint64_t t) -> std::optional<std::chrono::sys_seconds> {
        if (t == 0) return std::nullopt;
        return std::chrono::sys_seconds{std::chrono::seconds{static_cast<int64_t>(t)}};
    };
    c.add_time = at(m.current->addtime);
    c.first_use = at(m.current->usetime);
    return c;
}

std::optional<KernelEvent> to_event(const Message& m, uint32_t own_pid, const Marking& marking) {
    if (m.errno_value != 0) return std::nullopt;
    switch (m.type) {
        case SADB_ACQUIRE: {
            if (m.satype != SADB_SATYPE_ESP || !m.src || !m.dst || !m.policy) return std::nullopt;
            if (!marking.owns_priority(m.policy->priority)) return std::nullopt;
            if (m.src->address.family() != m.dst->address.family()) return std::nullopt;
            AcquireEvent e;
            e.src = m.src->address;
            e.dst = m.dst->address;
            e.flow = Selector::host_to_host(e.src, e.dst);
            e.policy_index = m.policy->id;
            e.seq = m.seq;
            return KernelEvent{e};
        }
        case SADB_EXPIRE: {
            if (m.satype != SADB_SATYPE_ESP || !m.sa || !m.dst) return std::nullopt;
            auto reqid = owned_reqid(m, marking);
            if (!reqid) return std::nullopt;
            ExpireEvent e;
            e.src = m.src ? m.src->address : IpAddress{};
            e.dst = m.dst->address;
            e.spi = m.sa->spi;
            e.reqid = *reqid;
            e.hard = m.hard.has_value();
            return KernelEvent{e};
        }
        case SADB_DELETE: {
            if (m.pid == own_pid || m.satype != SADB_SATYPE_ESP || !m.sa || !m.dst) {
                return std::nullopt;
            }
            auto reqid = owned_reqid(m, marking);
            if (!reqid) return std::nullopt;
            return KernelEvent{SaDeletedEvent{m.src ? m.src->address : IpAddress{}, m.dst->address,
                                              m.sa->spi, *reqid}};
        }
        case SADB_X_SPDDELETE:
        case SADB_X_SPDDELETE2: {
            if (m.pid == own_pid || !m.policy || !marking.owns_priority(m.policy->priority)) {
                return std::nullopt;
            }
            auto id = policy_id(m);
            if (!id) return std::nullopt;
            return KernelEvent{PolicyDeletedEvent{*id}};
        }
        case SADB_FLUSH:
        case SADB_X_SPDFLUSH:
            if (m.pid == own_pid) return std::nullopt;
            return KernelEvent{ResyncEvent{
                Error{Errc::kernel_events_lost, m.type == SADB_FLUSH
                                                    ? "another process flushed the SAD (PF_KEY)"
                                                    : "another process flushed the SPD (PF_KEY)"}}};
        default:
            return std::nullopt;
    }
}

Error pfkey_error(int errno_value, std::string_view what) {
    std::string text = std::string(what) + ": " + std::strerror(errno_value);
    switch (errno_value) {
        case EEXIST:
            return Error{Errc::kernel_exists, std::move(text)};
        case ESRCH:
        case ENOENT:
            return Error{Errc::kernel_no_entry, std::move(text)};
        case ENOSYS:
            return Error{Errc::kernel_not_supported,
                         std::move(text) + " (algorithm not offered by the kernel's PF_KEY?)"};
        case EPROTONOSUPPORT:
        case EAFNOSUPPORT:
        case EOPNOTSUPP:
            return Error{Errc::kernel_not_supported,
                         std::move(text) + " (no PF_KEY or ESP in this kernel? modprobe af_key)"};
        case EINVAL:
            return Error{Errc::kernel_invalid_request, std::move(text)};
        case EPERM:
        case EACCES:
            return Error{Errc::kernel_permission_denied,
                         std::move(text) + " (needs CAP_NET_ADMIN)"};
        default:
            return Error{Errc::kernel_failure, std::move(text)};
    }
}

}  // namespace ikemesh::kernel::pfkey
