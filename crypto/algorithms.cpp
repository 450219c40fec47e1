#include "crypto/algorithms.hpp"

#include <array>

namespace ikemesh::crypto {

bool is_aead(EncrAlg alg) {
    return alg == EncrAlg::aes_gcm_16 || alg == EncrAlg::chacha20_poly1305;
}

std::optional<size_t> encr_key_size(EncrSpec spec) {
    switch (spec.alg) {
        case EncrAlg::aes_cbc:
            // RFC 3602: 128, 192 or 256-bit keys.
            if (spec.key_bits == 128 || spec.key_bits == 192 || spec.key_bits == 256)
                return spec.key_bits / 8;
            return std::nullopt;
        case EncrAlg::aes_gcm_16:
            // RFC 5282 7.1: the key followed by a 4-octet salt.
            if (spec.key_bits == 128 || spec.key_bits == 256) return spec.key_bits / 8 + 4;
            return std::nullopt;
        case EncrAlg::chacha20_poly1305:
            // RFC 7634 2: a 256-bit key and a 4-octet salt; no Key Length attribute.
            if (spec.key_bits == 0 || spec.key_bits == 256) return 36;
            return std::nullopt;
    }
    return std::nullopt;
}

size_t integ_key_size(IntegAlg alg) {
    switch (alg) {
        case IntegAlg::none:
            return 0;
        case IntegAlg::hmac_sha1_96:
            return 20;  // RFC 2404
        case IntegAlg::hmac_sha2_256_128:
            return 32;  // RFC 4868 2.1.1: the key is the hash output length
        case IntegAlg::hmac_sha2_384_192:
            return 48;
        case IntegAlg::hmac_sha2_512_256:
            return 64;
    }
    return 0;
}

size_t integ_icv_size(IntegAlg alg) {
    switch (alg) {
        case IntegAlg::none:
            return 0;
        case IntegAlg::hmac_sha1_96:
            return 12;
        case IntegAlg::hmac_sha2_256_128:
            return 16;  // RFC 4868 2.3: truncated to half the hash output
        case IntegAlg::hmac_sha2_384_192:
            return 24;
        case IntegAlg::hmac_sha2_512_256:
            return 32;
    }
    return 0;
}

size_t prf_size(PrfAlg alg) {
    switch (alg) {
        case PrfAlg::hmac_sha1:
            return 20;
        case PrfAlg::hmac_sha2_256:
            return 32;
        case PrfAlg::hmac_sha2_384:
            return 48;
        case PrfAlg::hmac_sha2_512:
            return 64;
    }
    return 0;
}

size_t dh_public_size(DhGroup group) {
    switch (group) {
        case DhGroup::none:
            return 0;
        case DhGroup::modp2048:
            return 256;  // RFC 7296 3.4: zero-padded to the prime's length
        case DhGroup::modp3072:
            return 384;
        case DhGroup::modp4096:
            return 512;
        case DhGroup::ecp256:
            return 64;  // RFC 5903 7: x || y
        case DhGroup::ecp384:
            return 96;
        case DhGroup::ecp521:
            return 132;  // two 66-octet coordinates
        case DhGroup::curve25519:
            return 32;  // RFC 8031 2
        case DhGroup::curve448:
            return 56;
    }
    return 0;
}

namespace {

struct DhName {
    DhGroup group;
    std::string_view name;
};
// The first entry of a group is its printed name; later ones are accepted aliases.
constexpr std::array<DhName, 11> kDhNames{{
    {DhGroup::modp2048, "modp2048"},
    {DhGroup::modp3072, "modp3072"},
    {DhGroup::modp4096, "modp4096"},
    {DhGroup::ecp256, "ecp256"},
    {DhGroup::ecp384, "ecp384"},
    {DhGroup::ecp521, "ecp521"},
    {DhGroup::curve25519, "x25519"},
    {DhGroup::curve448, "x448"},
    {DhGroup::curve25519, "curve25519"},
    {DhGroup::curve448, "curve448"},
    {DhGroup::none, "none"},
}};

struct PrfName {
    PrfAlg alg;
    std::string_view name;
};
constexpr std::array<PrfName, 4> kPrfNames{{
    {PrfAlg::hmac_sha1, "prfsha1"},
    {PrfAlg::hmac_sha2_256, "prfsha256"},
    {PrfAlg::hmac_sha2_384, "prfsha384"},
    {PrfAlg::hmac_sha2_512, "prfsha512"},
}};

struct IntegName {
    IntegAlg alg;
    std::string_view name;
};
constexpr std::array<IntegName, 5> kIntegNames{{
    {IntegAlg::hmac_sha1_96, "sha1"},
    {IntegAlg::hmac_sha2_256_128, "sha256"},
    {IntegAlg::hmac_sha2_384_192, "sha384"},
    {IntegAlg::hmac_sha2_512_256, "sha512"},
    {IntegAlg::none, "none"},
}};

struct EncrName {
    EncrSpec spec;
    std::string_view name;
};
constexpr std::array<EncrName, 8> kEncrNames{{
    {{EncrAlg::aes_gcm_16, 128}, "aes128gcm16"},
    {{EncrAlg::aes_gcm_16, 256}, "aes256gcm16"},
    {{EncrAlg::aes_cbc, 128}, "aes128"},
    {{EncrAlg::aes_cbc, 192}, "aes192"},
    {{EncrAlg::aes_cbc, 256}, "aes256"},
    {{EncrAlg::chacha20_poly1305, 256}, "chacha20poly1305"},
    {{EncrAlg::aes_gcm_16, 128}, "aes128gcm"},
    {{EncrAlg::aes_gcm_16, 256}, "aes256gcm"},
}};

}  // namespace

std::string_view name(DhGroup g) {
    for (const auto& e : kDhNames)
        if (e.group == g) return e.name;
    return "unknown";
}

std::string_view name(PrfAlg a) {
    for (const auto& e : kPrfNames)
        if (e.alg == a) return e.name;
    return "unknown";
}

std::string_view name(IntegAlg a) {
    for (const auto& e : kIntegNames)
        if (e.alg == a) return e.name;
    return "unknown";
}

std::string name(EncrSpec e) {
    // ChaCha20-Poly1305 carries no key length on the wire; 0 and 256 name the same thing.
    if (e.alg == EncrAlg::chacha20_poly1305 && e.key_bits == 0) e.key_bits = 256;
    for (const auto& n : kEncrNames)
        if (n.spec == e) return std::string(n.name);
    return "unknown";
}

std::optional<DhGroup> parse_dh_group(std::string_view text) {
    for (const auto& e : kDhNames)
        if (e.name == text) return e.group;
    return std::nullopt;
}

std::optional<PrfAlg> parse_prf(std::string_view text) {
    for (const auto& e : kPrfNames)
        if (e.name == text) return e.alg;
    return std::nullopt;
}

std::optional<IntegAlg> parse_integ(std::string_view text) {
    for (const auto& e : kIntegNames)
        if (e.name == text) return e.alg;
    return std::nullopt;
}

std::optional<EncrSpec> parse_encr(std::string_view text) {
    for (const auto& e : kEncrNames)
        if (e.name == text) return e.spec;
    return std::nullopt;
}

}  // namespace ikemesh::crypto
