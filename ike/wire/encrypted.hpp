// Protecting and opening the Encrypted payload (SK, RFC 7296 3.14) and the Encrypted Fragment
// payload (SKF, RFC 7383 2.5).
//
// These functions lay out IV, padding, Pad Length and ICV and hand the cipher exactly the octets
// RFC 7296 3.14 and RFC 7383 2.5 authenticate (the associated data runs from the first octet of
// the IKE header to the last octet of the SK/SKF payload header; for SKF that includes Fragment
// Number and Total Fragments). The keys arrive explicitly in a crypto::SkCipher for one direction;
// nothing here knows IKE SA state. Output goes into caller-owned buffers whose capacity is reused,
// so a busy responder does not allocate per message. The encryption runs in place in the output
// datagram (SkCipher::seal is given the same span as plaintext and ciphertext). Reassembly of
// fragments is reassembly.hpp; parsing of the decrypted chain is parse_payloads().
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/random.hpp"
#include "crypto/sk_cipher.hpp"
#include "ike/wire/payloads.hpp"

namespace ikemesh::wire {

// A decrypted inner chain: the SK Next Payload value and the chain octets (a view of the caller's
// plaintext buffer, padding and Pad Length removed). Feed both to parse_payloads().
struct OpenedChain {
    PayloadType first = PayloadType::none;
    ByteView chain;
};

// One decrypted fragment; `first` is meaningful for fragment 1 only (RFC 7383 2.5).
struct OpenedFragment {
    uint16_t number = 0;
    uint16_t total = 0;
    PayloadType first = PayloadType::none;
    ByteView data;  // this fragment's share of the inner chain
};

// Writes the complete datagram HDR, SK {inner} into `out` (cleared first):
//   header | SK header (Next Payload = inner_first) | IV | E(inner | padding | Pad Length) | ICV
// header.next_payload and header.length are overwritten. The IV and the padding octets come from
// `rng`; padding is the minimum that fills the cipher's block (none for AEAD ciphers).
Status seal_sk(const Header& header, PayloadType inner_first, ByteView inner,
               const crypto::SkCipher& cipher, crypto::RandomSource& rng, Bytes& out);

// Verifies and decrypts the SK payload of `message`, which must have been parsed from `datagram`
// and end in an SkPayload. Errors: invalid_syntax (no SK, body shorter than IV + ICV, ciphertext
// not a whole number of blocks, Pad Length longer than the plaintext), integrity_check_failed.
// `plaintext` is resized to the ciphertext length and the result views it.
Result<OpenedChain> open_sk(ByteView datagram, const Message& message,
                            const crypto::SkCipher& cipher, Bytes& plaintext);

// Splits `inner` into the fewest SKF fragments whose datagrams are each at most
// `max_datagram_size` octets (the IKE message size: the caller subtracts IP and UDP headers and the
// 4-octet non-ESP marker on port 4500), numbered 1..n, all with header.message_id; fragment 1
// carries inner_first, the others 0 (RFC 7383 2.5). `fragments` is resized to n, reusing its
// buffers. Errors: bad_length if max_datagram_size leaves no room for data, too_many_items beyond
// 65535 fragments.
Status seal_skf(const Header& header, PayloadType inner_first, ByteView inner,
                const crypto::SkCipher& cipher, crypto::RandomSource& rng, size_t max_datagram_size,
                std::vector<Bytes>& fragments);

// The SKF counterpart of open_sk(); `message` must end in an SkfPayload.
Result<OpenedFragment> open_skf(ByteView datagram, const Message& message,
                                const crypto::SkCipher& cipher, Bytes& plaintext);

}  // namespace ikemesh::wire
