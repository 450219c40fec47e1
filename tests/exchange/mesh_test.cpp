// Liveness and the mesh rules: DPD only when quiet, dead peers, simultaneous start of a whole
// mesh, restarts healed by INITIAL_CONTACT, SAs lost from the kernel, on-demand start.
#include "harness.hpp"

using namespace ikemesh;
using namespace ikemesh::test;
using ikemesh::ike::SaEvent;

namespace {

size_t count_from(const Network& net, const std::string& from, wire::ExchangeType ex,
                  bool response) {
    size_t n = 0;
    for (const auto& d : net.delivered) {
        n += d.from == from && d.exchange == ex && d.response == response;
    }
    return n;
}

// Every pair of the mesh settled: one IKE SA and one CHILD SA pair each, agreeing on SPIs.
void check_mesh(Network& net, const std::vector<std::string>& names) {
    for (size_t i = 0; i < names.size(); ++i) {
        for (size_t j = i + 1; j < names.size(); ++j) {
            INFO(names[i] << " <-> " << names[j]);
            check_settled_pair(net, net.node(names[i]), net.node(names[j]));
        }
    }
    for (const auto& n : names) {
        CHECK(net.node(n).kernel.sa_count() == 2 * (names.size() - 1));
        CHECK(net.node(n).kernel.larval_count() == 0);
    }
}

}  // namespace

TEST_CASE("DPD is sent only after dpd_delay without hearing from the peer") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh([](Node& self, ike::PeerConfig& p) {
        p.dpd_delay = std::chrono::seconds(10);
        if (self.name == "b") p.start = ike::StartAction::passive;
    });
    net.start_all();
    net.run_for(1s);
    check_settled_pair(net, a, b);
    const auto child = a.peer(net.now, "b").child_sas[0];
    SECTION("quiet link: one liveness check per dpd_delay") {
        net.run_for(std::chrono::seconds(35));
        // Both ends check; each check proves liveness to the other side, so together about
        // one exchange per 10 s rather than one per side.
        size_t checks = count_from(net, "a", wire::ExchangeType::informational, false) +
                        count_from(net, "b", wire::ExchangeType::informational, false);
        CHECK(checks >= 2);
        CHECK(checks <= 4);
        check_settled_pair(net, a, b);
    }
    SECTION("inbound ESP counts as hearing from the peer: no checks while traffic flows") {
        for (int i = 1; i <= 7; ++i) {
            kernel::SaCounters c;
            c.bytes = 1000u * i;
            c.packets = 10u * i;
            REQUIRE(a.kernel.set_counters(a.address, child.spi_in, c));
            REQUIRE(b.kernel.set_counters(b.address, child.spi_out, c));
            net.run_for(std::chrono::seconds(5));
        }
        CHECK(count_from(net, "a", wire::ExchangeType::informational, false) == 0);
        CHECK(count_from(net, "b", wire::ExchangeType::informational, false) == 0);
    }
}

TEST_CASE("a peer that dies is detected by DPD within the retransmit bound and re-initiated") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh([](Node&, ike::PeerConfig& p) { p.dpd_delay = std::chrono::seconds(5); });
    net.start_all();
    net.run_for(4s);
    check_settled_pair(net, a, b);
    net.crash(b);
    // Detection bound: dpd_delay (5 s) + the retransmit schedule (1+2+4+8 = 15 s).
    net.run_for(std::chrono::seconds(21));
    auto pa = a.peer(net.now, "b");
    CHECK(pa.ike_sas.size() <= 1);  // a new attempt may be in flight
    if (!pa.ike_sas.empty()) CHECK(pa.ike_sas[0].state == "connecting");
    CHECK(pa.child_sas.empty());
    CHECK(a.count_events(SaEvent::Kind::peer_dead) == 1);
    CHECK(a.engine->counters().dpd_failures == 1);
    CHECK(a.kernel.sa_count() == 0);
    // b comes back (fresh state: a restarted daemon); a's re-initiation (with back-off) and
    // b's own start meet, and INITIAL_CONTACT leaves one pair.
    net.start(b);
    net.run_for(std::chrono::seconds(60));
    check_settled_pair(net, a, b);
}

TEST_CASE("a restarted peer's INITIAL_CONTACT clears the stale SAs at once") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    // Long DPD so that only INITIAL_CONTACT can explain the cleanup.
    net.full_mesh([](Node&, ike::PeerConfig& p) { p.dpd_delay = std::chrono::seconds(3600); });
    net.start_all();
    net.run_for(4s);
    check_settled_pair(net, a, b);
    auto stale = a.peer(net.now, "b");
    // b reboots: its kernel state is gone too.
    net.crash(b);
    b.reboot_kernel(99);
    net.start(b);
    net.run_for(5s);
    check_settled_pair(net, a, b);
    auto fresh = a.peer(net.now, "b");
    CHECK(fresh.ike_sas[0].spi_i != stale.ike_sas[0].spi_i);
    CHECK(a.kernel.find_sa(a.address, stale.child_sas[0].spi_in) == nullptr);
    CHECK(a.kernel.sa_count() == 2);
    bool cleared = false;
    for (const auto& e : a.events) {
        cleared |= e.kind == SaEvent::Kind::ike_down &&
                   e.reason.find("INITIAL_CONTACT") != std::string::npos;
    }
    CHECK(cleared);
}

TEST_CASE(
    "after a SIGKILL the restarted daemon removes its previous run's SAs once the new pair is up, "
    "and its stale policies at once") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh([](Node&, ike::PeerConfig& p) { p.dpd_delay = std::chrono::seconds(3600); });
    net.start_all();
    net.run_for(4s);
    check_settled_pair(net, a, b);
    const auto old = b.peer(net.now, "a").child_sas[0];
    // An SA of ours with a host that is not (or no longer) a configured peer: nobody will
    // negotiate with it in this run, so it is left to its lifetime.
    kernel::SaParams stray;
    stray.src = b.address;
    stray.dst = *IpAddress::parse("10.0.0.9");
    stray.spi = EspSpi{0xc0de0009};
    stray.reqid = ReqId{77};
    stray.encr = {crypto::EncrAlg::aes_gcm_16, 128};
    stray.encr_key = crypto::SecretBytes(Bytes(20, 0x42));
    REQUIRE(b.kernel.add_sa(stray).ok());
    // And a policy of ours for traffic the configuration no longer mentions (a peer or bypass
    // class since removed).
    kernel::PolicyParams stale;
    stale.id = {kernel::Selector::host_to_host(b.address, stray.dst), kernel::Direction::out};
    stale.reqid = ReqId{77};
    stale.priority = kernel::kPriorityBypass + 500;
    REQUIRE(b.kernel.add_policy(stale).ok());
    const size_t policies = b.kernel.policy_count();
    // SIGKILL: the engine goes, its kernel state stays (unlike reboot_kernel).
    net.crash(b);
    net.start(b);
    // The policies this configuration has are taken over, the stale one is gone.
    CHECK(b.kernel.policy_count() == policies - 1);
    CHECK(a.kernel.policy_count() == policies - 1);
    // Until the new pair is up the old one still carries traffic: nothing removed at start.
    CHECK(b.kernel.find_sa(b.address, old.spi_in) != nullptr);
    CHECK(b.kernel.find_sa(a.address, old.spi_out) != nullptr);
    net.run_for(15s);  // past the follower delay and the responder's outbound grace
    check_settled_pair(net, a, b);
    const auto fresh = b.peer(net.now, "a").child_sas[0];
    CHECK(fresh.spi_in != old.spi_in);
    CHECK(b.kernel.find_sa(b.address, old.spi_in) == nullptr);
    CHECK(b.kernel.find_sa(a.address, old.spi_out) == nullptr);
    CHECK(b.kernel.find_sa(b.address, fresh.spi_in) != nullptr);
    CHECK(b.kernel.find_sa(a.address, fresh.spi_out) != nullptr);
    CHECK(b.kernel.find_sa(stray.dst, stray.spi) != nullptr);
    CHECK(b.kernel.sa_count() == 3);  // the new pair and the stray SA
    CHECK(a.kernel.sa_count() == 2);  // a dropped its old pair on INITIAL_CONTACT
}

TEST_CASE("a mesh of six nodes started at the same moment settles on one SA pair per pair") {
    for (uint64_t seed : {1u, 7u, 42u}) {
        DYNAMIC_SECTION("seed " << seed) {
            Network net;
            std::vector<std::string> names;
            for (int i = 1; i <= 6; ++i) {
                names.push_back("n" + std::to_string(i));
                net.add(names.back(), "10.0.0." + std::to_string(i), seed * 100 + i);
            }
            net.full_mesh();
            net.start_all();
            net.run_for(std::chrono::seconds(30));
            check_mesh(net, names);
        }
    }
}

TEST_CASE("simultaneous initiation with no follower delay still ends with one IKE SA per pair") {
    // Both sides initiate at the very same instant (as if both were designated): the duplicate
    // rule must remove the surplus IKE SA on both sides consistently.
    Network net;
    Node& a = net.add("a", "10.0.0.1", 3);
    Node& b = net.add("b", "10.0.0.2", 4);
    net.full_mesh();
    net.start_all();
    REQUIRE(b.engine->initiate("a", net.now));  // no delay: b initiates now as well
    net.run_for(std::chrono::seconds(10));
    check_settled_pair(net, a, b);
    CHECK(a.kernel.sa_count() == 2);
    CHECK(b.kernel.sa_count() == 2);
}

TEST_CASE("an SA removed from the kernel behind our back is replaced (no sad halfling)") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh();
    net.start_all();
    net.run_for(4s);
    check_settled_pair(net, a, b);
    auto before = a.peer(net.now, "b").child_sas[0];
    // `ip xfrm state delete` of a's inbound SA: a now drops everything b sends.
    REQUIRE(a.kernel.delete_externally(a.address, before.spi_in));
    a.kernel.read_events(
        [&](const kernel::KernelEvent& e) { a.engine->on_kernel_event(e, net.now); });
    net.run_for(2s);
    check_settled_pair(net, a, b);
    auto after = a.peer(net.now, "b").child_sas[0];
    CHECK(after.spi_in != before.spi_in);
    CHECK(a.kernel.sa_count() == 2);
    CHECK(b.kernel.sa_count() == 2);
    CHECK(b.kernel.find_sa(a.address, before.spi_in) == nullptr);
}

TEST_CASE("kernel soft expiry triggers a rekey, hard expiry a replacement") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh();
    net.start_all();
    net.run_for(4s);
    auto first = a.peer(net.now, "b").child_sas[0];
    REQUIRE(a.kernel.expire(b.address, first.spi_out, false));
    a.kernel.read_events(
        [&](const kernel::KernelEvent& e) { a.engine->on_kernel_event(e, net.now); });
    net.run_for(1s);
    check_settled_pair(net, a, b);
    auto second = a.peer(net.now, "b").child_sas[0];
    CHECK(second.spi_in != first.spi_in);
    CHECK(a.count_events(SaEvent::Kind::child_rekeyed) == 1);
    REQUIRE(b.kernel.expire(b.address, second.spi_out, true));
    b.kernel.read_events(
        [&](const kernel::KernelEvent& e) { b.engine->on_kernel_event(e, net.now); });
    net.run_for(1s);
    check_settled_pair(net, a, b);
    CHECK(a.peer(net.now, "b").child_sas[0].spi_in != second.spi_in);
}

TEST_CASE("on-demand: nothing until the kernel's ACQUIRE, then IKE and CHILD SA") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh([](Node&, ike::PeerConfig& p) { p.start = ike::StartAction::on_demand; });
    net.start_all();
    net.run_for(std::chrono::seconds(30));
    CHECK(net.delivered.empty());
    CHECK(a.peer(net.now, "b").state == "down");
    CHECK(a.kernel.policy_count() > 0);  // trap policies are in place
    kernel::AcquireEvent acq;
    acq.flow = kernel::Selector::host_to_host(a.address, b.address, 17, 40000, 53);
    acq.src = a.address;
    acq.dst = b.address;
    // The reqid of a's out policy towards b.
    const auto* policy = a.kernel.find_policy(kernel::PolicyId{
        kernel::Selector::host_to_host(a.address, b.address), kernel::Direction::out});
    REQUIRE(policy);
    acq.reqid = policy->reqid;
    acq.seq = 7;
    a.kernel.inject(kernel::KernelEvent{acq});
    a.kernel.read_events(
        [&](const kernel::KernelEvent& e) { a.engine->on_kernel_event(e, net.now); });
    net.run_for(1s);
    check_settled_pair(net, a, b);
}

TEST_CASE("childless peers keep an IKE SA without CHILD SA (RFC 6023)") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh([](Node& self, ike::PeerConfig& p) {
        p.childless = true;
        if (self.name == "b") p.start = ike::StartAction::passive;
    });
    net.start_all();
    net.run_for(2s);
    CHECK(a.peer(net.now, "b").state == "established");
    CHECK(a.peer(net.now, "b").child_sas.empty());
    CHECK(b.peer(net.now, "a").child_sas.empty());
    CHECK(a.kernel.sa_count() == 0);
    CHECK(a.kernel.larval_count() == 0);
}

TEST_CASE("a CHILD SA refused by the peer leaves the IKE SA up and is retried with back-off") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh([](Node& self, ike::PeerConfig& p) {
        if (self.name == "b") {
            p.start = ike::StartAction::passive;
            p.esp = {ike::EspProposal{.encr = {{crypto::EncrAlg::aes_cbc, 256}},
                                      .integ = {crypto::IntegAlg::hmac_sha2_256_128}}};
        }
    });
    net.start_all();
    net.run_for(2s);
    auto pa = a.peer(net.now, "b");
    CHECK(pa.state == "established");
    CHECK(pa.child_sas.empty());
    CHECK(pa.child_error.find("NO_PROPOSAL_CHOSEN") != std::string::npos);
    CHECK(a.count_events(SaEvent::Kind::child_failed) >= 1);
    CHECK(a.kernel.larval_count() == 0);
    // Retries come with growing gaps and never take the IKE SA down.
    net.run_for(std::chrono::seconds(120));
    size_t retries = count_from(net, "a", wire::ExchangeType::create_child_sa, false);
    CHECK(retries >= 2);
    CHECK(retries <= 8);
    CHECK(a.peer(net.now, "b").state == "established");
    CHECK(a.count_events(SaEvent::Kind::ike_down) == 0);
    // The operator fixes b's config: the next retry succeeds.
    for (auto& p : b.config.peers)
        p.esp = a.config.peers[0].esp;
    b.engine->reconfigure(b.config, net.now);
    net.run_for(std::chrono::seconds(300));
    check_settled_pair(net, a, b);
}

TEST_CASE("a CHILD SA deleted by the peer without a replacement shows why and comes back") {
    // What strongSwan does when it cannot install the CHILD SA it just negotiated (a kernel
    // without ESP): it keeps the IKE SA and deletes the CHILD SA. Here b's kernel hard-expires
    // it; b deletes it and its own CREATE_CHILD_SA for a replacement is lost.
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    net.full_mesh([](Node& self, ike::PeerConfig& p) {
        if (self.name == "b") p.start = ike::StartAction::passive;
    });
    net.drop = [](const Datagram& d) {
        return d.from == "b" && d.exchange == wire::ExchangeType::create_child_sa && !d.response;
    };
    net.start_all();
    net.run_for(1s);
    check_settled_pair(net, a, b);
    CHECK(a.peer(net.now, "b").child_error.empty());
    auto first = b.peer(net.now, "a").child_sas.at(0);
    REQUIRE(b.kernel.expire(b.address, first.spi_in, true));
    b.kernel.read_events(
        [&](const kernel::KernelEvent& e) { b.engine->on_kernel_event(e, net.now); });
    // HDR, SK {D(ESP, spi)} -->   (from b)   <-- HDR, SK {D(ESP, spi)}
    net.run_for(100ms);
    auto pa = a.peer(net.now, "b");
    CHECK(pa.state == "established");
    CHECK(pa.ike_sas.size() == 1);
    CHECK(pa.child_sas.empty());
    CHECK(pa.child_error == "deleted by peer");
    // a wants a CHILD SA (start = "always"): it creates one itself after a back-off, which
    // clears the reason. HDR, SK {SA, Ni, TSi, TSr} -->  <-- HDR, SK {SA, Nr, TSi, TSr}
    REQUIRE(net.run_until([&] { return a.peer(net.now, "b").child_sas.size() == 1; }, 5s));
    CHECK(a.peer(net.now, "b").child_error.empty());
    CHECK(a.peer(net.now, "b").child_sas[0].spi_out != first.spi_in);
    CHECK(count_from(net, "a", wire::ExchangeType::create_child_sa, false) == 1);
}
