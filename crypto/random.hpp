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
//
// Small requests (SPIs, nonces, jitter: several per IKE SA) are served from a per-thread block of
// DRBG output drawn 512 octets at a time, because every RAND_bytes call costs OpenSSL 3.0 a lock,
// a fork check (getpid) and a DRBG round, about 0.65 us, seven times per IKE SA; served octets
// are wiped from the block, and a fork discards it (the child must not repeat the parent's
// octets). Private keys do not come from here (they use RAND_priv_bytes directly).
class SystemRandom final : public RandomSource {
  public:
    void fill(std::span<uint8_t> out) override;
};

}  // namespace ikemesh::crypto
