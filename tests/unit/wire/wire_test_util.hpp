// Helpers shared by the wire codec tests: hex literals with comments and a reproducible
// RandomSource. Test code only.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <map>
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

// Hands out `prefix` first (a known IV), then counts like CountingRandom.
class ScriptedRandom final : public crypto::RandomSource {
  public:
    explicit ScriptedRandom(Bytes prefix) : prefix_(std::move(prefix)) {}
    void fill(std::span<uint8_t> out) override {
        for (uint8_t& b : out)
            b = pos_ < prefix_.size() ? prefix_[pos_++] : counter_++;
    }

  private:
    Bytes prefix_;
    size_t pos_ = 0;
    uint8_t counter_ = 0;
};

// Reads `key = value` lines from tests/vectors/<relative>; `#` starts a comment. Values may hold
// spaces (hex split for readability).
inline std::map<std::string, std::string> read_vector_file(const std::string& relative) {
    std::ifstream in(std::string(IKEMESH_SOURCE_DIR) + "/tests/vectors/" + relative);
    REQUIRE(in.good());
    std::map<std::string, std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find(" = ");
        if (eq == std::string::npos) continue;
        out[line.substr(0, eq)] = line.substr(eq + 3);
    }
    return out;
}

}  // namespace ikemesh::wire::test
