// How IKE's ESP transforms map onto the Linux crypto API, and the checks every backend applies to
// SA and policy parameters before anything reaches a kernel.
//
// Pure functions over the kernel/kernel.hpp parameter structs; the fake backend runs the same
// checks so that engine tests catch a wrong key length as the real kernel would. This unit does
// not build messages (kernel/xfrm_messages.hpp does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.hpp"
#include "crypto/algorithms.hpp"
#include "kernel/kernel.hpp"

namespace ikemesh::kernel {

struct EncrMapping {
    std::string_view kernel_name;  // "rfc4106(gcm(aes))"
    bool aead = false;
    size_t key_bytes = 0;   // including the 4-byte salt of AEAD algorithms
    uint32_t icv_bits = 0;  // AEAD only
};

struct IntegMapping {
    std::string_view kernel_name;  // "hmac(sha256)"
    size_t key_bytes = 0;
    uint32_t trunc_bits = 0;  // the ICV length, RFC 4868 2.3 / RFC 2404 2
};

// AES-GCM-16 -> rfc4106(gcm(aes)), ICV 128 bits (RFC 4106 8.1: key plus 4-byte salt);
// ChaCha20-Poly1305 -> rfc7539esp(chacha20,poly1305), ICV 128 (RFC 7634 2); AES-CBC -> cbc(aes)
// (RFC 3602). Key lengths 128/192/256 for AES, 256 only for ChaCha20.
Result<EncrMapping> map_encr(crypto::EncrSpec spec);
// HMAC-SHA1-96 (RFC 2404), HMAC-SHA2-256-128 / 384-192 / 512-256 (RFC 4868 2.3). `none` fails.
Result<IntegMapping> map_integ(crypto::IntegAlg alg);

// XFRM limits a replay window to XFRMA_REPLAY_ESN_MAX bits (4096).
inline constexpr uint32_t kMaxReplayWindow = 4096;

// Addresses of one family, an encryption/integrity combination ESP allows (AEAD alone, or
// AES-CBC with an integrity algorithm), keys of the right length, a replay window the kernel
// accepts, a non-zero SPI outside the reserved 1-255 range (RFC 4303 2.1), a selector of the
// SA's family. kernel_invalid_request (or unsupported_algorithm) with a detail otherwise.
Status validate_sa(const SaParams& sa);
// Selector prefixes within the family, a template with addresses of one family for ipsec
// policies.
Status validate_policy(const PolicyParams& policy);
Status validate_selector(const Selector& sel);

}  // namespace ikemesh::kernel
