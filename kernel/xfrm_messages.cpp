#include "kernel/xfrm_messages.hpp"

#include <linux/netlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "kernel/esp_algorithms.hpp"

namespace ikemesh::kernel::xfrm {

// The golden-byte tests and the PF_KEY-free parsers rely on these layouts (x86_64 / aarch64).
static_assert(sizeof(nlmsghdr) == 16);
static_assert(sizeof(nlattr) == 4);
static_assert(sizeof(xfrm_selector) == 56 && offsetof(xfrm_selector, family) == 40 &&
              offsetof(xfrm_selector, user) == 52);
static_assert(sizeof(xfrm_usersa_info) == 224 && offsetof(xfrm_usersa_info, reqid) == 208 &&
              offsetof(xfrm_usersa_info, lft) == 96 && offsetof(xfrm_usersa_info, flags) == 216);
static_assert(sizeof(xfrm_userpolicy_info) == 168 &&
              offsetof(xfrm_userpolicy_info, priority) == 152);
static_assert(sizeof(xfrm_user_tmpl) == 64 && offsetof(xfrm_user_tmpl, reqid) == 44);
static_assert(sizeof(xfrm_userspi_info) == 232);
static_assert(sizeof(xfrm_usersa_id) == 24 && sizeof(xfrm_userpolicy_id) == 64);
static_assert(sizeof(xfrm_user_acquire) == 280 && sizeof(xfrm_user_expire) == 232 &&
              sizeof(xfrm_user_polexpire) == 176);
static_assert(sizeof(xfrm_algo) == 68 && sizeof(xfrm_algo_aead) == 72 &&
              sizeof(xfrm_algo_auth) == 72 && sizeof(xfrm_encap_tmpl) == 24);
static_assert(sizeof(xfrm_replay_state_esn) == 24 && sizeof(nlmsgerr) == 20);
static_assert(sizeof(xfrm_user_mapping) == 64 && offsetof(xfrm_user_mapping, reqid) == 24 &&
              offsetof(xfrm_user_mapping, new_saddr) == 44 &&
              offsetof(xfrm_user_mapping, new_sport) == 62);

namespace {

constexpr size_t align4(size_t n) {
    return (n + 3) & ~size_t{3};
}

// The kernel's XFRM_MAX_DEPTH (include/net/xfrm.h, not exported to user space): no policy has
// more templates than this.
constexpr size_t kMaxTemplates = 6;

// Linux errno values are below 4096 (MAX_ERRNO in include/linux/err.h).
constexpr int32_t kMaxErrno = 4095;

// --- writing ---

class MessageWriter {
  public:
    MessageWriter(Bytes& out, uint16_t type, uint16_t flags, RequestHeader h)
        : out_(out), start_(out.size()) {
        nlmsghdr hdr{};
        hdr.nlmsg_type = type;
        hdr.nlmsg_flags = flags;
        hdr.nlmsg_seq = h.seq;
        hdr.nlmsg_pid = h.pid;
        put(hdr);
    }
    template <typename T>
    void put(const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        raw(&value, sizeof value);
    }
    void attr(uint16_t type, const void* data, size_t len) {
        attr_header(type, len);
        raw(data, len);
    }
    template <typename T>
    void attr(uint16_t type, const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        attr(type, &value, sizeof value);
    }
    // An attribute whose payload is a struct followed by `tail` (an algorithm and its key).
    template <typename T>
    void attr(uint16_t type, const T& head, ByteView tail) {
        attr_header(type, sizeof head + tail.size());
        const auto* p = reinterpret_cast<const uint8_t*>(&head);
        out_.insert(out_.end(), p, p + sizeof head);
        raw(tail.data(), tail.size());
    }
    void finish() {
        const auto len = static_cast<uint32_t>(out_.size() - start_);
        std::memcpy(out_.data() + start_ + offsetof(nlmsghdr, nlmsg_len), &len, sizeof len);
    }

  private:
    void attr_header(uint16_t type, size_t len) {
        nlattr a{};
        a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
        a.nla_type = type;
        const auto* p = reinterpret_cast<const uint8_t*>(&a);
        out_.insert(out_.end(), p, p + sizeof a);
    }
    void raw(const void* data, size_t len) {
        const auto* p = static_cast<const uint8_t*>(data);
        out_.insert(out_.end(), p, p + len);
        out_.insert(out_.end(), align4(len) - len, 0);
    }

    Bytes& out_;
    size_t start_;
};

uint16_t af_of(const IpAddress& a) {
    return a.is_v6() ? AF_INET6 : a.is_v4() ? AF_INET : AF_UNSPEC;
}

xfrm_address_t to_xfrm(const IpAddress& a) {
    xfrm_address_t x{};
    auto b = a.bytes();
    std::memcpy(&x, b.data(), b.size());
    return x;
}

xfrm_selector to_xfrm(const Selector& s, OwnerTag owner) {
    xfrm_selector x{};
    x.daddr = to_xfrm(s.dst);
    x.saddr = to_xfrm(s.src);
    x.dport = htons(s.dst_port);
    x.dport_mask = htons(s.effective_dst_mask());
    x.sport = htons(s.src_port);
    x.sport_mask = htons(s.effective_src_mask());
    x.family = af_of(s.src);
    x.prefixlen_d = s.dst_prefix;
    x.prefixlen_s = s.src_prefix;
    x.proto = s.protocol;
    x.user = owner.value;
    return x;
}

// The kernel counts bytes and packets against these; 0 would expire at once, so "no limit" is
// XFRM_INF. Time limits of 0 mean none.
xfrm_lifetime_cfg to_xfrm(const LifetimeLimits& soft, const LifetimeLimits& hard) {
    auto limit = [](uint64_t v) -> uint64_t { return v == 0 ? XFRM_INF : v; };
    xfrm_lifetime_cfg l{};
    l.soft_byte_limit = limit(soft.bytes);
    l.hard_byte_limit = limit(hard.bytes);
    l.soft_packet_limit = limit(soft.packets);
    l.hard_packet_limit = limit(hard.packets);
    l.soft_add_expires_seconds = static_cast<uint64_t>(soft.time.count());
    l.hard_add_expires_seconds = static_cast<uint64_t>(hard.time.count());
    return l;
}

xfrm_lifetime_cfg unlimited() {
    return to_xfrm(LifetimeLimits{}, LifetimeLimits{});
}

Status check_family(const IpAddress& a, const IpAddress& b, std::string_view what) {
    if (a.empty() || a.family() != b.family()) {
        return Error{Errc::kernel_invalid_request,
                     std::string(what) + " needs two addresses of one family"};
    }
    return {};
}

void put_algorithm(MessageWriter& w, uint16_t type, std::string_view name, ByteView key,
                   uint32_t extra_bits) {
    // xfrm_algo, xfrm_algo_aead and xfrm_algo_auth share name[64] and alg_key_len (bits); the
    // latter two add one u32 (ICV or truncation length) before the key.
    if (type == XFRMA_ALG_AEAD) {
        xfrm_algo_aead a{};
        std::memcpy(a.alg_name, name.data(), name.size());
        a.alg_key_len = static_cast<uint32_t>(key.size() * 8);
        a.alg_icv_len = extra_bits;
        w.attr(type, a, key);
    } else if (type == XFRMA_ALG_AUTH_TRUNC) {
        xfrm_algo_auth a{};
        std::memcpy(a.alg_name, name.data(), name.size());
        a.alg_key_len = static_cast<uint32_t>(key.size() * 8);
        a.alg_trunc_len = extra_bits;
        w.attr(type, a, key);
    } else {
        xfrm_algo a{};
        std::memcpy(a.alg_name, name.data(), name.size());
        a.alg_key_len = static_cast<uint32_t>(key.size() * 8);
        w.attr(type, a, key);
    }
}

}  // namespace

Status build_sa(Bytes& out, const SaParams& sa, bool update, RequestHeader h, OwnerTag owner) {
    if (auto s = validate_sa(sa); !s) return s;
    auto encr = map_encr(sa.encr);
    if (!encr) return encr.take_error();

    xfrm_usersa_info info{};
    info.sel = to_xfrm(sa.selector.value_or(Selector::host_to_host(sa.src, sa.dst)), owner);
    info.id.daddr = to_xfrm(sa.dst);
    info.id.spi = htonl(sa.spi.value);
    info.id.proto = kProtoEsp;
    info.saddr = to_xfrm(sa.src);
    info.lft = to_xfrm(sa.soft, sa.hard);
    info.seq = sa.acquire_seq;
    info.reqid = sa.reqid.value;
    info.family = af_of(sa.dst);
    info.mode = static_cast<uint8_t>(sa.mode);

    // The legacy replay field is a u8 over a 32-bit bitmap; larger windows and ESN need the
    // XFRMA_REPLAY_ESN_VAL bitmap, and the kernel then insists the legacy field is 0.
    uint32_t window = sa.replay_window;
    if (sa.esn && window == 0) window = 32;  // the kernel refuses an ESN state without a window
    const bool esn_attr = sa.esn || window > 32;
    if (!esn_attr) info.replay_window = static_cast<uint8_t>(window);
    if (sa.esn) info.flags |= XFRM_STATE_ESN;

    MessageWriter w(out, update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, NLM_F_REQUEST | NLM_F_ACK, h);
    w.put(info);
    if (encr->aead) {
        put_algorithm(w, XFRMA_ALG_AEAD, encr->kernel_name, sa.encr_key.view(), encr->icv_bits);
    } else {
        auto integ = map_integ(sa.integ);
        if (!integ) return integ.take_error();
        put_algorithm(w, XFRMA_ALG_CRYPT, encr->kernel_name, sa.encr_key.view(), 0);
        put_algorithm(w, XFRMA_ALG_AUTH_TRUNC, integ->kernel_name, sa.integ_key.view(),
                      integ->trunc_bits);
    }
    if (sa.encap) {
        xfrm_encap_tmpl e{};
        e.encap_type = UDP_ENCAP_ESPINUDP;
        e.encap_sport = htons(sa.encap->sport);
        e.encap_dport = htons(sa.encap->dport);
        w.attr(XFRMA_ENCAP, e);
    }
    if (esn_attr) {
        xfrm_replay_state_esn r{};
        r.bmp_len = (window + 31) / 32;
        r.replay_window = window;
        Bytes bitmap(size_t{r.bmp_len} * 4, 0);
        w.attr(XFRMA_REPLAY_ESN_VAL, r, bitmap);
    }
    w.finish();
    return {};
}

Status build_alloc_spi(Bytes& out, const IpAddress& src, const IpAddress& dst, ReqId reqid,
                       uint32_t spi_min, uint32_t spi_max, RequestHeader h) {
    if (auto s = check_family(src, dst, "alloc SPI"); !s) return s;
    if (spi_min < 256 || spi_max < spi_min) {
        return Error{Errc::kernel_invalid_request, "SPI range must lie within 256..2^32-1"};
    }
    xfrm_userspi_info u{};
    u.info.sel = to_xfrm(Selector::host_to_host(src, dst), OwnerTag{0});
    u.info.id.daddr = to_xfrm(dst);
    u.info.id.proto = kProtoEsp;
    u.info.saddr = to_xfrm(src);
    u.info.lft = unlimited();
    u.info.reqid = reqid.value;
    u.info.family = af_of(dst);
    u.info.mode = XFRM_MODE_TRANSPORT;
    u.min = spi_min;
    u.max = spi_max;
    MessageWriter w(out, XFRM_MSG_ALLOCSPI, NLM_F_REQUEST, h);
    w.put(u);
    w.finish();
    return {};
}

namespace {

Status build_sa_id(Bytes& out, uint16_t type, uint16_t flags, const IpAddress& dst, EspSpi spi,
                   RequestHeader h) {
    if (dst.empty()) return Error{Errc::kernel_invalid_request, "SA without address"};
    xfrm_usersa_id id{};
    id.daddr = to_xfrm(dst);
    id.spi = htonl(spi.value);
    id.family = af_of(dst);
    id.proto = kProtoEsp;
    MessageWriter w(out, type, flags, h);
    w.put(id);
    w.finish();
    return {};
}

}  // namespace

Status build_delete_sa(Bytes& out, const IpAddress& dst, EspSpi spi, RequestHeader h) {
    return build_sa_id(out, XFRM_MSG_DELSA, NLM_F_REQUEST | NLM_F_ACK, dst, spi, h);
}

Status build_get_sa(Bytes& out, const IpAddress& dst, EspSpi spi, RequestHeader h) {
    return build_sa_id(out, XFRM_MSG_GETSA, NLM_F_REQUEST, dst, spi, h);
}

Status build_policy(Bytes& out, const PolicyParams& policy, bool update, RequestHeader h,
                    OwnerTag owner) {
    if (auto s = validate_policy(policy); !s) return s;
    xfrm_userpolicy_info info{};
    info.sel = to_xfrm(policy.id.selector, owner);
    info.lft = unlimited();
    info.priority = policy.priority;
    info.dir = static_cast<uint8_t>(policy.id.dir);
    info.action = policy.action == PolicyAction::block ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
    info.share = XFRM_SHARE_ANY;

    MessageWriter w(out, update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY,
                    NLM_F_REQUEST | NLM_F_ACK, h);
    w.put(info);
    if (policy.action == PolicyAction::ipsec) {
        xfrm_user_tmpl t{};
        t.id.daddr = to_xfrm(policy.tmpl_dst);
        t.id.proto = kProtoEsp;
        t.saddr = to_xfrm(policy.tmpl_src);
        t.family =
            !policy.tmpl_dst.empty() ? af_of(policy.tmpl_dst) : af_of(policy.id.selector.src);
        t.reqid = policy.reqid.value;
        t.mode = static_cast<uint8_t>(policy.mode);
        t.share = XFRM_SHARE_ANY;
        t.optional = 0;  // level required: no SA means ACQUIRE and drop, never plaintext
        t.aalgos = t.ealgos = t.calgos = ~0u;
        w.attr(XFRMA_TMPL, t);
    }
    w.finish();
    return {};
}

Status build_delete_policy(Bytes& out, const PolicyId& id, RequestHeader h, OwnerTag owner) {
    if (auto s = validate_selector(id.selector); !s) return s;
    xfrm_userpolicy_id p{};
    p.sel = to_xfrm(id.selector, owner);
    p.dir = static_cast<uint8_t>(id.dir);
    MessageWriter w(out, XFRM_MSG_DELPOLICY, NLM_F_REQUEST | NLM_F_ACK, h);
    w.put(p);
    w.finish();
    return {};
}

void build_dump_sas(Bytes& out, RequestHeader h) {
    MessageWriter w(out, XFRM_MSG_GETSA, NLM_F_REQUEST | NLM_F_DUMP, h);
    // xfrm_dump_sa parses its optional filters right after the netlink header (no fixed part).
    const uint8_t proto = kProtoEsp;
    w.attr(XFRMA_PROTO, &proto, 1);
    w.finish();
}

void build_dump_policies(Bytes& out, RequestHeader h) {
    MessageWriter w(out, XFRM_MSG_GETPOLICY, NLM_F_REQUEST | NLM_F_DUMP, h);
    w.finish();
}

Result<Bytes> socket_bypass_policy(Direction dir, int family) {
    if (family != AF_INET && family != AF_INET6) {
        return Error{Errc::kernel_invalid_request, "socket bypass needs AF_INET or AF_INET6"};
    }
    if (dir != Direction::in && dir != Direction::out) {
        return Error{Errc::kernel_invalid_request, "socket policies are in or out"};
    }
    xfrm_userpolicy_info p{};
    p.sel.family = static_cast<uint16_t>(family);
    p.lft = unlimited();
    p.dir = static_cast<uint8_t>(dir);
    p.action = XFRM_POLICY_ALLOW;
    p.share = XFRM_SHARE_ANY;
    Bytes out(sizeof p);
    std::memcpy(out.data(), &p, sizeof p);
    return out;
}

// --- parsing ------------------------------------------------------------------------------------

Result<std::vector<NetlinkMessage>> split_messages(ByteView datagram) {
    std::vector<NetlinkMessage> out;
    size_t pos = 0;
    while (datagram.size() - pos >= sizeof(nlmsghdr)) {
        nlmsghdr hdr;
        std::memcpy(&hdr, datagram.data() + pos, sizeof hdr);
        if (hdr.nlmsg_len < sizeof hdr) return Error{Errc::bad_length, "netlink header length"};
        if (hdr.nlmsg_len > datagram.size() - pos) {
            return Error{Errc::truncated, "netlink message longer than the datagram"};
        }
        out.push_back(
            NetlinkMessage{hdr.nlmsg_type, hdr.nlmsg_flags, hdr.nlmsg_seq, hdr.nlmsg_pid,
                           datagram.subspan(pos + sizeof hdr, hdr.nlmsg_len - sizeof hdr)});
        // The last message of a datagram may lack its alignment padding.
        pos += std::min(align4(hdr.nlmsg_len), datagram.size() - pos);
    }
    if (pos != datagram.size()) return Error{Errc::truncated, "netlink header cut short"};
    return out;
}

namespace {

template <typename T>
bool read_struct(ByteView data, T& out) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (data.size() < sizeof out) return false;
    std::memcpy(&out, data.data(), sizeof out);
    return true;
}

// The attributes after a fixed struct, indexed by type (the last one of a type wins; XFRMA_TMPL
// is the only one the kernel sends once with many entries packed inside).
struct Attributes {
    std::array<ByteView, XFRMA_MAX + 1> by_type{};
    std::array<bool, XFRMA_MAX + 1> present{};

    bool has(int type) const { return present[static_cast<size_t>(type)]; }
    ByteView get(int type) const { return by_type[static_cast<size_t>(type)]; }
};

Result<Attributes> parse_attributes(ByteView data) {
    Attributes attrs;
    size_t pos = 0;
    while (data.size() - pos >= sizeof(nlattr)) {
        nlattr a;
        std::memcpy(&a, data.data() + pos, sizeof a);
        if (a.nla_len < sizeof a) return Error{Errc::bad_length, "netlink attribute length"};
        if (a.nla_len > data.size() - pos) {
            return Error{Errc::truncated, "netlink attribute longer than its message"};
        }
        const uint16_t type = a.nla_type & NLA_TYPE_MASK;
        if (type <= XFRMA_MAX) {
            attrs.by_type[type] = data.subspan(pos + sizeof a, a.nla_len - sizeof a);
            attrs.present[type] = true;
        }
        pos += std::min(align4(a.nla_len), data.size() - pos);
    }
    if (pos != data.size()) return Error{Errc::truncated, "netlink attribute header cut short"};
    return attrs;
}

// The fixed struct of a message and the attributes after it (at NLMSG_ALIGN of its size).
template <typename T>
Result<Attributes> fixed_part(ByteView payload, T& fixed, const char* what) {
    if (!read_struct(payload, fixed)) return Error{Errc::truncated, what};
    const size_t start = std::min(align4(sizeof fixed), payload.size());
    return parse_attributes(payload.subspan(start));
}

IpAddress from_xfrm(const xfrm_address_t& a, uint16_t family) {
    const auto* p = reinterpret_cast<const uint8_t*>(&a);
    if (family == AF_INET) return *IpAddress::from_bytes(ByteView(p, 4));
    if (family == AF_INET6) return *IpAddress::from_bytes(ByteView(p, 16));
    return {};
}

Selector from_xfrm(const xfrm_selector& s) {
    Selector out;
    out.src = from_xfrm(s.saddr, s.family);
    out.dst = from_xfrm(s.daddr, s.family);
    out.src_prefix = s.prefixlen_s;
    out.dst_prefix = s.prefixlen_d;
    out.protocol = s.proto;
    // Masks as given, ports under them; a mask that the port alone implies stays implicit, so a
    // policy reads back equal to the one added (deleting it needs the exact selector).
    const uint16_t smask = ntohs(s.sport_mask), dmask = ntohs(s.dport_mask);
    out.src_port = ntohs(s.sport) & smask;
    out.dst_port = ntohs(s.dport) & dmask;
    if (smask != out.effective_src_mask()) out.src_port_mask = smask;
    if (dmask != out.effective_dst_mask()) out.dst_port_mask = dmask;
    return out;
}

LifetimeLimits limits(uint64_t bytes, uint64_t packets, uint64_t seconds) {
    auto finite = [](uint64_t v) -> uint64_t { return v == XFRM_INF ? 0 : v; };
    return LifetimeLimits{std::chrono::seconds(static_cast<int64_t>(seconds & INT64_MAX)),
                          finite(bytes), finite(packets)};
}

std::optional<std::chrono::sys_seconds> when(uint64_t seconds) {
    if (seconds == 0) return std::nullopt;
    return std::chrono::sys_seconds(
        std::chrono::seconds(static_cast<int64_t>(seconds & INT64_MAX)));
}

std::string algorithm_name(const char (&name)[64]) {
    return std::string(name, strnlen(name, sizeof name));
}

// xfrm_algo / xfrm_algo_aead / xfrm_algo_auth: the header, then a key of alg_key_len bits that
// must fit in the attribute. The key itself is neither copied nor kept.
struct AlgorithmHeader {
    std::string name;
    uint32_t key_bits = 0;
    uint32_t extra_bits = 0;  // ICV (aead) or truncation (auth); 0 for xfrm_algo
};

template <typename T>
Result<AlgorithmHeader> algorithm(ByteView data, const char* what) {
    T a;
    if (!read_struct(data, a)) return Error{Errc::truncated, what};
    if ((size_t{a.alg_key_len} + 7) / 8 > data.size() - sizeof a) {
        return Error{Errc::bad_length, what};
    }
    AlgorithmHeader h{algorithm_name(a.alg_name), a.alg_key_len, 0};
    if constexpr (std::is_same_v<T, xfrm_algo_aead>) h.extra_bits = a.alg_icv_len;
    if constexpr (std::is_same_v<T, xfrm_algo_auth>) h.extra_bits = a.alg_trunc_len;
    return h;
}

Result<SaInfo> sa_info(const xfrm_usersa_info& p, const Attributes& attrs) {
    SaInfo sa;
    sa.selector = from_xfrm(p.sel);
    sa.selector_user = p.sel.user;
    sa.src = from_xfrm(p.saddr, p.family);
    sa.dst = from_xfrm(p.id.daddr, p.family);
    sa.spi = EspSpi{ntohl(p.id.spi)};
    sa.protocol = p.id.proto;
    sa.reqid = ReqId{p.reqid};
    sa.mode = static_cast<Mode>(p.mode);
    sa.seq = p.seq;
    sa.flags = p.flags;
    sa.replay_window = p.replay_window;
    sa.esn = (p.flags & XFRM_STATE_ESN) != 0;
    sa.soft =
        limits(p.lft.soft_byte_limit, p.lft.soft_packet_limit, p.lft.soft_add_expires_seconds);
    sa.hard =
        limits(p.lft.hard_byte_limit, p.lft.hard_packet_limit, p.lft.hard_add_expires_seconds);
    sa.counters.bytes = p.curlft.bytes;
    sa.counters.packets = p.curlft.packets;
    sa.counters.add_time = when(p.curlft.add_time);
    sa.counters.first_use = when(p.curlft.use_time);
    sa.counters.replay_dropped = p.stats.replay;
    sa.counters.integrity_failed = p.stats.integrity_failed;

    if (attrs.has(XFRMA_ALG_AEAD)) {
        auto a = algorithm<xfrm_algo_aead>(attrs.get(XFRMA_ALG_AEAD), "XFRMA_ALG_AEAD");
        if (!a) return a.take_error();
        sa.aead = true;
        sa.encr_name = a->name;
        sa.encr_key_bits = a->key_bits;
        sa.icv_bits = a->extra_bits;
    }
    if (attrs.has(XFRMA_ALG_CRYPT)) {
        auto a = algorithm<xfrm_algo>(attrs.get(XFRMA_ALG_CRYPT), "XFRMA_ALG_CRYPT");
        if (!a) return a.take_error();
        sa.encr_name = a->name;
        sa.encr_key_bits = a->key_bits;
    }
    if (attrs.has(XFRMA_ALG_AUTH_TRUNC)) {
        auto a = algorithm<xfrm_algo_auth>(attrs.get(XFRMA_ALG_AUTH_TRUNC), "XFRMA_ALG_AUTH_TRUNC");
        if (!a) return a.take_error();
        sa.integ_name = a->name;
        sa.integ_key_bits = a->key_bits;
        sa.icv_bits = a->extra_bits;
    } else if (attrs.has(XFRMA_ALG_AUTH)) {
        auto a = algorithm<xfrm_algo>(attrs.get(XFRMA_ALG_AUTH), "XFRMA_ALG_AUTH");
        if (!a) return a.take_error();
        sa.integ_name = a->name;
        sa.integ_key_bits = a->key_bits;
    }
    if (attrs.has(XFRMA_ENCAP)) {
        xfrm_encap_tmpl e;
        if (!read_struct(attrs.get(XFRMA_ENCAP), e)) return Error{Errc::truncated, "XFRMA_ENCAP"};
        sa.encap = UdpEncap{ntohs(e.encap_sport), ntohs(e.encap_dport)};
    }
    if (attrs.has(XFRMA_REPLAY_ESN_VAL)) {
        xfrm_replay_state_esn r;
        if (!read_struct(attrs.get(XFRMA_REPLAY_ESN_VAL), r)) {
            return Error{Errc::truncated, "XFRMA_REPLAY_ESN_VAL"};
        }
        if (size_t{r.bmp_len} * 4 > attrs.get(XFRMA_REPLAY_ESN_VAL).size() - sizeof r) {
            return Error{Errc::bad_length, "XFRMA_REPLAY_ESN_VAL bitmap"};
        }
        sa.replay_window = r.replay_window;
    }
    if (attrs.has(XFRMA_LASTUSED)) {
        uint64_t last;
        if (!read_struct(attrs.get(XFRMA_LASTUSED), last)) {
            return Error{Errc::truncated, "XFRMA_LASTUSED"};
        }
        sa.counters.last_use = when(last);
    }
    return sa;
}

Result<std::vector<Template>> templates(const Attributes& attrs) {
    std::vector<Template> out;
    if (!attrs.has(XFRMA_TMPL)) return out;
    ByteView data = attrs.get(XFRMA_TMPL);
    if (data.size() % sizeof(xfrm_user_tmpl) != 0) {
        return Error{Errc::bad_length, "XFRMA_TMPL is not a whole number of templates"};
    }
    if (data.size() / sizeof(xfrm_user_tmpl) > kMaxTemplates) {
        return Error{Errc::too_many_items, "more than XFRM_MAX_DEPTH templates"};
    }
    for (size_t off = 0; off < data.size(); off += sizeof(xfrm_user_tmpl)) {
        xfrm_user_tmpl t;
        std::memcpy(&t, data.data() + off, sizeof t);
        out.push_back(Template{from_xfrm(t.saddr, t.family), from_xfrm(t.id.daddr, t.family),
                               EspSpi{ntohl(t.id.spi)}, t.id.proto, ReqId{t.reqid},
                               static_cast<Mode>(t.mode), t.optional != 0});
    }
    return out;
}

Result<PolicyInfo> policy_info(const xfrm_userpolicy_info& p, const Attributes& attrs) {
    PolicyInfo info;
    info.selector = from_xfrm(p.sel);
    info.selector_user = p.sel.user;
    info.dir = static_cast<Direction>(p.dir);
    info.priority = p.priority;
    info.index = p.index;
    auto t = templates(attrs);
    if (!t) return t.take_error();
    info.templates = std::move(*t);
    if (p.action == XFRM_POLICY_BLOCK) {
        info.action = PolicyAction::block;
    } else {
        info.action = info.templates.empty() ? PolicyAction::allow : PolicyAction::ipsec;
    }
    return info;
}

Result<Message> parse_ack(const NetlinkMessage& m) {
    nlmsgerr e;
    if (!read_struct(m.payload, e)) return Error{Errc::truncated, "NLMSG_ERROR"};
    // The kernel sends 0 or a negated errno; anything else (including INT_MIN, which cannot be
    // negated) is not from the kernel.
    if (e.error > 0 || e.error < -kMaxErrno) {
        return Error{Errc::invalid_syntax, "NLMSG_ERROR with an impossible errno"};
    }
    Ack ack;
    ack.error = -e.error;
    if ((m.flags & NLM_F_ACK_TLVS) == 0) return Message{ack};
    // Extended ACK TLVs follow the echoed request: its header only when capped, else all of it.
    size_t echoed = sizeof(nlmsghdr);
    if ((m.flags & NLM_F_CAPPED) == 0) echoed = std::max<size_t>(e.msg.nlmsg_len, echoed);
    const size_t start = offsetof(nlmsgerr, msg) + align4(echoed);
    if (start > m.payload.size()) return Error{Errc::truncated, "NLMSG_ERROR echo"};
    ByteView tlvs = m.payload.subspan(start);
    size_t pos = 0;
    while (tlvs.size() - pos >= sizeof(nlattr)) {
        nlattr a;
        std::memcpy(&a, tlvs.data() + pos, sizeof a);
        if (a.nla_len < sizeof a || a.nla_len > tlvs.size() - pos) {
            return Error{Errc::bad_length, "extended ACK attribute"};
        }
        if ((a.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
            const char* text = reinterpret_cast<const char*>(tlvs.data() + pos + sizeof a);
            ack.message.assign(text, strnlen(text, a.nla_len - sizeof a));
        }
        pos += std::min(align4(a.nla_len), tlvs.size() - pos);
    }
    return Message{ack};
}

}  // namespace

Result<Message> parse_message(const NetlinkMessage& m) {
    switch (m.type) {
        case NLMSG_ERROR:
            return parse_ack(m);
        case NLMSG_DONE: {
            Done d;
            int32_t err = 0;
            if (read_struct(m.payload, err)) {  // the payload is optional
                if (err > 0 || err < -kMaxErrno) {
                    return Error{Errc::invalid_syntax, "NLMSG_DONE with an impossible errno"};
                }
                d.error = -err;
            }
            return Message{d};
        }
        case XFRM_MSG_NEWSA:
        case XFRM_MSG_UPDSA: {
            xfrm_usersa_info p;
            auto attrs = fixed_part(m.payload, p, "xfrm_usersa_info");
            if (!attrs) return attrs.take_error();
            auto sa = sa_info(p, *attrs);
            if (!sa) return sa.take_error();
            return Message{SaMessage{m.type == XFRM_MSG_UPDSA, std::move(*sa)}};
        }
        case XFRM_MSG_DELSA: {
            xfrm_usersa_id id;
            auto attrs = fixed_part(m.payload, id, "xfrm_usersa_id");
            if (!attrs) return attrs.take_error();
            SaDeleted d{from_xfrm(id.daddr, id.family), EspSpi{ntohl(id.spi)}, id.proto, {}};
            if (attrs->has(XFRMA_SA)) {
                xfrm_usersa_info p;
                if (!read_struct(attrs->get(XFRMA_SA), p))
                    return Error{Errc::truncated, "XFRMA_SA"};
                auto sa = sa_info(p, *attrs);
                if (!sa) return sa.take_error();
                d.sa = std::move(*sa);
            }
            return Message{std::move(d)};
        }
        case XFRM_MSG_NEWPOLICY:
        case XFRM_MSG_UPDPOLICY: {
            xfrm_userpolicy_info p;
            auto attrs = fixed_part(m.payload, p, "xfrm_userpolicy_info");
            if (!attrs) return attrs.take_error();
            auto info = policy_info(p, *attrs);
            if (!info) return info.take_error();
            return Message{PolicyMessage{m.type == XFRM_MSG_UPDPOLICY, std::move(*info)}};
        }
        case XFRM_MSG_DELPOLICY: {
            xfrm_userpolicy_id id;
            auto attrs = fixed_part(m.payload, id, "xfrm_userpolicy_id");
            if (!attrs) return attrs.take_error();
            PolicyDeleted d{
                from_xfrm(id.sel), id.sel.user, static_cast<Direction>(id.dir), id.index, {}};
            if (attrs->has(XFRMA_POLICY)) {
                xfrm_userpolicy_info p;
                if (!read_struct(attrs->get(XFRMA_POLICY), p)) {
                    return Error{Errc::truncated, "XFRMA_POLICY"};
                }
                auto info = policy_info(p, *attrs);
                if (!info) return info.take_error();
                d.policy = std::move(*info);
            }
            return Message{std::move(d)};
        }
        case XFRM_MSG_ACQUIRE: {
            xfrm_user_acquire a;
            auto attrs = fixed_part(m.payload, a, "xfrm_user_acquire");
            if (!attrs) return attrs.take_error();
            auto info = policy_info(a.policy, *attrs);
            if (!info) return info.take_error();
            const uint16_t family = a.sel.family != AF_UNSPEC ? a.sel.family : a.policy.sel.family;
            return Message{Acquire{from_xfrm(a.saddr, family), from_xfrm(a.id.daddr, family),
                                   a.id.proto, from_xfrm(a.sel), std::move(*info), a.seq}};
        }
        case XFRM_MSG_EXPIRE: {
            xfrm_user_expire e;
            auto attrs = fixed_part(m.payload, e, "xfrm_user_expire");
            if (!attrs) return attrs.take_error();
            auto sa = sa_info(e.state, *attrs);
            if (!sa) return sa.take_error();
            return Message{Expire{std::move(*sa), e.hard != 0}};
        }
        case XFRM_MSG_POLEXPIRE: {
            xfrm_user_polexpire e;
            auto attrs = fixed_part(m.payload, e, "xfrm_user_polexpire");
            if (!attrs) return attrs.take_error();
            auto info = policy_info(e.pol, *attrs);
            if (!info) return info.take_error();
            return Message{PolicyExpire{std::move(*info), e.hard != 0}};
        }
        case XFRM_MSG_FLUSHSA: {
            xfrm_usersa_flush f;
            if (!read_struct(m.payload, f)) return Error{Errc::truncated, "xfrm_usersa_flush"};
            return Message{Flush{false, f.proto}};
        }
        case XFRM_MSG_FLUSHPOLICY:
            return Message{Flush{true, 0}};
        case XFRM_MSG_MAPPING: {
            // Fixed part only (xfrm_send_mapping adds no attributes); the family is the SA's.
            xfrm_user_mapping um;
            if (!read_struct(m.payload, um)) return Error{Errc::truncated, "xfrm_user_mapping"};
            if (um.id.family != AF_INET && um.id.family != AF_INET6) {
                return Error{Errc::invalid_syntax, "XFRM_MSG_MAPPING of an unknown family"};
            }
            Mapping map;
            map.dst = from_xfrm(um.id.daddr, um.id.family);
            map.spi = EspSpi{ntohl(um.id.spi)};
            map.protocol = um.id.proto;
            map.reqid = ReqId{um.reqid};
            map.old_source = Endpoint{from_xfrm(um.old_saddr, um.id.family), ntohs(um.old_sport)};
            map.new_source = Endpoint{from_xfrm(um.new_saddr, um.id.family), ntohs(um.new_sport)};
            return Message{std::move(map)};
        }
        default:
            return Message{Other{m.type}};
    }
}

std::optional<KernelEvent> to_event(const NetlinkMessage& raw, const Message& message,
                                    uint32_t own_pid, OwnerTag owner) {
    const bool ours = raw.pid != 0 && raw.pid == own_pid;
    if (const auto* a = std::get_if<Acquire>(&message)) {
        if (a->policy.selector_user != owner.value) return std::nullopt;
        AcquireEvent e;
        e.flow = a->flow;
        e.src = a->src;
        e.dst = a->dst;
        if (!a->policy.templates.empty()) e.reqid = a->policy.templates.front().reqid;
        e.policy_index = a->policy.index;
        e.seq = a->seq;
        return KernelEvent{e};
    }
    if (const auto* x = std::get_if<Expire>(&message)) {
        if (x->sa.selector_user != owner.value) return std::nullopt;
        return KernelEvent{ExpireEvent{x->sa.src, x->sa.dst, x->sa.spi, x->sa.reqid, x->hard}};
    }
    if (const auto* d = std::get_if<SaDeleted>(&message)) {
        if (ours || !d->sa || d->sa->selector_user != owner.value) return std::nullopt;
        return KernelEvent{SaDeletedEvent{d->sa->src, d->dst, d->spi, d->sa->reqid}};
    }
    if (const auto* d = std::get_if<PolicyDeleted>(&message)) {
        const uint32_t user = d->policy ? d->policy->selector_user : d->selector_user;
        if (ours || user != owner.value) return std::nullopt;
        const Selector& sel = d->policy ? d->policy->selector : d->selector;
        const Direction dir = d->policy ? d->policy->dir : d->dir;
        return KernelEvent{PolicyDeletedEvent{PolicyId{sel, dir}}};
    }
    if (const auto* m = std::get_if<Mapping>(&message)) {
        if (m->protocol != kProtoEsp) return std::nullopt;
        return KernelEvent{MappingEvent{m->dst, m->spi, m->reqid, m->old_source, m->new_source}};
    }
    if (const auto* f = std::get_if<Flush>(&message)) {
        if (ours) return std::nullopt;
        if (!f->policies && f->protocol != 0 && f->protocol != kProtoEsp) return std::nullopt;
        return KernelEvent{ResyncEvent{
            Error{Errc::kernel_no_entry, f->policies ? "the SPD was flushed by another process"
                                                     : "the SAD was flushed by another process"}}};
    }
    return std::nullopt;
}

Error netlink_error(int errno_value, std::string_view what, std::string_view kernel_message) {
    std::string text =
        kernel_message.empty() ? std::strerror(errno_value) : std::string(kernel_message);
    Errc code = Errc::kernel_failure;
    switch (errno_value) {
        case EEXIST:
            code = Errc::kernel_exists;
            break;
        case ENOENT:
        case ESRCH:
            code = Errc::kernel_no_entry;
            break;
        case EPROTONOSUPPORT:
            // __xfrm_init_state: the kernel has no ESP type (CONFIG_INET_ESP off, module absent).
            code = Errc::kernel_not_supported;
            text += " (no ESP in this kernel?)";
            break;
        case ENOSYS:
            // xfrm_user: the crypto API has no such algorithm (module not loaded or absent).
            code = Errc::kernel_not_supported;
            text += " (algorithm not available in this kernel?)";
            break;
        case EAFNOSUPPORT:
        case EOPNOTSUPP:
            code = Errc::kernel_not_supported;
            break;
        case EPERM:
        case EACCES:
            code = Errc::kernel_permission_denied;
            text += " (needs CAP_NET_ADMIN)";
            break;
        case EINVAL:
            code = Errc::kernel_invalid_request;
            break;
        case ENOBUFS:
            code = Errc::kernel_events_lost;
            break;
        default:
            break;
    }
    return Error{code, std::string(what) + ": " + text};
}

}  // namespace ikemesh::kernel::xfrm
