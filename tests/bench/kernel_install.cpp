// Install rate of a 1,000-peer mesh node's kernel state through XfrmKernel, against `ip -batch`
// doing the same, in the same private network namespace. Per peer: an outbound and an inbound
// ESP transport SA (AES-GCM-16-128, replay window 32) and an out and an in policy. On a kernel
// without ESP (the development hosts) only the policies are installed, and the benchmark names
// say so; in the QEMU guest the SAs are included.
//
// Needs root: main() moves the whole process into a new network namespace first, so nothing
// touches the host's SAD/SPD (and `ip xfrm ... flush` between `ip -batch` rounds only flushes
// that namespace). Run: build/tests/bench/bench_kernel_install [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "kernel/xfrm_kernel.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;

namespace {

constexpr size_t kPeers = 1000;
bool g_with_sas = false;

IpAddress local_address() {
    return IpAddress::v4({10, 0, 0, 1});
}

IpAddress peer_address(size_t i) {
    return IpAddress::v4({10, 1, static_cast<uint8_t>(i / 250), static_cast<uint8_t>(i % 250 + 1)});
}

uint32_t out_spi(size_t i) {
    return 0xc1000000u + static_cast<uint32_t>(i);
}
uint32_t in_spi(size_t i) {
    return 0xc2000000u + static_cast<uint32_t>(i);
}

// The same 20 bytes for every SA keep the comparison about installing, not about key handling.
const Bytes kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

SaParams sa(const IpAddress& src, const IpAddress& dst, uint32_t spi, uint32_t reqid) {
    SaParams p;
    p.src = src;
    p.dst = dst;
    p.spi = EspSpi{spi};
    p.reqid = ReqId{reqid};
    p.encr = {crypto::EncrAlg::aes_gcm_16, 128};
    p.encr_key = crypto::SecretBytes(kKey);
    p.replay_window = 32;
    return p;
}

std::vector<KernelOp> mesh_ops() {
    std::vector<KernelOp> ops;
    for (size_t i = 0; i < kPeers; ++i) {
        const auto peer = peer_address(i);
        const auto reqid = static_cast<uint32_t>(i + 1);
        if (g_with_sas) {
            ops.emplace_back(AddSa{sa(local_address(), peer, out_spi(i), reqid)});
            ops.emplace_back(AddSa{sa(peer, local_address(), in_spi(i), reqid)});
        }
        for (auto& p : transport_policies(local_address(), peer, ReqId{reqid})) {
            ops.emplace_back(AddPolicy{p});
        }
    }
    return ops;
}

std::string hex_key() {
    std::string s = "0x";
    char b[3];
    for (uint8_t v : kKey) {
        std::snprintf(b, sizeof b, "%02x", v);
        s += b;
    }
    return s;
}

// The equivalent `ip -batch` file: one line per SA and policy.
std::string write_ip_batch() {
    const std::string path = "/tmp/ikemesh_bench_ip_batch." + std::to_string(::getpid());
    std::ofstream f(path);
    const std::string local = local_address().to_string();
    const std::string key = hex_key();
    char spi[16];
    for (size_t i = 0; i < kPeers; ++i) {
        const std::string peer = peer_address(i).to_string();
        const std::string reqid = std::to_string(i + 1);
        if (g_with_sas) {
            std::snprintf(spi, sizeof spi, "0x%08x", out_spi(i));
            f << "xfrm state add src " << local << " dst " << peer << " proto esp spi " << spi
              << " reqid " << reqid << " mode transport replay-window 32 aead 'rfc4106(gcm(aes))' "
              << key << " 128\n";
            std::snprintf(spi, sizeof spi, "0x%08x", in_spi(i));
            f << "xfrm state add src " << peer << " dst " << local << " proto esp spi " << spi
              << " reqid " << reqid << " mode transport replay-window 32 aead 'rfc4106(gcm(aes))' "
              << key << " 128\n";
        }
        f << "xfrm policy add src " << local << "/32 dst " << peer << "/32 dir out priority "
          << kPriorityIpsec << " tmpl src " << local << " dst " << peer << " proto esp reqid "
          << reqid << " mode transport\n";
        f << "xfrm policy add src " << peer << "/32 dst " << local << "/32 dir in priority "
          << kPriorityIpsec << " tmpl src " << peer << " dst " << local << " proto esp reqid "
          << reqid << " mode transport\n";
    }
    return path;
}

std::unique_ptr<XfrmKernel> open_kernel_or_die() {
    auto k = XfrmKernel::open();
    if (!k) {
        std::fprintf(stderr, "XfrmKernel::open: %s\n", k.error().message().c_str());
        std::exit(1);
    }
    return std::move(*k);
}

void report(benchmark::State& state) {
    state.counters["peers/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kPeers),
                                                   benchmark::Counter::kIsRate);
    state.SetLabel(g_with_sas ? "SA pairs + policies" : "policies only (no ESP in this kernel)");
}

void BM_XfrmKernelBatched(benchmark::State& state) {
    auto k = open_kernel_or_die();
    for (auto _ : state) {
        state.PauseTiming();
        auto ops = mesh_ops();
        state.ResumeTiming();
        auto results = k->submit(ops);
        state.PauseTiming();
        for (const auto& r : results) {
            if (!r) {
                state.SkipWithError(r.error().message().c_str());
                break;
            }
        }
        (void)k->remove_owned();
        ops.clear();
        state.ResumeTiming();
    }
    report(state);
}

void BM_XfrmKernelOneByOne(benchmark::State& state) {
    auto k = open_kernel_or_die();
    for (auto _ : state) {
        state.PauseTiming();
        auto ops = mesh_ops();
        state.ResumeTiming();
        for (const auto& op : ops) {
            Status s = std::holds_alternative<AddSa>(op)
                           ? k->add_sa(std::get<AddSa>(op).params)
                           : k->add_policy(std::get<AddPolicy>(op).params);
            if (!s) {
                state.SkipWithError(s.error().message().c_str());
                break;
            }
        }
        state.PauseTiming();
        (void)k->remove_owned();
        state.ResumeTiming();
    }
    report(state);
}

void BM_IpBatch(benchmark::State& state) {
    const std::string file = write_ip_batch();
    const std::string cmd = "ip -batch " + file;
    for (auto _ : state) {
        if (std::system(cmd.c_str()) != 0) {
            state.SkipWithError("ip -batch failed");
            break;
        }
        state.PauseTiming();
        // Our own namespace: flushing it touches nothing of anyone else's.
        (void)std::system("ip xfrm policy flush; ip xfrm state flush");
        state.ResumeTiming();
    }
    std::remove(file.c_str());
    report(state);
}

BENCHMARK(BM_XfrmKernelBatched)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_XfrmKernelOneByOne)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_IpBatch)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
    if (::unshare(CLONE_NEWNET) != 0) {
        std::perror("unshare(CLONE_NEWNET) (the benchmark needs root)");
        return 1;
    }
    if (std::system("ip link set lo up") != 0) return 1;
    {
        auto k = open_kernel_or_die();
        auto probe = sa(local_address(), peer_address(0), 0xc0000001, 1);
        if (auto s = k->add_sa(probe)) {
            g_with_sas = true;
            (void)k->delete_sa(probe.dst, probe.spi);
        } else {
            std::fprintf(stderr, "note: %s: benchmarking policies only\n",
                         s.error().message().c_str());
        }
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
