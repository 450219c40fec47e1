// [defaults] and [peer.NAME]: every key, defaults and overrides, and the cross checks.
#include <catch2/catch.hpp>

#include "config/file_access.hpp"
#include "config/proposals.hpp"
#include "config/values.hpp"
#include "config_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::config;
using namespace ikemesh::config::test;
using namespace std::chrono_literals;

TEST_CASE("a peer with only address and psk gets every default") {
    auto p = parse(main_file(), {peer_file("node2.conf", peer("node2", "10.0.0.2"))});
    INFO(p.text());
    REQUIRE(p.ok());
    REQUIRE(p.config().peers.size() == 1);
    const ike::PeerConfig& n = p.config().peers[0];
    CHECK(n.name == "node2");
    CHECK(n.address.to_string() == "10.0.0.2");
    CHECK(n.port == 500);
    CHECK(n.id == identity_of(n.address));  // the address as an IP identity
    CHECK(n.auth == ike::AuthMethod::psk);
    REQUIRE(n.psk);
    CHECK(n.psk->size() == 32);
    REQUIRE(n.ike.size() == 2);
    CHECK(to_string(n.ike[0]) == "aes128gcm16-prfsha256-x25519");
    CHECK(to_string(n.ike[1]) == "aes256-sha256-prfsha256-modp3072");
    REQUIRE(n.esp.size() == 1);
    CHECK(to_string(n.esp[0]) == "aes128gcm16");
    CHECK(n.start == ike::StartAction::always);
    CHECK(n.dpd_delay == 30s);
    CHECK(n.ike_lifetime == 4h);
    CHECK(n.child_lifetime == 1h);
    CHECK(n.rekey_margin == 9min);
    CHECK(n.rekey_jitter == 3min);
    CHECK(n.child_limits == ike::Lifetime{});
    CHECK(n.replay_window == 64);
    CHECK(n.bypass.empty());
    CHECK(n.traffic.empty());
    CHECK_FALSE(n.childless);
}

const char* kDefaults = R"(
[defaults]
ike = ["aes256gcm16-prfsha384-ecp384"]
esp = "aes256gcm16-ecp384"
start = "on-demand"
dpd_delay = "10s"
ike_lifetime = "8h"
child_lifetime = "2h"
rekey_margin = "15m"
rekey_jitter = "5m"
child_lifetime_bytes = "4G"
child_lifetime_packets = 1000000
replay_window = 128
bypass = ["tcp/22", "icmp"]
traffic = ["tcp/8140"]
childless = true
port = 4501
)";

TEST_CASE("[defaults]: every key reaches every peer") {
    auto p = parse(main_file(kDefaults), {peer_file("a.conf", peer("node2", "10.0.0.2"))});
    INFO(p.text());
    REQUIRE(p.ok());
    const ike::PeerConfig& n = p.config().peers.at(0);
    CHECK(to_string(n.ike.at(0)) == "aes256gcm16-prfsha384-ecp384");
    CHECK(to_string(n.esp.at(0)) == "aes256gcm16-ecp384");
    CHECK(n.start == ike::StartAction::on_demand);
    CHECK(n.dpd_delay == 10s);
    CHECK(n.ike_lifetime == 8h);
    CHECK(n.child_lifetime == 2h);
    CHECK(n.rekey_margin == 15min);
    CHECK(n.rekey_jitter == 5min);
    CHECK(n.child_limits.bytes == 4ull << 30);
    CHECK(n.child_limits.packets == 1000000);
    CHECK(n.child_limits.time == 0s);
    CHECK(n.replay_window == 128);
    CHECK(n.bypass == std::vector<ike::TrafficSpec>{{6, 22}, {1, 0}});
    CHECK(n.traffic == std::vector<ike::TrafficSpec>{{6, 8140}});
    CHECK(n.childless);
    CHECK(n.port == 4501);
}

TEST_CASE("[peer.NAME]: every key overrides [defaults]") {
    std::string overrides = R"(
id = "@node2.mesh.example"
ike = "chacha20poly1305-prfsha256-x25519"
esp = ["aes128-sha256", "aes128gcm16"]
start = "passive"
dpd_delay = 0
ike_lifetime = "1d"
child_lifetime = "3h"
rekey_margin = "20m"
rekey_jitter = "10m"
child_lifetime_bytes = 1000
child_lifetime_packets = 0
replay_window = 0
bypass = []
traffic = ["udp/53", "tcp"]
childless = false
port = 500
)";
    auto p =
        parse(main_file(kDefaults), {peer_file("a.conf", peer("node2", "2001:db8::2", overrides))});
    INFO(p.text());
    REQUIRE(p.ok());
    const ike::PeerConfig& n = p.config().peers.at(0);
    CHECK(n.address.to_string() == "2001:db8::2");
    CHECK(n.id.kind == ike::IdKind::fqdn);
    CHECK(n.id.text == "@node2.mesh.example");
    CHECK(to_string(n.ike.at(0)) == "chacha20poly1305-prfsha256-x25519");
    REQUIRE(n.esp.size() == 2);
    CHECK(to_string(n.esp[0]) == "aes128-sha256");
    CHECK(n.start == ike::StartAction::passive);
    CHECK(n.dpd_delay == 0s);
    CHECK(n.ike_lifetime == 24h);
    CHECK(n.child_lifetime == 3h);
    CHECK(n.rekey_margin == 20min);
    CHECK(n.rekey_jitter == 10min);
    CHECK(n.child_limits.bytes == 1000);
    CHECK(n.child_limits.packets == 0);
    CHECK(n.replay_window == 0);
    CHECK(n.bypass.empty());
    CHECK(n.traffic == std::vector<ike::TrafficSpec>{{17, 53}, {6, 0}});
    CHECK_FALSE(n.childless);
    CHECK(n.port == 500);
}

TEST_CASE("a peer's port defaults to the daemon's port") {
    auto p = parse("[daemon]\nport = 5500\nport_natt = 5501\n" + main_file(),
                   {peer_file("a.conf", peer("node2", "10.0.0.2"))});
    REQUIRE(p.ok());
    CHECK(p.config().peers.at(0).port == 5500);
}

TEST_CASE("peers may be in the main file and several per drop-in; they come out sorted") {
    auto p = parse(main_file(peer("zeta", "10.0.0.9")),
                   {peer_file("10-b.conf", peer("beta", "10.0.0.3") + peer("alpha", "10.0.0.2")),
                    peer_file("20-c.conf", peer("gamma", "10.0.0.4"))});
    INFO(p.text());
    REQUIRE(p.ok());
    std::vector<std::string> names;
    for (const auto& n : p.config().peers)
        names.push_back(n.name);
    CHECK(names == std::vector<std::string>{"alpha", "beta", "gamma", "zeta"});
    CHECK(p.config().find_peer("gamma")->address.to_string() == "10.0.0.4");
    CHECK(p.config().find_peer("delta") == nullptr);
}

TEST_CASE("a peer defined twice names both places") {
    auto p = parse(main_file(), {peer_file("a.conf", peer("node2", "10.0.0.2")),
                                 peer_file("b.conf", "\n\n" + peer("node2", "10.0.0.3"))});
    REQUIRE_FALSE(p.ok());
    CHECK(
        p.has("peers.d/b.conf:3: peer.node2: peer node2 is defined twice (first at "
              "peers.d/a.conf:1)"));
}

TEST_CASE("an address is shared only by peers with different identities") {
    // The default identity is the address itself: the same for both.
    auto p = parse(main_file(), {peer_file("a.conf", peer("node2", "10.0.0.2")),
                                 peer_file("b.conf", peer("node3", "10.0.0.2"))});
    REQUIRE_FALSE(p.ok());
    CHECK(
        p.has("peers.d/b.conf:2: peer.node3.address: 10.0.0.2 is also the address of peer "
              "node2 (peers.d/a.conf:2): peers sharing an address must have different "
              "identities (id)"));
}

TEST_CASE("nodes behind one NAT: a shared address needs disjoint traffic and one initiator") {
    const std::string a_id = "id = \"a.example\"\n";
    const std::string b_id = "id = \"b.example\"\n";
    SECTION("without traffic lists the policies would collide") {
        auto p = parse(main_file(), {peer_file("a.conf", peer("a", "203.0.113.5", a_id)),
                                     peer_file("b.conf", peer("b", "203.0.113.5", b_id))});
        REQUIRE_FALSE(p.ok());
        CHECK(
            p.mentions("peers.d/b.conf:2: peer.b.address: 203.0.113.5 is also the address of "
                       "peer a (peers.d/a.conf:2): peers sharing an address (nodes behind one "
                       "NAT) each need a `traffic` list"));
    }
    SECTION("overlapping traffic") {
        auto p = parse(
            main_file(),
            {peer_file("a.conf", peer("a", "203.0.113.5", a_id + "traffic = [\"tcp/5001\"]\n")),
             peer_file("b.conf",
                       peer("b", "203.0.113.5", b_id + "traffic = [\"udp/9\", \"tcp\"]\n"))});
        REQUIRE_FALSE(p.ok());
        CHECK(
            p.mentions("peer.b.address: 203.0.113.5 is also the address of peer a "
                       "(peers.d/a.conf:2): traffic \"tcp\" overlaps \"tcp/5001\" of peer a"));
    }
    SECTION("two initiators to the same address and port") {
        auto p = parse(
            main_file(),
            {peer_file("a.conf", peer("a", "203.0.113.5", a_id + "traffic = [\"tcp/5001\"]\n")),
             peer_file("b.conf", peer("b", "203.0.113.5", b_id + "traffic = [\"tcp/5002\"]\n"))});
        REQUIRE_FALSE(p.ok());
        CHECK(p.mentions("only one of the peers sharing 203.0.113.5 port 500 may initiate"));
    }
    SECTION("allowed: disjoint traffic, and one passive or another port") {
        for (const std::string& b_more :
             {std::string("start = \"passive\"\n"), std::string("port = 1500\n")}) {
            auto p = parse(
                main_file(),
                {peer_file("a.conf", peer("a", "203.0.113.5", a_id + "traffic = [\"tcp/5001\"]\n")),
                 peer_file("b.conf",
                           peer("b", "203.0.113.5",
                                b_id + "traffic = [\"tcp/5002\", \"udp/5002\"]\n" + b_more))});
            INFO(p.text());
            REQUIRE(p.ok());
            CHECK(p.config().peers.size() == 2);
        }
    }
}

TEST_CASE("natt_keepalive: default 20 s, per peer, 0 turns it off") {
    auto p = parse(main_file("[defaults]\nnatt_keepalive = \"25s\"\n"),
                   {peer_file("a.conf", peer("node2", "10.0.0.2") +
                                            peer("node3", "10.0.0.3", "natt_keepalive = 0\n"))});
    INFO(p.text());
    REQUIRE(p.ok());
    CHECK(p.config().find_peer("node2")->natt_keepalive == std::chrono::seconds{25});
    CHECK(p.config().find_peer("node3")->natt_keepalive == std::chrono::seconds{0});
    auto d = parse(main_file(), {peer_file("a.conf", peer("node2", "10.0.0.2"))});
    REQUIRE(d.ok());
    CHECK(d.config().find_peer("node2")->natt_keepalive == std::chrono::seconds{20});
}

TEST_CASE("a shared identity is a warning") {
    auto p =
        parse(main_file(), {peer_file("a.conf", peer("node2", "10.0.0.2", "id = \"x\"\n") +
                                                    peer("node3", "10.0.0.3", "id = \"x\"\n"))});
    REQUIRE(p.ok());
    CHECK(p.diagnostics.warning_count() == 1);
    CHECK(p.mentions("peers.d/a.conf:5: warning: peer.node3: same identity as peer node2"));
}

TEST_CASE("peer errors name file, line and key") {
    auto p = parse(main_file(), {peer_file("node2.conf", R"([peer.node2]
address = "10.0.0.300"
psk = ")" + kPsk + R"("
dpd_delay = 12.5
start = "sometimes"
ike = ["aes128gcm8-prfsha256-x25519"]
esp = []
bypass = ["tcp/22", "icmp/8"]
replay_window = 5000
childless = "yes"
rekey_margn = "5m"
child_lifetime_bytes = "5Q"
port = 0
id = "a@b@c"
)")});
    REQUIRE_FALSE(p.ok());
    INFO(p.text());
    CHECK(
        p.has("peers.d/node2.conf:2: peer.node2.address: expected an IPv4 or IPv6 address, "
              "got \"10.0.0.300\""));
    CHECK(
        p.has("peers.d/node2.conf:4: peer.node2.dpd_delay: expected a duration like \"30s\", "
              "got 12.5"));
    CHECK(
        p.has("peers.d/node2.conf:5: peer.node2.start: expected one of \"always\", "
              "\"on-demand\" or \"passive\", got \"sometimes\""));
    CHECK(
        p.has("peers.d/node2.conf:6: peer.node2.ike: expected an IKE proposal like "
              "\"aes128gcm16-prfsha256-x25519\", got \"aes128gcm8-prfsha256-x25519\": unknown "
              "algorithm \"aes128gcm8\" (did you mean \"aes128gcm\"?)"));
    CHECK(p.has("peers.d/node2.conf:7: peer.node2.esp: expected at least one entry"));
    CHECK(
        p.has("peers.d/node2.conf:8: peer.node2.bypass: expected a traffic class like "
              "\"tcp/22\" or \"icmp\", got \"icmp/8\": only tcp, udp and sctp have ports"));
    CHECK(
        p.has("peers.d/node2.conf:9: peer.node2.replay_window: expected an integer from 0 to "
              "4096, got 5000"));
    CHECK(
        p.has("peers.d/node2.conf:10: peer.node2.childless: expected true or false, got "
              "\"yes\""));
    CHECK(
        p.has("peers.d/node2.conf:11: peer.node2.rekey_margn: unknown key; did you mean "
              "\"rekey_margin\"?"));
    CHECK(
        p.has("peers.d/node2.conf:12: peer.node2.child_lifetime_bytes: expected a size like "
              "\"500M\" or a number of bytes, got \"5Q\": unknown unit \"Q\" (use K, M, G or "
              "T)"));
    CHECK(
        p.has("peers.d/node2.conf:13: peer.node2.port: expected an integer from 1 to 65535, "
              "got 0"));
    CHECK(
        p.has("peers.d/node2.conf:14: peer.node2.id: expected an identity (IP address, host "
              "name, user@host or DN), got \"a@b@c\": an email identity has the form "
              "user@host"));
    CHECK(p.diagnostics.error_count() == 12);
}

TEST_CASE("address is required; peer names are restricted; peers.d holds only peers") {
    auto p = parse(main_file(), {peer_file("a.conf", "[peer.node2]\npsk = \"" + kPsk + "\"\n")});
    CHECK(
        p.has("peers.d/a.conf:1: peer.node2: address is required: where this peer is reached, "
              "e.g. address = \"10.0.0.2\""));
    auto q = parse(main_file(), {peer_file("a.conf", peer("\"node 2\"", "10.0.0.2"))});
    CHECK(
        q.has("peers.d/a.conf:1: peer.node 2: a peer name must be 1 to 64 letters, digits, "
              "'-', '_' or '.'"));
    auto r = parse(main_file(), {peer_file("a.conf", "[defaults]\nstart = \"passive\"\n")});
    CHECK(r.has("peers.d/a.conf:1: defaults: only [peer.NAME] tables belong in peers.d files"));
    auto s = parse(main_file(), {peer_file("a.conf", "peer = 1\n")});
    CHECK(s.has("peers.d/a.conf:1: peer: expected tables [peer.NAME], got an integer"));
    auto t = parse(main_file(), {peer_file("a.conf", "[peer]\nnode2 = \"10.0.0.2\"\n")});
    CHECK(t.has("peers.d/a.conf:2: peer.node2: expected a table [peer.node2], got a string"));
}

TEST_CASE("lifetime arithmetic is checked where the values are set") {
    // In [defaults]: reported once there, not for every peer.
    auto p = parse(main_file("[defaults]\nike_lifetime = \"10m\"\n"),
                   {peer_file("a.conf", peer("a", "10.0.0.2") + peer("b", "10.0.0.3"))});
    REQUIRE_FALSE(p.ok());
    CHECK(p.diagnostics.error_count() == 1);
    CHECK(
        p.has("ikemesh.conf:4: defaults.ike_lifetime: rekey_margin (9m) + rekey_jitter (3m) "
              "must be less than ike_lifetime (10m), or the SA would be rekeyed before it is "
              "used"));
    // In a peer: reported at the peer's key.
    auto q =
        parse(main_file(), {peer_file("a.conf", peer("a", "10.0.0.2", "rekey_margin = \"2h\"\n"))});
    CHECK(
        q.has("peers.d/a.conf:4: peer.a.rekey_margin: rekey_margin (2h) + rekey_jitter (3m) "
              "must be less than child_lifetime (1h), or the SA would be rekeyed before it "
              "is used"));
    auto r =
        parse(main_file(), {peer_file("a.conf", peer("a", "10.0.0.2", "child_lifetime = 0\n"))});
    CHECK(r.has("peers.d/a.conf:4: peer.a.child_lifetime: must be greater than zero"));
    // A peer can repair what its defaults would get wrong.
    auto s = parse(main_file("[defaults]\nrekey_jitter = \"0s\"\nrekey_margin = \"1m\"\n"),
                   {peer_file("a.conf", peer("a", "10.0.0.2", "child_lifetime = \"2m\"\n"))});
    CHECK(s.ok());
}

TEST_CASE("[defaults] rejects peer-only and unknown keys") {
    auto p = parse(main_file("[defaults]\naddress = \"10.0.0.1\"\ndpd = 5\n"));
    REQUIRE_FALSE(p.ok());
    CHECK(p.mentions("ikemesh.conf:4: defaults.address: unknown key; allowed keys: ike, esp,"));
    CHECK(p.mentions("ikemesh.conf:5: defaults.dpd: unknown key;"));
}
