// NAT traversal beyond detection: NAT-keepalives (RFC 3948 2.3), following the peer's NAT when
// its mapping moves (XFRM_MSG_MAPPING, and authenticated IKE from a new address or port, RFC
// 7296 2.23), several nodes behind one public address, and nodes behind 1:1 NATs on both sides
// (transport-mode selectors in each side's own view, RFC 7296 2.23.1).
//
//   a 10.0.0.1 --[NAT 198.51.100.1, ports +40000]-- b 10.0.0.2 (public)
#include "exchange/harness.hpp"

namespace ikemesh::test {
namespace {

const IpAddress kPublicA = *IpAddress::parse("198.51.100.1");

// a behind a NAT initiates to b; b knows a by its public address and only responds.
struct NatPair {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);

    explicit NatPair(const std::function<void(ike::PeerConfig&)>& tweak = {}) {
        net.nat(a, "198.51.100.1");
        ike::PeerConfig to_b = default_peer("b", b.address);
        ike::PeerConfig to_a = default_peer("a", kPublicA);
        to_a.start = ike::StartAction::passive;
        if (tweak) {
            tweak(to_b);
            tweak(to_a);
        }
        a.config.peers.push_back(to_b);
        b.config.peers.push_back(to_a);
        net.start_all();
        net.run_for(2s);
        REQUIRE(a.peer(net.now, "b").state == "established");
        REQUIRE(b.peer(net.now, "a").child_sas.size() == 1);
    }
    const kernel::FakeKernel::Sa* b_out() {
        auto pb = b.peer(net.now, "a");
        for (const auto* sa : b.kernel.sas()) {
            if (sa->params.spi == pb.child_sas[0].spi_out) return sa;
        }
        return nullptr;
    }
    const kernel::FakeKernel::Sa* b_in() {
        return b.kernel.find_sa(b.address, b.peer(net.now, "a").child_sas[0].spi_in);
    }
    void deliver_kernel_events(Node& n) {
        n.kernel.read_events(
            [&](const kernel::KernelEvent& e) { n.engine->on_kernel_event(e, net.now); });
        net.collect();
    }
};

TEST_CASE("NAT-keepalives: only the side behind the NAT sends them, every natt_keepalive") {
    NatPair p;
    auto pa = p.a.peer(p.net.now, "b");
    CHECK(pa.ike_sas[0].behind_nat);
    CHECK_FALSE(pa.ike_sas[0].peer_behind_nat);
    auto pb = p.b.peer(p.net.now, "a");
    CHECK_FALSE(pb.ike_sas[0].behind_nat);
    CHECK(pb.ike_sas[0].peer_behind_nat);
    const auto sent_before = p.a.engine->counters().natt_keepalives_sent;
    p.net.run_for(61s);
    // 20 s apart: three in 61 s, each one octet 0xFF from a's NAT-T port, without a marker.
    CHECK(p.a.engine->counters().natt_keepalives_sent - sent_before == 3);
    CHECK(p.b.keepalives_received == 3);
    CHECK(p.b.engine->counters().natt_keepalives_sent == 0);
    CHECK(p.a.keepalives_received == 0);
    for (const auto& d : p.net.delivered) {
        if (!d.raw) continue;
        CHECK(d.from == "a");
        CHECK(d.data == Bytes{0xff});
        CHECK(d.src == Endpoint{kPublicA, 44500});
        CHECK(d.dst == Endpoint{p.b.address, 4500});
    }
    CHECK(p.a.peer(p.net.now, "b").state == "established");
}

TEST_CASE("NAT-keepalives: an IKE SA rekey hands them to the new IKE SA") {
    NatPair p;
    REQUIRE(p.a.engine->rekey("b", true, p.net.now));
    p.net.run_for(2s);
    auto pa = p.a.peer(p.net.now, "b");
    REQUIRE(pa.ike_sas.size() == 1);
    CHECK(pa.ike_sas[0].behind_nat);
    // The retired IKE SA sends none (its deadline is cleared with the others): 2 in 41 s.
    const auto before = p.a.engine->counters().natt_keepalives_sent;
    p.net.run_for(41s);
    CHECK(p.a.engine->counters().natt_keepalives_sent - before == 2);
    CHECK(p.a.peer(p.net.now, "b").state == "established");
}

TEST_CASE("NAT-keepalives stop when the IKE SA is being deleted") {
    NatPair p;
    p.net.run_for(15s);
    // b goes silent; a's Delete is retransmitted past the next keepalive deadline (t = 20 s).
    p.net.drop = [](const Datagram& d) { return d.from == "b"; };
    REQUIRE(p.a.engine->terminate("b", p.net.now));
    const auto before = p.a.engine->counters().natt_keepalives_sent;
    p.net.run_for(30s);
    CHECK(p.a.engine->counters().natt_keepalives_sent == before);
    CHECK(p.a.peer(p.net.now, "b").ike_sas.empty());
}

TEST_CASE("NAT-keepalives: natt_keepalive = 0 turns them off") {
    NatPair p([](ike::PeerConfig& pc) { pc.natt_keepalive = 0s; });
    p.net.run_for(61s);
    CHECK(p.a.engine->counters().natt_keepalives_sent == 0);
    CHECK(p.b.keepalives_received == 0);
}

TEST_CASE("XFRM_MSG_MAPPING: the SAs follow the peer's new port, then its new address") {
    NatPair p;
    const EspSpi spi_out = p.b_out()->params.spi;
    const EspSpi spi_in = p.b.peer(p.net.now, "a").child_sas[0].spi_in;
    REQUIRE(p.b_out()->params.encap);
    CHECK(p.b_out()->params.encap->dport == 44500);
    CHECK(p.b_in()->params.encap->sport == 44500);  // the peer's port on the inbound SA

    // The NAT forgets a's mapping and picks new ports; a's ESP reaches b's kernel from there.
    p.net.rebind(p.a, 41000);
    p.b.kernel.inject(kernel::KernelEvent{kernel::MappingEvent{
        p.b.address, spi_in, ReqId{}, Endpoint{kPublicA, 44500}, Endpoint{kPublicA, 45500}}});
    p.deliver_kernel_events(p.b);
    CHECK(p.b.engine->counters().nat_mappings_followed == 1);
    auto pb = p.b.peer(p.net.now, "a");
    CHECK(pb.ike_sas[0].remote == Endpoint{kPublicA, 45500});
    REQUIRE(p.b_out());
    CHECK(p.b_out()->params.spi == spi_out);
    CHECK(p.b_out()->params.dst == kPublicA);
    CHECK(p.b_out()->params.encap->dport == 45500);
    CHECK(p.b_in()->params.encap->sport == 45500);
    // The same report again (the kernel repeats it per packet until the SA matches) is quiet.
    const size_t updates = p.b.kernel.count(kernel::FakeKernel::Verb::update_sa);
    p.b.kernel.inject(kernel::KernelEvent{kernel::MappingEvent{
        p.b.address, spi_in, ReqId{}, Endpoint{kPublicA, 44500}, Endpoint{kPublicA, 45500}}});
    p.deliver_kernel_events(p.b);
    CHECK(p.b.kernel.count(kernel::FakeKernel::Verb::update_sa) == updates);
    CHECK(p.b.engine->counters().nat_mappings_followed == 1);
    // b's own requests reach a through the new mapping.
    const size_t dropped = p.net.nat_dropped;
    REQUIRE(p.b.engine->rekey("a", false, p.net.now));
    p.net.run_for(2s);
    CHECK(p.net.nat_dropped == dropped);
    CHECK(p.a.peer(p.net.now, "b").child_sas.size() == 1);
    CHECK(p.a.peer(p.net.now, "b").child_sas[0].spi_out != spi_out);

    // A new public address: a new outbound SA (same SPI, new daddr) replaces the old one.
    const IpAddress moved = *IpAddress::parse("198.51.100.77");
    p.net.rebind(p.a, 42000, "198.51.100.77");
    const EspSpi spi_out2 = p.b_out()->params.spi;
    const EspSpi spi_in2 = p.b.peer(p.net.now, "a").child_sas[0].spi_in;
    p.b.kernel.clear_calls();
    p.b.kernel.inject(kernel::KernelEvent{kernel::MappingEvent{
        p.b.address, spi_in2, ReqId{}, Endpoint{kPublicA, 45500}, Endpoint{moved, 46500}}});
    p.deliver_kernel_events(p.b);
    CHECK(p.b.kernel.find_sa(kPublicA, spi_out2) == nullptr);
    const auto* moved_out = p.b.kernel.find_sa(moved, spi_out2);
    REQUIRE(moved_out);
    CHECK(moved_out->params.encap->dport == 46500);
    // Make before break: the add came before the delete.
    const auto& calls = p.b.kernel.calls();
    auto add = std::find_if(calls.begin(), calls.end(), [](const auto& c) {
        return c.verb == kernel::FakeKernel::Verb::add_sa;
    });
    auto del = std::find_if(calls.begin(), calls.end(), [](const auto& c) {
        return c.verb == kernel::FakeKernel::Verb::delete_sa;
    });
    REQUIRE(add != calls.end());
    REQUIRE(del != calls.end());
    CHECK(add < del);
    CHECK(p.b.peer(p.net.now, "a").ike_sas[0].remote == Endpoint{moved, 46500});
}

TEST_CASE("XFRM_MSG_MAPPING is refused by the node behind the NAT and for unknown SPIs") {
    NatPair p;
    auto pa = p.a.peer(p.net.now, "b");
    const auto* a_out = p.a.kernel.find_sa(p.b.address, pa.child_sas[0].spi_out);
    REQUIRE(a_out);
    // a is behind the NAT and b is not: nothing of b's can move (RFC 7296 2.23).
    p.a.kernel.inject(kernel::KernelEvent{kernel::MappingEvent{p.a.address, pa.child_sas[0].spi_in,
                                                               ReqId{}, Endpoint{p.b.address, 4500},
                                                               Endpoint{p.b.address, 4999}}});
    // An SPI that is none of ours.
    p.a.kernel.inject(kernel::KernelEvent{kernel::MappingEvent{p.a.address, EspSpi{0x12345678},
                                                               ReqId{}, Endpoint{p.b.address, 4500},
                                                               Endpoint{p.b.address, 4999}}});
    p.deliver_kernel_events(p.a);
    CHECK(p.a.engine->counters().nat_mappings_followed == 0);
    CHECK(p.a.engine->counters().nat_mappings_refused == 1);
    CHECK(p.a.peer(p.net.now, "b").ike_sas[0].remote == Endpoint{p.b.address, 4500});
    CHECK(p.a.kernel.find_sa(p.b.address, pa.child_sas[0].spi_out)->params.encap->dport == 4500);
}

TEST_CASE(
    "a peer that rebinds is answered at its new mapping; unauthenticated input moves nothing") {
    NatPair p;
    // The NAT forgets a's mapping; b's next packets to the old one are lost.
    p.net.rebind(p.a, 41000);
    const Endpoint fresh{kPublicA, 45500};

    // Forged: a protected message from the new mapping with a broken ICV.
    Datagram forged;
    for (const auto& d : p.net.delivered) {
        if (d.from == "a" && d.exchange == wire::ExchangeType::ike_auth) forged = d;
    }
    REQUIRE_FALSE(forged.data.empty());
    forged.data.back() ^= 0x01;
    p.b.engine->on_datagram(forged.data, Endpoint{p.b.address, 4500}, fresh, p.net.now);
    // Replayed: the authentic IKE_AUTH request again, from the new mapping (answered from the
    // cache where it came from, RFC 7296 2.11, but not followed: it is not new).
    forged.data.back() ^= 0x01;
    p.b.engine->on_datagram(forged.data, Endpoint{p.b.address, 4500}, fresh, p.net.now);
    p.net.collect();
    CHECK(p.b.peer(p.net.now, "a").ike_sas[0].remote == Endpoint{kPublicA, 44500});
    CHECK(p.b_out()->params.encap->dport == 44500);
    CHECK(p.b.engine->counters().nat_mappings_followed == 0);

    // Authentic and new: a's CHILD SA rekey arrives from the new mapping.
    REQUIRE(p.a.engine->rekey("b", false, p.net.now));
    p.net.run_for(2s);
    CHECK(p.b.engine->counters().nat_mappings_followed == 1);
    auto pb = p.b.peer(p.net.now, "a");
    CHECK(pb.ike_sas[0].remote == fresh);
    REQUIRE(pb.child_sas.size() == 1);
    CHECK(p.b_out()->params.encap->dport == 45500);
    CHECK(p.b_in()->params.encap->sport == 45500);
    CHECK(p.a.peer(p.net.now, "b").child_sas.size() == 1);
    // And b's own requests (liveness) reach a there.
    p.net.run_for(40s);
    CHECK(p.b.peer(p.net.now, "a").state == "established");
    CHECK(p.a.peer(p.net.now, "b").state == "established");
}

TEST_CASE("two nodes behind one public address are both peers of a third") {
    //   a 10.0.0.1 --+
    //                 [NAT 198.51.100.1: a's ports +40000, c's +41000] -- b 10.0.0.2
    //   c 10.0.0.3 --+
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    Node& c = net.add("c", "10.0.0.3", 3);
    net.nat(a, "198.51.100.1", 40000);
    net.nat(c, "198.51.100.1", 41000);
    auto to_b = [&](uint16_t port) {
        ike::PeerConfig pc = default_peer("b", b.address);
        pc.traffic = {ike::TrafficSpec{6, port}};
        return pc;
    };
    a.config.peers.push_back(to_b(5001));
    c.config.peers.push_back(to_b(5002));
    for (auto [name, port] : {std::pair{"a", 5001}, std::pair{"c", 5002}}) {
        ike::PeerConfig pc = default_peer(name, kPublicA);
        pc.start = ike::StartAction::passive;
        pc.traffic = {ike::TrafficSpec{6, static_cast<uint16_t>(port)}};
        b.config.peers.push_back(pc);
    }
    net.start_all();
    net.run_for(3s);
    auto ba = b.peer(net.now, "a");
    auto bc = b.peer(net.now, "c");
    REQUIRE(ba.state == "established");
    REQUIRE(bc.state == "established");
    CHECK(ba.ike_sas[0].remote == Endpoint{kPublicA, 44500});
    CHECK(bc.ike_sas[0].remote == Endpoint{kPublicA, 45500});
    REQUIRE(ba.child_sas.size() == 1);
    REQUIRE(bc.child_sas.size() == 1);
    const auto* out_a = b.kernel.find_sa(kPublicA, ba.child_sas[0].spi_out);
    const auto* out_c = b.kernel.find_sa(kPublicA, bc.child_sas[0].spi_out);
    REQUIRE(out_a);
    REQUIRE(out_c);
    CHECK(out_a->params.encap->dport == 44500);
    CHECK(out_c->params.encap->dport == 45500);
    CHECK(out_a->params.reqid != out_c->params.reqid);
    // The SAs are negotiated per protocol, in b's view of the addresses; the policies (each
    // class's port at either end) send each node's packets to its own SA by reqid.
    REQUIRE(out_a->params.selector);
    CHECK(out_a->params.selector->dst == kPublicA);
    CHECK(out_a->params.selector->protocol == 6);
    auto policy_reqid = [&](kernel::Direction dir, uint16_t sport, uint16_t dport) -> ReqId {
        const bool out = dir == kernel::Direction::out;
        auto sel = kernel::Selector::host_to_host(out ? b.address : kPublicA,
                                                  out ? kPublicA : b.address, 6, sport, dport);
        const auto* pol = b.kernel.find_policy({sel, dir});
        return pol ? pol->reqid : ReqId{};
    };
    using kernel::Direction;
    CHECK(policy_reqid(Direction::out, 0, 5001) == out_a->params.reqid);  // to a's service
    CHECK(policy_reqid(Direction::out, 5001, 0) == out_a->params.reqid);  // a to b's 5001
    CHECK(policy_reqid(Direction::in, 5001, 0) == out_a->params.reqid);
    CHECK(policy_reqid(Direction::in, 0, 5001) == out_a->params.reqid);
    CHECK(policy_reqid(Direction::out, 0, 5002) == out_c->params.reqid);
    CHECK(policy_reqid(Direction::in, 0, 5002) == out_c->params.reqid);
    CHECK(a.peer(net.now, "b").state == "established");
    CHECK(c.peer(net.now, "b").state == "established");
}

TEST_CASE("1:1 NAT on both sides: public addresses, FQDN identities, selectors in own view") {
    //   a 10.0.0.1 -- [198.51.100.1] ---- [203.0.113.2] -- b 10.0.0.2
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.nat(a, "198.51.100.1", 0);  // 1:1: addresses translated, ports kept
    net.nat(b, "203.0.113.2", 0);
    const IpAddress pub_b = *IpAddress::parse("203.0.113.2");
    ike::PeerConfig to_b = default_peer("b", pub_b);
    ike::PeerConfig to_a = default_peer("a", kPublicA);
    to_b.traffic = to_a.traffic = {ike::TrafficSpec{17, 0}, ike::TrafficSpec{6, 5001}};
    to_a.start = ike::StartAction::passive;
    a.config.peers.push_back(to_b);
    b.config.peers.push_back(to_a);
    net.start_all();
    net.run_for(3s);
    auto pa = a.peer(net.now, "b");
    auto pb = b.peer(net.now, "a");
    REQUIRE(pa.state == "established");
    REQUIRE(pb.state == "established");
    CHECK(pa.ike_sas[0].behind_nat);
    CHECK(pa.ike_sas[0].peer_behind_nat);
    CHECK(pb.ike_sas[0].behind_nat);
    REQUIRE(pa.child_sas.size() == 1);
    REQUIRE(pb.child_sas.size() == 1);
    // Each side's kernel SAs run between its own address and the peer's public one.
    const auto* a_out = a.kernel.find_sa(pub_b, pa.child_sas[0].spi_out);
    const auto* b_out = b.kernel.find_sa(kPublicA, pb.child_sas[0].spi_out);
    REQUIRE(a_out);
    REQUIRE(b_out);
    CHECK(a_out->params.src == a.address);
    CHECK(b_out->params.src == b.address);
    CHECK(a_out->params.encap->dport == 4500);
    CHECK(b_out->params.encap->dport == 4500);
    // The keys match across the NATs.
    const auto* b_in = b.kernel.find_sa(b.address, pb.child_sas[0].spi_in);
    REQUIRE(b_in);
    CHECK(a_out->params.encr_key.equals(b_in->params.encr_key));
    // Both sides send keepalives (each is behind a NAT), neither follows the other's mapping.
    net.run_for(25s);
    CHECK(a.engine->counters().natt_keepalives_sent >= 1);
    CHECK(b.engine->counters().natt_keepalives_sent >= 1);
    CHECK(a.keepalives_received >= 1);
}

// a and b both behind 1:1 NATs (ports kept), each knowing the other by its public address.
struct BothNatted {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    const IpAddress pub_b = *IpAddress::parse("203.0.113.2");

    BothNatted() {
        net.nat(a, "198.51.100.1", 0);
        net.nat(b, "203.0.113.2", 0);
        ike::PeerConfig to_a = default_peer("a", kPublicA);
        to_a.start = ike::StartAction::passive;
        a.config.peers.push_back(default_peer("b", pub_b));
        b.config.peers.push_back(to_a);
        net.start_all();
        net.run_for(3s);
        REQUIRE(b.peer(net.now, "a").state == "established");
        REQUIRE(b.peer(net.now, "a").ike_sas[0].behind_nat);
        REQUIRE(b.peer(net.now, "a").ike_sas[0].peer_behind_nat);
    }
    const kernel::FakeKernel::Sa* b_out() {
        auto pb = b.peer(net.now, "a");
        for (const auto* sa : b.kernel.sas()) {
            if (sa->params.spi == pb.child_sas[0].spi_out) return sa;
        }
        return nullptr;
    }
    void map(const Endpoint& from, const Endpoint& to) {
        b.kernel.inject(kernel::KernelEvent{kernel::MappingEvent{
            b.address, b.peer(net.now, "a").child_sas[0].spi_in, ReqId{}, from, to}});
        b.kernel.read_events(
            [&](const kernel::KernelEvent& e) { b.engine->on_kernel_event(e, net.now); });
        net.collect();
    }
};

TEST_CASE("NATs on both sides: a moved mapping is followed once the peer answers there") {
    BothNatted p;
    // a's NAT forgets its mapping (a conntrack flush with random ports); a's ESP reaches b's
    // kernel from the new port. b is behind a NAT too, so it checks the path before following.
    p.net.rebind(p.a, 1000);
    const Endpoint fresh{kPublicA, 5500};
    p.map(Endpoint{kPublicA, 4500}, fresh);
    CHECK(p.b.engine->counters().nat_path_checks == 1);
    CHECK(p.b.peer(p.net.now, "a").ike_sas[0].remote == Endpoint{kPublicA, 4500});
    // The kernel repeats its report per packet: still one check.
    p.map(Endpoint{kPublicA, 4500}, fresh);
    CHECK(p.b.engine->counters().nat_path_checks == 1);
    p.net.run_for(1s);
    CHECK(p.b.engine->counters().nat_mappings_followed == 1);
    auto pb = p.b.peer(p.net.now, "a");
    CHECK(pb.ike_sas[0].remote == fresh);
    REQUIRE(p.b_out());
    CHECK(p.b_out()->params.encap->dport == 5500);
    // Nothing was re-negotiated, and the pair carries on (b's own liveness reaches a).
    CHECK(pb.child_sas.size() == 1);
    p.net.run_for(60s);
    CHECK(p.b.peer(p.net.now, "a").state == "established");
    CHECK(p.a.peer(p.net.now, "b").state == "established");
    CHECK(p.b.engine->counters().dpd_failures == 0);

    SECTION("an authenticated IKE request from the new mapping starts the check too") {
        p.net.rebind(p.a, 2000);
        const EspSpi old_out = p.a.peer(p.net.now, "b").child_sas[0].spi_out;
        REQUIRE(p.a.engine->rekey("b", false, p.net.now));
        // b answers the request where it came from (RFC 7296 2.11) before its path check has
        // moved it: the rekey completes within the first retransmission timeout (1 s).
        p.net.run_for(500ms);
        CHECK(p.a.peer(p.net.now, "b").child_sas.back().spi_out != old_out);
        CHECK(p.a.engine->counters().retransmissions == 0);
        p.net.run_for(3s);
        CHECK(p.b.engine->counters().nat_path_checks == 2);
        CHECK(p.b.peer(p.net.now, "a").ike_sas[0].remote == Endpoint{kPublicA, 6500});
        CHECK(p.b.peer(p.net.now, "a").child_sas.size() == 1);
        CHECK(p.a.peer(p.net.now, "b").child_sas.size() == 1);
    }
}

TEST_CASE("NATs on both sides: a mapping nobody answers at moves nothing") {
    BothNatted p;
    const EspSpi spi_out = p.b_out()->params.spi;
    // A report of a source where nobody is (forged, or a stale packet): the check goes
    // unanswered through the whole retransmission schedule, and the SA stays where it was; the
    // request goes on as a liveness check at the old endpoint (its message ID is spent).
    p.map(Endpoint{kPublicA, 4500}, Endpoint{kPublicA, 9999});
    CHECK(p.b.engine->counters().nat_path_checks == 1);
    p.net.run_for(30s);
    CHECK(p.b.engine->counters().nat_path_checks_failed == 1);
    CHECK(p.b.engine->counters().nat_mappings_followed == 0);
    CHECK(p.b.engine->counters().dpd_failures == 0);
    auto pb = p.b.peer(p.net.now, "a");
    CHECK(pb.state == "established");
    CHECK(pb.ike_sas[0].remote == Endpoint{kPublicA, 4500});
    REQUIRE(p.b_out());
    CHECK(p.b_out()->params.spi == spi_out);
    CHECK(p.b_out()->params.encap->dport == 4500);
    // The message IDs stayed in step: b's next request works.
    REQUIRE(p.b.engine->rekey("a", false, p.net.now));
    p.net.run_for(3s);
    CHECK(p.b.peer(p.net.now, "a").child_sas[0].spi_out != spi_out);
}

TEST_CASE("behind a NAT the peer must still come from its configured (public) address") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.nat(a, "198.51.100.1");
    a.config.peers.push_back(default_peer("b", b.address));
    ike::PeerConfig to_a = default_peer("a", *IpAddress::parse("198.51.100.200"));
    to_a.start = ike::StartAction::passive;
    b.config.peers.push_back(to_a);
    net.start_all();
    net.run_for(2s);
    CHECK(b.peer(net.now, "a").state != "established");
    CHECK(b.peer(net.now, "a").last_error.find("`address` must be the public address") !=
          std::string::npos);
    CHECK(b.kernel.sa_count() == 0);
}

}  // namespace
}  // namespace ikemesh::test
