// Ephemeral key exchange for IKE_SA_INIT, CREATE_CHILD_SA and PFS: MODP (RFC 3526), ECP (RFC 5903)
// and Curve25519/Curve448 (RFC 8031).
//
// A KeyExchange holds one private key. `public_key()` is the KE payload data in the IKEv2 encoding
// (MODP: big-endian, zero-padded to the prime length; ECP: x || y, no 0x04 prefix; X25519/X448:
// the RFC 7748 u-coordinate). `shared_secret()` validates the peer's value as RFC 7296 3.4 and
// RFC 6989 ask (MODP: 1 < y < p-1; ECP: on the curve; X25519/X448: length, non-zero result) and
// returns g^ir in the encoding RFC 7296 2.14 / RFC 5903 7 / RFC 8031 require.
// One KeyExchange is used by one thread at a time: shared_secret() is const but not thread-safe
// (X25519/X448 keep one OpenSSL derive context per key pair).
// The factory is an interface so exchange tests can inject fixed keys.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/result.hpp"
#include "crypto/algorithms.hpp"
#include "crypto/secret.hpp"

namespace ikemesh::crypto {

class KeyExchange {
  public:
    virtual ~KeyExchange() = default;
    virtual DhGroup group() const = 0;
    virtual std::span<const uint8_t> public_key() const = 0;
    virtual Result<SecretBytes> shared_secret(std::span<const uint8_t> peer_public) const = 0;
};

// Generates a fresh key pair. Errc::unsupported_algorithm for groups we do not implement.
Result<std::unique_ptr<KeyExchange>> generate_key_exchange(DhGroup group);
// A key pair from a known private key (known-answer tests, deterministic exchange tests).
// MODP: big-endian exponent; ECP: big-endian scalar; X25519/X448: the RFC 7748 scalar bytes.
Result<std::unique_ptr<KeyExchange>> key_exchange_from_private(DhGroup group,
                                                               std::span<const uint8_t> priv);
bool is_supported(DhGroup group);

class KeyExchangeFactory {
  public:
    virtual ~KeyExchangeFactory() = default;
    virtual Result<std::unique_ptr<KeyExchange>> create(DhGroup group) = 0;
};

// The real factory: generate_key_exchange().
class SystemKeyExchangeFactory final : public KeyExchangeFactory {
  public:
    Result<std::unique_ptr<KeyExchange>> create(DhGroup group) override {
        return generate_key_exchange(group);
    }
};

}  // namespace ikemesh::crypto
