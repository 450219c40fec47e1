// The IKEv2 key schedule as pure functions (RFC 7296 2.13-2.18, 2.15). Inputs are explicit; no IKE
// state is kept here, and nothing here decides which keys an SA uses: the engine passes the
// negotiated PRF and sizes. SPIs are written as their 8 wire (big-endian) bytes.
#pragma once

#include <cstdint>
#include <span>

#include "common/result.hpp"
#include "common/types.hpp"
#include "crypto/algorithms.hpp"
#include "crypto/prf.hpp"
#include "crypto/secret.hpp"

namespace ikemesh::crypto {

// The seven keys of an IKE SA (RFC 7296 2.14).
struct IkeKeys {
    SecretBytes sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
};

struct IkeKeySizes {
    size_t encr = 0;   // encr_key_size() of the negotiated ENCR, salt included
    size_t integ = 0;  // integ_key_size() of the negotiated INTEG (0 for AEAD)
};

// SKEYSEED = prf(Ni | Nr, g^ir); {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
//   = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
// (RFC 7296 2.14; for PRFs with a fixed key size the nonces are split in halves, which does not
// apply to the HMAC PRFs we implement.)
Result<IkeKeys> derive_ike_keys(const Prf& prf, std::span<const uint8_t> shared_secret,
                                std::span<const uint8_t> ni, std::span<const uint8_t> nr,
                                IkeSpi spi_i, IkeSpi spi_r, IkeKeySizes sizes);

// The two steps of derive_ike_keys(), exposed for the NIST SP 800-135 known-answer tests and for
// callers that keep SKEYSEED: SKEYSEED = prf(Ni | Nr, g^ir), then prf+ (SKEYSEED, Ni | Nr | SPIi |
// SPIr) split into the seven keys in the order of RFC 7296 2.14.
Result<SecretBytes> compute_skeyseed(const Prf& prf, std::span<const uint8_t> shared_secret,
                                     std::span<const uint8_t> ni, std::span<const uint8_t> nr);
Result<IkeKeys> expand_ike_keys(const Prf& prf, std::span<const uint8_t> skeyseed,
                                std::span<const uint8_t> ni, std::span<const uint8_t> nr,
                                IkeSpi spi_i, IkeSpi spi_r, IkeKeySizes sizes);
// SKEYSEED of a rekeyed IKE SA: prf(SK_d (old), g^ir (new) | Ni | Nr) (RFC 7296 2.18).
Result<SecretBytes> compute_rekey_skeyseed(const Prf& prf, std::span<const uint8_t> old_sk_d,
                                           std::span<const uint8_t> shared_secret,
                                           std::span<const uint8_t> ni,
                                           std::span<const uint8_t> nr);

// Rekeyed IKE SA (RFC 7296 2.18): SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), then as above
// with the new SPIs. `prf` is the new SA's PRF; `old_sk_d` was derived with the old one.
Result<IkeKeys> derive_rekeyed_ike_keys(const Prf& prf, std::span<const uint8_t> old_sk_d,
                                        std::span<const uint8_t> shared_secret,
                                        std::span<const uint8_t> ni, std::span<const uint8_t> nr,
                                        IkeSpi spi_i, IkeSpi spi_r, IkeKeySizes sizes);

// CHILD SA keying material (RFC 7296 2.17): KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), of
// `length` bytes. The caller splits it: initiator-to-responder encr and integ keys first, then
// responder-to-initiator.
Result<SecretBytes> derive_child_keymat(const Prf& prf, std::span<const uint8_t> sk_d,
                                        std::span<const uint8_t> shared_secret_or_empty,
                                        std::span<const uint8_t> ni, std::span<const uint8_t> nr,
                                        size_t length);

// PSK authentication (RFC 7296 2.15):
//   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
// with SignedOctets = RealMessage | Nonce | prf(SK_p, IDx') assembled by the caller (the pieces
// are passed separately to avoid a copy: real_message, nonce, maced_id).
Result<SecretBytes> psk_auth(const Prf& prf, std::span<const uint8_t> psk,
                             std::span<const uint8_t> real_message, std::span<const uint8_t> nonce,
                             std::span<const uint8_t> maced_id);

// prf(SK_p, IDx') where IDx' is the ID payload body (type, 3 reserved bytes, data).
Result<SecretBytes> maced_id(const Prf& prf, std::span<const uint8_t> sk_p,
                             std::span<const uint8_t> id_payload_body);

}  // namespace ikemesh::crypto
