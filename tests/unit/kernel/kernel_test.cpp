// The backend-independent parts of kernel/: names, algorithm mapping, parameter checks, the
// policy helpers the engine uses, descriptions for logs.
#include "kernel/kernel.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "kernel/esp_algorithms.hpp"
#include "layout.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using ikemesh::kernel::test::ip;

TEST_CASE("every kernel enumerator has a name") {
    for (auto d : {Direction::in, Direction::out, Direction::fwd})
        CHECK(name(d) != "?");
    for (auto m : {Mode::transport, Mode::tunnel})
        CHECK(name(m) != "?");
    for (auto a : {PolicyAction::ipsec, PolicyAction::allow, PolicyAction::block}) {
        CHECK(name(a) != "?");
    }
    for (auto k : {KernelKind::xfrm, KernelKind::pfkey, KernelKind::fake}) {
        CHECK(name(k) != "?");
        CHECK(parse_kernel_kind(name(k)) == k);
    }
    CHECK_FALSE(parse_kernel_kind("netlink"));
}

TEST_CASE("ESP transforms map to the kernel's algorithm names and sizes") {
    using crypto::EncrAlg;
    using crypto::IntegAlg;
    auto gcm128 = map_encr({EncrAlg::aes_gcm_16, 128});
    REQUIRE(gcm128);
    CHECK(gcm128->kernel_name == "rfc4106(gcm(aes))");
    CHECK(gcm128->aead);
    CHECK(gcm128->key_bytes == 20);  // RFC 4106 8.1: key + 4-byte salt
    CHECK(gcm128->icv_bits == 128);
    CHECK(map_encr({EncrAlg::aes_gcm_16, 256})->key_bytes == 36);
    auto chacha = map_encr({EncrAlg::chacha20_poly1305, 0});
    REQUIRE(chacha);
    CHECK(chacha->kernel_name == "rfc7539esp(chacha20,poly1305)");
    CHECK(chacha->key_bytes == 36);  // RFC 7634 2
    CHECK(chacha->icv_bits == 128);
    auto cbc = map_encr({EncrAlg::aes_cbc, 256});
    REQUIRE(cbc);
    CHECK(cbc->kernel_name == "cbc(aes)");
    CHECK_FALSE(cbc->aead);
    CHECK(cbc->key_bytes == 32);
    CHECK_FALSE(map_encr({EncrAlg::aes_cbc, 100}));
    CHECK(map_encr({EncrAlg::chacha20_poly1305, 128}).error().is(Errc::unsupported_algorithm));

    // RFC 4868 2.3 truncations and RFC 2404's 96 bits.
    CHECK(map_integ(IntegAlg::hmac_sha1_96)->kernel_name == "hmac(sha1)");
    CHECK(map_integ(IntegAlg::hmac_sha1_96)->trunc_bits == 96);
    CHECK(map_integ(IntegAlg::hmac_sha2_256_128)->trunc_bits == 128);
    CHECK(map_integ(IntegAlg::hmac_sha2_384_192)->kernel_name == "hmac(sha384)");
    CHECK(map_integ(IntegAlg::hmac_sha2_384_192)->trunc_bits == 192);
    CHECK(map_integ(IntegAlg::hmac_sha2_384_192)->key_bytes == 48);
    CHECK(map_integ(IntegAlg::hmac_sha2_512_256)->kernel_name == "hmac(sha512)");
    CHECK(map_integ(IntegAlg::hmac_sha2_512_256)->trunc_bits == 256);
    CHECK_FALSE(map_integ(IntegAlg::none));
}

namespace {

SaParams valid_cbc() {
    SaParams sa;
    sa.src = ip("192.0.2.1");
    sa.dst = ip("192.0.2.2");
    sa.spi = EspSpi{0x1000};
    sa.encr = {crypto::EncrAlg::aes_cbc, 128};
    sa.encr_key = crypto::SecretBytes(16);
    sa.integ = crypto::IntegAlg::hmac_sha2_512_256;
    sa.integ_key = crypto::SecretBytes(64);
    return sa;
}

}  // namespace

TEST_CASE("validate_sa accepts a good SA and names what is wrong with a bad one") {
    CHECK(validate_sa(valid_cbc()));

    SaParams sa = valid_cbc();
    sa.integ = crypto::IntegAlg::none;
    sa.integ_key = {};
    auto s = validate_sa(sa);
    REQUIRE_FALSE(s);
    CHECK(s.error().detail.find("integrity") != std::string::npos);

    sa = valid_cbc();
    sa.integ_key = crypto::SecretBytes(32);
    s = validate_sa(sa);
    REQUIRE_FALSE(s);
    CHECK(s.error().detail == "hmac(sha512) needs a 64-byte key, got 32");

    sa = valid_cbc();
    sa.encr = {crypto::EncrAlg::aes_gcm_16, 128};
    sa.encr_key = crypto::SecretBytes(20);
    CHECK_FALSE(validate_sa(sa));  // AEAD plus integrity
    sa.integ = crypto::IntegAlg::none;
    sa.integ_key = {};
    CHECK(validate_sa(sa));

    sa = valid_cbc();
    sa.replay_window = kMaxReplayWindow + 1;
    CHECK_FALSE(validate_sa(sa));
    sa = valid_cbc();
    sa.spi = EspSpi{0};
    CHECK_FALSE(validate_sa(sa));
    sa = valid_cbc();
    sa.selector = Selector::host_to_host(ip("::1"), ip("::2"));
    CHECK_FALSE(validate_sa(sa));
    sa = valid_cbc();
    sa.src = {};
    CHECK(validate_sa(sa).error().is(Errc::kernel_invalid_request));
}

TEST_CASE("transport_policies gives an out and an in policy bound to the reqid") {
    auto ps = transport_policies(ip("10.0.0.1"), ip("10.0.0.2"), ReqId{9});
    REQUIRE(ps.size() == 2);
    CHECK(ps[0].id.dir == Direction::out);
    CHECK(ps[0].id.selector == Selector::host_to_host(ip("10.0.0.1"), ip("10.0.0.2")));
    CHECK(ps[0].tmpl_src == ip("10.0.0.1"));
    CHECK(ps[0].tmpl_dst == ip("10.0.0.2"));
    CHECK(ps[1].id.dir == Direction::in);
    CHECK(ps[1].id.selector == Selector::host_to_host(ip("10.0.0.2"), ip("10.0.0.1")));
    CHECK(ps[1].tmpl_src == ip("10.0.0.2"));
    for (const auto& p : ps) {
        CHECK(p.action == PolicyAction::ipsec);
        CHECK(p.reqid == ReqId{9});
        CHECK(p.priority == kPriorityIpsec);
        CHECK(validate_policy(p));
    }
    auto v6 = transport_policies(ip("2001:db8::1"), ip("2001:db8::2"), ReqId{1});
    CHECK(v6[0].id.selector.src_prefix == 128);
}

TEST_CASE("bypass_policies covers client and server side, above the ipsec policies") {
    auto ssh = bypass_policies(IpAddress::Family::v4, kProtoTcp, 22);
    REQUIRE(ssh.size() == 4);
    int out_dport = 0, out_sport = 0, in_dport = 0, in_sport = 0;
    for (const auto& p : ssh) {
        CHECK(p.action == PolicyAction::allow);
        CHECK(p.priority < kPriorityIpsec);
        CHECK(p.id.selector.protocol == kProtoTcp);
        CHECK(p.id.selector.src_prefix == 0);
        CHECK(p.id.selector.src.is_v4());
        const auto& s = p.id.selector;
        if (p.id.dir == Direction::out && s.dst_port == 22) ++out_dport;
        if (p.id.dir == Direction::out && s.src_port == 22) ++out_sport;
        if (p.id.dir == Direction::in && s.dst_port == 22) ++in_dport;
        if (p.id.dir == Direction::in && s.src_port == 22) ++in_sport;
    }
    CHECK(out_dport == 1);
    CHECK(out_sport == 1);
    CHECK(in_dport == 1);
    CHECK(in_sport == 1);

    // One ICMP type given explicitly (ikemesh-kernel-tool add-bypass): that type, both ways.
    auto unreach = bypass_policies(IpAddress::Family::v4, kProtoIcmp, 3);
    REQUIRE(unreach.size() == 2);
    CHECK(unreach[0].id.selector.src_port == 3);
    CHECK(unreach[0].id.dir != unreach[1].id.dir);

    CHECK(essential_bypass_policies(IpAddress::Family::v4).empty());
    auto nd = essential_bypass_policies(IpAddress::Family::v6);
    CHECK(nd.size() == 10);  // 5 ICMPv6 types, in and out
    CHECK(nd[0].id.selector.protocol == kProtoIcmpv6);
    CHECK(nd[0].id.selector.src_port == 133);  // router solicitation (type in the sport field)
}

namespace {

// The ICMP types (0-255) that some allow policy in `dir` lets pass, matching as XFRM does: the
// type sits in the source port, compared under the source port mask.
std::set<int> allowed_types(const std::vector<PolicyParams>& policies, Direction dir) {
    std::set<int> out;
    for (int type = 0; type <= 255; ++type) {
        for (const auto& p : policies) {
            const auto& s = p.id.selector;
            if (p.id.dir == dir && p.action == PolicyAction::allow &&
                ((type ^ s.src_port) & s.effective_src_mask()) == 0 &&
                s.effective_dst_mask() == 0) {
                out.insert(type);
            }
        }
    }
    return out;
}

}  // namespace

TEST_CASE("the icmp bypass class: echo both ways, router errors in, no error of ours out") {
    auto v4 = bypass_policies(IpAddress::Family::v4, kProtoIcmp, 0);
    CHECK(v4 == icmp_bypass_policies(IpAddress::Family::v4, kProtoIcmp));
    for (const auto& p : v4) {
        CHECK(p.priority == kPriorityBypass);
        CHECK(p.id.selector.protocol == kProtoIcmp);
        CHECK(p.id.selector.src.is_v4());
    }
    // Port unreachable (3), time exceeded (11)... generated here for a packet that came in
    // through ESP quote it: they must not match an outbound allow policy.
    CHECK(allowed_types(v4, Direction::out) == std::set<int>{0, 8});
    CHECK(allowed_types(v4, Direction::in) == std::set<int>{0, 3, 8, 11, 12});

    auto v6 = bypass_policies(IpAddress::Family::v6, kProtoIcmpv6, 0);
    for (const auto& p : v6) {
        CHECK(p.id.selector.protocol == kProtoIcmpv6);
        CHECK(p.id.selector.src.is_v6());
    }
    CHECK(allowed_types(v6, Direction::out) == std::set<int>{128, 129});
    CHECK(allowed_types(v6, Direction::in) == std::set<int>{1, 2, 3, 4, 128, 129});

    // Echo reply is type 0: an exact 0, not "any type", and it says so.
    auto reply = std::find_if(v4.begin(), v4.end(), [](const PolicyParams& p) {
        return p.id.dir == Direction::out && p.id.selector.src_port == 0;
    });
    REQUIRE(reply != v4.end());
    CHECK(reply->id.selector.effective_src_mask() == 0xffff);
    CHECK(reply->id.selector.to_string() == "0.0.0.0/0[0/0xffff] -> 0.0.0.0/0 icmp");

    // With neighbour discovery (essential), an IPv6 peer's ICMPv6 out is still only ND + echo.
    auto all6 = essential_bypass_policies(IpAddress::Family::v6);
    all6.insert(all6.end(), v6.begin(), v6.end());
    CHECK(allowed_types(all6, Direction::out) == std::set<int>{128, 129, 133, 134, 135, 136, 137});
}

TEST_CASE("descriptions of ops and events read as log lines") {
    SaParams sa = valid_cbc();
    sa.spi = EspSpi{0xc0ffee00};
    CHECK(describe(KernelOp{AddSa{sa.clone()}}) == "add SA 192.0.2.1 -> 192.0.2.2 spi c0ffee00");
    CHECK(describe(KernelOp{DeleteSa{ip("192.0.2.2"), EspSpi{0x1234}}}) ==
          "delete SA 192.0.2.2 spi 00001234");
    PolicyId id{Selector::any(IpAddress::Family::v4, kProtoTcp, 0, 22), Direction::in};
    CHECK(describe(KernelOp{DeletePolicy{id}}) ==
          "delete policy in 0.0.0.0/0 -> 0.0.0.0/0[22] tcp");
    CHECK(describe(
              KernelEvent{ExpireEvent{ip("1.1.1.1"), ip("2.2.2.2"), EspSpi{1}, ReqId{3}, true}}) ==
          "hard expire SA 2.2.2.2 spi 00000001 reqid 3");
    CHECK(describe(KernelEvent{ResyncEvent{Error{Errc::kernel_events_lost, "x"}}}) ==
          "resync needed: kernel events lost: x");
}

TEST_CASE("SaParams::clone copies keys deliberately") {
    SaParams sa = valid_cbc();
    sa.encr_key = crypto::SecretBytes(Bytes{1, 2, 3});
    SaParams c = sa.clone();
    CHECK(c.encr_key.equals(sa.encr_key));
    CHECK(c.integ_key.equals(sa.integ_key));
    CHECK(c.src == sa.src);
    CHECK(c.spi == sa.spi);
}

TEST_CASE("open_kernel opens the fake backend") {
    auto fake = open_kernel(KernelKind::fake);
    REQUIRE(fake);
    CHECK((*fake)->kind() == "fake");
}
