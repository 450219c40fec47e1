// CREATE_CHILD_SA: CHILD SA and IKE SA rekeys by either side, simultaneous rekeys with each
// winner, deletes during a rekey, and lifetimes.
#include "harness.hpp"

using namespace ikemesh;
using namespace ikemesh::test;
using ikemesh::ike::SaEvent;

namespace {

struct Pair {
    Network net;
    Node& a;
    Node& b;
    explicit Pair(uint64_t seed_a = 1, uint64_t seed_b = 2)
        : a(net.add("a", "10.0.0.1", seed_a)), b(net.add("b", "10.0.0.2", seed_b)) {
        net.full_mesh([](Node& self, ike::PeerConfig& peer) {
            if (self.name == "b") peer.start = ike::StartAction::passive;
        });
    }
    void up() {
        net.start_all();
        net.run_for(1s);
        check_settled_pair(net, a, b);
    }
};

size_t count(const Network& net, wire::ExchangeType ex, bool response) {
    size_t n = 0;
    for (const auto& d : net.delivered)
        n += d.exchange == ex && d.response == response;
    return n;
}

}  // namespace

TEST_CASE("CHILD SA rekey started by either side leaves exactly one new SA pair") {
    for (std::string who : {"a", "b"}) {
        DYNAMIC_SECTION("rekey started by " << who) {
            Pair p;
            p.up();
            auto before = p.a.peer(p.net.now, "b").child_sas[0];
            Node& starter = who == "a" ? p.a : p.b;
            REQUIRE(starter.engine->rekey(who == "a" ? "b" : "a", false, p.net.now));
            // HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr} -->  <-- HDR, SK {SA, Nr, TSi, TSr}
            // HDR, SK {D(old)} -->  <-- HDR, SK {D(old)}
            p.net.run_for(1s);
            check_settled_pair(p.net, p.a, p.b);
            auto after = p.a.peer(p.net.now, "b").child_sas[0];
            CHECK(after.spi_in != before.spi_in);
            CHECK(after.spi_out != before.spi_out);
            CHECK(p.a.kernel.sa_count() == 2);
            CHECK(p.b.kernel.sa_count() == 2);
            CHECK(p.a.kernel.larval_count() == 0);
            CHECK(p.b.kernel.larval_count() == 0);
            CHECK(p.a.count_events(SaEvent::Kind::child_rekeyed) == 1);
            CHECK(p.b.count_events(SaEvent::Kind::child_rekeyed) == 1);
            CHECK(p.a.engine->counters().child_rekeys == 1);
            // The IKE SA is untouched.
            CHECK(p.a.peer(p.net.now, "b").ike_sas[0].spi_i ==
                  p.b.peer(p.net.now, "a").ike_sas[0].spi_i);
        }
    }
}

TEST_CASE("the rekey responder switches outbound traffic only after the old SA is deleted") {
    Pair p;
    p.up();
    auto old = p.b.peer(p.net.now, "a").child_sas[0];
    bool hold_delete = true;
    p.net.drop = [&](const Datagram& d) {
        return hold_delete && d.exchange == wire::ExchangeType::informational && d.from == "a" &&
               !d.response;
    };
    REQUIRE(p.a.engine->rekey("b", false, p.net.now));
    p.net.run_for(200ms);
    // b answered the rekey but has not seen the Delete: its new outbound SA is not installed yet
    // and the old pair still carries b's traffic.
    auto pb = p.b.peer(p.net.now, "a");
    REQUIRE(pb.child_sas.size() == 2);
    CHECK(p.b.kernel.find_sa(p.a.address, old.spi_out) != nullptr);
    CHECK(p.b.kernel.sa_count() == 3);  // old in+out, new in (new out deferred)
    hold_delete = false;
    p.net.run_for(5s);  // a retransmits the Delete
    check_settled_pair(p.net, p.a, p.b);
    CHECK(p.b.kernel.find_sa(p.a.address, old.spi_out) == nullptr);
}

TEST_CASE("IKE SA rekey started by either side moves the CHILD SA to the new IKE SA") {
    for (std::string who : {"a", "b"}) {
        DYNAMIC_SECTION("rekey started by " << who) {
            Pair p;
            p.up();
            auto before_ike = p.a.peer(p.net.now, "b").ike_sas[0];
            auto before_child = p.a.peer(p.net.now, "b").child_sas[0];
            Node& starter = who == "a" ? p.a : p.b;
            REQUIRE(starter.engine->rekey(who == "a" ? "b" : "a", true, p.net.now));
            // HDR, SK {SA, Ni, KEi} -->  <-- HDR, SK {SA, Nr, KEr}
            // HDR, SK {D(IKE)} -->  <-- HDR, SK {}   (on the old IKE SA)
            p.net.run_for(1s);
            check_settled_pair(p.net, p.a, p.b);
            auto after_ike = p.a.peer(p.net.now, "b").ike_sas[0];
            CHECK(after_ike.spi_i != before_ike.spi_i);
            CHECK(after_ike.spi_r != before_ike.spi_r);
            // The CHILD SA is not rekeyed by an IKE rekey.
            CHECK(p.a.peer(p.net.now, "b").child_sas[0].spi_in == before_child.spi_in);
            CHECK(p.a.count_events(SaEvent::Kind::ike_rekeyed) == 1);
            CHECK(p.b.count_events(SaEvent::Kind::ike_rekeyed) == 1);
            CHECK(p.a.count_events(SaEvent::Kind::ike_down) == 0);
            CHECK(p.a.count_events(SaEvent::Kind::child_down) == 0);
            // The new IKE SA works: a CHILD rekey over it succeeds.
            REQUIRE(p.a.engine->rekey("b", false, p.net.now));
            p.net.run_for(1s);
            check_settled_pair(p.net, p.a, p.b);
            CHECK(p.a.peer(p.net.now, "b").child_sas[0].spi_in != before_child.spi_in);
        }
    }
}

TEST_CASE("simultaneous CHILD SA rekeys: the nonce rule leaves one pair, whoever wins") {
    bool a_won = false, b_won = false;
    for (uint64_t seed = 1; seed <= 12 && !(a_won && b_won); ++seed) {
        Pair p(seed, seed + 100);
        p.up();
        // Both start at the same instant: each receives the other's request while its own is
        // in flight (RFC 7296 2.8.1).
        REQUIRE(p.a.engine->rekey("b", false, p.net.now));
        REQUIRE(p.b.engine->rekey("a", false, p.net.now));
        p.net.run_for(2s);
        INFO("seed " << seed);
        check_settled_pair(p.net, p.a, p.b);
        CHECK(p.a.kernel.sa_count() == 2);
        CHECK(p.b.kernel.sa_count() == 2);
        CHECK(p.a.kernel.larval_count() == 0);
        CHECK(p.b.kernel.larval_count() == 0);
        // Exactly one side deleted its own redundant child ("redundant after rekey collision").
        size_t a_redundant = 0, b_redundant = 0;
        for (const auto& e : p.a.events)
            a_redundant += e.reason.find("redundant") != std::string::npos;
        for (const auto& e : p.b.events)
            b_redundant += e.reason.find("redundant") != std::string::npos;
        CHECK(a_redundant + b_redundant == 1);
        if (a_redundant == 1) b_won = true;
        if (b_redundant == 1) a_won = true;
        // Afterwards the pair still rekeys normally.
        REQUIRE(p.a.engine->rekey("b", false, p.net.now));
        p.net.run_for(1s);
        check_settled_pair(p.net, p.a, p.b);
    }
    CHECK(a_won);
    CHECK(b_won);
}

TEST_CASE("simultaneous IKE SA rekeys: one new IKE SA survives, whoever wins") {
    bool a_won = false, b_won = false;
    for (uint64_t seed = 1; seed <= 12 && !(a_won && b_won); ++seed) {
        Pair p(seed, seed + 100);
        p.up();
        auto child = p.a.peer(p.net.now, "b").child_sas[0];
        REQUIRE(p.a.engine->rekey("b", true, p.net.now));
        REQUIRE(p.b.engine->rekey("a", true, p.net.now));
        p.net.run_for(3s);
        INFO("seed " << seed);
        check_settled_pair(p.net, p.a, p.b);
        // The CHILD SA survived both moves untouched.
        CHECK(p.a.peer(p.net.now, "b").child_sas[0].spi_in == child.spi_in);
        CHECK(p.a.count_events(SaEvent::Kind::child_down) == 0);
        CHECK(p.b.count_events(SaEvent::Kind::child_down) == 0);
        size_t a_redundant = 0, b_redundant = 0;
        for (const auto& e : p.a.events)
            a_redundant += e.reason.find("redundant") != std::string::npos;
        for (const auto& e : p.b.events)
            b_redundant += e.reason.find("redundant") != std::string::npos;
        CHECK(a_redundant + b_redundant == 1);
        if (a_redundant == 1) b_won = true;
        if (b_redundant == 1) a_won = true;
        // The surviving IKE SA carries further exchanges.
        REQUIRE(p.b.engine->rekey("a", false, p.net.now));
        p.net.run_for(1s);
        check_settled_pair(p.net, p.a, p.b);
    }
    CHECK(a_won);
    CHECK(b_won);
}

TEST_CASE("a Delete of the CHILD SA during its rekey leaves no half-installed SA") {
    Pair p;
    p.up();
    auto child = p.a.peer(p.net.now, "b").child_sas[0];
    // a starts a rekey; b deletes the same CHILD SA at the same moment.
    REQUIRE(p.a.engine->rekey("b", false, p.net.now));
    REQUIRE(p.b.engine->terminate("a", p.net.now));
    // b's terminate removes the whole IKE SA; a (start = always) comes straight back with a
    // fresh pair, and nothing of the old pair or of the abandoned rekey stays behind.
    p.net.run_for(std::chrono::seconds(60));
    check_settled_pair(p.net, p.a, p.b);
    CHECK(p.a.kernel.find_sa(p.a.address, child.spi_in) == nullptr);
    CHECK(p.a.kernel.find_sa(p.b.address, child.spi_out) == nullptr);
    CHECK(p.b.kernel.find_sa(p.b.address, child.spi_out) == nullptr);
    CHECK(p.a.kernel.larval_count() == 0);
    CHECK(p.b.kernel.larval_count() == 0);
    CHECK(p.a.kernel.sa_count() == 2);
    CHECK(p.b.kernel.sa_count() == 2);
    CHECK(p.a.peer(p.net.now, "b").child_sas[0].spi_in != child.spi_in);
}

TEST_CASE("CHILD SA rekey happens by itself before the lifetime, with jitter") {
    Pair p;
    for (auto& peer : p.a.config.peers) {
        peer.child_lifetime = std::chrono::seconds(600);
        peer.rekey_margin = std::chrono::seconds(60);
        peer.rekey_jitter = std::chrono::seconds(30);
    }
    for (auto& peer : p.b.config.peers) {
        peer.child_lifetime = std::chrono::seconds(600);
        peer.rekey_margin = std::chrono::seconds(60);
        peer.rekey_jitter = std::chrono::seconds(30);
    }
    p.up();
    auto first = p.a.peer(p.net.now, "b").child_sas[0];
    CHECK(first.rekey_in_seconds <= 540);
    CHECK(first.rekey_in_seconds >= 509);
    p.net.run_for(std::chrono::seconds(545));
    check_settled_pair(p.net, p.a, p.b);
    CHECK(p.a.peer(p.net.now, "b").child_sas[0].spi_in != first.spi_in);
    CHECK(count(p.net, wire::ExchangeType::create_child_sa, false) >= 1);
}

TEST_CASE("IKE SA rekeys by itself before its lifetime and keeps going for hours") {
    Pair p;
    for (auto* n : {&p.a, &p.b}) {
        for (auto& peer : n->config.peers) {
            peer.ike_lifetime = std::chrono::seconds(1800);
            peer.child_lifetime = std::chrono::seconds(900);
            peer.rekey_margin = std::chrono::seconds(120);
            peer.rekey_jitter = std::chrono::seconds(60);
        }
    }
    p.up();
    p.net.run_for(std::chrono::hours(3));
    check_settled_pair(p.net, p.a, p.b);
    CHECK(p.a.engine->counters().ike_rekeys + p.b.engine->counters().ike_rekeys >= 5);
    CHECK(p.a.engine->counters().child_rekeys >= 10);
    CHECK(p.a.count_events(SaEvent::Kind::ike_down) == 0);
    CHECK(p.a.count_events(SaEvent::Kind::peer_dead) == 0);
    CHECK(p.a.kernel.sa_count() == 2);
    CHECK(p.b.kernel.sa_count() == 2);
}
