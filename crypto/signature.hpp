// Authentication by digital signature (RFC 7427, auth method 14) with the keys a mesh node
// uses: ECDSA on P-256/P-384/P-521, RSA (signing with RSASSA-PSS, RFC 8247), and Ed25519
// (RFC 8420). Also the private-key and public-key types.
//
// sign_auth() produces the AUTH payload's data, `len(AlgorithmIdentifier) || AlgorithmIdentifier
// DER || signature`, over SignedOctets that the caller assembled (RFC 7296 2.15); verify_auth()
// parses that data, accepts only AlgorithmIdentifiers we support and that fit the key, and
// verifies. This unit does not build SignedOctets, choose identities or check certificates (see
// crypto/certificate.hpp); it knows nothing of IKE state. Keys are immutable and shared (copying
// one is cheap and copies no secret).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace ikemesh::crypto {

enum class KeyType : uint8_t { ecdsa_p256, ecdsa_p384, ecdsa_p521, rsa, ed25519 };
std::string_view name(KeyType t);

// RFC 7427 4 and the IANA "IKEv2 Hash Algorithms" registry, as carried in the
// SIGNATURE_HASH_ALGORITHMS notify. sha1 is listed for completeness; we never use it.
enum class SignatureHash : uint16_t {
    sha1 = 1,
    sha256 = 2,
    sha384 = 3,
    sha512 = 4,
    identity = 5,  // RFC 8420: Ed25519 signs the message itself
};
std::string_view name(SignatureHash h);

// The hashes we announce in our SIGNATURE_HASH_ALGORITHMS notify, in the order we send them.
std::span<const SignatureHash> announced_signature_hashes();

// The hash to sign with for `key`, given the values the peer announced (unknown values are
// ignored). Ed25519 needs identity; ECDSA prefers the hash matching the curve (P-256: sha256,
// P-384: sha384, P-521: sha512), then the others; RSA prefers sha256. Errc::unsupported_algorithm
// if nothing fits (then RFC 7427 auth cannot be used with this peer).
Result<SignatureHash> choose_signature_hash(KeyType key, std::span<const uint16_t> peer_announced);

class PublicKey {
  public:
    // From a DER SubjectPublicKeyInfo.
    static Result<PublicKey> from_der(std::span<const uint8_t> spki);

    KeyType type() const { return type_; }
    Bytes der() const;  // SubjectPublicKeyInfo
    bool operator==(const PublicKey& o) const;

    evp_pkey_st* native() const { return key_.get(); }  // for crypto/ internals
    PublicKey(std::shared_ptr<evp_pkey_st> key, KeyType type) : key_(std::move(key)), type_(type) {}

  private:
    std::shared_ptr<evp_pkey_st> key_;
    KeyType type_;
};

class PrivateKey {
  public:
    // PEM, PKCS#8 ("BEGIN PRIVATE KEY") or traditional ("BEGIN EC/RSA PRIVATE KEY"), not
    // encrypted. The file must be mode 0600 or stricter (Errc::key_file_insecure, see
    // crypto/secret_file.hpp). Unsupported key types (DSA, other curves, RSA below 2048 bits)
    // give Errc::unsupported_algorithm.
    static Result<PrivateKey> load_file(const std::string& path);
    // The same from memory, without the file checks.
    static Result<PrivateKey> from_pem(std::span<const uint8_t> pem);
    // An Ed25519 key from its 32-byte RFC 8032 seed (known-answer tests, self-test).
    static Result<PrivateKey> ed25519_from_seed(std::span<const uint8_t> seed);

    KeyType type() const { return type_; }
    PublicKey public_key() const;

    evp_pkey_st* native() const { return key_.get(); }

  private:
    PrivateKey(std::shared_ptr<evp_pkey_st> key, KeyType type)
        : key_(std::move(key)), type_(type) {}
    std::shared_ptr<evp_pkey_st> key_;
    KeyType type_;
};

// The DER AlgorithmIdentifier we send for (key, hash) (RFC 7427 A, RFC 8247, RFC 8420):
// ecdsa-with-SHA256/384/512 without parameters; RSASSA-PSS with hash, MGF1 with the same hash
// and a salt as long as the hash; id-Ed25519 (identity hash only).
Result<Bytes> signature_algorithm_identifier(KeyType key, SignatureHash hash);

// AUTH data for auth method 14 (RFC 7427 3). Errc::unsupported_algorithm if `hash` does not
// fit the key (Ed25519 only with identity; the others only with sha256/384/512).
Result<Bytes> sign_auth(const PrivateKey& key, SignatureHash hash,
                        std::span<const uint8_t> signed_octets);

// Verifies AUTH data of auth method 14. Accepts ECDSA with SHA-256/384/512 (DER signature
// value), RSASSA-PSS with SHA-256/384/512 (MGF1 with the same hash), RSASSA-PKCS1-v1_5 with
// SHA-256/384/512 (what strongSwan sends for RSA keys by default, RFC 8247 allows it) and
// Ed25519. Every failure, including an AlgorithmIdentifier we do not accept or one that does
// not fit the key, is Errc::signature_invalid with a detail saying which.
Status verify_auth(const PublicKey& key, std::span<const uint8_t> auth_data,
                   std::span<const uint8_t> signed_octets);

}  // namespace ikemesh::crypto
