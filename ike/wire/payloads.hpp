// The IKEv2 message as values: the header, one struct per payload type, and Message.
//
// Payload structs *view* the buffer they were parsed from (ByteView members), so parsing a typical
// message allocates nothing: lists are boost::container::small_vector with inline capacity for
// what strongSwan and ikemesh send. A parsed Message (and every payload in it) must not outlive the
// datagram or plaintext buffer it was parsed from. To build a message, fill the same structs with
// views of buffers that live until MessageBuilder::finish() (build.hpp); the builder alone writes
// next-payload fields and lengths, so no struct carries them. This header knows nothing of
// encryption (encrypted.hpp) or of which payloads an exchange allows (rules.hpp).
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <variant>

#include "common/bytes.hpp"
#include "common/ip.hpp"
#include "common/types.hpp"
#include "crypto/algorithms.hpp"
#include "ike/wire/constants.hpp"

namespace ikemesh::wire {

template <typename T, size_t N>
using SmallVector = boost::container::small_vector<T, N>;

// Upper bounds on counts in a received message. Lengths already bound memory by the datagram size
// (at most 64 KiB); these caps keep a hostile message from costing more than a normal one by an
// order of magnitude, and keep every loop short.
inline constexpr size_t kMaxPayloads = 64;
inline constexpr size_t kMaxProposals = 32;
inline constexpr size_t kMaxTransformsPerProposal = 64;
inline constexpr size_t kMaxSelectors = 32;
inline constexpr size_t kMaxCfgAttributes = 64;

// RFC 7296 3.1.
struct Header {
    IkeSpi spi_i;
    IkeSpi spi_r;
    PayloadType next_payload = PayloadType::none;
    uint8_t major_version = kMajorVersion;
    uint8_t minor_version = kMinorVersion;
    ExchangeType exchange = ExchangeType::ike_sa_init;
    uint8_t flags = 0;  // HeaderFlag bits
    MessageId message_id;
    uint32_t length = 0;  // set by the builder; checked against the datagram by the parser

    bool has(HeaderFlag f) const { return (flags & static_cast<uint8_t>(f)) != 0; }
    bool is_initiator() const { return has(HeaderFlag::initiator); }
    bool is_response() const { return has(HeaderFlag::response); }
    void set(HeaderFlag f, bool on = true) {
        flags = static_cast<uint8_t>(on ? flags | static_cast<uint8_t>(f)
                                        : flags & ~static_cast<uint8_t>(f));
    }
};

// RFC 7296 3.3.2 Transform Substructure with its 3.3.5 attributes. Key Length is the only
// attribute RFC 7296 defines; `unknown_attribute` records that the transform carried another one,
// which the engine must treat as a transform it does not support.
struct Transform {
    TransformType type = TransformType::encr;
    uint16_t id = 0;
    std::optional<uint16_t> key_length;  // bits, from the Key Length attribute
    bool unknown_attribute = false;      // parse-only; the builder writes key_length alone

    // Typed views of `id` (any value converts; unknown ones simply match no enumerator).
    crypto::EncrAlg encr() const { return static_cast<crypto::EncrAlg>(id); }
    crypto::PrfAlg prf() const { return static_cast<crypto::PrfAlg>(id); }
    crypto::IntegAlg integ() const { return static_cast<crypto::IntegAlg>(id); }
    crypto::DhGroup group() const { return static_cast<crypto::DhGroup>(id); }
    EsnId esn() const { return static_cast<EsnId>(id); }
};

// strongSwan's default IKE proposal carries about 30 transforms; 32 inline keep it off the heap.
using TransformList = SmallVector<Transform, 32>;

// RFC 7296 3.3.1 Proposal Substructure.
struct Proposal {
    uint8_t number = 1;
    ProtocolId protocol = ProtocolId::ike;
    ByteView spi;  // 0 bytes (IKE_SA_INIT), 8 (IKE rekey) or 4 (ESP/AH)
    TransformList transforms;
};

// RFC 7296 3.3.
struct SaPayload {
    static constexpr PayloadType kType = PayloadType::sa;
    SmallVector<Proposal, 2> proposals;
};

// RFC 7296 3.4.
struct KePayload {
    static constexpr PayloadType kType = PayloadType::ke;
    crypto::DhGroup group = crypto::DhGroup::none;  // any 16-bit value may arrive
    ByteView data;
};

// RFC 7296 3.5, IDi and IDr. `body` is the payload body as received (ID Type, the 3 RESERVED
// octets and the data): RFC 7296 2.15 MACs exactly these octets (IDx'). The builder ignores it and
// writes type, three zero octets and data; id_body() produces those octets for a local ID.
template <PayloadType K>
struct BasicIdPayload {
    static constexpr PayloadType kType = K;
    IdType type = IdType::fqdn;
    ByteView data;
    ByteView body;  // parse-only
};
using IdiPayload = BasicIdPayload<PayloadType::idi>;
using IdrPayload = BasicIdPayload<PayloadType::idr>;

// RFC 7296 3.6.
struct CertPayload {
    static constexpr PayloadType kType = PayloadType::cert;
    CertEncoding encoding = CertEncoding::x509_signature;
    ByteView data;
};

// RFC 7296 3.7. For X.509 the data is a list of 20-byte SHA-1 hashes of CA public keys.
struct CertReqPayload {
    static constexpr PayloadType kType = PayloadType::certreq;
    CertEncoding encoding = CertEncoding::x509_signature;
    ByteView data;
};

// RFC 7296 3.8.
struct AuthPayload {
    static constexpr PayloadType kType = PayloadType::auth;
    AuthMethod method = AuthMethod::shared_key_mic;
    ByteView data;
};

// RFC 7296 3.9: 16 to 256 octets, checked by the parser.
struct NoncePayload {
    static constexpr PayloadType kType = PayloadType::nonce;
    ByteView data;
};
inline constexpr size_t kMinNonceSize = 16;
inline constexpr size_t kMaxNonceSize = 256;

// RFC 7296 3.10.
struct NotifyPayload {
    static constexpr PayloadType kType = PayloadType::notify;
    ProtocolId protocol = ProtocolId::none;
    ByteView spi;
    NotifyType type = NotifyType::initial_contact;
    ByteView data;
};

// RFC 7296 3.11. `spis` holds count * spi_size octets; spi_at() splits them.
struct DeletePayload {
    static constexpr PayloadType kType = PayloadType::del;
    ProtocolId protocol = ProtocolId::esp;
    uint8_t spi_size = 4;
    uint16_t count = 0;
    ByteView spis;

    ByteView spi_at(size_t i) const { return spis.subspan(i * spi_size, spi_size); }
};

// RFC 7296 3.12.
struct VendorIdPayload {
    static constexpr PayloadType kType = PayloadType::vendor_id;
    ByteView data;
};

// RFC 7296 3.13.1. For the two address-range types the addresses and ports are filled; any other
// type keeps its octets after the 4-byte selector header in `raw` so it can be logged and refused.
struct TrafficSelector {
    TsType type = TsType::ipv4_addr_range;
    uint8_t ip_protocol = 0;  // 0 = any
    uint16_t start_port = 0;
    uint16_t end_port = 65535;
    IpAddress start_address;
    IpAddress end_address;
    ByteView raw;  // other types only
};

// RFC 7296 3.13, TSi and TSr.
template <PayloadType K>
struct BasicTsPayload {
    static constexpr PayloadType kType = K;
    SmallVector<TrafficSelector, 2> selectors;
};
using TsiPayload = BasicTsPayload<PayloadType::tsi>;
using TsrPayload = BasicTsPayload<PayloadType::tsr>;

// RFC 7296 3.15.1. The type is the 15 bits after the reserved bit.
struct CfgAttribute {
    uint16_t type = 0;  // a CfgAttr value or any other
    ByteView value;
};

// RFC 7296 3.15: parsed so it can be logged; ikemesh assigns no addresses.
struct ConfigPayload {
    static constexpr PayloadType kType = PayloadType::cp;
    CfgType type = CfgType::request;
    SmallVector<CfgAttribute, 4> attributes;
};

// RFC 7296 3.16 with the RFC 3748 4 message inside: parsed so the engine can refuse EAP cleanly.
// Request and Response carry a Type octet; Success and Failure do not.
struct EapPayload {
    static constexpr PayloadType kType = PayloadType::eap;
    EapCode code = EapCode::request;
    uint8_t identifier = 0;
    std::optional<uint8_t> type;
    ByteView data;
};

// RFC 7296 3.14: IV | ciphertext | ICV, not yet divided (that needs the negotiated cipher).
// `inner_first` is the Next Payload field: the type of the first payload inside.
struct SkPayload {
    static constexpr PayloadType kType = PayloadType::sk;
    PayloadType inner_first = PayloadType::none;
    ByteView body;
};

// RFC 7383 2.5. Only fragment 1 carries the inner first payload type; others carry 0.
struct SkfPayload {
    static constexpr PayloadType kType = PayloadType::skf;
    PayloadType inner_first = PayloadType::none;
    uint16_t fragment_number = 1;
    uint16_t total_fragments = 1;
    ByteView body;
};

// A payload type the parser does not know, without the critical bit (RFC 7296 2.5: skipped by
// the engine, kept here for logs). With the critical bit, parsing fails instead.
struct UnknownPayload {
    PayloadType type = PayloadType::none;
    bool critical = false;
    ByteView body;
};

using Payload = std::variant<SaPayload, KePayload, IdiPayload, IdrPayload, CertPayload,
                             CertReqPayload, AuthPayload, NoncePayload, NotifyPayload,
                             DeletePayload, VendorIdPayload, TsiPayload, TsrPayload, ConfigPayload,
                             EapPayload, SkPayload, SkfPayload, UnknownPayload>;

// IKE_SA_INIT from strongSwan carries 8-10 payloads, an IKE_AUTH about 8.
using PayloadList = SmallVector<Payload, 10>;

// A parsed or to-be-built message. `payloads` is the outer chain: for protected exchanges it ends
// in one SkPayload or SkfPayload whose inner chain is parsed separately after decryption.
struct Message {
    Header header;
    PayloadList payloads;
};

PayloadType payload_type(const Payload& p);

// The body octets RFC 7296 2.15 MACs for a local identity: ID Type, three zero octets, data.
Bytes id_body(IdType type, ByteView data);

// --- Lookup helpers for the engine. Pointers point into the list; null when absent.

template <typename T>
const T* find_first(const PayloadList& list) {
    for (const Payload& p : list) {
        if (const T* t = std::get_if<T>(&p)) return t;
    }
    return nullptr;
}

template <typename T>
size_t count_of(const PayloadList& list) {
    size_t n = 0;
    for (const Payload& p : list)
        n += std::holds_alternative<T>(p) ? 1 : 0;
    return n;
}

// All payloads of one struct type, in message order.
template <typename T>
SmallVector<const T*, 8> all_of(const PayloadList& list) {
    SmallVector<const T*, 8> out;
    for (const Payload& p : list) {
        if (const T* t = std::get_if<T>(&p)) out.push_back(t);
    }
    return out;
}

const NotifyPayload* find_notify(const PayloadList& list, NotifyType type);
inline bool has_notify(const PayloadList& list, NotifyType type) {
    return find_notify(list, type) != nullptr;
}
SmallVector<const NotifyPayload*, 8> notifies(const PayloadList& list);
// The first notify of an error type (RFC 7296 3.10.1: types below 16384), known or not.
const NotifyPayload* first_error_notify(const PayloadList& list);

}  // namespace ikemesh::wire
