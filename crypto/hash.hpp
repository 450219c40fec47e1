// Plain message digests where IKEv2 asks for one outside any PRF: SHA-1 for NAT detection
// (RFC 7296 2.23) and for CERTREQ's CA key hashes (RFC 7296 3.7). The digest is fetched once.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace ikemesh::crypto {

using Sha1Digest = std::array<uint8_t, 20>;

// SHA-1 over the concatenation of `parts`.
Sha1Digest sha1(std::initializer_list<std::span<const uint8_t>> parts);

// Constant-time comparison of equal-length byte strings (false if lengths differ).
bool equal_consttime(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace ikemesh::crypto
