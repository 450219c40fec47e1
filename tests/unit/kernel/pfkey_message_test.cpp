// PF_KEY v2 message builders against golden bytes spelled out from RFC 2367's layouts and
// Linux's <linux/pfkeyv2.h> extensions (struct sadb_msg 16 bytes, extensions in 64-bit words,
// sadb_address followed by a sockaddr padded to 8), hand-made kernel messages parsed, round
// trips, every truncation and a list of malformed messages rejected with a typed error.
#include "kernel/pfkey_message.hpp"

#include <catch2/catch.hpp>
#include <cerrno>

#include "kernel/pfkey_kernel.hpp"
#include "layout.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using namespace ikemesh::kernel::pfkey;
using ikemesh::kernel::test::ip;
using ikemesh::kernel::test::Layout;

namespace {

// Message and extension types, algorithm numbers (RFC 2367 and Linux's pfkeyv2.h / ipsec.h),
// written out here rather than taken from the headers the code under test uses.
constexpr uint8_t kGetspi = 1, kUpdate = 2, kAdd = 3, kDelete = 4, kGet = 5, kAcquire = 6,
                  kRegister = 7, kExpire = 8, kFlush = 9, kDump = 10, kSpdAdd = 14, kSpdDelete = 15,
                  kSpdDump = 18, kSpdDelete2 = 22;
constexpr uint16_t kExtSa = 1, kExtCurrent = 2, kExtHard = 3, kExtSoft = 4, kExtSrc = 5,
                   kExtDst = 6, kExtKeyAuth = 8, kExtKeyEncrypt = 9, kExtSupportedAuth = 14,
                   kExtSupportedEncrypt = 15, kExtSpiRange = 16, kExtPolicy = 18, kExtSa2 = 19,
                   kExtNatType = 20, kExtNatSport = 21, kExtNatDport = 22;
constexpr uint8_t kSatypeEsp = 3;
constexpr uint16_t kAfInet = 2, kAfInet6 = 10;
constexpr uint8_t kAnyProto = 255;  // IPSEC_ULPROTO_ANY
constexpr uint32_t kSeq = 0x80000001, kPid = 4242;

// struct sadb_msg at 0.
Layout& msg_header(Layout& l, uint8_t type, uint8_t satype, uint32_t seq = kSeq,
                   uint32_t pid = kPid, uint8_t err = 0) {
    return l.u8(0, 2)
        .u8(1, type)
        .u8(2, err)
        .u8(3, satype)
        .u16(4, static_cast<uint16_t>(l.get().size() / 8))
        .u32(8, seq)
        .u32(12, pid);
}

// sadb_address + sockaddr_in at `off` (24 bytes).
Layout& addr4(Layout& l, size_t off, uint16_t type, const char* a, uint8_t prefix = 32,
              uint8_t proto = kAnyProto, uint16_t port = 0) {
    return l.u16(off, 3)
        .u16(off + 2, type)
        .u8(off + 4, proto)
        .u8(off + 5, prefix)
        .u16(off + 8, kAfInet)
        .be16(off + 10, port)
        .addr(off + 12, ip(a));
}

// sadb_address + sockaddr_in6 at `off` (40 bytes: 8 + 28 padded to 32).
Layout& addr6(Layout& l, size_t off, uint16_t type, const char* a, uint8_t prefix = 128,
              uint8_t proto = kAnyProto, uint16_t port = 0) {
    return l.u16(off, 5)
        .u16(off + 2, type)
        .u8(off + 4, proto)
        .u8(off + 5, prefix)
        .u16(off + 8, kAfInet6)
        .be16(off + 10, port)
        .addr(off + 16, ip(a));
}

Bytes counting_bytes(size_t n, uint8_t first = 1) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i)
        b[i] = static_cast<uint8_t>(first + i);
    return b;
}

SaParams cbc_sa() {
    SaParams sa;
    sa.src = ip("10.0.0.1");
    sa.dst = ip("10.0.0.2");
    sa.spi = EspSpi{0xc0ffee00};
    sa.reqid = ReqId{7};
    sa.encr = {crypto::EncrAlg::aes_cbc, 128};
    sa.encr_key = crypto::SecretBytes(counting_bytes(16));
    sa.integ = crypto::IntegAlg::hmac_sha2_512_256;
    sa.integ_key = crypto::SecretBytes(counting_bytes(64, 0x40));
    sa.replay_window = 32;
    sa.soft = {std::chrono::seconds(3000), 900000000, 0};
    sa.hard = {std::chrono::seconds(3600), 1000000000, 5000};
    sa.encap = UdpEncap{4500, 31337};
    return sa;
}

PolicyParams out_policy() {
    return transport_policies(ip("10.0.0.1"), ip("10.0.0.2"), ReqId{7}).front();
}

const Marking kMarking{};  // reqid band 0x2000.., priority band 0x494b0000..

}  // namespace

TEST_CASE("PF_KEY marking: reqid and priority bands") {
    auto m = Marking::from(OwnerTag{});
    CHECK(m.priority_base == 0x494b0000);
    CHECK(Marking::from(OwnerTag{0x11223344}).priority_base == 0x11220000);
    CHECK(*m.kernel_reqid(ReqId{7}) == 0x2007);
    CHECK(*m.kernel_reqid(ReqId{0x1fff}) == 0x3fff);  // IPSEC_MANUAL_REQID_MAX
    CHECK(m.kernel_reqid(ReqId{0x2000}).error().is(Errc::kernel_not_supported));
    CHECK(*m.kernel_priority(2000) == 0x494b0000 + 2000);
    CHECK(m.kernel_priority(0x10000).error().is(Errc::kernel_not_supported));
    CHECK(m.owns_reqid(0x2000));
    CHECK(m.owns_reqid(0x3fff));
    CHECK_FALSE(m.owns_reqid(0x1fff));
    CHECK_FALSE(m.owns_reqid(0x4000));
    CHECK(m.owns_priority(0x494b0000 + 1000));
    CHECK_FALSE(m.owns_priority(1000));
    CHECK_FALSE(m.owns_priority(0x494c0000));
    CHECK(m.engine_reqid(0x2007) == ReqId{7});
    CHECK(m.engine_priority(0x494b0000 + 1000) == 1000);
}

TEST_CASE("PF_KEY algorithm numbers and what PF_KEY cannot express") {
    auto a = map_algorithms(cbc_sa());
    REQUIRE(a);
    CHECK(a->encrypt == 12);  // SADB_X_EALG_AESCBC
    CHECK(a->auth == 7);      // SADB_X_AALG_SHA2_512HMAC
    CHECK(a->encrypt_key_bits == 128);
    CHECK(a->auth_key_bits == 512);

    SaParams sa = cbc_sa();
    sa.integ = crypto::IntegAlg::hmac_sha1_96;
    sa.integ_key = crypto::SecretBytes(counting_bytes(20));
    CHECK(map_algorithms(sa)->auth == 3);  // SADB_AALG_SHA1HMAC
    sa.integ = crypto::IntegAlg::hmac_sha2_384_192;
    sa.integ_key = crypto::SecretBytes(counting_bytes(48));
    CHECK(map_algorithms(sa)->auth == 6);  // SADB_X_AALG_SHA2_384HMAC
    CHECK(check_sa(sa));

    sa.encr = {crypto::EncrAlg::aes_gcm_16, 128};
    sa.encr_key = crypto::SecretBytes(counting_bytes(20));
    sa.integ = crypto::IntegAlg::none;
    sa.integ_key = {};
    CHECK(map_algorithms(sa)->encrypt == 20);  // SADB_X_EALG_AES_GCM_ICV16
    CHECK(map_algorithms(sa)->encrypt_key_bits == 160);

    SECTION("HMAC-SHA2-256-128: Linux's PF_KEY would truncate to 96 bits") {
        SaParams s = cbc_sa();
        s.integ = crypto::IntegAlg::hmac_sha2_256_128;
        s.integ_key = crypto::SecretBytes(counting_bytes(32));
        auto r = check_sa(s);
        REQUIRE_FALSE(r);
        CHECK(r.error().is(Errc::kernel_not_supported));
        CHECK_THAT(r.error().message(), Catch::Contains("96"));
    }
    SECTION("ChaCha20-Poly1305 has no SADB number") {
        SaParams s = cbc_sa();
        s.encr = {crypto::EncrAlg::chacha20_poly1305, 256};
        s.encr_key = crypto::SecretBytes(counting_bytes(36));
        s.integ = crypto::IntegAlg::none;
        s.integ_key = {};
        CHECK(check_sa(s).error().is(Errc::kernel_not_supported));
    }
    SECTION("ESN and replay windows above 32") {
        SaParams s = cbc_sa();
        s.esn = true;
        CHECK(check_sa(s).error().is(Errc::kernel_not_supported));
        s.esn = false;
        s.replay_window = 33;
        CHECK(check_sa(s).error().is(Errc::kernel_not_supported));
        s.replay_window = 0;
        CHECK(check_sa(s));
    }
    SECTION("tunnel mode and invalid parameters") {
        SaParams s = cbc_sa();
        s.mode = Mode::tunnel;
        CHECK(check_sa(s).error().is(Errc::kernel_not_supported));
        s = cbc_sa();
        s.encr_key = crypto::SecretBytes(counting_bytes(15));
        CHECK_FALSE(check_sa(s));
        Bytes out;
        CHECK_FALSE(build_sa(out, s, false, 0x2007, {kSeq, kPid}));
        CHECK(out.empty());
    }
}

TEST_CASE("PF_KEY GETSPI golden bytes") {
    Bytes out;
    REQUIRE(build_getspi(out, ip("10.0.0.2"), ip("10.0.0.1"), 0x2007, 0xc0000000, 0xcfffffff,
                         {kSeq, kPid}));
    Layout l(96);
    msg_header(l, kGetspi, kSatypeEsp);
    l.u16(16, 2).u16(18, kExtSa2).u8(20, 1).u32(28, 0x2007);  // transport, reqid
    addr4(l, 32, kExtSrc, "10.0.0.2");
    addr4(l, 56, kExtDst, "10.0.0.1");
    l.u16(80, 2).u16(82, kExtSpiRange).u32(84, 0xc0000000).u32(88, 0xcfffffff);
    CHECK(to_hex(out) == to_hex(l.get()));

    Bytes bad;
    CHECK(build_getspi(bad, ip("10.0.0.2"), ip("fd00::1"), 1, 0xc0000000, 0xcfffffff, {})
              .error()
              .is(Errc::kernel_invalid_request));
    CHECK_FALSE(build_getspi(bad, ip("10.0.0.2"), ip("10.0.0.1"), 1, 5, 0xcfffffff, {}));
    CHECK(bad.empty());
}

TEST_CASE("PF_KEY ADD golden bytes: AES-CBC + HMAC-SHA2-512, lifetimes, NAT-T") {
    Bytes out;
    REQUIRE(build_sa(out, cbc_sa(), false, 0x2007, {kSeq, kPid}));
    Layout l(280);
    msg_header(l, kAdd, kSatypeEsp);
    // sadb_sa: spi (network order), replay 32, state mature, auth 7, encrypt 12.
    l.u16(16, 2).u16(18, kExtSa).be32(20, 0xc0ffee00).u8(24, 32).u8(25, 1).u8(26, 7).u8(27, 12);
    l.u16(32, 2).u16(34, kExtSa2).u8(36, 1).u32(44, 0x2007);
    addr4(l, 48, kExtSrc, "10.0.0.1");
    addr4(l, 72, kExtDst, "10.0.0.2");
    // sadb_lifetime hard, then soft: allocations (packets), bytes, addtime, usetime.
    l.u16(96, 4).u16(98, kExtHard).u32(100, 5000).u64(104, 1000000000).u64(112, 3600);
    l.u16(128, 4).u16(130, kExtSoft).u32(132, 0).u64(136, 900000000).u64(144, 3000);
    // sadb_key: 128 bits, 16 key bytes -> 3 words; 512 bits, 64 bytes -> 9 words.
    l.u16(160, 3).u16(162, kExtKeyEncrypt).u16(164, 128).bytes(168, counting_bytes(16));
    l.u16(184, 9).u16(186, kExtKeyAuth).u16(188, 512).bytes(192, counting_bytes(64, 0x40));
    l.u16(256, 1).u16(258, kExtNatType).u8(260, 2);  // UDP_ENCAP_ESPINUDP
    l.u16(264, 1).u16(266, kExtNatSport).be16(268, 4500);
    l.u16(272, 1).u16(274, kExtNatDport).be16(276, 31337);
    CHECK(to_hex(out) == to_hex(l.get()));

    SECTION("UPDATE differs only in the type; no NAT-T without encap") {
        SaParams sa = cbc_sa();
        sa.encap.reset();
        Bytes upd;
        REQUIRE(build_sa(upd, sa, true, 0x2007, {kSeq, kPid}));
        REQUIRE(upd.size() == 256);
        CHECK(upd[1] == kUpdate);
        CHECK(upd[4] == 256 / 8);
        CHECK(Bytes(upd.begin() + 16, upd.end()) ==
              Bytes(l.get().begin() + 16, l.get().begin() + 256));
    }
}

TEST_CASE("PF_KEY DELETE, GET and SPDDELETE2 golden bytes") {
    Bytes out;
    REQUIRE(build_delete_sa(out, ip("10.0.0.2"), EspSpi{0xc0ffee00}, {kSeq, kPid}));
    Layout l(80);
    msg_header(l, kDelete, kSatypeEsp);
    l.u16(16, 2).u16(18, kExtSa).be32(20, 0xc0ffee00);
    addr4(l, 32, kExtSrc, "0.0.0.0");  // the kernel looks SAs up by (dst, SPI) only
    addr4(l, 40 + 16, kExtDst, "10.0.0.2");
    CHECK(to_hex(out) == to_hex(l.get()));

    Bytes get;
    REQUIRE(build_get_sa(get, ip("10.0.0.2"), EspSpi{0xc0ffee00}, {kSeq, kPid}));
    l.u8(1, kGet);
    CHECK(to_hex(get) == to_hex(l.get()));
    CHECK_FALSE(build_get_sa(get, ip("10.0.0.2"), EspSpi{0}, {}));

    Bytes del;
    REQUIRE(build_delete_policy(del, Direction::out, 0x1b9, {kSeq, kPid}));
    Layout d(32);
    msg_header(d, kSpdDelete2, 0);
    d.u16(16, 2).u16(18, kExtPolicy).u8(22, 2).u32(24, 0x1b9);  // dir outbound, id
    CHECK(to_hex(del) == to_hex(d.get()));
    CHECK_FALSE(build_delete_policy(del, Direction::out, 0, {}));
}

TEST_CASE("PF_KEY SPDADD golden bytes: ipsec transport policy and IPv6 bypass") {
    Bytes out;
    REQUIRE(build_policy(out, out_policy(), false, 0x494b0000 + 2000, 0x2007, {kSeq, kPid}));
    Layout l(96);
    msg_header(l, kSpdAdd, 0);
    addr4(l, 16, kExtSrc, "10.0.0.1");
    addr4(l, 40, kExtDst, "10.0.0.2");
    // sadb_x_policy: 4 words (itself + one request), type IPSEC (2), dir outbound (2), priority.
    l.u16(64, 4).u16(66, kExtPolicy).u16(68, 2).u8(70, 2).u32(76, 0x494b0000 + 2000);
    // sadb_x_ipsecrequest: length in bytes, ESP, transport, level unique (3), reqid.
    l.u16(80, 16).u16(82, 50).u8(84, 1).u8(85, 3).u32(88, 0x2007);
    CHECK(to_hex(out) == to_hex(l.get()));

    // `bypass = ["tcp/22"]` as a server on IPv6: in, source any, destination port 22.
    auto bypass = bypass_policies(IpAddress::Family::v6, kProtoTcp, 22);
    const auto& in_server = bypass.at(2);
    REQUIRE(in_server.id.dir == Direction::in);
    Bytes b;
    REQUIRE(build_policy(b, in_server, true, 0x494b0000 + 1000, 0, {kSeq, kPid}));
    Layout v6(112);
    msg_header(v6, 13, 0);  // SADB_X_SPDUPDATE
    addr6(v6, 16, kExtSrc, "::", 0, kProtoTcp, 0);
    addr6(v6, 56, kExtDst, "::", 0, kProtoTcp, 22);
    v6.u16(96, 2).u16(98, kExtPolicy).u16(100, 1).u8(102, 1).u32(108, 0x494b0000 + 1000);
    CHECK(to_hex(b) == to_hex(v6.get()));

    PolicyParams block = out_policy();
    block.action = PolicyAction::block;
    Bytes blk;
    REQUIRE(build_policy(blk, block, false, 5, 0, {}));
    CHECK(blk.size() == 80);
    CHECK(blk[68] == 0);  // IPSEC_POLICY_DISCARD

    PolicyParams tunnel = out_policy();
    tunnel.mode = Mode::tunnel;
    CHECK(build_policy(blk, tunnel, false, 5, 1, {}).error().is(Errc::kernel_not_supported));

    // The icmp bypass class: exact types go through, an exact type 0 (echo reply) cannot, since
    // PF_KEY's port 0 means any type, which would let every ICMP error out in clear.
    int refused = 0;
    for (const auto& p : bypass_policies(IpAddress::Family::v4, kProtoIcmp, 0)) {
        Bytes icmp;
        auto r = build_policy(icmp, p, false, 0x494b0000 + 1000, 0, {});
        if (p.id.selector.src_port == 0) {
            CHECK(r.error().is(Errc::kernel_not_supported));
            ++refused;
        } else {
            CHECK(r.ok());
        }
    }
    CHECK(refused == 2);
}

TEST_CASE("PF_KEY dump, register and socket bypass golden bytes") {
    Bytes out;
    build_dump_sas(out, {kSeq, kPid});
    build_dump_policies(out, {kSeq + 1, kPid});
    build_register(out, {kSeq + 2, kPid});
    Layout l(48);
    l.u8(0, 2).u8(1, kDump).u8(3, kSatypeEsp).u16(4, 2).u32(8, kSeq).u32(12, kPid);
    l.u8(16, 2).u8(17, kSpdDump).u8(19, 0).u16(20, 2).u32(24, kSeq + 1).u32(28, kPid);
    l.u8(32, 2).u8(33, kRegister).u8(35, kSatypeEsp).u16(36, 2).u32(40, kSeq + 2).u32(44, kPid);
    CHECK(to_hex(out) == to_hex(l.get()));

    auto in = socket_bypass_policy(Direction::in);
    REQUIRE(in);
    Layout p(16);
    p.u16(0, 2).u16(2, kExtPolicy).u16(4, 4).u8(6, 1);  // IPSEC_POLICY_BYPASS, inbound
    CHECK(to_hex(*in) == to_hex(p.get()));
    CHECK((*socket_bypass_policy(Direction::out))[6] == 2);
    CHECK_FALSE(socket_bypass_policy(Direction::fwd));
}

TEST_CASE("PF_KEY round trips: what the builders write parses back") {
    Bytes out;
    REQUIRE(build_sa(out, cbc_sa(), false, 0x2007, {kSeq, kPid}));
    auto m = parse_message(out);
    REQUIRE(m);
    CHECK(m->type == kAdd);
    CHECK(m->satype == kSatypeEsp);
    CHECK(m->seq == kSeq);
    CHECK(m->pid == kPid);
    REQUIRE(m->sa);
    CHECK(m->sa->spi == EspSpi{0xc0ffee00});
    CHECK(m->sa->auth == 7);
    CHECK(m->sa->encrypt == 12);
    CHECK(m->sa->replay == 32);
    REQUIRE(m->sa2);
    CHECK(m->sa2->reqid == 0x2007);
    CHECK(m->sa2->mode == 1);
    CHECK(m->src->address == ip("10.0.0.1"));
    CHECK(m->dst->address == ip("10.0.0.2"));
    CHECK(m->dst->prefix == 32);
    CHECK(m->dst->protocol == kProtoAny);
    CHECK(m->hard->allocations == 5000);
    CHECK(m->hard->addtime == 3600);
    CHECK(m->soft->bytes == 900000000);
    CHECK(m->encrypt_key_bits == 128);
    CHECK(m->auth_key_bits == 512);
    REQUIRE(m->nat_t);
    CHECK(m->nat_t->type == 2);
    CHECK(m->nat_t->sport == 4500);
    CHECK(m->nat_t->dport == 31337);

    for (const auto& p : bypass_policies(IpAddress::Family::v6, kProtoTcp, 22)) {
        Bytes b;
        REQUIRE(build_policy(b, p, false, 0x494b0000 + 1000, 0, {kSeq, kPid}));
        auto pm = parse_message(b);
        REQUIRE(pm);
        auto id = policy_id(*pm);
        REQUIRE(id);
        CHECK(*id == p.id);
        CHECK(pm->policy->priority == 0x494b0000 + 1000);
        CHECK(pm->policy->requests.empty());
    }
    for (const auto& p : transport_policies(ip("fd00::1"), ip("fd00::2"), ReqId{9})) {
        Bytes b;
        REQUIRE(build_policy(b, p, false, 0x494b0000 + 2000, 0x2009, {kSeq, kPid}));
        auto pm = parse_message(b);
        REQUIRE(pm);
        CHECK(*policy_id(*pm) == p.id);
        REQUIRE(pm->policy->requests.size() == 1);
        CHECK(pm->policy->requests[0].reqid == 0x2009);
        CHECK(pm->policy->requests[0].level == 3);
        CHECK(pm->policy->requests[0].protocol == kProtoEsp);
        CHECK_FALSE(pm->policy->requests[0].src);
    }
    Bytes g;
    REQUIRE(build_getspi(g, ip("fd00::2"), ip("fd00::1"), 0x2001, 0xc0000000, 0xcfffffff, {}));
    auto gm = parse_message(g);
    REQUIRE(gm);
    CHECK(gm->spirange == std::pair<uint32_t, uint32_t>{0xc0000000, 0xcfffffff});
    CHECK(gm->src->address == ip("fd00::2"));
}

TEST_CASE("PF_KEY kernel messages: GETSPI reply, GET reply counters, errors, REGISTER") {
    SECTION("GETSPI reply: the larval SA's SPI") {
        Layout l(80);
        msg_header(l, kGetspi, kSatypeEsp);
        l.u16(16, 2).u16(18, kExtSa).be32(20, 0xc1234567).u8(25, 0);  // larval
        addr4(l, 32, kExtSrc, "10.0.0.2");
        addr4(l, 56, kExtDst, "10.0.0.1");
        auto m = parse_message(l.get());
        REQUIRE(m);
        CHECK(m->type == kGetspi);
        CHECK(m->sa->spi == EspSpi{0xc1234567});
        CHECK(m->sa->state == 0);
    }
    SECTION("GET reply: current lifetime as counters") {
        Layout l(48);
        msg_header(l, kGet, kSatypeEsp);
        l.u16(16, 4)
            .u16(18, kExtCurrent)
            .u32(20, 17)
            .u64(24, 2040)
            .u64(32, 1700000000)
            .u64(40, 1700000005);
        auto m = parse_message(l.get());
        REQUIRE(m);
        auto c = counters(*m);
        CHECK(c.packets == 17);
        CHECK(c.bytes == 2040);
        CHECK(c.add_time->time_since_epoch().count() == 1700000000);
        CHECK(c.first_use->time_since_epoch().count() == 1700000005);
        CHECK_FALSE(c.last_use);
        l.u64(40, 0);  // never used
        CHECK_FALSE(counters(*parse_message(l.get())).first_use);
    }
    SECTION("an error answer: the header alone with sadb_msg_errno") {
        Layout l(16);
        msg_header(l, kAdd, kSatypeEsp, kSeq, kPid, EEXIST);
        auto m = parse_message(l.get());
        REQUIRE(m);
        CHECK(m->errno_value == EEXIST);
        CHECK(pfkey_error(m->errno_value, "add SA").is(Errc::kernel_exists));
        CHECK(pfkey_error(ESRCH, "x").is(Errc::kernel_no_entry));
        CHECK(pfkey_error(ENOENT, "x").is(Errc::kernel_no_entry));
        CHECK(pfkey_error(ENOSYS, "x").is(Errc::kernel_not_supported));
        CHECK(pfkey_error(EAFNOSUPPORT, "x").is(Errc::kernel_not_supported));
        CHECK(pfkey_error(EINVAL, "x").is(Errc::kernel_invalid_request));
        CHECK(pfkey_error(EPERM, "x").is(Errc::kernel_permission_denied));
        CHECK(pfkey_error(EIO, "x").is(Errc::kernel_failure));
        CHECK_THAT(pfkey_error(EEXIST, "add SA 10.0.0.2").message(),
                   Catch::Contains("add SA 10.0.0.2"));
    }
    SECTION("REGISTER reply: the algorithms the kernel offers") {
        Layout l(16 + 8 + 2 * 8 + 8 + 3 * 8);
        msg_header(l, kRegister, kSatypeEsp);
        l.u16(16, 3).u16(18, kExtSupportedAuth).u8(24, 3).u8(32, 7);
        l.u16(40, 4).u16(42, kExtSupportedEncrypt).u8(48, 12).u8(56, 13).u8(64, 22);
        auto m = parse_message(l.get());
        REQUIRE(m);
        CHECK(m->supported_auth == std::vector<uint8_t>{3, 7});
        CHECK(m->supported_encrypt == std::vector<uint8_t>{12, 13, 22});
    }
    SECTION("a dumped tunnel-mode policy of someone else: requests with addresses") {
        // Request: 16 bytes + two sockaddr_in = 48 bytes; policy ext 16 + 48 = 64 = 8 words.
        Layout l(16 + 48 + 64);
        msg_header(l, kSpdDump, 0, 3, kPid);
        addr4(l, 16, kExtSrc, "192.168.0.0", 16);
        addr4(l, 40, kExtDst, "192.168.1.0", 24);
        l.u16(64, 8).u16(66, kExtPolicy).u16(68, 2).u8(70, 3).u32(72, 0x12).u32(76, 100);
        l.u16(80, 48).u16(82, 50).u8(84, 2).u8(85, 2).u32(88, 0);
        l.u16(96, kAfInet).addr(100, ip("198.51.100.1"));
        l.u16(112, kAfInet).addr(116, ip("198.51.100.2"));
        auto m = parse_message(l.get());
        REQUIRE(m);
        REQUIRE(m->policy->requests.size() == 1);
        CHECK(m->policy->requests[0].src == ip("198.51.100.1"));
        CHECK(m->policy->requests[0].dst == ip("198.51.100.2"));
        auto id = policy_id(*m);
        REQUIRE(id);
        CHECK(id->dir == Direction::fwd);
        CHECK(id->selector.src_prefix == 16);
        CHECK_FALSE(kMarking.owns_priority(m->policy->priority));
    }
}

namespace {

// An ACQUIRE as Linux's pfkey_send_acquire writes it: addresses, the policy (index, priority).
Bytes acquire(uint32_t priority) {
    Layout l(16 + 48 + 16);
    msg_header(l, kAcquire, kSatypeEsp, 77, 0);
    addr4(l, 16, kExtSrc, "10.0.0.1");
    addr4(l, 40, kExtDst, "10.0.0.2");
    l.u16(64, 2).u16(66, kExtPolicy).u16(68, 2).u8(70, 2).u32(72, 0x1b9).u32(76, priority);
    return l.get();
}

// An SA notification (EXPIRE, DELETE): SA, SA2 (reqid), addresses, optional hard lifetime.
Bytes sa_note(uint8_t type, uint32_t pid, uint32_t reqid, bool hard) {
    Layout l(16 + 16 + 16 + 48 + (hard ? 32 : 0));
    msg_header(l, type, kSatypeEsp, 0, pid);
    l.u16(16, 2).u16(18, kExtSa).be32(20, 0xc0ffee00).u8(25, 1);
    l.u16(32, 2).u16(34, kExtSa2).u8(36, 1).u32(44, reqid);
    addr4(l, 48, kExtSrc, "10.0.0.1");
    addr4(l, 72, kExtDst, "10.0.0.2");
    if (hard) l.u16(96, 4).u16(98, kExtHard);
    return l.get();
}

std::optional<KernelEvent> event_of(const Bytes& b, uint32_t own_pid = kPid) {
    auto m = parse_message(b);
    REQUIRE(m);
    return to_event(*m, own_pid, kMarking);
}

}  // namespace

TEST_CASE("PF_KEY events: ours become engine events, others' are ignored") {
    auto acq = event_of(acquire(0x494b0000 + 2000));
    REQUIRE(acq);
    const auto& a = std::get<AcquireEvent>(acq->data);
    CHECK(a.src == ip("10.0.0.1"));
    CHECK(a.dst == ip("10.0.0.2"));
    CHECK(a.flow == Selector::host_to_host(ip("10.0.0.1"), ip("10.0.0.2")));
    CHECK(a.policy_index == 0x1b9);
    CHECK(a.seq == 77);
    CHECK_FALSE(event_of(acquire(2000)));  // not our priority band

    auto soft = event_of(sa_note(kExpire, 0, 0x2007, false));
    REQUIRE(soft);
    const auto& s = std::get<ExpireEvent>(soft->data);
    CHECK_FALSE(s.hard);
    CHECK(s.spi == EspSpi{0xc0ffee00});
    CHECK(s.reqid == ReqId{7});
    CHECK(s.dst == ip("10.0.0.2"));
    CHECK(std::get<ExpireEvent>(event_of(sa_note(kExpire, 0, 0x2007, true))->data).hard);
    CHECK_FALSE(event_of(sa_note(kExpire, 0, 7, false)));  // reqid outside the band

    auto gone = event_of(sa_note(kDelete, 999, 0x2007, false));
    REQUIRE(gone);
    CHECK(std::get<SaDeletedEvent>(gone->data).spi == EspSpi{0xc0ffee00});
    CHECK_FALSE(event_of(sa_note(kDelete, kPid, 0x2007, false)));  // our own delete
    CHECK_FALSE(event_of(sa_note(kAdd, 999, 0x2007, false)));

    Bytes pol;
    REQUIRE(build_policy(pol, out_policy(), false, 0x494b0000 + 2000, 0x2007, {1, 999}));
    pol[1] = kSpdDelete;
    auto pd = event_of(pol);
    REQUIRE(pd);
    CHECK(std::get<PolicyDeletedEvent>(pd->data).id == out_policy().id);
    CHECK_FALSE(event_of(pol, 999));

    Layout flush(16);
    msg_header(flush, kFlush, kSatypeEsp, 1, 999);
    auto f = event_of(flush.get());
    REQUIRE(f);
    CHECK(std::get<ResyncEvent>(f->data).reason.is(Errc::kernel_events_lost));
    CHECK_FALSE(event_of(flush.get(), 999));
}

TEST_CASE("PF_KEY parser: every truncation and malformed messages give typed errors") {
    Bytes good;
    REQUIRE(build_sa(good, cbc_sa(), false, 0x2007, {kSeq, kPid}));
    REQUIRE(build_policy(good, out_policy(), false, 1, 0x2007, {}));  // a second message
    const Bytes add(good.begin(), good.begin() + 280);
    const Bytes spd(good.begin() + 280, good.end());
    REQUIRE(parse_message(add));
    REQUIRE(parse_message(spd));
    CHECK(parse_message(good).error().is(Errc::bad_length));  // one message per datagram
    for (size_t n = 0; n < add.size(); ++n) {
        CAPTURE(n);
        CHECK_FALSE(parse_message(ByteView(add.data(), n)));
    }

    auto broken = [](Bytes b, size_t off, uint8_t v) {
        b.at(off) = v;
        return parse_message(b);
    };
    CHECK(broken(add, 0, 1).error().is(Errc::bad_version));
    CHECK(broken(add, 4, 34).error().is(Errc::bad_length));           // sadb_msg_len too small
    CHECK(broken(add, 16, 0).error().is(Errc::bad_length));           // extension length 0
    CHECK(broken(add, 16, 40).error().is(Errc::bad_length));          // extension overruns
    CHECK(broken(add, 18, 0).error().is(Errc::invalid_syntax));       // extension type 0
    CHECK(broken(add, 34, kExtSa).error().is(Errc::invalid_syntax));  // duplicate SA
    CHECK(broken(add, 56, 7).error().is(Errc::invalid_syntax));       // sockaddr family 7
    CHECK(broken(add, 53, 33).error().is(Errc::invalid_syntax));      // prefix 33 for IPv4
    CHECK(broken(add, 56, kAfInet6).error().is(Errc::truncated));     // v6 sockaddr in 16 bytes
    CHECK(broken(add, 165, 0x10).error().is(Errc::bad_length));       // key bits overrun the key
    CHECK(broken(add, 96, 1).error().is(Errc::truncated));            // lifetime of one word
    CHECK(broken(add, 16, 1).error().is(Errc::truncated));            // sadb_sa of one word

    CHECK(broken(spd, 80, 8).error().is(Errc::bad_length));   // request shorter than itself
    CHECK(broken(spd, 80, 24).error().is(Errc::bad_length));  // request overruns the policy
    CHECK(broken(spd, 80, 0).error().is(Errc::bad_length));   // zero-length ipsec request

    // Seven requests of 16 bytes: more than XFRM_MAX_DEPTH.
    Layout many(16 + 16 + 7 * 16);
    msg_header(many, kSpdDump, 0);
    many.u16(16, 2 + 14).u16(18, kExtPolicy).u16(20, 2);
    for (size_t i = 0; i < 7; ++i)
        many.u16(32 + 16 * i, 16).u16(34 + 16 * i, 50).u8(36 + 16 * i, 1);
    CHECK(parse_message(many.get()).error().is(Errc::too_many_items));

    // Unknown extension types are skipped, not fatal.
    Layout unknown(24);
    msg_header(unknown, kAdd, kSatypeEsp);
    unknown.u16(16, 1).u16(18, 200);
    CHECK(parse_message(unknown.get()));

    // A policy without addresses has no id.
    Layout bare(32);
    msg_header(bare, kSpdDump, 0);
    bare.u16(16, 2).u16(18, kExtPolicy).u8(22, 2);
    auto bm = parse_message(bare.get());
    REQUIRE(bm);
    CHECK_FALSE(policy_id(*bm));
    bm->src = AddressExt{ip("10.0.0.1"), 0, 32, 0};
    bm->dst = AddressExt{ip("10.0.0.2"), 0, 32, 0};
    bm->policy->dir = 9;
    CHECK_FALSE(policy_id(*bm));
}

TEST_CASE("open_kernel(pfkey): opens where af_key is loaded, a clear error where it is not") {
    auto k = open_kernel(KernelKind::pfkey);
    if (k) {
        CHECK((*k)->kind() == "pfkey");
        CHECK((*k)->event_fd() >= 0);
    } else {
        // This host: no af_key (or no CAP_NET_ADMIN for PF_KEY sockets).
        const auto& e = k.error();
        CHECK((e.is(Errc::kernel_not_supported) || e.is(Errc::kernel_permission_denied)));
        if (e.is(Errc::kernel_not_supported)) CHECK_THAT(e.message(), Catch::Contains("af_key"));
    }
}
