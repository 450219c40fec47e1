// XFRM message builders against golden bytes spelled out from linux/xfrm.h's layouts (offsets in
// the comments are x86_64's: struct xfrm_usersa_info 224 bytes, xfrm_userpolicy_info 168,
// xfrm_user_tmpl 64), parsers round-tripping the builders, and malformed input.
#include "kernel/xfrm_messages.hpp"

#include <arpa/inet.h>
#include <linux/xfrm.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "layout.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using namespace ikemesh::kernel::xfrm;
using ikemesh::kernel::test::ip;
using ikemesh::kernel::test::Layout;

namespace {

constexpr uint64_t kInf = ~uint64_t{0};  // XFRM_INF
constexpr OwnerTag kTag{0x11223344};
constexpr uint16_t kRequestAck = 0x1 | 0x4;  // NLM_F_REQUEST | NLM_F_ACK

Bytes counting_bytes(size_t n, uint8_t first = 1) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i)
        b[i] = static_cast<uint8_t>(first + i);
    return b;
}

SaParams gcm_sa() {
    SaParams sa;
    sa.src = ip("10.0.0.1");
    sa.dst = ip("10.0.0.2");
    sa.spi = EspSpi{0xc0ffee00};
    sa.reqid = ReqId{42};
    sa.encr = {crypto::EncrAlg::aes_gcm_16, 128};
    sa.encr_key = crypto::SecretBytes(counting_bytes(20));  // 16-byte key + 4-byte salt
    sa.replay_window = 64;
    sa.soft.time = std::chrono::seconds(3000);
    sa.hard.time = std::chrono::seconds(3600);
    sa.hard.bytes = 1000000000;
    return sa;
}

SaParams cbc_sa() {
    SaParams sa = gcm_sa();
    sa.encr = {crypto::EncrAlg::aes_cbc, 128};
    sa.encr_key = crypto::SecretBytes(counting_bytes(16));
    sa.integ = crypto::IntegAlg::hmac_sha2_256_128;
    sa.integ_key = crypto::SecretBytes(counting_bytes(32, 0x40));
    sa.esn = true;
    sa.replay_window = 128;
    sa.encap = UdpEncap{4500, 31337};
    sa.acquire_seq = 99;
    return sa;
}

PolicyParams out_policy() {
    return transport_policies(ip("10.0.0.1"), ip("10.0.0.2"), ReqId{42}).front();
}

NetlinkMessage single(const Bytes& datagram) {
    auto messages = split_messages(datagram);
    REQUIRE(messages);
    REQUIRE(messages->size() == 1);
    return messages->front();
}

Message parse_one(const Bytes& datagram) {
    auto parsed = parse_message(single(datagram));
    REQUIRE(parsed);
    return *parsed;
}

}  // namespace

TEST_CASE("DELSA request: nlmsghdr + xfrm_usersa_id, golden bytes") {
    Bytes out;
    REQUIRE(build_delete_sa(out, ip("10.0.0.2"), EspSpi{0xc0ffee00}, {7, 0x1234}));
    Layout expected(16 + 24);
    expected.header(17 /* XFRM_MSG_DELSA */, kRequestAck, 7, 0x1234)
        .addr(16 + 0, ip("10.0.0.2"))  // daddr
        .be32(16 + 16, 0xc0ffee00)     // spi, network order
        .u16(16 + 20, 2)               // family AF_INET
        .u8(16 + 22, 50);              // proto ESP
    CHECK(to_hex(out) == to_hex(expected.get()));
}

TEST_CASE("GETSA request differs from DELSA only in type and flags") {
    Bytes del, get;
    REQUIRE(build_delete_sa(del, ip("2001:db8::2"), EspSpi{0x1000}, {1, 2}));
    REQUIRE(build_get_sa(get, ip("2001:db8::2"), EspSpi{0x1000}, {1, 2}));
    REQUIRE(del.size() == 40);
    REQUIRE(get.size() == 40);
    CHECK(get[4] == 18);        // XFRM_MSG_GETSA
    CHECK(get[6] == 1);         // NLM_F_REQUEST: the reply is the answer, no ACK
    CHECK(get[16 + 20] == 10);  // AF_INET6
    CHECK(std::equal(del.begin() + 8, del.end(), get.begin() + 8));
}

TEST_CASE("NEWPOLICY out with an ESP transport template, golden bytes") {
    Bytes out;
    REQUIRE(build_policy(out, out_policy(), false, {9, 77}, kTag));
    Layout e(16 + 168 + 4 + 64);
    e.header(19 /* XFRM_MSG_NEWPOLICY */, kRequestAck, 9, 77);
    // xfrm_userpolicy_info.sel (xfrm_selector) at 16
    e.addr(16 + 0, ip("10.0.0.2"))      // sel.daddr
        .addr(16 + 16, ip("10.0.0.1"))  // sel.saddr
        .u16(16 + 40, 2)                // sel.family
        .u8(16 + 42, 32)                // sel.prefixlen_d
        .u8(16 + 43, 32)                // sel.prefixlen_s
        .u32(16 + 52, 0x11223344);      // sel.user: the owner tag
    // lft (xfrm_lifetime_cfg) at 16+56: byte and packet limits infinite, times 0
    e.u64(16 + 56, kInf).u64(16 + 64, kInf).u64(16 + 72, kInf).u64(16 + 80, kInf);
    e.u32(16 + 152, kPriorityIpsec)  // priority
        .u8(16 + 160, 1)             // dir XFRM_POLICY_OUT
        .u8(16 + 161, 0);            // action XFRM_POLICY_ALLOW (ipsec = allow + template)
    // XFRMA_TMPL (5) at 184 holding one xfrm_user_tmpl at 188
    e.attr(184, 4 + 64, 5)
        .addr(188 + 0, ip("10.0.0.2"))   // id.daddr
        .u8(188 + 20, 50)                // id.proto ESP
        .u16(188 + 24, 2)                // family
        .addr(188 + 28, ip("10.0.0.1"))  // saddr
        .u32(188 + 44, 42)               // reqid
        .u8(188 + 48, 0)                 // mode transport
        .u8(188 + 50, 0)                 // optional = 0: level required
        .u32(188 + 52, 0xffffffff)       // aalgos
        .u32(188 + 56, 0xffffffff)       // ealgos
        .u32(188 + 60, 0xffffffff);      // calgos
    CHECK(to_hex(out) == to_hex(e.get()));
}

TEST_CASE("NEWSA with AES-GCM-16 and a 64-packet window, golden bytes") {
    Bytes out;
    REQUIRE(build_sa(out, gcm_sa(), false, {10, 77}, kTag));
    Layout e(16 + 224 + 96 + 36);
    e.header(16 /* XFRM_MSG_NEWSA */, kRequestAck, 10, 77);
    // xfrm_usersa_info at 16: sel (56), id (24), saddr (16), lft (64), curlft (32), stats (12),
    // seq, reqid, family, mode, replay_window, flags, pad
    e.addr(16 + 0, ip("10.0.0.2"))
        .addr(16 + 16, ip("10.0.0.1"))
        .u16(16 + 40, 2)
        .u8(16 + 42, 32)
        .u8(16 + 43, 32)
        .u32(16 + 52, 0x11223344);
    e.addr(16 + 56, ip("10.0.0.2")).be32(16 + 72, 0xc0ffee00).u8(16 + 76, 50);  // id
    e.addr(16 + 80, ip("10.0.0.1"));                                            // saddr
    e.u64(16 + 96, kInf)                                                        // soft_byte_limit
        .u64(16 + 104, 1000000000)                                              // hard_byte_limit
        .u64(16 + 112, kInf)                                                    // soft_packet_limit
        .u64(16 + 120, kInf)                                                    // hard_packet_limit
        .u64(16 + 128, 3000)   // soft_add_expires_seconds
        .u64(16 + 136, 3600);  // hard_add_expires_seconds
    e.u32(16 + 208, 42)        // reqid
        .u16(16 + 212, 2)      // family
        .u8(16 + 214, 0)       // mode transport
        .u8(16 + 215, 0);      // replay_window: 0, the ESN attribute carries it
    // XFRMA_ALG_AEAD (18): xfrm_algo_aead {name[64], key_len bits, icv_len bits, key}
    e.attr(240, 4 + 72 + 20, 18)
        .text(244, "rfc4106(gcm(aes))")
        .u32(244 + 64, 160)
        .u32(244 + 68, 128)
        .bytes(244 + 72, counting_bytes(20));
    // XFRMA_REPLAY_ESN_VAL (23): bmp_len, oseq, seq, oseq_hi, seq_hi, replay_window, bmp[2]
    e.attr(336, 4 + 24 + 8, 23).u32(340, 2).u32(340 + 20, 64);
    CHECK(to_hex(out) == to_hex(e.get()));
}

TEST_CASE("NEWSA with AES-CBC + HMAC-SHA2-256, ESN and NAT-T: attributes in place") {
    Bytes out;
    REQUIRE(build_sa(out, cbc_sa(), true, {11, 77}, kTag));
    REQUIRE(out.size() == 16 + 224 + 88 + 108 + 28 + 44);
    Layout hdr(16);
    hdr.u32(0, static_cast<uint32_t>(out.size())).u16(4, 26 /* UPDSA */).u16(6, kRequestAck);
    CHECK(std::equal(out.begin(), out.begin() + 8, hdr.get().begin()));
    CHECK(out[16 + 204] == 99);   // seq: the ACQUIRE this SA answers
    CHECK(out[16 + 215] == 0);    // legacy replay_window
    CHECK(out[16 + 216] == 128);  // flags: XFRM_STATE_ESN
    CHECK(out[240 + 2] == 2);     // XFRMA_ALG_CRYPT
    CHECK(std::string(reinterpret_cast<const char*>(&out[244])) == "cbc(aes)");
    CHECK(out[244 + 64] == 128);  // key bits (LE)
    CHECK(out[328 + 2] == 20);    // XFRMA_ALG_AUTH_TRUNC
    CHECK(std::string(reinterpret_cast<const char*>(&out[332])) == "hmac(sha256)");
    CHECK((out[332 + 64] == 0 && out[332 + 65] == 1));  // 256 key bits
    CHECK(out[332 + 68] == 128);                        // truncation (RFC 4868 2.3)
    CHECK(out[436 + 2] == 4);                           // XFRMA_ENCAP
    CHECK(out[440] == 2);                               // UDP_ENCAP_ESPINUDP
    CHECK(out[442] == 0x11);                            // sport 4500 = 0x1194, network order
    CHECK(out[443] == 0x94);
    CHECK(out[444] == 0x7a);  // dport 31337 = 0x7a69
    CHECK(out[445] == 0x69);
    CHECK(out[464 + 2] == 23);    // XFRMA_REPLAY_ESN_VAL
    CHECK(out[468] == 4);         // bmp_len: 128 bits
    CHECK(out[468 + 20] == 128);  // replay_window
}

TEST_CASE("ALLOCSPI request: xfrm_userspi_info, golden bytes") {
    Bytes out;
    REQUIRE(build_alloc_spi(out, ip("10.0.0.2"), ip("10.0.0.1"), ReqId{42}, 0xc0000000, 0xcfffffff,
                            {3, 77}));
    Layout e(16 + 232);
    e.header(22 /* XFRM_MSG_ALLOCSPI */, 0x1, 3, 77);
    e.addr(16 + 0, ip("10.0.0.1"))  // sel: peer -> us, untagged (the kernel keeps its own)
        .addr(16 + 16, ip("10.0.0.2"))
        .u16(16 + 40, 2)
        .u8(16 + 42, 32)
        .u8(16 + 43, 32);
    e.addr(16 + 56, ip("10.0.0.1")).u8(16 + 76, 50);  // id: daddr us, spi 0, ESP
    e.addr(16 + 80, ip("10.0.0.2"));                  // saddr: the peer
    e.u64(16 + 96, kInf).u64(16 + 104, kInf).u64(16 + 112, kInf).u64(16 + 120, kInf);
    e.u32(16 + 208, 42).u16(16 + 212, 2);
    e.u32(16 + 224, 0xc0000000).u32(16 + 228, 0xcfffffff);  // min, max (host order)
    CHECK(to_hex(out) == to_hex(e.get()));
}

TEST_CASE("DELPOLICY request: xfrm_userpolicy_id with the owner tag, golden bytes") {
    Bytes out;
    PolicyId id{Selector::any(IpAddress::Family::v4, kProtoTcp, 0, 22), Direction::in};
    REQUIRE(build_delete_policy(out, id, {5, 6}, kTag));
    Layout e(16 + 64);
    e.header(20 /* XFRM_MSG_DELPOLICY */, kRequestAck, 5, 6);
    e.be16(16 + 32, 22)        // sel.dport
        .u16(16 + 34, 0xffff)  // sel.dport_mask
        .u16(16 + 40, 2)       // family
        .u8(16 + 44, 6)        // proto tcp
        .u32(16 + 52, 0x11223344)
        .u8(16 + 60, 0);  // dir in
    CHECK(to_hex(out) == to_hex(e.get()));
}

TEST_CASE("dump requests and the socket bypass policy, golden bytes") {
    Bytes sas, pols;
    build_dump_sas(sas, {1, 2});
    build_dump_policies(pols, {3, 2});
    Layout s(16 + 8);
    s.header(18, 0x301 /* REQUEST|DUMP */, 1, 2).attr(16, 5, 25 /* XFRMA_PROTO */).u8(20, 50);
    CHECK(to_hex(sas) == to_hex(s.get()));
    Layout p(16);
    p.header(21, 0x301, 3, 2);
    CHECK(to_hex(pols) == to_hex(p.get()));

    auto bypass = socket_bypass_policy(Direction::out, 10 /* AF_INET6 */);
    REQUIRE(bypass);
    Layout b(168);
    b.u16(40, 10).u64(56, kInf).u64(64, kInf).u64(72, kInf).u64(80, kInf).u8(160, 1);
    CHECK(to_hex(*bypass) == to_hex(b.get()));
    CHECK_FALSE(socket_bypass_policy(Direction::fwd, 2));
    CHECK_FALSE(socket_bypass_policy(Direction::in, 1 /* AF_UNIX */));
}

TEST_CASE("builders refuse what the kernel would refuse, without writing") {
    Bytes out;
    SaParams sa = gcm_sa();
    sa.encr_key = crypto::SecretBytes(counting_bytes(16));  // salt missing
    auto s = build_sa(out, sa, false, {}, kTag);
    REQUIRE_FALSE(s);
    CHECK(s.error().is(Errc::kernel_invalid_request));
    CHECK(out.empty());

    sa = gcm_sa();
    sa.dst = ip("2001:db8::2");
    CHECK_FALSE(build_sa(out, sa, false, {}, kTag));
    sa = gcm_sa();
    sa.spi = EspSpi{255};  // RFC 4303 2.1: reserved
    CHECK_FALSE(build_sa(out, sa, false, {}, kTag));
    CHECK_FALSE(build_alloc_spi(out, ip("10.0.0.1"), ip("::1"), ReqId{1}, 0x100, 0x200, {}));
    CHECK_FALSE(build_alloc_spi(out, ip("10.0.0.1"), ip("10.0.0.2"), ReqId{1}, 0, 0x200, {}));
    PolicyParams p = out_policy();
    p.id.selector.dst_prefix = 33;
    CHECK_FALSE(build_policy(out, p, false, {}, kTag));
    CHECK(out.empty());
}

TEST_CASE("parsing a built SA gives back its parameters, without its keys") {
    for (const SaParams& sa : {gcm_sa(), cbc_sa()}) {
        Bytes out;
        REQUIRE(build_sa(out, sa, false, {1, 2}, kTag));
        auto m = parse_one(out);
        const auto* msg = std::get_if<SaMessage>(&m);
        REQUIRE(msg);
        const SaInfo& info = msg->sa;
        CHECK_FALSE(msg->update);
        CHECK(info.src == sa.src);
        CHECK(info.dst == sa.dst);
        CHECK(info.spi == sa.spi);
        CHECK(info.reqid == sa.reqid);
        CHECK(info.protocol == kProtoEsp);
        CHECK(info.mode == Mode::transport);
        CHECK(info.selector_user == kTag.value);
        CHECK(info.selector == Selector::host_to_host(sa.src, sa.dst));
        CHECK(info.soft == sa.soft);
        CHECK(info.hard == sa.hard);
        CHECK(info.replay_window == sa.replay_window);
        CHECK(info.esn == sa.esn);
        CHECK(info.encap == sa.encap);
        CHECK(info.seq == sa.acquire_seq);
        CHECK(info.encr_key_bits == sa.encr_key.size() * 8);
        if (sa.encr.alg == crypto::EncrAlg::aes_gcm_16) {
            CHECK(info.aead);
            CHECK(info.encr_name == "rfc4106(gcm(aes))");
            CHECK(info.icv_bits == 128);
            CHECK(info.integ_name.empty());
        } else {
            CHECK_FALSE(info.aead);
            CHECK(info.encr_name == "cbc(aes)");
            CHECK(info.integ_name == "hmac(sha256)");
            CHECK(info.integ_key_bits == 256);
            CHECK(info.icv_bits == 128);
        }
    }
}

TEST_CASE("a small window without ESN uses the legacy replay field") {
    SaParams sa = gcm_sa();
    sa.replay_window = 32;
    Bytes out;
    REQUIRE(build_sa(out, sa, false, {}, kTag));
    CHECK(out.size() == 16 + 224 + 96);  // no XFRMA_REPLAY_ESN_VAL
    CHECK(out[16 + 215] == 32);
    auto m = parse_one(out);
    CHECK(std::get<SaMessage>(m).sa.replay_window == 32);
}

TEST_CASE("parsing built policies and deletes gives back their parameters") {
    for (const auto& p : transport_policies(ip("2001:db8::1"), ip("2001:db8::2"), ReqId{7})) {
        Bytes out;
        REQUIRE(build_policy(out, p, true, {1, 2}, kTag));
        auto m = parse_one(out);
        const auto* msg = std::get_if<PolicyMessage>(&m);
        REQUIRE(msg);
        CHECK(msg->update);
        CHECK(msg->policy.selector == p.id.selector);
        CHECK(msg->policy.dir == p.id.dir);
        CHECK(msg->policy.action == PolicyAction::ipsec);
        CHECK(msg->policy.priority == p.priority);
        CHECK(msg->policy.selector_user == kTag.value);
        REQUIRE(msg->policy.templates.size() == 1);
        CHECK(msg->policy.templates[0].reqid == ReqId{7});
        CHECK(msg->policy.templates[0].src == p.tmpl_src);
        CHECK(msg->policy.templates[0].dst == p.tmpl_dst);
        CHECK(msg->policy.templates[0].protocol == kProtoEsp);
        CHECK_FALSE(msg->policy.templates[0].optional);

        Bytes del;
        REQUIRE(build_delete_policy(del, p.id, {3, 2}, kTag));
        auto d = parse_one(del);
        const auto* pd = std::get_if<PolicyDeleted>(&d);
        REQUIRE(pd);
        CHECK(pd->selector == p.id.selector);
        CHECK(pd->dir == p.id.dir);
        CHECK(pd->selector_user == kTag.value);
    }
    for (const auto& p : bypass_policies(IpAddress::Family::v4, kProtoTcp, 22)) {
        Bytes out;
        REQUIRE(build_policy(out, p, false, {1, 2}, kTag));
        auto m = parse_one(out);
        CHECK(std::get<PolicyMessage>(m).policy.action == PolicyAction::allow);
        CHECK(std::get<PolicyMessage>(m).policy.selector == p.id.selector);
    }
    // ICMP bypass: exact types under a full mask, type 0 (echo reply) included, read back equal
    // (deleting a policy needs the very selector it was added with).
    int exact_zero = 0;
    for (const auto& p : bypass_policies(IpAddress::Family::v4, kProtoIcmp, 0)) {
        Bytes out;
        REQUIRE(build_policy(out, p, false, {1, 2}, kTag));
        xfrm_userpolicy_info info{};
        REQUIRE(out.size() >= 16 + sizeof info);
        std::memcpy(&info, out.data() + 16, sizeof info);
        CHECK(info.sel.proto == kProtoIcmp);
        CHECK(info.sel.sport == htons(p.id.selector.src_port));
        CHECK(info.sel.sport_mask == 0xffff);
        CHECK(info.sel.dport_mask == 0);  // any code
        if (info.sel.sport == 0) ++exact_zero;
        CHECK(std::get<PolicyMessage>(parse_one(out)).policy.selector == p.id.selector);
    }
    CHECK(exact_zero == 2);  // echo reply, out and in
    Selector partial = Selector::any(IpAddress::Family::v4, kProtoIcmp, 0);
    partial.src_port_mask = 0xfff7;  // types 0 and 8 in one selector
    PolicyParams masked = out_policy();
    masked.id.selector = partial;
    masked.action = PolicyAction::allow;
    Bytes mout;
    REQUIRE(build_policy(mout, masked, false, {1, 2}, kTag));
    CHECK(std::get<PolicyMessage>(parse_one(mout)).policy.selector == partial);

    PolicyParams block = out_policy();
    block.action = PolicyAction::block;
    Bytes out;
    REQUIRE(build_policy(out, block, false, {1, 2}, kTag));
    CHECK(out.size() == 16 + 168);
    CHECK(std::get<PolicyMessage>(parse_one(out)).policy.action == PolicyAction::block);
}

TEST_CASE("several messages in one datagram split at their aligned lengths") {
    Bytes out;
    REQUIRE(build_delete_sa(out, ip("10.0.0.2"), EspSpi{0x1001}, {1, 0}));
    REQUIRE(build_policy(out, out_policy(), false, {2, 0}, kTag));
    build_dump_sas(out, {3, 0});
    auto messages = split_messages(out);
    REQUIRE(messages);
    REQUIRE(messages->size() == 3);
    CHECK((*messages)[0].seq == 1);
    CHECK((*messages)[1].seq == 2);
    CHECK((*messages)[2].seq == 3);
    CHECK((*messages)[2].payload.size() == 8);
}

TEST_CASE("an extended error ACK parses to errno and kernel text, mapped to a clear Error") {
    const std::string text = "Requested type not found";
    Layout e(16 + 20 + 32);
    e.header(2 /* NLMSG_ERROR */, 0x300 /* CAPPED | ACK_TLVS */, 10, 77)
        .u32(16, static_cast<uint32_t>(-EPROTONOSUPPORT))
        .u32(20, 372)  // the echoed request header (capped: header only)
        .u16(24, 16)
        .u32(28, 10)
        .attr(36, static_cast<uint16_t>(4 + text.size() + 1), 1 /* NLMSGERR_ATTR_MSG */)
        .text(40, text);
    auto m = parse_one(e.get());
    const auto* ack = std::get_if<Ack>(&m);
    REQUIRE(ack);
    CHECK(ack->error == EPROTONOSUPPORT);
    CHECK(ack->message == text);
    Error err = netlink_error(ack->error, "add SA 10.0.0.2 spi c0ffee00", ack->message);
    CHECK(err.is(Errc::kernel_not_supported));
    CHECK(err.detail ==
          "add SA 10.0.0.2 spi c0ffee00: Requested type not found (no ESP in this kernel?)");

    Layout plain(16 + 20);
    plain.header(2, 0, 11, 77);
    auto ok = parse_one(plain.get());
    CHECK(std::get<Ack>(ok).error == 0);
    CHECK(std::get<Ack>(ok).message.empty());
}

TEST_CASE("errno values map to the kernel error codes") {
    CHECK(netlink_error(EEXIST, "x", "").is(Errc::kernel_exists));
    CHECK(netlink_error(ESRCH, "x", "").is(Errc::kernel_no_entry));
    CHECK(netlink_error(ENOENT, "x", "").is(Errc::kernel_no_entry));
    CHECK(netlink_error(ENOSYS, "x", "").is(Errc::kernel_not_supported));
    CHECK(netlink_error(EAFNOSUPPORT, "x", "").is(Errc::kernel_not_supported));
    CHECK(netlink_error(EPERM, "x", "").is(Errc::kernel_permission_denied));
    CHECK(netlink_error(EINVAL, "x", "").is(Errc::kernel_invalid_request));
    CHECK(netlink_error(ENOBUFS, "x", "").is(Errc::kernel_events_lost));
    CHECK(netlink_error(ENOMEM, "x", "").is(Errc::kernel_failure));
    CHECK(netlink_error(ESRCH, "delete SA", "").detail == "delete SA: No such process");
}

// --- notifications the kernel sends, assembled from builder output ---------------------------

namespace {

// The xfrm_usersa_info and attributes of a built NEWSA, for notifications that embed them.
struct BuiltSa {
    Bytes info;   // 224 bytes
    Bytes attrs;  // everything after it
};

BuiltSa built_sa(const SaParams& sa, OwnerTag tag) {
    Bytes out;
    REQUIRE(build_sa(out, sa, false, {}, tag));
    return {Bytes(out.begin() + 16, out.begin() + 240), Bytes(out.begin() + 240, out.end())};
}

Bytes expire_message(const SaParams& sa, bool hard, OwnerTag tag, uint32_t pid = 0) {
    auto b = built_sa(sa, tag);
    Layout e(16 + 232 + b.attrs.size());
    e.header(24 /* XFRM_MSG_EXPIRE */, 0, 0, pid).bytes(16, b.info).u8(16 + 224, hard ? 1 : 0);
    e.bytes(16 + 232, b.attrs);
    return e.get();
}

Bytes delsa_notification(const SaParams& sa, OwnerTag tag, uint32_t pid) {
    auto b = built_sa(sa, tag);
    Layout e(16 + 24 + 4 + 224 + b.attrs.size());
    e.header(17 /* XFRM_MSG_DELSA */, 0, 5, pid)
        .addr(16, sa.dst)
        .be32(16 + 16, sa.spi.value)
        .u16(16 + 20, 2)
        .u8(16 + 22, 50)
        .attr(40, 4 + 224, 6 /* XFRMA_SA */)
        .bytes(44, b.info)
        .bytes(44 + 224, b.attrs);
    return e.get();
}

Bytes delpolicy_notification(const PolicyParams& p, OwnerTag tag, uint32_t pid) {
    Bytes built;
    REQUIRE(build_policy(built, p, false, {}, tag));
    const Bytes info(built.begin() + 16, built.begin() + 184);
    const Bytes tmpl(built.begin() + 184, built.end());
    Layout e(16 + 64 + 4 + 168 + tmpl.size());
    e.header(20 /* XFRM_MSG_DELPOLICY */, 0, 6, pid)
        .bytes(16, Bytes(info.begin(), info.begin() + 56))  // userpolicy_id.sel
        .u8(16 + 60, static_cast<uint8_t>(p.id.dir))
        .attr(80, 4 + 168, 7 /* XFRMA_POLICY */)
        .bytes(84, info)
        .bytes(84 + 168, tmpl);
    return e.get();
}

// xfrm_user_acquire: id (24), saddr (16), sel (56), policy (168), aalgos, ealgos, calgos, seq;
// then the policy's XFRMA_TMPL.
Bytes acquire_message(const PolicyParams& p, OwnerTag tag, const Selector& flow, uint32_t seq) {
    Bytes built;
    REQUIRE(build_policy(built, p, false, {}, tag));
    const Bytes info(built.begin() + 16, built.begin() + 184);
    const Bytes tmpl(built.begin() + 184, built.end());
    Bytes flow_sel;
    {
        PolicyParams fp;
        fp.id.selector = flow;
        fp.action = PolicyAction::allow;
        Bytes tmp;
        REQUIRE(build_policy(tmp, fp, false, {}, OwnerTag{0}));
        flow_sel.assign(tmp.begin() + 16, tmp.begin() + 16 + 56);
    }
    Layout e(16 + 280 + tmpl.size());
    e.header(23 /* XFRM_MSG_ACQUIRE */, 0, 0, 0)
        .addr(16, p.tmpl_dst)
        .u8(16 + 20, 50)
        .addr(16 + 24, p.tmpl_src)
        .bytes(16 + 40, flow_sel)
        .bytes(16 + 96, info)
        .u32(16 + 276, seq)
        .bytes(16 + 280, tmpl);
    return e.get();
}

// xfrm_user_mapping (linux/xfrm.h): id {daddr 16, spi 4, family 2, proto 1, pad 1}, reqid 4,
// old_saddr 16, new_saddr 16, old_sport 2, new_sport 2 (ports and SPI in network order).
Bytes mapping_message(uint8_t proto = 50) {
    Layout e(16 + 64);
    e.header(38 /* XFRM_MSG_MAPPING */, 0, 0, 0)
        .addr(16, ip("10.0.0.2"))
        .be32(16 + 16, 0xc0ffee00)
        .u16(16 + 20, 2 /* AF_INET */)
        .u8(16 + 22, proto)
        .u32(16 + 24, 42)
        .addr(16 + 28, ip("198.51.100.7"))
        .addr(16 + 44, ip("198.51.100.9"))
        .u8(16 + 60, 0xad)  // old_sport 44500 = 0xadd4, big-endian
        .u8(16 + 61, 0xd4)
        .u8(16 + 62, 0xc3)  // new_sport 50000 = 0xc350
        .u8(16 + 63, 0x50);
    return e.get();
}

std::optional<KernelEvent> event_of(const Bytes& datagram, uint32_t own_pid, OwnerTag tag) {
    auto raw = single(datagram);
    auto parsed = parse_message(raw);
    REQUIRE(parsed);
    return to_event(raw, *parsed, own_pid, tag);
}

}  // namespace

TEST_CASE("ACQUIRE for one of our policies becomes an AcquireEvent") {
    const auto p = out_policy();
    const Selector flow =
        Selector::host_to_host(ip("10.0.0.1"), ip("10.0.0.2"), kProtoUdp, 40000, 53);
    const Bytes msg = acquire_message(p, kTag, flow, 1234);
    auto e = event_of(msg, 77, kTag);
    REQUIRE(e);
    const auto* a = std::get_if<AcquireEvent>(&e->data);
    REQUIRE(a);
    CHECK(a->flow == flow);
    CHECK(a->src == ip("10.0.0.1"));
    CHECK(a->dst == ip("10.0.0.2"));
    CHECK(a->reqid == ReqId{42});
    CHECK(a->seq == 1234);
    CHECK(describe(*e).find("acquire 10.0.0.1/32[40000] -> 10.0.0.2/32[53] udp") == 0);

    // Someone else's policy (no tag, or another tag): not ours to answer.
    CHECK_FALSE(event_of(acquire_message(p, OwnerTag{0}, flow, 1), 77, kTag));
    CHECK_FALSE(event_of(acquire_message(p, OwnerTag{5}, flow, 1), 77, kTag));
}

TEST_CASE("EXPIRE of our SA becomes a soft or hard ExpireEvent") {
    for (bool hard : {false, true}) {
        auto e = event_of(expire_message(gcm_sa(), hard, kTag), 77, kTag);
        REQUIRE(e);
        const auto* x = std::get_if<ExpireEvent>(&e->data);
        REQUIRE(x);
        CHECK(x->hard == hard);
        CHECK(x->spi == EspSpi{0xc0ffee00});
        CHECK(x->dst == ip("10.0.0.2"));
        CHECK(x->src == ip("10.0.0.1"));
        CHECK(x->reqid == ReqId{42});
    }
    CHECK_FALSE(event_of(expire_message(gcm_sa(), true, OwnerTag{0}), 77, kTag));
}

TEST_CASE("XFRM_MSG_MAPPING (xfrm_user_mapping) becomes a MappingEvent") {
    auto e = event_of(mapping_message(), 77, kTag);
    REQUIRE(e);
    const auto* m = std::get_if<MappingEvent>(&e->data);
    REQUIRE(m);
    CHECK(m->dst == ip("10.0.0.2"));
    CHECK(m->spi == EspSpi{0xc0ffee00});
    CHECK(m->reqid == ReqId{42});
    CHECK(m->old_source == Endpoint{ip("198.51.100.7"), 44500});
    CHECK(m->new_source == Endpoint{ip("198.51.100.9"), 50000});
    CHECK(describe(*e) ==
          "new mapping for SA 10.0.0.2 spi c0ffee00: 198.51.100.7:44500 -> "
          "198.51.100.9:50000");
    // Not ESP (the kernel only sends it for ESP, but the parser does not rely on that).
    CHECK_FALSE(event_of(mapping_message(51), 77, kTag));
    // A short fixed part or an unknown family is a typed error, not an event.
    Bytes shortened = mapping_message();
    shortened.resize(16 + 63);
    const uint32_t len = 16 + 63;
    std::memcpy(shortened.data(), &len, 4);
    auto raw = single(shortened);
    CHECK(parse_message(raw).error().is(Errc::truncated));
    Bytes bad_family = mapping_message();
    bad_family[16 + 20] = 99;
    CHECK(parse_message(single(bad_family)).error().is(Errc::invalid_syntax));
}

TEST_CASE("deletions by others become events; our own deletions and others' entries do not") {
    auto e = event_of(delsa_notification(gcm_sa(), kTag, 0), 77, kTag);
    REQUIRE(e);
    const auto* d = std::get_if<SaDeletedEvent>(&e->data);
    REQUIRE(d);
    CHECK(d->spi == EspSpi{0xc0ffee00});
    CHECK(d->dst == ip("10.0.0.2"));
    CHECK(d->reqid == ReqId{42});
    CHECK_FALSE(event_of(delsa_notification(gcm_sa(), kTag, 77), 77, kTag));  // ours
    CHECK_FALSE(event_of(delsa_notification(gcm_sa(), OwnerTag{0}, 0), 77, kTag));

    const auto p = out_policy();
    auto pe = event_of(delpolicy_notification(p, kTag, 1234), 77, kTag);
    REQUIRE(pe);
    const auto* pd = std::get_if<PolicyDeletedEvent>(&pe->data);
    REQUIRE(pd);
    CHECK(pd->id == p.id);
    CHECK_FALSE(event_of(delpolicy_notification(p, kTag, 77), 77, kTag));
    CHECK_FALSE(event_of(delpolicy_notification(p, OwnerTag{9}, 0), 77, kTag));
}

TEST_CASE("a flush by another process asks for a resync; additions are not events") {
    Layout flush(16 + 4);
    flush.header(28 /* XFRM_MSG_FLUSHSA */, 0, 0, 0).u8(16, 0);
    auto e = event_of(flush.get(), 77, kTag);
    REQUIRE(e);
    CHECK(std::holds_alternative<ResyncEvent>(e->data));
    Layout flush_ah(16 + 4);
    flush_ah.header(28, 0, 0, 0).u8(16, 51 /* AH */);
    CHECK_FALSE(event_of(flush_ah.get(), 77, kTag));
    Layout flushp(16);
    flushp.header(29 /* XFRM_MSG_FLUSHPOLICY */, 0, 0, 0);
    CHECK(event_of(flushp.get(), 77, kTag));

    Bytes add;
    REQUIRE(build_sa(add, gcm_sa(), false, {1, 0}, kTag));
    CHECK_FALSE(event_of(add, 77, kTag));
    Layout other(16);
    other.header(39 /* XFRM_MSG_SETDEFAULT */, 0, 0, 0);
    auto m = parse_one(other.get());
    CHECK(std::get<Other>(m).type == 39);
}

// --- malformed input --------------------------------------------------------------------------

TEST_CASE("netlink framing errors are typed errors") {
    Layout short_len(16);
    short_len.u32(0, 8);  // nlmsg_len below the header size
    auto r = split_messages(short_len.get());
    REQUIRE_FALSE(r);
    CHECK(r.error().is(Errc::bad_length));

    Layout long_len(16);
    long_len.u32(0, 17);
    CHECK(split_messages(long_len.get()).error().is(Errc::truncated));

    // Found by fuzzing: errno fields that cannot be negated or are not errnos at all.
    for (uint16_t type : {2 /* NLMSG_ERROR */, 3 /* NLMSG_DONE */}) {
        for (uint32_t err : {0x80000000u, 1u, static_cast<uint32_t>(-5000)}) {
            Layout e(16 + 20);
            e.header(type, 0, 1, 0).u32(16, err);
            auto parsed = parse_message(single(e.get()));
            REQUIRE_FALSE(parsed);
            CHECK(parsed.error().is(Errc::invalid_syntax));
        }
    }

    Bytes cut(10, 0);
    CHECK(split_messages(cut).error().is(Errc::truncated));
    CHECK(split_messages(Bytes{})->empty());
}

TEST_CASE("truncated fixed parts and broken attributes are typed errors") {
    Bytes good;
    REQUIRE(build_sa(good, gcm_sa(), false, {1, 2}, kTag));
    for (uint16_t type : {16, 17, 19, 20, 23, 24, 27}) {
        Layout tiny(16 + 4);
        tiny.header(type, 0, 0, 0);
        auto parsed = parse_message(single(tiny.get()));
        CHECK_FALSE(parsed);
    }
    // An attribute claiming more bytes than the message has.
    Bytes bad = good;
    bad[240] = 0xff;
    bad[241] = 0x0f;
    CHECK(parse_message(single(bad)).error().is(Errc::truncated));
    // An attribute shorter than its own header.
    bad = good;
    bad[240] = 2;
    bad[241] = 0;
    CHECK(parse_message(single(bad)).error().is(Errc::bad_length));
    // An AEAD key length beyond the attribute.
    bad = good;
    bad[244 + 64] = 0xff;
    bad[244 + 65] = 0xff;
    CHECK(parse_message(single(bad)).error().is(Errc::bad_length));
    // An ESN bitmap longer than its attribute.
    bad = good;
    bad[340] = 200;
    CHECK(parse_message(single(bad)).error().is(Errc::bad_length));
}

TEST_CASE("template lists must be whole and at most XFRM_MAX_DEPTH long") {
    Bytes built;
    REQUIRE(build_policy(built, out_policy(), false, {}, kTag));
    const Bytes info(built.begin() + 16, built.begin() + 184);
    const Bytes tmpl(built.begin() + 188, built.end());
    auto with_templates = [&](size_t n, size_t extra) {
        Layout e(16 + 168 + 4 + n * 64 + extra);
        e.header(19, 0, 0, 0)
            .bytes(16, info)
            .attr(184, static_cast<uint16_t>(4 + n * 64 + extra), 5);
        for (size_t i = 0; i < n; ++i)
            e.bytes(188 + i * 64, tmpl);
        return e.get();
    };
    CHECK(parse_message(single(with_templates(6, 0))));
    CHECK(parse_message(single(with_templates(7, 0))).error().is(Errc::too_many_items));
    CHECK(parse_message(single(with_templates(1, 4))).error().is(Errc::bad_length));
}

TEST_CASE("every truncation and single-byte corruption of valid messages parses or fails cleanly") {
    std::vector<Bytes> samples;
    Bytes b;
    REQUIRE(build_sa(b, cbc_sa(), false, {1, 2}, kTag));
    samples.push_back(b);
    samples.push_back(expire_message(gcm_sa(), true, kTag));
    samples.push_back(delsa_notification(cbc_sa(), kTag, 0));
    samples.push_back(delpolicy_notification(out_policy(), kTag, 0));
    samples.push_back(acquire_message(out_policy(), kTag,
                                      Selector::host_to_host(ip("10.0.0.1"), ip("10.0.0.2")), 1));
    samples.push_back(mapping_message());
    size_t parsed_ok = 0;
    size_t rejected = 0;
    for (const auto& sample : samples) {
        for (size_t cut = 0; cut <= sample.size(); ++cut) {
            Bytes t(sample.begin(), sample.begin() + static_cast<ptrdiff_t>(cut));
            if (cut >= 4) {
                // Keep the header's length consistent so the parser, not the splitter, is hit.
                const auto len = static_cast<uint32_t>(cut);
                std::memcpy(t.data(), &len, 4);
            }
            auto messages = split_messages(t);
            if (!messages) {
                ++rejected;
                continue;
            }
            for (const auto& m : *messages) {
                auto r = parse_message(m);
                r ? ++parsed_ok : ++rejected;
                if (r) (void)to_event(m, *r, 1, kTag);
            }
        }
        for (size_t i = 0; i < sample.size(); ++i) {
            Bytes t = sample;
            t[i] ^= 0xa5;
            auto messages = split_messages(t);
            if (!messages) {
                ++rejected;
                continue;
            }
            for (const auto& m : *messages) {
                auto r = parse_message(m);
                r ? ++parsed_ok : ++rejected;
                if (r) (void)to_event(m, *r, 1, kTag);
            }
        }
    }
    // Both outcomes happen: the corruptions reach the parsers rather than all dying early.
    CHECK(parsed_ok > 100);
    CHECK(rejected > 100);
}

// --- real kernel datagrams ---------------------------------------------------------------------

namespace {

Bytes read_seed(const std::string& name) {
    const std::string path = std::string(IKEMESH_SOURCE_DIR) + "/fuzz/corpus/xfrm_message/" + name;
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return Bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("datagrams captured from a real kernel parse (tests/unit/kernel/xfrm_capture_test.cpp)") {
    // Captured on Linux 6.18 (the development host) with the default owner tag.
    for (const char* name :
         {"real_acquire_0", "real_delsa_0", "real_dump_policies_0", "real_dump_policies_1",
          "real_dump_sas_0", "real_dump_sas_1", "real_error_ack_0", "real_flush_0",
          "real_newpolicy_0", "real_newpolicy_1"}) {
        INFO(name);
        const Bytes seed = read_seed(name);
        auto messages = split_messages(seed);
        REQUIRE(messages);
        REQUIRE_FALSE(messages->empty());
        for (const auto& m : *messages)
            CHECK(parse_message(m));
    }
    auto acquire = read_seed("real_acquire_0");
    auto e = event_of(acquire, 12345, OwnerTag{});
    REQUIRE(e);
    const auto& a = std::get<AcquireEvent>(e->data);
    CHECK(a.reqid == ReqId{7});
    CHECK(a.flow.dst == ip("10.99.0.2"));
    CHECK(a.flow.dst_port == 9);
    CHECK(a.flow.protocol == kProtoUdp);

    const Bytes dump_bytes = read_seed("real_dump_policies_0");
    auto dump = split_messages(dump_bytes);
    REQUIRE(dump);
    REQUIRE(dump->size() == 2);  // the in and out policies, NLM_F_MULTI
    for (const auto& m : *dump) {
        CHECK((m.flags & 0x2) != 0);
        auto parsed = parse_message(m);
        REQUIRE(parsed);
        const auto p = std::get<PolicyMessage>(*parsed).policy;
        CHECK(p.selector_user == OwnerTag{}.value);
        CHECK(p.action == PolicyAction::ipsec);
        CHECK(p.templates.at(0).reqid == ReqId{7});
    }
    const Bytes done_bytes = read_seed("real_dump_policies_1");
    auto done = split_messages(done_bytes);
    REQUIRE(done);
    CHECK(std::holds_alternative<Done>(*parse_message(done->front())));

    const Bytes err_bytes = read_seed("real_error_ack_0");
    auto err = split_messages(err_bytes);
    REQUIRE(err);
    auto parsed_err = parse_message(err->front());
    REQUIRE(parsed_err);
    const auto ack = std::get<Ack>(*parsed_err);
    CHECK(ack.error != 0);
    CHECK_FALSE(ack.message.empty());  // e.g. "Requested AEAD algorithm not found"
}
