// Exchange-test harness: several engines in one process, each with a fake kernel and a
// deterministic random source, joined by a virtual network with a virtual clock.
//
// The network delivers every datagram an engine puts in its outbox to the engine owning the
// destination address, after `latency`, unless a drop rule says otherwise. Time only moves when
// the test says so (`run_for`, `run_until`), and every timer fires at its exact deadline, so each
// test is deterministic and runs in milliseconds whatever virtual hours it covers.
#pragma once

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/key_exchange.hpp"
#include "ike/engine.hpp"
#include "ike/wire/parse.hpp"
#include "kernel/fake_kernel.hpp"
#include "kernel/routes.hpp"
#include "support/deterministic_random.hpp"

namespace ikemesh::test {

using namespace std::chrono_literals;

// Key pairs from the node's deterministic random source, so a run replays exactly.
class DeterministicKex final : public crypto::KeyExchangeFactory {
  public:
    explicit DeterministicKex(crypto::RandomSource& rng) : rng_(rng) {}
    Result<std::unique_ptr<crypto::KeyExchange>> create(crypto::DhGroup group) override {
        for (int attempt = 0; attempt < 8; ++attempt) {
            Bytes priv(group == crypto::DhGroup::curve448   ? 56
                       : group == crypto::DhGroup::ecp384   ? 48
                       : group == crypto::DhGroup::ecp521   ? 66
                       : group == crypto::DhGroup::modp2048 ? 32
                       : group == crypto::DhGroup::modp3072 ? 32
                       : group == crypto::DhGroup::modp4096 ? 32
                                                            : 32);
            rng_.fill(priv);
            if (group == crypto::DhGroup::ecp521) priv[0] &= 0x01;
            auto ke = crypto::key_exchange_from_private(group, priv);
            if (ke) return ke;
        }
        return crypto::generate_key_exchange(group);
    }

  private:
    crypto::RandomSource& rng_;
};

struct Datagram {
    std::string from, to;
    Endpoint src, dst;
    Bytes data;
    TimePoint deliver_at;
    // Parsed header fields for drop rules and assertions.
    wire::ExchangeType exchange{};
    bool response = false;
    uint32_t message_id = 0;
    bool raw = false;  // sent without IKE framing: a NAT-keepalive (RFC 3948 2.3)
};

struct Node {
    std::string name;
    IpAddress address;
    // Further addresses the network delivers to this node (its first one is `address`).
    std::vector<IpAddress> more_addresses;
    DeterministicRandom rng;
    DeterministicKex kex{rng};
    kernel::FakeKernel kernel;
    // The node's routing table: the engine's source_address asks it (only used for peers whose
    // family has no configured local address; see Network::add_wildcard).
    kernel::FakeRoutes routes;
    ike::EngineConfig config;
    std::unique_ptr<ike::Engine> engine;
    std::vector<ike::SaEvent> events;  // everything emitted so far
    size_t keepalives_received = 0;    // dropped on arrival, as the daemon and kernel do

    Node(std::string n, IpAddress a, uint64_t seed)
        : name(std::move(n)), address(a), rng(seed), kernel(static_cast<uint32_t>(seed)) {}

    ike::EngineStatus status(TimePoint now) { return engine->status(now); }
    // A reboot loses the kernel's SAs and policies too (only after the engine is gone).
    void reboot_kernel(uint32_t seed) {
        std::destroy_at(&kernel);
        std::construct_at(&kernel, seed);
        events.clear();
    }
    // The single peer's status (most tests have two nodes).
    ike::PeerStatus peer(TimePoint now, const std::string& name_of_peer) {
        for (auto& p : engine->status(now).peers) {
            if (p.name == name_of_peer) return p;
        }
        FAIL("no peer " << name_of_peer);
        return {};
    }
    bool owns(const IpAddress& a) const {
        return a == address ||
               std::find(more_addresses.begin(), more_addresses.end(), a) != more_addresses.end();
    }
    size_t count_events(ike::SaEvent::Kind kind) const {
        size_t n = 0;
        for (const auto& e : events)
            n += e.kind == kind ? 1 : 0;
        return n;
    }
};

inline const Bytes& test_psk_bytes() {
    static const Bytes psk = [] {
        std::string s = "exchange-test-pre-shared-key-0123456789";
        return Bytes(s.begin(), s.end());
    }();
    return psk;
}

inline ike::Identity fqdn_id(const std::string& name) {
    return ike::Identity{ike::IdKind::fqdn, Bytes(name.begin(), name.end()), name};
}

inline ike::PeerConfig default_peer(const std::string& name, IpAddress address) {
    ike::PeerConfig p;
    p.name = name;
    p.address = address;
    p.id = fqdn_id(name + ".mesh.test");
    p.auth = ike::AuthMethod::psk;
    p.psk = std::make_shared<const crypto::SecretBytes>(test_psk_bytes());
    p.ike = {ike::IkeProposal{.encr = {{crypto::EncrAlg::aes_gcm_16, 128}},
                              .prf = {crypto::PrfAlg::hmac_sha2_256},
                              .dh = {crypto::DhGroup::curve25519}}};
    p.esp = {ike::EspProposal{.encr = {{crypto::EncrAlg::aes_gcm_16, 128}}}};
    p.start = ike::StartAction::always;
    p.dpd_delay = 30s;
    return p;
}

// IKEMESH_TEST_LOG=debug (or info) shows the engines' logs on stderr.
inline void enable_test_logging() {
    static bool done = [] {
        if (const char* level = std::getenv("IKEMESH_TEST_LOG")) {
            auto l = spdlog::stderr_color_mt("ike");
            l->set_level(spdlog::level::from_str(level));
        }
        return true;
    }();
    (void)done;
}

class Network {
  public:
    Network() { enable_test_logging(); }

    TimePoint now{std::chrono::hours(1)};
    Duration latency = 5ms;
    // Return true to drop the datagram.
    std::function<bool(const Datagram&)> drop;
    // Changes a datagram on the wire (after the NAT, before drop rules), e.g. its ports.
    std::function<void(Datagram&)> rewrite;
    std::vector<Datagram> delivered;  // everything delivered, in order
    size_t dropped = 0;

    Node& add(const std::string& name, const std::string& address, uint64_t seed) {
        auto addr = *IpAddress::parse(address);
        nodes_.push_back(std::make_unique<Node>(name, addr, seed));
        Node& n = *nodes_.back();
        n.config.local.id = fqdn_id(name + ".mesh.test");
        n.config.local.addresses = {addr};
        n.config.settings.retransmit_timeout = 1s;
        n.config.settings.retransmit_base = 2.0;
        n.config.settings.retransmit_tries = 3;
        return n;
    }

    // A node as README configures one: no local address in its config (the wildcard `listen`
    // default), so the engine asks the node's routing table, which starts with the connected
    // route of `address` (its /24 or /64).
    Node& add_wildcard(const std::string& name, const std::string& address, uint64_t seed) {
        Node& n = add(name, address, seed);
        n.config.local.addresses.clear();
        n.routes.add(n.address, n.address.is_v4() ? 24 : 64, n.address);
        return n;
    }

    // Every node gets every other node as a peer with default_peer(), then `tweak` runs per pair.
    void full_mesh(const std::function<void(Node& self, ike::PeerConfig& peer)>& tweak = {}) {
        for (auto& a : nodes_) {
            for (auto& b : nodes_) {
                if (a == b) continue;
                ike::PeerConfig pc = default_peer(b->name, b->address);
                if (tweak) tweak(*a, pc);
                a->config.peers.push_back(pc);
            }
        }
    }

    void start(Node& n) {
        ike::EngineDeps deps{n.rng, n.kex, n.kernel,
                             [&n](const IpAddress& remote) -> std::optional<IpAddress> {
                                 auto source = n.routes.source_for(remote);
                                 return source ? *source : std::nullopt;
                             },
                             [] { return std::chrono::system_clock::now(); }};
        n.engine = std::make_unique<ike::Engine>(deps, n.config, now);
        n.engine->start(now);
        collect();
    }
    void start_all() {
        for (auto& n : nodes_)
            start(*n);
    }
    // Drops a node's engine without a word to anyone (a crash or SIGKILL).
    void crash(Node& n) {
        n.engine.reset();
        std::erase_if(in_flight_, [&](const Datagram& d) { return d.to == n.name; });
    }

    // Puts `n` behind a NAT with the public address `pub`: its datagrams leave with source
    // pub:(port + offset), and datagrams to those come back translated (a 1:1 NAT with port
    // mapping, like a cloud provider's elastic address in front of a private one). Several nodes
    // may share one public address with different offsets (a masquerading router). Datagrams to
    // a public port that maps to no node are dropped, as a NAT drops unknown mappings.
    void nat(Node& n, const std::string& pub, uint16_t offset = 40000) {
        nat_[n.name] = NatMapping{*IpAddress::parse(pub), offset};
    }
    // The NAT forgets `n`'s mapping and picks new ports (offset) for it, as after a conntrack
    // flush with random ports, or moves it to another public address.
    void rebind(Node& n, uint16_t offset, const std::string& pub = "") {
        auto& m = nat_.at(n.name);
        m.offset = offset;
        if (!pub.empty()) m.pub = *IpAddress::parse(pub);
    }
    size_t nat_dropped = 0;  // datagrams to an unknown mapping

    Node& node(const std::string& name) {
        for (auto& n : nodes_) {
            if (n->name == name) return *n;
        }
        FAIL("no node " << name);
        return *nodes_.front();
    }

    // Advances virtual time by `d`, delivering datagrams and firing timers in order.
    void run_for(Duration d) { run_until_time(now + d); }

    void run_until_time(TimePoint end) {
        for (int guard = 0; guard < 1000000; ++guard) {
            collect();
            TimePoint next = end;
            for (auto& n : nodes_) {
                if (n->engine) next = std::min(next, n->engine->next_timer());
            }
            for (const auto& d : in_flight_)
                next = std::min(next, d.deliver_at);
            if (next > end) break;
            now = std::max(now, next);
            deliver_due();
            for (auto& n : nodes_) {
                if (n->engine && n->engine->next_timer() <= now) n->engine->on_timer(now);
            }
            collect();
            // At the end: stop once nothing is due now. Datagrams still in flight past the end
            // wait for the next call (counting them here spun the loop to its guard, a million
            // rounds, whenever one was in flight at the end).
            if (next == end) {
                bool due = false;
                for (auto& n : nodes_)
                    due |= n->engine && n->engine->next_timer() <= now;
                for (const auto& d : in_flight_)
                    due |= d.deliver_at <= now;
                if (!due) break;
            }
        }
        now = std::max(now, end);
        collect();
    }

    // Runs until `pred` holds or `limit` virtual time passes; returns whether it held.
    bool run_until(const std::function<bool()>& pred, Duration limit = 60s) {
        TimePoint end = now + limit;
        while (now < end) {
            if (pred()) return true;
            run_for(10ms);
        }
        return pred();
    }

    // Moves datagrams from the engines' outboxes onto the wire and their events into the nodes.
    void collect() {
        for (auto& n : nodes_) {
            if (!n->engine) continue;
            for (auto& e : n->engine->take_events())
                n->events.push_back(std::move(e));
            for (auto& out : n->engine->take_outbox()) {
                Datagram d;
                d.from = n->name;
                d.src = out.local;
                d.dst = out.remote;
                d.data = std::move(out.data);
                d.deliver_at = now + latency;
                d.raw = out.framing == ike::OutDatagram::Framing::raw;
                if (auto h = wire::parse_header(d.data); h && !d.raw) {
                    d.exchange = h->exchange;
                    d.response = h->is_response();
                    d.message_id = h->message_id.value;
                }
                if (auto it = nat_.find(n->name); it != nat_.end()) {
                    d.src.address = it->second.pub;
                    d.src.port = static_cast<uint16_t>(d.src.port + it->second.offset);
                }
                Node* to = nullptr;
                bool natted = false;
                for (auto& m : nodes_) {
                    auto it = nat_.find(m->name);
                    if (it == nat_.end()) {
                        if (m->owns(d.dst.address)) to = m.get();
                        continue;
                    }
                    if (it->second.pub != d.dst.address) continue;
                    natted = true;
                    const int inner = d.dst.port - it->second.offset;
                    if (inner == 500 || inner == 4500) {
                        to = m.get();
                        d.dst.address = m->address;
                        d.dst.port = static_cast<uint16_t>(inner);
                    }
                }
                if (!to) {
                    nat_dropped += natted ? 1 : 0;
                    continue;
                }
                d.to = to->name;
                if (rewrite) rewrite(d);
                if (drop && drop(d)) {
                    ++dropped;
                    continue;
                }
                in_flight_.push_back(std::move(d));
            }
        }
    }

  private:
    void deliver_due() {
        std::vector<Datagram> due;
        std::erase_if(in_flight_, [&](Datagram& d) {
            if (d.deliver_at > now) return false;
            due.push_back(std::move(d));
            return true;
        });
        for (Datagram& d : due) {
            Node& to = node(d.to);
            if (!to.engine) continue;
            if (d.raw) {
                to.keepalives_received += d.data.size() == 1 && d.data[0] == 0xff ? 1 : 0;
                delivered.push_back(std::move(d));
                continue;
            }
            to.engine->on_datagram(d.data, d.dst, d.src, now);
            delivered.push_back(std::move(d));
        }
    }

    std::vector<std::unique_ptr<Node>> nodes_;
    std::vector<Datagram> in_flight_;
    struct NatMapping {
        IpAddress pub;
        uint16_t offset = 40000;
    };
    std::map<std::string, NatMapping> nat_;
};

// Asserts the invariant of a settled pair: exactly one IKE SA and one CHILD SA on both sides,
// the same SPIs, and the fake kernels holding exactly the matching SA pair with equal keys.
inline void check_settled_pair(Network& net, Node& a, Node& b) {
    auto pa = a.peer(net.now, b.name);
    auto pb = b.peer(net.now, a.name);
    REQUIRE(pa.state == "established");
    REQUIRE(pb.state == "established");
    REQUIRE(pa.ike_sas.size() == 1);
    REQUIRE(pb.ike_sas.size() == 1);
    CHECK(pa.ike_sas[0].spi_i == pb.ike_sas[0].spi_i);
    CHECK(pa.ike_sas[0].spi_r == pb.ike_sas[0].spi_r);
    CHECK(pa.ike_sas[0].initiator != pb.ike_sas[0].initiator);
    REQUIRE(pa.child_sas.size() == 1);
    REQUIRE(pb.child_sas.size() == 1);
    CHECK(pa.child_sas[0].spi_in == pb.child_sas[0].spi_out);
    CHECK(pa.child_sas[0].spi_out == pb.child_sas[0].spi_in);
    // Kernel: A's outbound SA and B's inbound SA are the same SPI with the same keys.
    const auto* a_out = a.kernel.find_sa(b.address, pa.child_sas[0].spi_out);
    const auto* b_in = b.kernel.find_sa(b.address, pb.child_sas[0].spi_in);
    REQUIRE(a_out);
    REQUIRE(b_in);
    CHECK_FALSE(b_in->larval);
    CHECK(a_out->params.encr_key.equals(b_in->params.encr_key));
    CHECK(a_out->params.integ_key.equals(b_in->params.integ_key));
    const auto* b_out = b.kernel.find_sa(a.address, pb.child_sas[0].spi_out);
    const auto* a_in = a.kernel.find_sa(a.address, pa.child_sas[0].spi_in);
    REQUIRE(b_out);
    REQUIRE(a_in);
    CHECK(b_out->params.encr_key.equals(a_in->params.encr_key));
    CHECK_FALSE(a_out->params.encr_key.equals(a_in->params.encr_key));
}

}  // namespace ikemesh::test
