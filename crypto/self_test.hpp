// A start-up known-answer test of the crypto suite, run once by the daemon before it uses any
// key: if OpenSSL is misconfigured (a missing provider, a broken FIPS module, an ABI mismatch)
// ikemeshd refuses to start instead of negotiating with wrong keys.
//
// It runs one known answer per family: X25519 (RFC 7748 6.1), HMAC-SHA-256 (RFC 4231 4.3) and
// the IKEv2 prf+ key schedule (NIST CAVP SP 800-135 IKEv2 vector), ChaCha20-Poly1305 as the SK
// payload of RFC 7634 Appendix B, AES-CBC with HMAC-SHA-256-128 (NIST SP 800-38A F.2.1 blocks),
// and an Ed25519 RFC 7427 AUTH sign/verify round trip with the RFC 8032 7.1 test key. Cost:
// well under 5 ms. It is not a substitute for the unit tests, which cover every algorithm.
#pragma once

#include "common/result.hpp"

namespace ikemesh::crypto {

// Errc::crypto_failure with the name of the failing check in the detail.
Status run_self_test();

}  // namespace ikemesh::crypto
