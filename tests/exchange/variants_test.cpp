// Variants of a successful negotiation: algorithm suites, certificates, fragmentation, traffic
// narrowing, reloads that leave unchanged peers alone, and shutdown.
#include <filesystem>
#include <fstream>
#include <optional>

#include "crypto/certificate.hpp"
#include "crypto/signature.hpp"
#include "harness.hpp"

using namespace ikemesh;
using namespace ikemesh::test;
using ikemesh::ike::SaEvent;

namespace {

struct Pair {
    Network net;
    Node& a;
    Node& b;
    Pair() : a(net.add("a", "10.0.0.1", 1)), b(net.add("b", "10.0.0.2", 2)) {}
    void mesh(const std::function<void(Node&, ike::PeerConfig&)>& tweak = {}) {
        net.full_mesh([&](Node& self, ike::PeerConfig& p) {
            if (self.name == "b") p.start = ike::StartAction::passive;
            if (tweak) tweak(self, p);
        });
    }
};

std::string pki(const std::string& file) {
    return std::string(IKEMESH_SOURCE_DIR) + "/tests/vectors/pki/" + file;
}

// Private keys are committed with whatever mode git gives them: load a 0600 copy.
std::shared_ptr<const crypto::PrivateKey> load_key(const std::string& file) {
    auto dir = std::filesystem::temp_directory_path() / "ikemesh-exchange-keys";
    std::filesystem::create_directories(dir);
    auto copy = dir / file;
    std::filesystem::copy_file(pki(file), copy, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(
        copy, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto key = crypto::PrivateKey::load_file(copy.string());
    REQUIRE(key);
    return std::make_shared<const crypto::PrivateKey>(std::move(*key));
}

std::shared_ptr<const crypto::Certificate> load_cert(const std::string& file) {
    auto cert = crypto::Certificate::load_file(pki(file));
    REQUIRE(cert);
    return std::make_shared<const crypto::Certificate>(std::move(*cert));
}

std::shared_ptr<const crypto::CertStore> load_ca(const std::string& file) {
    std::vector<std::string> files{pki(file)};
    auto ca = crypto::CertStore::load_files(files);
    REQUIRE(ca);
    return std::make_shared<const crypto::CertStore>(std::move(*ca));
}

ike::LocalConfig cert_local(const ike::Identity& id, const std::string& key,
                            std::shared_ptr<const crypto::Certificate> cert,
                            std::shared_ptr<const crypto::CertStore> ca, IpAddress address) {
    ike::LocalConfig l;
    l.id = id;
    l.auth = ike::AuthMethod::cert;
    l.key = load_key(key);
    l.cert = std::move(cert);
    l.ca = std::move(ca);
    l.addresses = {address};
    return l;
}

// The identity a test certificate carries: its first DNS subjectAltName.
ike::Identity san_identity(const crypto::Certificate& cert) {
    for (const auto& san : cert.subject_alt_names()) {
        if (san.kind == crypto::SubjectAltName::Kind::dns) return fqdn_id(san.text);
    }
    FAIL("certificate without DNS name");
    return {};
}

}  // namespace

TEST_CASE("algorithm suites negotiate end to end") {
    using crypto::DhGroup;
    using crypto::EncrAlg;
    using crypto::IntegAlg;
    using crypto::PrfAlg;
    struct Suite {
        const char* name;
        ike::IkeProposal ike;
        ike::EspProposal esp;
        const char* expect_ike;
        const char* expect_esp;
    };
    const Suite suites[] = {
        {"AES-CBC+HMAC-SHA2 with MODP-3072",
         {{{EncrAlg::aes_cbc, 256}},
          {IntegAlg::hmac_sha2_256_128},
          {PrfAlg::hmac_sha2_256},
          {DhGroup::modp3072}},
         {{{EncrAlg::aes_cbc, 128}}, {IntegAlg::hmac_sha2_256_128}, {}, false},
         "aes256-sha256-prfsha256-modp3072",
         "aes128-sha256"},
        {"ChaCha20-Poly1305 with Curve448",
         {{{EncrAlg::chacha20_poly1305, 256}}, {}, {PrfAlg::hmac_sha2_512}, {DhGroup::curve448}},
         {{{EncrAlg::chacha20_poly1305, 256}}, {}, {}, true},
         "chacha20poly1305-prfsha512-x448",
         "chacha20poly1305-esn"},
        {"AES-GCM-256 with ECP-384",
         {{{EncrAlg::aes_gcm_16, 256}}, {}, {PrfAlg::hmac_sha2_384}, {DhGroup::ecp384}},
         {{{EncrAlg::aes_gcm_16, 256}}, {}, {}, false},
         "aes256gcm16-prfsha384-ecp384",
         "aes256gcm16"},
    };
    for (const Suite& s : suites) {
        DYNAMIC_SECTION(s.name) {
            Pair p;
            p.mesh([&](Node&, ike::PeerConfig& peer) {
                peer.ike = {s.ike};
                peer.esp = {s.esp};
            });
            p.net.start_all();
            p.net.run_for(1s);
            check_settled_pair(p.net, p.a, p.b);
            auto pa = p.a.peer(p.net.now, "b");
            CHECK(pa.ike_sas[0].proposal == s.expect_ike);
            CHECK(pa.child_sas[0].proposal == s.expect_esp);
            // Rekeys work with every suite, including the IKE SA's new key schedule.
            REQUIRE(p.a.engine->rekey("b", true, p.net.now));
            p.net.run_for(1s);
            REQUIRE(p.b.engine->rekey("a", false, p.net.now));
            p.net.run_for(1s);
            check_settled_pair(p.net, p.a, p.b);
        }
    }
}

TEST_CASE("PFS: CHILD SA rekeys with a fresh key exchange when the ESP proposal has a group") {
    Pair p;
    p.mesh([](Node&, ike::PeerConfig& peer) { peer.esp[0].dh = {crypto::DhGroup::curve25519}; });
    p.net.start_all();
    p.net.run_for(1s);
    check_settled_pair(p.net, p.a, p.b);
    CHECK(p.a.peer(p.net.now, "b").child_sas[0].proposal == "aes128gcm16");  // no KE in IKE_AUTH
    REQUIRE(p.a.engine->rekey("b", false, p.net.now));
    p.net.run_for(1s);
    check_settled_pair(p.net, p.a, p.b);
    CHECK(p.a.peer(p.net.now, "b").child_sas[0].proposal == "aes128gcm16-x25519");
}

TEST_CASE("certificates: ECDSA signatures (RFC 7427) with identities bound to the certificate") {
    Pair p;
    auto ca = load_ca("ca.pem");
    auto cert_a = load_cert("node1.pem");
    auto cert_b = load_cert("node2.pem");
    auto id_a = san_identity(*cert_a);
    auto id_b = san_identity(*cert_b);
    p.a.config.local = cert_local(id_a, "node1-key.pem", cert_a, ca, p.a.address);
    p.b.config.local = cert_local(id_b, "node2-key.pem", cert_b, ca, p.b.address);
    p.mesh([&](Node& self, ike::PeerConfig& peer) {
        peer.auth = ike::AuthMethod::cert;
        peer.psk.reset();
        peer.id = self.name == "a" ? id_b : id_a;
    });
    SECTION("both valid") {
        p.net.start_all();
        p.net.run_for(1s);
        check_settled_pair(p.net, p.a, p.b);
    }
    SECTION("a certificate from another CA is refused") {
        p.b.config.local.ca = load_ca("other-ca.pem");
        p.net.start_all();
        p.net.run_for(1s);
        CHECK(p.b.peer(p.net.now, "a").ike_sas.empty());
        CHECK(p.a.peer(p.net.now, "b").ike_sas.empty());
        CHECK(p.b.peer(p.net.now, "a").last_error.find("certificate") != std::string::npos);
    }
    SECTION("a valid certificate for another identity is refused") {
        for (auto& peer : p.b.config.peers)
            peer.id = fqdn_id("someone-else.mesh.test");
        p.a.config.local.id = fqdn_id("someone-else.mesh.test");
        p.net.start_all();
        p.net.run_for(5s);  // a no longer sorts first: it waits the follower delay
        CHECK(p.b.peer(p.net.now, "a").ike_sas.empty());
        INFO(p.b.peer(p.net.now, "a").last_error);
        CHECK(p.b.peer(p.net.now, "a").last_error.find("does not carry") != std::string::npos);
    }
}

TEST_CASE("IKE fragmentation (RFC 7383) when IKE_AUTH exceeds the fragment size") {
    Pair p;
    auto ca = load_ca("ca.pem");
    auto cert_a = load_cert("node1.pem");
    auto cert_b = load_cert("node2.pem");
    p.a.config.local = cert_local(san_identity(*cert_a), "node1-key.pem", cert_a, ca, p.a.address);
    p.b.config.local = cert_local(san_identity(*cert_b), "node2-key.pem", cert_b, ca, p.b.address);
    p.a.config.settings.fragment_size = 400;
    p.b.config.settings.fragment_size = 400;
    p.mesh([&](Node& self, ike::PeerConfig& peer) {
        peer.auth = ike::AuthMethod::cert;
        peer.psk.reset();
        peer.id = self.name == "a" ? p.b.config.local.id : p.a.config.local.id;
    });
    bool lost_one = false;
    p.net.drop = [&](const Datagram& d) {
        // Lose the second fragment of the first IKE_AUTH request once.
        if (!lost_one && d.exchange == wire::ExchangeType::ike_auth && !d.response &&
            d.data.size() > 28 && d.data[16] == static_cast<uint8_t>(wire::PayloadType::skf) &&
            d.data[33] == 2) {
            lost_one = true;
            return true;
        }
        return false;
    };
    p.net.start_all();
    p.net.run_for(5s);
    check_settled_pair(p.net, p.a, p.b);
    size_t fragments = 0, largest = 0;
    for (const auto& d : p.net.delivered) {
        if (d.exchange != wire::ExchangeType::ike_auth) continue;
        largest = std::max(largest, d.data.size());
        fragments += d.data[16] == static_cast<uint8_t>(wire::PayloadType::skf);
    }
    CHECK(lost_one);
    CHECK(fragments >= 4);
    CHECK(largest <= 400 - 28);
}

TEST_CASE("traffic narrowing: a responder narrows to its own protocol and port") {
    Pair p;
    p.mesh([](Node& self, ike::PeerConfig& peer) {
        if (self.name == "b") peer.traffic = {ike::TrafficSpec{6, 0}};  // tcp, any port
        if (self.name == "a") peer.traffic = {};                        // all traffic
    });
    p.net.start_all();
    p.net.run_for(1s);
    check_settled_pair(p.net, p.a, p.b);
    SECTION("the CHILD SA selectors carry only TCP") {
        const auto* sa =
            p.a.kernel.find_sa(p.b.address, p.a.peer(p.net.now, "b").child_sas[0].spi_out);
        REQUIRE(sa);
        REQUIRE(sa->params.selector);
        CHECK(sa->params.selector->protocol == 6);
    }
}

TEST_CASE("traffic selectors that cannot be narrowed give TS_UNACCEPTABLE, not a tunnel") {
    Pair p;
    p.mesh([](Node& self, ike::PeerConfig& peer) {
        peer.traffic = {ike::TrafficSpec{static_cast<uint8_t>(self.name == "a" ? 6 : 17), 0}};
    });
    p.net.start_all();
    p.net.run_for(1s);
    auto pa = p.a.peer(p.net.now, "b");
    CHECK(pa.state == "established");
    CHECK(pa.child_sas.empty());
    CHECK(pa.child_error.find("TS_UNACCEPTABLE") != std::string::npos);
}

TEST_CASE("reload: unchanged peers keep their SAs, changed ones are re-established") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    net.add("b", "10.0.0.2", 2);
    net.add("c", "10.0.0.3", 3);
    net.add("d", "10.0.0.4", 4);
    net.full_mesh();
    net.start_all();
    net.run_for(10s);
    auto before_b = a.peer(net.now, "b");
    auto before_c = a.peer(net.now, "c");
    REQUIRE(before_b.state == "established");
    REQUIRE(before_c.state == "established");
    // New config for a: b unchanged, c with another dpd_delay, d removed, e added.
    ike::EngineConfig next = a.config;
    std::erase_if(next.peers, [](const ike::PeerConfig& p) { return p.name == "d"; });
    for (auto& p : next.peers) {
        if (p.name == "c") p.dpd_delay = std::chrono::seconds(77);
    }
    Node& e = net.add("e", "10.0.0.5", 5);
    next.peers.push_back(default_peer("e", e.address));
    e.config.peers.push_back(default_peer("a", a.address));
    net.start(e);
    auto calls_before = a.kernel.calls().size();
    a.engine->reconfigure(next, net.now);
    net.run_for(10s);
    auto after_b = a.peer(net.now, "b");
    auto after_c = a.peer(net.now, "c");
    // Same SPIs for the untouched peer, and no kernel call concerned it.
    CHECK(after_b.ike_sas[0].spi_i == before_b.ike_sas[0].spi_i);
    CHECK(after_b.child_sas[0].spi_in == before_b.child_sas[0].spi_in);
    CHECK(after_b.child_sas[0].spi_out == before_b.child_sas[0].spi_out);
    using Verb = kernel::FakeKernel::Verb;
    for (size_t i = calls_before; i < a.kernel.calls().size(); ++i) {
        const auto& call = a.kernel.calls()[i];
        if (call.verb == Verb::query_sa || call.verb == Verb::list_owned) continue;  // read-only
        CHECK(call.dst != net.node("b").address);
        CHECK(call.src != net.node("b").address);
    }
    CHECK(after_c.state == "established");
    CHECK(after_c.child_sas[0].spi_in != before_c.child_sas[0].spi_in);
    auto st = a.engine->status(net.now);
    bool has_d = false, has_e = false;
    for (const auto& p : st.peers) {
        has_d |= p.name == "d";
        has_e |= p.name == "e" && p.state == "established";
    }
    CHECK_FALSE(has_d);
    CHECK(has_e);
    // d learnt of the removal through a Delete, not a timeout.
    CHECK(net.node("d").peer(net.now, "a").ike_sas.empty());
}

TEST_CASE("shutdown deletes every SA politely and removes all kernel state it installed") {
    Pair p;
    p.mesh();
    p.net.start_all();
    p.net.run_for(1s);
    check_settled_pair(p.net, p.a, p.b);
    p.a.engine->shutdown(p.net.now);
    CHECK(p.a.kernel.sa_count() == 0);
    CHECK(p.a.kernel.larval_count() == 0);
    CHECK(p.a.kernel.policy_count() == 0);
    p.net.run_for(1s);
    // b heard the Delete and removed its side at once.
    CHECK(p.b.peer(p.net.now, "a").ike_sas.empty());
    CHECK(p.b.kernel.sa_count() == 0);
}

TEST_CASE("NAT traversal: detection, the float to the NAT-T port and UDP-encapsulated ESP") {
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);  // behind a NAT, public 198.51.100.1
    Node& b = net.add("b", "10.0.0.2", 2);
    net.nat(a, "198.51.100.1");
    a.config.peers.push_back(default_peer("b", b.address));
    ike::PeerConfig to_a = default_peer("a", *IpAddress::parse("198.51.100.1"));
    to_a.start = ike::StartAction::passive;
    b.config.peers.push_back(to_a);
    net.start_all();
    // HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP) -->
    //   <-- HDR, SAr1, KEr, Nr, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)
    // (hashes differ: a NAT) then IKE_AUTH and all else between ports 4500.
    net.run_for(2s);
    auto pa = a.peer(net.now, "b");
    auto pb = b.peer(net.now, "a");
    REQUIRE(pa.state == "established");
    REQUIRE(pb.state == "established");
    CHECK(pa.ike_sas[0].nat_detected);
    CHECK(pb.ike_sas[0].nat_detected);
    CHECK(pa.ike_sas[0].local.port == 4500);
    CHECK(pa.ike_sas[0].remote.port == 4500);
    CHECK(pb.ike_sas[0].remote.port == 44500);  // the NAT's mapping of a's port 4500
    for (const auto& d : net.delivered) {
        if (d.exchange != wire::ExchangeType::ike_sa_init) CHECK(d.dst.port == 4500);
    }
    REQUIRE(pa.child_sas.size() == 1);
    REQUIRE(pb.child_sas.size() == 1);
    const auto* a_out = a.kernel.find_sa(b.address, pa.child_sas[0].spi_out);
    const auto* b_out =
        b.kernel.find_sa(*IpAddress::parse("198.51.100.1"), pb.child_sas[0].spi_out);
    REQUIRE(a_out);
    REQUIRE(b_out);
    REQUIRE(a_out->params.encap);
    REQUIRE(b_out->params.encap);
    CHECK(a_out->params.encap->sport == 4500);
    CHECK(b_out->params.encap->dport == 44500);
    // Liveness and rekeys keep working through the NAT.
    REQUIRE(b.engine->rekey("a", false, net.now));
    net.run_for(2s);
    CHECK(a.peer(net.now, "b").child_sas.size() == 1);
    CHECK(a.peer(net.now, "b").child_sas[0].spi_in != pa.child_sas[0].spi_in);
}

TEST_CASE("a peer that floats to the NAT-T port without a NAT gets plain ESP, and IKE follows it") {
    // strongSwan moves IKE to port 4500 after IKE_SA_INIT even when the NAT_DETECTION hashes
    // match (RFC 7296 2.23 allows it) and then sends and expects ESP without UDP encapsulation.
    // Here a's datagrams after IKE_SA_INIT are sent from and to port 4500, as charon's would be.
    Network net;
    Node& a = net.add("a", "10.0.0.1", 1);
    Node& b = net.add("b", "10.0.0.2", 2);
    a.config.peers.push_back(default_peer("b", b.address));
    ike::PeerConfig to_a = default_peer("a", a.address);
    to_a.start = ike::StartAction::passive;
    b.config.peers.push_back(to_a);
    net.rewrite = [](Datagram& d) {
        if (d.from == "a" && d.exchange != wire::ExchangeType::ike_sa_init) {
            d.src.port = 4500;
            d.dst.port = 4500;
        }
    };
    net.start_all();
    net.run_for(2s);
    auto pb = b.peer(net.now, "a");
    REQUIRE(pb.state == "established");
    CHECK_FALSE(pb.ike_sas[0].nat_detected);
    CHECK(pb.ike_sas[0].local.port == 4500);
    CHECK(pb.ike_sas[0].remote.port == 4500);  // b's own requests go where a is now
    REQUIRE(pb.child_sas.size() == 1);
    const auto* b_out = b.kernel.find_sa(a.address, pb.child_sas[0].spi_out);
    const auto* b_in = b.kernel.find_sa(b.address, pb.child_sas[0].spi_in);
    REQUIRE(b_out);
    REQUIRE(b_in);
    CHECK_FALSE(b_out->params.encap);  // plain ESP: no NAT between us
    CHECK_FALSE(b_in->params.encap);
    // A CHILD rekey started by b reaches a on its new port and keeps plain ESP.
    REQUIRE(b.engine->rekey("a", false, net.now));
    net.run_for(2s);
    pb = b.peer(net.now, "a");
    REQUIRE(pb.child_sas.size() == 1);
    const auto* b_out2 = b.kernel.find_sa(a.address, pb.child_sas[0].spi_out);
    REQUIRE(b_out2);
    CHECK_FALSE(b_out2->params.encap);
    bool b_sent_to_4500 = false;
    for (const auto& d : net.delivered) {
        if (d.from == "b" && !d.response) b_sent_to_4500 = b_sent_to_4500 || d.dst.port == 4500;
    }
    CHECK(b_sent_to_4500);
}

TEST_CASE("an initiator that moves to the NAT-T port without a NAT is answered there") {
    // strongSwan sends IKE_AUTH from port 4500 whenever both sides announced NAT detection, NAT
    // or not (RFC 7296 2.23 allows it). The response must go back to that port (2.11) with the
    // non-ESP marker, and so must everything the responder sends later.
    Pair p;
    p.mesh([](Node&, ike::PeerConfig& pc) { pc.childless = true; });
    std::optional<Datagram> auth;
    p.net.drop = [&](const Datagram& d) {
        if (d.from != "a" || d.exchange != wire::ExchangeType::ike_auth || d.response || auth)
            return false;
        auth = d;
        return true;
    };
    p.net.start_all();
    // HDR, SAi1, KEi, Ni, N(NAT_DETECTION_*) -->  <-- HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*)
    p.net.run_for(100ms);
    REQUIRE(auth);
    CHECK(auth->dst.port == 500);
    // HDR, SK {IDi, AUTH} --> as if a had floated: from a:4500 to b:4500.
    p.b.engine->on_datagram(auth->data, Endpoint{p.b.address, 4500}, Endpoint{p.a.address, 4500},
                            p.net.now);
    p.net.collect();
    p.net.run_for(100ms);  // well before a's first retransmission (1 s)
    auto pb = p.b.peer(p.net.now, "a");
    REQUIRE(pb.state == "established");
    CHECK(pb.ike_sas[0].local.port == 4500);
    CHECK(pb.ike_sas[0].remote.port == 4500);
    CHECK_FALSE(pb.ike_sas[0].nat_detected);
    //   <-- HDR, SK {IDr, AUTH}: from b:4500 to a:4500, not to a:500.
    size_t responses = 0;
    for (const auto& d : p.net.delivered) {
        if (d.from == "b" && d.exchange == wire::ExchangeType::ike_auth) {
            ++responses;
            CHECK(d.src.port == 4500);
            CHECK(d.dst.port == 4500);
        }
    }
    CHECK(responses == 1);
    CHECK(p.a.peer(p.net.now, "b").state == "established");
    // A later request from b (an IKE SA rekey) goes to a's NAT-T port too.
    REQUIRE(p.b.engine->rekey("a", true, p.net.now));
    p.net.run_for(1s);
    bool saw = false;
    for (const auto& d : p.net.delivered) {
        if (d.from == "b" && d.exchange == wire::ExchangeType::create_child_sa && !d.response) {
            saw = true;
            CHECK(d.dst.port == 4500);
        }
    }
    CHECK(saw);
}
