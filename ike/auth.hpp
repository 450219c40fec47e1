// IKE_AUTH authentication (RFC 7296 2.15, RFC 7427): computing our AUTH payload and verifying the
// peer's, by pre-shared key or by digital signature with certificates.
//
// Both sides sign or MAC the same construction: <SignedOctets> = RealMessage | NonceData |
// prf(SK_p, IDx'). The inputs arrive explicitly; nothing here knows the IKE SA. Errors are
// Errc::authentication_failed (with the reason) or Errc::identity_mismatch; no key material ever
// appears in an error detail.
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/prf.hpp"
#include "crypto/secret.hpp"
#include "ike/engine_config.hpp"
#include "ike/wire/payloads.hpp"

namespace ikemesh::ike {

// The three parts of <SignedOctets> for one side.
struct AuthOctets {
    ByteView real_message;  // that side's IKE_SA_INIT message
    ByteView nonce;         // the *other* side's nonce
    ByteView id_body;       // that side's ID payload body (IDx')
    ByteView sk_p;          // SK_pi or SK_pr
};

struct AuthData {
    wire::AuthMethod method = wire::AuthMethod::shared_key_mic;
    Bytes data;
};

// Our AUTH. PSK when `psk` is given, else a signature with `local.key` using the strongest hash the
// peer announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 4).
Result<AuthData> make_auth(const crypto::Prf& prf, const AuthOctets& in,
                           const crypto::SecretBytes* psk, const LocalConfig& local,
                           std::span<const uint16_t> peer_hashes);

// The peer's AUTH. For certificates: the first CERT payload is the end entity, others are
// intermediates; the chain must end at one of `local.ca` at `now`, the certificate must carry
// the identity the peer claimed (subject DN or a subjectAltName), and the signature must verify.
Status verify_auth(const crypto::Prf& prf, const AuthOctets& in, const wire::AuthPayload& auth,
                   const PeerConfig& peer, const LocalConfig& local,
                   std::span<const wire::CertPayload* const> certs,
                   std::chrono::system_clock::time_point now);

// The CERTREQ data for our trust anchors: SHA-1 hashes of their SubjectPublicKeyInfo (RFC
// 7296 3.7).
Bytes certreq_data(const LocalConfig& local);

}  // namespace ikemesh::ike
