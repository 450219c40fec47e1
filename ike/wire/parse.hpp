// Parsing IKEv2 datagrams and decrypted payload chains into the value structs of payloads.hpp.
//
// Pure functions over byte spans: no allocation for typical messages (the result views the input),
// no I/O, no keys. Every malformed input yields a typed Error (Errc::truncated, bad_length,
// bad_version, invalid_syntax, unsupported_critical, too_many_items, fragment_invalid) with a
// detail naming the offending payload; nothing is read out of bounds and counts are capped
// (payloads.hpp). Decryption is a separate step (encrypted.hpp) and which payloads an exchange may
// carry is checked afterwards (rules.hpp).
#pragma once

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "ike/wire/payloads.hpp"

namespace ikemesh::wire {

// The 28-octet header (RFC 7296 3.1). Checks only that the datagram holds a header and that the
// Length field equals the datagram's size (a longer field -> truncated, a shorter one ->
// bad_length: IKE over UDP has exactly one message per datagram, and after the daemon strips the
// non-ESP marker nothing may follow it). It does not check the version, so the engine still has
// the SPIs and message id it needs to answer INVALID_MAJOR_VERSION (RFC 7296 2.5).
Result<Header> parse_header(ByteView datagram);

// Header and outer payload chain. Additionally: major version must be 2 (minor is ignored, RFC
// 7296 2.5) -> bad_version; an SK or SKF payload must be the last one and extend to the end of the
// message -> invalid_syntax. Its inner chain is left for open_sk()/open_skf() and parse_payloads().
// On Errc::unsupported_critical, `*critical_type` (if given) receives the offending payload type,
// which the UNSUPPORTED_CRITICAL_PAYLOAD notify carries (RFC 7296 2.5, 3.10.1).
Status parse_message(ByteView datagram, Message& out, PayloadType* critical_type = nullptr);
Result<Message> parse_message(ByteView datagram);

// A decrypted inner chain starting with payload type `first` (the SK/SKF Next Payload field). SK
// and SKF are not allowed inside it. The out-parameter form reuses `out`'s storage.
Status parse_payloads(PayloadType first, ByteView chain, PayloadList& out,
                      PayloadType* critical_type = nullptr);
Result<PayloadList> parse_payloads(PayloadType first, ByteView chain);

// The result views its input, so parsing a temporary buffer would leave it dangling: refused at
// compile time.
Status parse_message(const Bytes&& datagram, Message& out,
                     PayloadType* critical_type = nullptr) = delete;
Result<Message> parse_message(const Bytes&& datagram) = delete;
Status parse_payloads(PayloadType first, const Bytes&& chain, PayloadList& out,
                      PayloadType* critical_type = nullptr) = delete;
Result<PayloadList> parse_payloads(PayloadType first, const Bytes&& chain) = delete;

}  // namespace ikemesh::wire
