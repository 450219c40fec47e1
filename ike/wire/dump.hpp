// Human-readable one-line-per-payload descriptions of parsed messages, for logs, `make demo` and
// debugging, e.g.
//   IKE_SA_INIT request mid=0 spi_i=0102030405060708 spi_r=0000000000000000 flags=I len=240
//   SA: proposal 1 IKE ENCR_AES_GCM_16(128) PRF_HMAC_SHA2_256 DH 31
//   KE: DH 31, 32 bytes
// Only lengths are printed for key material carriers (KE, Nonce, AUTH, SK bodies); identities,
// SPIs, selectors and short notify data are printed in full, since none of them is secret.
#pragma once

#include <string>

#include "ike/wire/payloads.hpp"

namespace ikemesh::wire {

std::string describe(const Header& header);
std::string describe(const Payload& payload);
// One line per payload, each ending in '\n'.
std::string describe(const PayloadList& payloads);
// The header line, then one line per payload.
std::string describe(const Message& message);

}  // namespace ikemesh::wire
