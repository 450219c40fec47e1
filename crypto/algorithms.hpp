// The algorithms ikemesh implements, named once.
//
// The enumerator values are the IANA "IKEv2 Transform Type" numbers (RFC 7296 3.3.2 and the
// registry), because the wire codec, the engine and the kernel mapping all need to speak about
// the same algorithms; crypto itself never interprets them as protocol values. Key lengths are
// separate (`EncrSpec`), as the Key Length transform attribute carries them on the wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ikemesh::crypto {

// Transform type 1 (ENCR). AES-CBC key lengths 128/192/256; AES-GCM-16 128/256; ChaCha20-Poly1305
// has a fixed 256-bit key (no Key Length attribute, RFC 7634 2).
enum class EncrAlg : uint16_t {
    aes_cbc = 12,
    aes_gcm_16 = 20,
    chacha20_poly1305 = 28,
};

// Transform type 2 (PRF).
enum class PrfAlg : uint16_t {
    hmac_sha1 = 2,
    hmac_sha2_256 = 5,
    hmac_sha2_384 = 6,
    hmac_sha2_512 = 7,
};

// Transform type 3 (INTEG). `none` is what an AEAD proposal carries (or omits).
enum class IntegAlg : uint16_t {
    none = 0,
    hmac_sha1_96 = 2,
    hmac_sha2_256_128 = 12,
    hmac_sha2_384_192 = 13,
    hmac_sha2_512_256 = 14,
};

// Transform type 4 (Key Exchange Method, formerly D-H group).
enum class DhGroup : uint16_t {
    none = 0,
    modp2048 = 14,
    modp3072 = 15,
    modp4096 = 16,
    ecp256 = 19,
    ecp384 = 20,
    ecp521 = 21,
    curve25519 = 31,
    curve448 = 32,
};

// An encryption algorithm with its key length in bits (0 = the algorithm's only length).
struct EncrSpec {
    EncrAlg alg = EncrAlg::aes_gcm_16;
    uint16_t key_bits = 128;

    bool operator==(const EncrSpec&) const = default;
};

bool is_aead(EncrAlg alg);
// Bytes of key material for SK_e / ESP encryption keys, including the 4-byte salt of AEAD
// algorithms (RFC 5282 7.1, RFC 7634 2): AES-GCM-128 -> 20, ChaCha20-Poly1305 -> 36.
std::optional<size_t> encr_key_size(EncrSpec spec);
// Bytes of SK_a / ESP integrity key (0 for none).
size_t integ_key_size(IntegAlg alg);
// Bytes of the truncated ICV (RFC 4868: SHA2-256-128 -> 16).
size_t integ_icv_size(IntegAlg alg);
// PRF output and preferred key length in bytes (RFC 7296 2.13: the key length is the output
// length).
size_t prf_size(PrfAlg alg);
// Length of the KE payload data for the group (RFC 7296 3.4, RFC 5903 7, RFC 8031 2).
size_t dh_public_size(DhGroup group);

// strongSwan-style names, used in config, logs and `ikectl`: "aes128gcm16", "aes256",
// "chacha20poly1305", "prfsha256", "sha256" (integrity), "x25519", "modp3072", "ecp256".
std::string_view name(DhGroup g);
std::string_view name(PrfAlg a);
std::string_view name(IntegAlg a);
std::string name(EncrSpec e);

// The reverse lookups for configuration, exact and case-sensitive as strongSwan writes them.
// Group 31 is accepted as "x25519" and as strongSwan's "curve25519"; group 32 as "x448" and
// "curve448". AES-GCM accepts "aes128gcm16" and the short "aes128gcm". nullopt if unknown.
std::optional<DhGroup> parse_dh_group(std::string_view text);
std::optional<PrfAlg> parse_prf(std::string_view text);
std::optional<IntegAlg> parse_integ(std::string_view text);
std::optional<EncrSpec> parse_encr(std::string_view text);

}  // namespace ikemesh::crypto
