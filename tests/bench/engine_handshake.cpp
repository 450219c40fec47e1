// The responder engine alone, in process: how many IKE SAs (PSK, X25519, AES-GCM-16, childless)
// per second it can set up on one core, and how much heap each established IKE SA costs. The
// initiator is tests/bench/bench_initiator.hpp; only the time spent inside the responder engine
// is counted (manual timing), so the figure is comparable with the crypto bound of testing.md.
//
//   build/tests/bench/bench_engine_handshake --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>

#include "bench_initiator.hpp"
#include "crypto/random.hpp"
#include "ike/engine.hpp"
#include "kernel/fake_kernel.hpp"

using namespace ikemesh;

namespace {

const std::string kPsk = "benchmark-pre-shared-key-0123456789abcdef";

ike::EngineConfig responder_config() {
    ike::EngineConfig c;
    c.local.id = {ike::IdKind::fqdn, Bytes{'r', '.', 'b', 'e', 'n', 'c', 'h'}, "r.bench"};
    c.local.addresses = {*IpAddress::parse("127.0.0.1")};
    c.settings.cookie_threshold = 1u << 30;
    ike::PeerConfig p;
    p.name = "client";
    p.address = *IpAddress::parse("127.0.0.2");
    std::string id = "client.bench";
    p.id = {ike::IdKind::fqdn, Bytes(id.begin(), id.end()), id};
    p.psk = std::make_shared<const crypto::SecretBytes>(Bytes(kPsk.begin(), kPsk.end()));
    p.ike = {ike::IkeProposal{.encr = {{crypto::EncrAlg::aes_gcm_16, 128}},
                              .prf = {crypto::PrfAlg::hmac_sha2_256},
                              .dh = {crypto::DhGroup::curve25519}}};
    p.esp = {ike::EspProposal{.encr = {{crypto::EncrAlg::aes_gcm_16, 128}}}};
    p.start = ike::StartAction::passive;
    p.dpd_delay = std::chrono::seconds(0);
    c.peers.push_back(p);
    return c;
}

size_t heap_in_use() {
    return mallinfo2().uordblks;
}

void BM_ResponderHandshake(benchmark::State& state) {
    crypto::SystemRandom rng;
    crypto::SystemKeyExchangeFactory kex;
    kernel::FakeKernel kernel;
    ike::EngineDeps deps{rng, kex, kernel, {}, [] { return std::chrono::system_clock::now(); }};
    TimePoint now{std::chrono::hours(1)};
    ike::Engine responder(deps, responder_config(), now);
    responder.start(now);
    bench::BenchInitiator initiator({"client.bench", "r.bench", Bytes(kPsk.begin(), kPsk.end())});
    const Endpoint local{*IpAddress::parse("127.0.0.1"), 500};
    const Endpoint remote{*IpAddress::parse("127.0.0.2"), 500};
    const size_t heap_before = heap_in_use();
    uint64_t n = 0, failures = 0;
    for (auto _ : state) {
        Bytes request = initiator.start(++n);
        auto t0 = std::chrono::steady_clock::now();
        responder.on_datagram(request, local, remote, now);
        auto out = responder.take_outbox();
        auto t1 = std::chrono::steady_clock::now();
        auto step = initiator.on_datagram(out.at(0).data);
        auto t2 = std::chrono::steady_clock::now();
        responder.on_datagram(*step.send, local, remote, now);
        auto out2 = responder.take_outbox();
        auto t3 = std::chrono::steady_clock::now();
        responder.take_events();
        auto done = initiator.on_datagram(out2.at(0).data);
        failures += done.done ? 0 : 1;
        state.SetIterationTime(std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count());
    }
    const size_t heap_after = heap_in_use();
    state.counters["handshakes_per_s"] =
        benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
    state.counters["heap_bytes_per_ike_sa"] =
        static_cast<double>(heap_after - heap_before) / static_cast<double>(n);
    state.counters["failures"] = static_cast<double>(failures);
    state.counters["established"] = static_cast<double>(responder.counters().handshakes_completed);
}
BENCHMARK(BM_ResponderHandshake)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
