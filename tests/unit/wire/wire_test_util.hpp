// Helpers shared by the wire codec tests: hex literals with comments and a reproducible
// RandomSource. Test code only.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "crypto/random.hpp"

namespace ikemesh::wire::test {

// Hex with spaces, newlines and `#` comments to the end of a line, so golden messages can be
// written field by field as the RFC draws them.
inline Bytes hex(std::string_view text) {
    std::string clean;
    bool comment = false;
    for (char c : text) {
        if (c == '#') comment = true;
        if (c == '\n') comment = false;
        if (!comment && c != '\n') clean += c;
    }
    auto b = from_hex(clean);
    REQUIRE(b.has_value());
    return *b;
}

inline Bytes repeat(uint8_t value, size_t n) {
    return Bytes(n, value);
}

inline ByteView view(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Counts upward from a seed: every IV and padding octet is predictable, which is all a codec test
// needs (the crypto tests own real randomness).
class CountingRandom final : public crypto::RandomSource {
  public:
    explicit CountingRandom(uint8_t seed = 0) : next_(seed) {}
    void fill(std::span<uint8_t> out) override {
        for (uint8_t& b : out)
            b = next_++;
    }

  private:
    uint8_t next_;
};

}  // namespace ikemesh::wire::test
