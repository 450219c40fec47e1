// Randomness as an injected dependency: the engine draws SPIs, nonces, IVs and jitter from a
// RandomSource it is given, so exchange tests can run with a deterministic one.
#pragma once

#include <cstdint>
#include <span>

namespace ikemesh::crypto {

class RandomSource {
  public:
    virtual ~RandomSource() = default;
    // Fills `out` with unpredictable bytes (or, in tests, with a reproducible sequence).
    virtual void fill(std::span<uint8_t> out) = 0;

    uint32_t next_u32();
    uint64_t next_u64();
    // Uniform in [0, bound) for bound > 0, without modulo bias.
    uint64_t uniform(uint64_t bound);
};

// OpenSSL's DRBG (RAND_bytes). Aborts the process if the DRBG fails: continuing without
// randomness would be worse than stopping.
class SystemRandom final : public RandomSource {
  public:
    void fill(std::span<uint8_t> out) override;
};

}  // namespace ikemesh::crypto
