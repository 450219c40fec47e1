// Local addresses chosen by the routing table (README's configuration: no `listen` key, so no
// local address in the engine's config): the mesh comes up from the route's source, a peer with
// no route says so and comes up when one appears, and an address or route change moves exactly
// the peers it concerns, leaving the others' SAs (their SPIs) untouched.
#include <stdexcept>

#include "harness.hpp"

using namespace ikemesh;
using namespace ikemesh::test;

namespace {

IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

// "spi_i/spi_r child_in/child_out" of the settled pair's single SAs, as seen by `a`.
std::string spis(Network& net, Node& a, const std::string& peer) {
    auto p = a.peer(net.now, peer);
    if (p.ike_sas.size() != 1 || p.child_sas.size() != 1) return "unsettled";
    return to_hex(p.ike_sas[0].spi_i) + "/" + to_hex(p.ike_sas[0].spi_r) + " " +
           to_hex(p.child_sas[0].spi_in) + "/" + to_hex(p.child_sas[0].spi_out);
}

// How many of the node's policies have `local` at one end and `remote` at the other.
size_t policies_between(Node& n, const IpAddress& local, const IpAddress& remote) {
    auto owned = n.kernel.list_owned();
    REQUIRE(owned);
    size_t count = 0;
    for (const auto& p : owned->policies) {
        const auto& s = p.id.selector;
        count += (s.src == local && s.dst == remote) || (s.src == remote && s.dst == local);
    }
    return count;
}

bool settled(Network& net, Node& a, Node& b) {
    auto pa = a.peer(net.now, b.name);
    auto pb = b.peer(net.now, a.name);
    return pa.state == "established" && pb.state == "established" && pa.ike_sas.size() == 1 &&
           pb.ike_sas.size() == 1 && pa.child_sas.size() == 1 && pb.child_sas.size() == 1;
}

}  // namespace

TEST_CASE("with no local address configured the routing table picks it and the mesh comes up") {
    Network net;
    SECTION("IPv4") {
        net.add_wildcard("a", "10.0.0.1", 1);
        net.add_wildcard("b", "10.0.0.2", 2);
        net.add_wildcard("c", "10.0.0.3", 3);
    }
    SECTION("IPv6") {
        net.add_wildcard("a", "2001:db8::1", 1);
        net.add_wildcard("b", "2001:db8::2", 2);
        net.add_wildcard("c", "2001:db8::3", 3);
    }
    net.full_mesh();
    net.start_all();
    Node& a = net.node("a");
    Node& b = net.node("b");
    Node& c = net.node("c");
    REQUIRE(net.run_until(
        [&] { return settled(net, a, b) && settled(net, a, c) && settled(net, b, c); }, 30s));
    net.run_for(5s);
    check_settled_pair(net, a, b);
    check_settled_pair(net, a, c);
    check_settled_pair(net, b, c);
    for (Node* n : {&a, &b, &c}) {
        for (const auto& p : n->status(net.now).peers) {
            CHECK(p.local_address == n->address);
            CHECK(p.ike_sas.at(0).local.address == n->address);
        }
        CHECK(n->routes.lookups() == 2);  // one per peer, at start
    }
    // Every datagram left from the chosen source (the daemon sends it with that pktinfo).
    for (const auto& d : net.delivered) {
        INFO(d.from << " -> " << d.to);
        CHECK(d.src.address == net.node(d.from).address);
    }
    CHECK(policies_between(a, a.address, b.address) > 0);
}

TEST_CASE("a peer without a route says so, is refused as responder, and comes up with a route") {
    Network net;
    Node& a = net.add_wildcard("a", "10.0.0.1", 1);
    Node& b = net.add_wildcard("b", "10.0.0.2", 2);
    Node& c = net.add_wildcard("c", "10.9.0.3", 3);
    // c reaches a through a gateway; a has no route back to c's network (yet).
    c.routes.add(ip("10.0.0.0"), 24, c.address);
    net.full_mesh([](Node& self, ike::PeerConfig& p) {
        // Only a and c: b stays out of c's business.
        if ((self.name == "b" && p.name == "c") || (self.name == "c" && p.name == "b")) {
            p.start = ike::StartAction::passive;
        }
    });
    net.start_all();
    REQUIRE(net.run_until([&] { return settled(net, a, b); }, 30s));
    net.run_for(10s);
    auto pc = a.peer(net.now, "c");
    CHECK(pc.state == "down");
    CHECK(pc.local_address.empty());
    CHECK(pc.last_error == "no local address to reach 10.9.0.3 (no route to it)");
    CHECK(pc.ike_sas.empty());
    CHECK(policies_between(a, a.address, c.address) == 0);
    CHECK(a.engine->initiate("c", net.now).error().detail ==
          "no local address to reach 10.9.0.3 (no route to it)");
    // c tried, and a refused to authenticate a peer it has no address towards.
    CHECK(c.peer(net.now, "a").state != "established");
    CHECK(c.count_events(ike::SaEvent::Kind::ike_up) == 0);
    const std::string ab = spis(net, a, "b");

    a.routes.add(ip("10.9.0.0"), 24, a.address);
    a.engine->on_addresses_changed(net.now);
    REQUIRE(net.run_until([&] { return settled(net, a, c); }, 60s));
    net.run_for(5s);
    check_settled_pair(net, a, c);
    CHECK(a.peer(net.now, "c").local_address == a.address);
    CHECK(a.peer(net.now, "c").last_error.empty());
    CHECK(policies_between(a, a.address, c.address) > 0);
    CHECK(spis(net, a, "b") == ab);
}

TEST_CASE("an address or route change moves exactly the peers it concerns") {
    Network net;
    Node& a = net.add_wildcard("a", "10.0.0.1", 1);
    Node& b = net.add_wildcard("b", "10.0.0.2", 2);
    Node& c = net.add_wildcard("c", "10.2.0.3", 3);
    // a has a second address, 10.2.0.1, on c's network.
    a.more_addresses = {ip("10.2.0.1")};
    a.routes.add(ip("10.2.0.0"), 24, ip("10.2.0.1"));
    c.routes.add(ip("10.0.0.0"), 24, c.address);
    b.routes.add(ip("10.2.0.0"), 24, b.address);
    net.full_mesh([](Node& self, ike::PeerConfig& p) {
        if (self.name == "c" && p.name == "a") p.address = ip("10.2.0.1");
    });
    net.start_all();
    REQUIRE(net.run_until(
        [&] { return settled(net, a, b) && settled(net, a, c) && settled(net, b, c); }, 30s));
    net.run_for(5s);
    CHECK(a.peer(net.now, "c").local_address == ip("10.2.0.1"));
    const std::string ab = spis(net, a, "b"), ac = spis(net, a, "c"), bc = spis(net, b, "c");
    const size_t policies_ac = policies_between(a, ip("10.2.0.1"), c.address);
    REQUIRE(policies_ac > 0);

    SECTION("nothing changed: nobody is touched, nothing is sent") {
        const size_t sent = net.delivered.size();
        const size_t calls = a.kernel.calls().size();
        for (Node* n : {&a, &b, &c})
            n->engine->on_addresses_changed(net.now);
        net.run_for(1s);
        CHECK(net.delivered.size() == sent);
        CHECK(a.kernel.calls().size() == calls);
        CHECK(spis(net, a, "b") == ab);
        CHECK(spis(net, a, "c") == ac);
    }

    SECTION("the address towards c goes, then comes back") {
        a.routes.remove_source(ip("10.2.0.1"));
        a.engine->on_addresses_changed(net.now);
        net.run_for(2s);
        auto pc = a.peer(net.now, "c");
        CHECK(pc.state == "down");
        CHECK(pc.local_address.empty());
        CHECK(pc.last_error == "no local address to reach 10.2.0.3 (no route to it)");
        CHECK(policies_between(a, ip("10.2.0.1"), c.address) == 0);
        // c heard the Delete (sent while the address was still usable in this network).
        CHECK(c.peer(net.now, "a").ike_sas.empty());
        CHECK(spis(net, a, "b") == ab);
        CHECK(spis(net, b, "c") == bc);

        a.routes.add(ip("10.2.0.0"), 24, ip("10.2.0.1"));
        a.engine->on_addresses_changed(net.now);
        REQUIRE(net.run_until([&] { return settled(net, a, c); }, 60s));
        net.run_for(5s);
        REQUIRE(settled(net, a, c));
        CHECK(spis(net, a, "c") != ac);
        // The new CHILD SA pair is keyed by the address a uses towards c.
        auto pa = a.peer(net.now, "c");
        CHECK(a.kernel.find_sa(ip("10.2.0.1"), pa.child_sas[0].spi_in));
        CHECK(c.kernel.find_sa(ip("10.2.0.1"), pa.child_sas[0].spi_in));
        CHECK(a.kernel.find_sa(c.address, pa.child_sas[0].spi_out));
        CHECK(a.peer(net.now, "c").local_address == ip("10.2.0.1"));
        CHECK(policies_between(a, ip("10.2.0.1"), c.address) == policies_ac);
        CHECK(spis(net, a, "b") == ab);
        CHECK(spis(net, b, "c") == bc);
    }

    SECTION("a more specific route to c through the other address: a moves, b is untouched") {
        // c's config names a by 10.2.0.1 only, so after the move c refuses a from 10.0.0.1:
        // what matters here is a's side (several addresses per peer are another test).
        a.routes.add(ip("10.2.0.3"), 32, a.address);
        a.engine->on_addresses_changed(net.now);
        net.run_for(1s);
        auto pc = a.peer(net.now, "c");
        CHECK(pc.local_address == a.address);
        CHECK(policies_between(a, ip("10.2.0.1"), c.address) == 0);
        CHECK(policies_between(a, a.address, c.address) == policies_ac);
        for (const auto& sa : pc.ike_sas)
            CHECK(sa.local.address == a.address);
        CHECK(spis(net, a, "b") == ab);
        CHECK(spis(net, b, "c") == bc);
    }
}

TEST_CASE("peers with a configured local address are never looked up") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh();
    net.start_all();
    REQUIRE(net.run_until([&] { return settled(net, a, b); }, 30s));
    const std::string ab = spis(net, a, "b");
    a.engine->on_addresses_changed(net.now);
    net.run_for(1s);
    CHECK(a.routes.lookups() == 0);
    CHECK(spis(net, a, "b") == ab);
    CHECK(a.peer(net.now, "b").local_address == a.address);
}

TEST_CASE("an engine without a wall clock fails at construction") {
    DeterministicRandom rng(1);
    DeterministicKex kex(rng);
    kernel::FakeKernel kernel;
    ike::EngineDeps deps{rng, kex, kernel, {}, {}};
    CHECK_THROWS_AS(ike::Engine(deps, ike::EngineConfig{}, TimePoint{}), std::invalid_argument);
}

// --- several addresses per peer --------------------------------------------------------------

namespace {

// a and b, each with an IPv4 and an IPv6 address and routes for both; each knows the other by
// [IPv6, IPv4] in that order.
void dual_stack(Network& net, bool b_passive) {
    Node& a = net.add_wildcard("a", "10.0.0.1", 1);
    Node& b = net.add_wildcard("b", "10.0.0.2", 2);
    a.more_addresses = {ip("2001:db8::1")};
    b.more_addresses = {ip("2001:db8::2")};
    a.routes.add(ip("2001:db8::"), 64, ip("2001:db8::1"));
    b.routes.add(ip("2001:db8::"), 64, ip("2001:db8::2"));
    net.full_mesh([b_passive](Node& self, ike::PeerConfig& p) {
        const bool for_b = p.name == "b";
        p.addresses = {ip(for_b ? "2001:db8::2" : "2001:db8::1"),
                       ip(for_b ? "10.0.0.2" : "10.0.0.1")};
        p.address = p.addresses.front();
        if (b_passive && self.name == "b") p.start = ike::StartAction::passive;
    });
}

}  // namespace

TEST_CASE("several addresses: the initiator falls back when IKE_SA_INIT gets no answer") {
    Network net;
    dual_stack(net, true);
    Node& a = net.node("a");
    Node& b = net.node("b");
    // IPv6 between them is broken.
    net.drop = [](const Datagram& d) { return d.dst.address.is_v6(); };
    net.start_all();
    auto pa = a.peer(net.now, "b");
    CHECK(pa.address == ip("2001:db8::2"));  // first preference, tried first
    CHECK(pa.addresses == std::vector<IpAddress>{ip("2001:db8::2"), ip("10.0.0.2")});
    CHECK(policies_between(a, ip("2001:db8::1"), ip("2001:db8::2")) > 0);
    // The whole retransmission schedule (1 + 2 + 4 + 8 s), then IPv4 at once.
    REQUIRE(net.run_until([&] { return settled(net, a, b); }, 40s));
    pa = a.peer(net.now, "b");
    CHECK(pa.address == ip("10.0.0.2"));
    CHECK(pa.local_address == ip("10.0.0.1"));
    CHECK(pa.ike_sas.at(0).remote.address == ip("10.0.0.2"));
    CHECK(a.count_events(ike::SaEvent::Kind::peer_dead) == 0);  // one address was, not the peer
    // The responder took the peer from its second address, and moved its policies there.
    auto pb = b.peer(net.now, "a");
    CHECK(pb.address == ip("10.0.0.1"));
    CHECK(pb.local_address == ip("10.0.0.2"));
    // Policies follow the address in use, on both sides; the IPv6 pair has none.
    for (Node* n : {&a, &b}) {
        CHECK(policies_between(*n, ip("10.0.0.1"), ip("10.0.0.2")) > 0);
        CHECK(policies_between(*n, ip("2001:db8::1"), ip("2001:db8::2")) == 0);
    }
    net.run_for(5s);
    CHECK(settled(net, a, b));
    const auto child = a.peer(net.now, "b").child_sas.at(0);
    CHECK(a.kernel.find_sa(ip("10.0.0.2"), child.spi_out));
    CHECK(b.kernel.find_sa(ip("10.0.0.2"), child.spi_out));

    SECTION("a later attempt goes back to the first preference") {
        net.drop = {};
        REQUIRE(a.engine->terminate("b", net.now));
        net.run_for(2s);
        REQUIRE(a.engine->initiate("b", net.now));
        REQUIRE(net.run_until([&] { return settled(net, a, b); }, 20s));
        pa = a.peer(net.now, "b");
        CHECK(pa.address == ip("2001:db8::2"));
        CHECK(pa.local_address == ip("2001:db8::1"));
        CHECK(b.peer(net.now, "a").address == ip("2001:db8::1"));
        CHECK(policies_between(a, ip("2001:db8::1"), ip("2001:db8::2")) > 0);
        CHECK(policies_between(a, ip("10.0.0.1"), ip("10.0.0.2")) == 0);
    }
    SECTION("every address unanswered: the peer is dead after the last one, then retried") {
        net.drop = [](const Datagram&) { return true; };
        REQUIRE(a.engine->terminate("b", net.now));
        net.run_for(2s);
        REQUIRE(a.engine->initiate("b", net.now));
        net.run_for(35s);  // 15 s per address
        pa = a.peer(net.now, "b");
        CHECK(a.count_events(ike::SaEvent::Kind::peer_dead) == 1);
        CHECK(pa.last_error.find("no response to IKE_SA_INIT") == 0);
    }
}

TEST_CASE("several addresses: an address without a route is skipped at once") {
    Network net;
    Node& a = net.add_wildcard("a", "10.0.0.1", 1);  // no IPv6 route at all
    Node& b = net.add_wildcard("b", "10.0.0.2", 2);
    b.more_addresses = {ip("2001:db8::2")};
    b.routes.add(ip("2001:db8::"), 64, ip("2001:db8::2"));
    net.full_mesh([](Node& self, ike::PeerConfig& p) {
        if (self.name == "a") p.addresses = {ip("2001:db8::2"), ip("10.0.0.2")};
        if (self.name == "b") p.start = ike::StartAction::passive;
    });
    net.start_all();
    REQUIRE(net.run_until([&] { return settled(net, a, b); }, 3s));
    auto pa = a.peer(net.now, "b");
    CHECK(pa.address == ip("10.0.0.2"));
    CHECK(pa.local_address == a.address);
    for (const auto& d : net.delivered)
        CHECK(d.dst.address.is_v4());
}

TEST_CASE("several addresses: a responder refuses the peer from an address not configured") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh([](Node& self, ike::PeerConfig& p) {
        if (self.name == "b") {
            p.addresses = {ip("2001:db8::1"), ip("10.0.0.9")};
            p.address = p.addresses.front();
            p.start = ike::StartAction::passive;
        }
    });
    net.start_all();
    net.run_for(3s);
    CHECK(b.peer(net.now, "a").last_error ==
          "a.mesh.test connected from 10.0.0.1, configured 2001:db8::1 or 10.0.0.9");
    CHECK(a.peer(net.now, "b").state != "established");
}
