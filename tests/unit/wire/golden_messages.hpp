// Whole golden messages written by hand from RFC 7296 section 3, shared by the message tests, the
// rule tests, the dump tests and (as files) the fuzz seed corpus.
#pragma once

#include "wire_test_util.hpp"

namespace ikemesh::wire::test {

// A strongSwan-like IKE_SA_INIT request: one IKE proposal (AES-GCM-16-128, PRF-HMAC-SHA2-256,
// X25519 or ECP-256), KE for group 31, a 32-octet nonce, the NAT detection notifies, fragmentation
// and signature hash support, and strongSwan's Vendor ID. 252 octets.
inline Bytes ike_sa_init_request() {
    return hex(R"(
        01 02 03 04 05 06 07 08   # IKE SA Initiator's SPI
        00 00 00 00 00 00 00 00   # IKE SA Responder's SPI (zero in the first message)
        21 20 22 08               # next SA (33), version 2.0, IKE_SA_INIT (34), flags I
        00 00 00 00               # message id 0
        00 00 00 fc               # length 252

        22 00 00 30               # SA: next KE (34), length 48
        00 00 00 2c 01 01 00 04   #   proposal: last, length 44, #1, IKE, SPI size 0, 4 transforms
        03 00 00 0c 01 00 00 14 80 0e 00 80   # ENCR AES-GCM-16 (20), Key Length 128
        03 00 00 08 02 00 00 05               # PRF HMAC-SHA2-256 (5)
        03 00 00 08 04 00 00 1f               # KE Curve25519 (31)
        00 00 00 08 04 00 00 13               # KE ECP-256 (19)

        28 00 00 28  00 1f 00 00  # KE: next Nonce (40), length 40, group 31, reserved
        00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
        10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f

        29 00 00 24               # Nonce: next N (41), length 36
        a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af
        b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ba bb bc bd be bf

        29 00 00 1c  00 00 40 04  # N: next N, length 28, no SPI, NAT_DETECTION_SOURCE_IP
        c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf d0 d1 d2 d3
        29 00 00 1c  00 00 40 05  # N: NAT_DETECTION_DESTINATION_IP
        e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 ea eb ec ed ee ef f0 f1 f2 f3
        29 00 00 08  00 00 40 2e  # N: IKEV2_FRAGMENTATION_SUPPORTED (16430)
        2b 00 00 10  00 00 40 2f  # N: next V (43), length 16, SIGNATURE_HASH_ALGORITHMS (16431)
        00 02 00 03 00 04 00 05   #   SHA2-256, SHA2-384, SHA2-512, Identity

        00 00 00 14               # V: last, length 20
        88 2f e5 6d 6f d2 0d bc 22 51 61 3b 2e be 5b eb   # strongSwan's Vendor ID
    )");
}

// A typical IKE_AUTH request's inner chain (what SK protects): IDi (FQDN), AUTH (PSK), N(INITIAL_
// CONTACT), N(USE_TRANSPORT_MODE), SA with one ESP proposal, TSi, TSr. First payload: IDi.
inline Bytes ike_auth_inner_chain() {
    return hex(R"(
        27 00 00 15  02 00 00 00            # IDi: next AUTH (39), length 21, ID_FQDN
        61 6c 69 63 65 2e 65 78 61 6d 70 6c 65   # "alice.example"
        29 00 00 28  02 00 00 00            # AUTH: next N, length 40, shared key MIC
        00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff
        00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff
        29 00 00 08  00 00 40 00            # N(INITIAL_CONTACT)
        21 00 00 08  00 00 40 07            # N(USE_TRANSPORT_MODE), next SA
        2c 00 00 2c                         # SA: next TSi (44), length 44
        00 00 00 28  01 03 04 03  c0 ff ee 01   # ESP proposal: length 40, #1, SPI, 3 transforms
        03 00 00 0c 01 00 00 14 80 0e 00 80     # ENCR AES-GCM-16, Key Length 128
        03 00 00 08 04 00 00 1f                 # KE Curve25519 (PFS on rekey)
        00 00 00 08 05 00 00 00                 # no ESN
        2d 00 00 18  01 00 00 00            # TSi: next TSr (45), length 24, 1 selector
        07 00 00 10  00 00 ff ff  c0 00 02 01  c0 00 02 01   # 192.0.2.1, any protocol and port
        00 00 00 18  01 00 00 00            # TSr: last
        07 00 00 10  00 00 ff ff  c0 00 02 02  c0 00 02 02   # 192.0.2.2
    )");
}

}  // namespace ikemesh::wire::test
