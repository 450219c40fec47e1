// Pseudo-random functions of IKEv2 (HMAC-SHA1 for interop, HMAC-SHA2-256/384/512) and prf+
// (RFC 7296 2.13). The MAC algorithms are fetched from OpenSSL once per process and reused;
// each thread keeps one keyed HMAC context per hash, so a Prf is just the algorithm id (two
// bytes), cheap to copy and safe to use from several threads at once. It holds no key: keys are
// passed to every call. It is not a general MAC API; integrity transforms live in SkCipher.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>

#include "common/result.hpp"
#include "crypto/algorithms.hpp"
#include "crypto/secret.hpp"

namespace ikemesh::crypto {

class Prf {
  public:
    explicit Prf(PrfAlg alg) : alg_(alg) {}
    PrfAlg alg() const { return alg_; }
    size_t size() const { return prf_size(alg_); }

    // out must be exactly size() bytes.
    Status compute(std::span<const uint8_t> key, std::span<const uint8_t> data,
                   std::span<uint8_t> out) const;
    // The same with the data given in pieces (avoids concatenating SignedOctets and the like).
    Status compute(std::span<const uint8_t> key,
                   std::initializer_list<std::span<const uint8_t>> data,
                   std::span<uint8_t> out) const;
    Result<SecretBytes> compute(std::span<const uint8_t> key, std::span<const uint8_t> data) const;
    // prf+ (K, S) = T1 | T2 | ... truncated to `length` bytes; length <= 255 * size().
    Result<SecretBytes> prf_plus(std::span<const uint8_t> key, std::span<const uint8_t> seed,
                                 size_t length) const;
    // The same with the seed given in pieces (Ni | Nr | SPIi | SPIr without a copy).
    Result<SecretBytes> prf_plus(std::span<const uint8_t> key,
                                 std::initializer_list<std::span<const uint8_t>> seed,
                                 size_t length) const;

  private:
    PrfAlg alg_;
};

}  // namespace ikemesh::crypto
