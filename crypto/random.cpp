#include "crypto/random.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace ikemesh::crypto {

uint32_t RandomSource::next_u32() {
    uint8_t b[4];
    fill(b);
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

uint64_t RandomSource::next_u64() {
    uint64_t hi = next_u32();
    return hi << 32 | next_u32();
}

uint64_t RandomSource::uniform(uint64_t bound) {
    if (bound <= 1) return 0;
    // Reject the values below 2^64 mod bound so every residue is equally likely; at most half
    // of the range is rejected, so the expected number of draws is below two.
    const uint64_t threshold = (std::numeric_limits<uint64_t>::max() - bound + 1) % bound;
    for (;;) {
        uint64_t v = next_u64();
        if (v >= threshold) return v % bound;
    }
}

namespace {

void drbg(std::span<uint8_t> out) {
    // RAND_bytes takes an int length; nonces, SPIs and IVs are far below that, but be exact.
    while (!out.empty()) {
        const size_t n = std::min<size_t>(out.size(), 1u << 30);
        if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
            std::fprintf(stderr, "ikemesh: OpenSSL DRBG failure, stopping\n");
            std::abort();
        }
        out = out.subspan(n);
    }
}

// Bumped in every child after fork(): a block filled before the fork is then thrown away.
std::atomic<unsigned> g_fork_generation{0};

void on_fork_child() {
    g_fork_generation.fetch_add(1, std::memory_order_relaxed);
}

struct Block {
    static constexpr size_t kSize = 512;
    std::array<uint8_t, kSize> bytes{};
    size_t used = kSize;  // bytes[used..] are unserved DRBG output
    unsigned generation = 0;

    Block() {
        static const int registered = pthread_atfork(nullptr, nullptr, on_fork_child);
        (void)registered;
    }
    ~Block() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

    void serve(std::span<uint8_t> out) {
        const unsigned now = g_fork_generation.load(std::memory_order_relaxed);
        if (generation != now || kSize - used < out.size()) {
            drbg(bytes);
            used = 0;
            generation = now;
        }
        std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(used), out.size(), out.begin());
        OPENSSL_cleanse(bytes.data() + used, out.size());
        used += out.size();
    }
};

}  // namespace

void SystemRandom::fill(std::span<uint8_t> out) {
    if (out.empty()) return;
    // Requests over 64 octets go to the DRBG directly, so that the block always serves several
    // small ones (an IKE SA draws about 70 octets in all: nonce, SPI, IVs, jitter) per refill.
    if (out.size() > Block::kSize / 8) {
        drbg(out);
        return;
    }
    thread_local Block block;
    block.serve(out);
}

}  // namespace ikemesh::crypto
