#include "crypto/random.hpp"

#include <openssl/rand.h>

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

void SystemRandom::fill(std::span<uint8_t> out) {
    if (out.empty()) return;
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

}  // namespace ikemesh::crypto
