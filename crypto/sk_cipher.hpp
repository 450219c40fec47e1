// Protection of the Encrypted (SK) and Encrypted Fragment (SKF) payloads: one direction's keys.
//
// Two families behind one interface:
//  - AEAD (RFC 5282 for AES-GCM-16, RFC 7634 for ChaCha20-Poly1305): the key carries a 4-byte
//    salt at its end; nonce = salt || IV (8 bytes); `aad` is authenticated only.
//  - AES-CBC with an HMAC-SHA2 integrity transform (RFC 7296 3.14, RFC 4868): the ICV is the
//    truncated HMAC over aad || iv || ciphertext.
// In both cases `aad` is the message from the first octet of the IKE header to the last octet of
// the SK/SKF payload header (the IV not included), which is exactly what both RFCs authenticate.
// The caller (the wire codec) lays out IV, padding and pad-length; this class only transforms.
// It holds only key bytes; OpenSSL contexts are per thread and reused, keeping each IKE SA small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/result.hpp"
#include "crypto/algorithms.hpp"
#include "crypto/secret.hpp"

namespace ikemesh::crypto {

class SkCipher {
  public:
    // encr_key includes the AEAD salt (see encr_key_size()); integ_key is empty for AEAD.
    static Result<SkCipher> create(EncrSpec encr, IntegAlg integ, SecretBytes encr_key,
                                   SecretBytes integ_key);

    EncrSpec encr() const { return encr_; }
    IntegAlg integ() const { return integ_; }
    size_t iv_size() const;     // 8 for AEAD, 16 for AES-CBC
    size_t block_size() const;  // plaintext must be a multiple of this (1 for AEAD, 16 for CBC)
    size_t icv_size() const;    // 16 for AEAD, the truncated HMAC length otherwise

    // ciphertext_out.size() == plaintext.size(); icv_out.size() == icv_size(). The output may be
    // the input buffer itself (exact overlap, in-place); partial overlap is not allowed.
    // Errc::bad_length for wrong buffer sizes (CBC: plaintext not whole blocks).
    Status seal(std::span<const uint8_t> aad, std::span<const uint8_t> iv,
                std::span<const uint8_t> plaintext, std::span<uint8_t> ciphertext_out,
                std::span<uint8_t> icv_out) const;
    // Verifies the ICV before anything else; Errc::integrity_check_failed on mismatch. With an
    // AEAD the data is decrypted while the tag is checked, so on failure plaintext_out is wiped:
    // unauthenticated plaintext never reaches the caller.
    Status open(std::span<const uint8_t> aad, std::span<const uint8_t> iv,
                std::span<const uint8_t> ciphertext, std::span<const uint8_t> icv,
                std::span<uint8_t> plaintext_out) const;

  private:
    SkCipher(EncrSpec encr, IntegAlg integ, SecretBytes ek, SecretBytes ik)
        : encr_(encr), integ_(integ), encr_key_(std::move(ek)), integ_key_(std::move(ik)) {}

    EncrSpec encr_;
    IntegAlg integ_;
    SecretBytes encr_key_;
    SecretBytes integ_key_;
};

}  // namespace ikemesh::crypto
