// Framing of IKE messages on the NAT-T port (RFC 3948), as pure functions.
//
// On UDP 4500 one socket carries three kinds of datagram (RFC 3948 2.1-2.3): IKE messages behind
// a 4-byte zero "non-ESP marker", UDP-encapsulated ESP (which starts with a non-zero SPI, RFC 4303
// 2.1, and is normally consumed by the kernel once UDP_ENCAP is set on the socket), and 1-byte
// NAT-keepalives (0xFF) that only keep NAT mappings alive. The engine only ever sees bare IKE
// messages; the daemon strips the marker on receive and prepends it on send. Port 500 carries IKE
// without a marker (RFC 3948 2.2). This unit owns no socket.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.hpp"

namespace ikemesh::daemon {

// RFC 3948 2.2: four zero octets where an ESP SPI would be.
inline constexpr std::array<uint8_t, 4> kNonEspMarker{0, 0, 0, 0};
// RFC 3948 2.3: a NAT-keepalive is one octet of 0xFF.
inline constexpr uint8_t kNatKeepalive = 0xff;

enum class NattKind {
    ike,        // non-ESP marker present: `ike` is the message after it
    keepalive,  // drop
    esp,        // UDP-encapsulated ESP that reached user space: drop (the kernel handles ESP)
    invalid,    // too short to be anything: drop
};

struct NattDatagram {
    NattKind kind;
    ByteView ike;  // the IKE message without the marker when kind == ike
};

// Classifies a datagram received on the NAT-T port.
NattDatagram classify_natt(ByteView datagram);

// The bytes that go on the wire for an IKE message sent from `natt` or the plain IKE port.
// (The socket code sends the marker and the message as two iovecs instead of copying; this is the
// reference the tests compare against.)
Bytes frame_ike(ByteView ike, bool natt);

}  // namespace ikemesh::daemon
