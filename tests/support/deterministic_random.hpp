// A reproducible RandomSource for tests: SplitMix64 seeded by the test, so a failing exchange test
// replays the same SPIs, nonces and jitter every time. Not for anything but tests.
#pragma once

#include <cstdint>
#include <span>

#include "crypto/random.hpp"

namespace ikemesh::test {

class DeterministicRandom final : public crypto::RandomSource {
  public:
    explicit DeterministicRandom(uint64_t seed = 1) : state_(seed) {}

    void fill(std::span<uint8_t> out) override {
        for (size_t i = 0; i < out.size(); i += 8) {
            uint64_t v = next();
            for (size_t j = 0; j < 8 && i + j < out.size(); ++j) {
                out[i + j] = static_cast<uint8_t>(v >> (8 * j));
            }
        }
    }

  private:
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

    uint64_t state_;
};

}  // namespace ikemesh::test
