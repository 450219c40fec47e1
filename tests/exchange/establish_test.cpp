// IKE_SA_INIT and IKE_AUTH between two engines: the happy path and every way it can fail.
#include "harness.hpp"

using namespace ikemesh;
using namespace ikemesh::test;
using ikemesh::ike::SaEvent;

namespace {

// Two nodes; only `a` initiates (b is passive), so each test controls who starts.
struct Pair {
    Network net;
    Node& a;
    Node& b;
    Pair() : a(net.add("a", "10.0.0.1", 1)), b(net.add("b", "10.0.0.2", 2)) {
        net.full_mesh([](Node& self, ike::PeerConfig& peer) {
            if (self.name == "b") peer.start = ike::StartAction::passive;
        });
    }
};

size_t count(const Network& net, wire::ExchangeType ex, bool response) {
    size_t n = 0;
    for (const auto& d : net.delivered)
        n += d.exchange == ex && d.response == response;
    return n;
}

}  // namespace

TEST_CASE("PSK: IKE_SA_INIT and IKE_AUTH bring up one IKE SA and one transport CHILD SA") {
    Pair p;
    p.net.start_all();
    // HDR, SAi1, KEi, Ni -->  <-- HDR, SAr1, KEr, Nr
    // HDR, SK {IDi, AUTH, SAi2, TSi, TSr} -->  <-- HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
    p.net.run_for(1s);
    check_settled_pair(p.net, p.a, p.b);
    CHECK(p.a.kernel.sa_count() == 2);
    CHECK(p.b.kernel.sa_count() == 2);
    CHECK(p.a.kernel.larval_count() == 0);
    CHECK(p.b.kernel.larval_count() == 0);
    // Exactly two exchanges, no retransmissions.
    CHECK(count(p.net, wire::ExchangeType::ike_sa_init, false) == 1);
    CHECK(count(p.net, wire::ExchangeType::ike_auth, false) == 1);
    CHECK(p.a.engine->counters().retransmissions == 0);
    CHECK(p.a.count_events(SaEvent::Kind::ike_up) == 1);
    CHECK(p.a.count_events(SaEvent::Kind::child_up) == 1);
    CHECK(p.b.count_events(SaEvent::Kind::ike_up) == 1);
    CHECK(p.b.count_events(SaEvent::Kind::child_up) == 1);
    auto pa = p.a.peer(p.net.now, "b");
    CHECK(pa.ike_sas[0].initiator);
    CHECK(pa.ike_sas[0].proposal == "aes128gcm16-prfsha256-x25519");
    CHECK(pa.child_sas[0].proposal == "aes128gcm16");
    CHECK(pa.child_sas[0].mode == "transport");
    // Both ends installed policies: out + in per peer, plus the default bypass set.
    CHECK(p.a.kernel.policy_count() >= 2);
    CHECK(p.a.kernel.policy_count() == p.b.kernel.policy_count());
}

TEST_CASE("wrong PSK: the responder answers AUTHENTICATION_FAILED and nothing stays up") {
    Pair p;
    for (auto& peer : p.b.config.peers) {
        std::string other = "a-different-pre-shared-key-of-enough-length";
        peer.psk = std::make_shared<const crypto::SecretBytes>(Bytes(other.begin(), other.end()));
    }
    p.net.start_all();
    p.net.run_for(2s);
    auto pa = p.a.peer(p.net.now, "b");
    auto pb = p.b.peer(p.net.now, "a");
    CHECK(pa.state != "established");
    CHECK(pa.ike_sas.empty());
    CHECK(pb.ike_sas.empty());
    CHECK(pa.last_error.find("AUTHENTICATION_FAILED") != std::string::npos);
    CHECK(pb.last_error.find("PSK") != std::string::npos);
    CHECK(p.a.kernel.sa_count() == 0);
    CHECK(p.b.kernel.sa_count() == 0);
    CHECK(p.a.kernel.larval_count() == 0);
    CHECK(p.b.kernel.larval_count() == 0);
    CHECK(p.a.engine->counters().handshakes_failed.size() == 1);
}

TEST_CASE("no proposal chosen: the initiator reports it and backs off") {
    Pair p;
    for (auto& peer : p.b.config.peers) {
        peer.ike = {ike::IkeProposal{.encr = {{crypto::EncrAlg::aes_cbc, 256}},
                                     .integ = {crypto::IntegAlg::hmac_sha2_256_128},
                                     .prf = {crypto::PrfAlg::hmac_sha2_256},
                                     .dh = {crypto::DhGroup::modp3072}}};
    }
    p.net.start_all();
    p.net.run_for(1s);
    auto pa = p.a.peer(p.net.now, "b");
    CHECK(pa.ike_sas.empty());
    CHECK(pa.last_error.find("NO_PROPOSAL_CHOSEN") != std::string::npos);
    CHECK(pa.state == "down");  // a re-attempt is scheduled with back-off, none is in progress
    size_t attempts = count(p.net, wire::ExchangeType::ike_sa_init, false);
    p.net.run_for(5min);
    size_t later = count(p.net, wire::ExchangeType::ike_sa_init, false);
    CHECK(later > attempts);
    CHECK(later < 12);  // exponential back-off, not a tight loop
}

TEST_CASE("an always-peer that never answers is down between attempts, connecting during one") {
    // docs/ikectl.md: `connecting` means an exchange is in progress; `ikectl status` exits 4 when
    // an always-peer is down. A peer waiting out its re-initiation back-off after a failure used
    // to show `connecting` for ever, so the health check never fired for an unreachable peer.
    Pair p;
    p.net.drop = [](const Datagram&) { return true; };  // b never hears anything
    p.net.start_all();
    p.net.run_for(1s);
    CHECK(p.a.peer(p.net.now, "b").state == "connecting");  // IKE_SA_INIT being retransmitted
    REQUIRE(
        p.net.run_until([&] { return !p.a.engine->counters().handshakes_failed.empty(); }, 5min));
    auto pa = p.a.peer(p.net.now, "b");
    CHECK(pa.ike_sas.empty());
    CHECK(pa.state == "down");
    CHECK(!pa.last_error.empty());
    // The re-attempt comes (back-off), and while it runs the peer is connecting again.
    REQUIRE(p.net.run_until([&] { return !p.a.peer(p.net.now, "b").ike_sas.empty(); }, 5min));
    CHECK(p.a.peer(p.net.now, "b").state == "connecting");
}

TEST_CASE("the responder refuses an identity it does not know") {
    Pair p;
    p.a.config.local.id = fqdn_id("intruder.mesh.test");
    p.net.start_all();
    p.net.run_for(1s);
    CHECK(p.a.peer(p.net.now, "b").ike_sas.empty());
    CHECK(p.b.peer(p.net.now, "a").ike_sas.empty());
    CHECK(p.a.kernel.sa_count() == 0);
    CHECK(p.b.kernel.sa_count() == 0);
}

TEST_CASE("the initiator refuses a responder authenticating as someone else") {
    Pair p;
    p.b.config.local.id = fqdn_id("impostor.mesh.test");
    for (auto& peer : p.a.config.peers)
        peer.id = fqdn_id("b.mesh.test");
    // b accepts a, but presents the wrong identity.
    p.net.start_all();
    p.net.run_for(1s);
    auto pa = p.a.peer(p.net.now, "b");
    CHECK(pa.ike_sas.empty());
    CHECK(pa.last_error.find("impostor") != std::string::npos);
    CHECK(p.a.kernel.sa_count() == 0);
}

TEST_CASE("INVALID_KE_PAYLOAD: the initiator retries with the group the responder wants") {
    Pair p;
    for (auto& peer : p.a.config.peers) {
        peer.ike[0].dh = {crypto::DhGroup::curve25519, crypto::DhGroup::ecp256};
    }
    for (auto& peer : p.b.config.peers)
        peer.ike[0].dh = {crypto::DhGroup::ecp256};
    p.net.start_all();
    // HDR, SAi1, KEi(x25519), Ni -->  <-- HDR, N(INVALID_KE_PAYLOAD, ecp256)
    // HDR, SAi1, KEi(ecp256), Ni -->  <-- HDR, SAr1, KEr, Nr
    p.net.run_for(1s);
    check_settled_pair(p.net, p.a, p.b);
    CHECK(count(p.net, wire::ExchangeType::ike_sa_init, false) == 2);
    CHECK(p.a.peer(p.net.now, "b").ike_sas[0].proposal == "aes128gcm16-prfsha256-ecp256");
}

TEST_CASE("COOKIE: above the half-open threshold the responder demands a cookie first") {
    Pair p;
    p.b.config.settings.cookie_threshold = 0;
    p.net.start_all();
    // HDR, SAi1, KEi, Ni -->  <-- HDR, N(COOKIE)
    // HDR, N(COOKIE), SAi1, KEi, Ni -->  <-- HDR, SAr1, KEr, Nr
    p.net.run_for(1s);
    check_settled_pair(p.net, p.a, p.b);
    CHECK(count(p.net, wire::ExchangeType::ike_sa_init, false) == 2);
    CHECK(p.b.engine->counters().cookies_sent == 1);
}

TEST_CASE("lost messages in each direction are recovered by retransmission") {
    for (auto [ex, response] : {std::pair{wire::ExchangeType::ike_sa_init, false},
                                {wire::ExchangeType::ike_sa_init, true},
                                {wire::ExchangeType::ike_auth, false},
                                {wire::ExchangeType::ike_auth, true}}) {
        DYNAMIC_SECTION("lose the first " << wire::name(ex)
                                          << (response ? " response" : " request")) {
            Pair p;
            bool lost = false;
            p.net.drop = [&, ex = ex, response = response](const Datagram& d) {
                if (!lost && d.exchange == ex && d.response == response) {
                    lost = true;
                    return true;
                }
                return false;
            };
            p.net.start_all();
            p.net.run_for(5s);
            CHECK(lost);
            check_settled_pair(p.net, p.a, p.b);
            CHECK(p.a.engine->counters().retransmissions == 1);
            // A lost response is answered from the responder's cache, not processed twice.
            CHECK(p.b.count_events(SaEvent::Kind::ike_up) == 1);
            CHECK(p.b.kernel.sa_count() == 2);
        }
    }
}

TEST_CASE("retransmission exhaustion declares the peer dead and cleans up") {
    Pair p;
    p.net.drop = [](const Datagram& d) { return d.from == "b"; };
    p.net.start_all();
    // 1 s + 2 s + 4 s + 8 s with the harness settings (1 s, base 2, 3 tries).
    p.net.run_for(14s);
    CHECK(p.a.peer(p.net.now, "b").ike_sas.size() == 1);
    p.net.run_for(2s);
    auto pa = p.a.peer(p.net.now, "b");
    CHECK(pa.ike_sas.empty());
    CHECK(pa.last_error.find("no response") != std::string::npos);
    CHECK(p.a.count_events(SaEvent::Kind::peer_dead) == 1);
    CHECK(p.a.kernel.larval_count() == 0);
}

TEST_CASE("garbage and unauthenticated messages are dropped silently") {
    Pair p;
    p.net.start_all();
    p.net.run_for(1s);
    check_settled_pair(p.net, p.a, p.b);
    auto before = p.b.engine->counters().messages_dropped;
    const Endpoint from{p.a.address, 500}, to{p.b.address, 500};
    p.b.engine->on_datagram(Bytes{1, 2, 3}, to, from, p.net.now);
    Bytes junk(200, 0xab);
    p.b.engine->on_datagram(junk, to, from, p.net.now);
    // A real protected message with one flipped bit inside the ciphertext.
    for (const auto& d : p.net.delivered) {
        if (d.exchange == wire::ExchangeType::ike_auth && !d.response) {
            Bytes tampered = d.data;
            tampered[tampered.size() - 20] ^= 1;
            p.b.engine->on_datagram(tampered, d.dst, d.src, p.net.now);
        }
    }
    p.net.collect();
    CHECK(p.b.engine->counters().messages_dropped == before + 3);
    CHECK(p.b.engine->take_outbox().empty());
    check_settled_pair(p.net, p.a, p.b);
}
