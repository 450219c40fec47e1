// Every IKEv2 protocol constant the codec and the engine speak about, defined once with its IANA
// value ("Internet Key Exchange Version 2 (IKEv2) Parameters" registry, RFC 7296 section 3 and the
// RFCs named beside each value).
//
// The enums are open: a value received from the wire that has no enumerator is still a valid value
// of the enum (each has a fixed underlying type), so unknown payload types, notify types or
// transform ids parse and can be logged; `name()` returns an empty view for them. Transform ids
// reuse the algorithm enums of crypto/algorithms.hpp, whose values are the IANA numbers. This
// header holds no behaviour beyond naming: which payload may appear where is rules.hpp, layouts are
// payloads.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ikemesh::wire {

// Fixed sizes of the wire format (RFC 7296 3.1, 3.2).
inline constexpr size_t kHeaderSize = 28;
inline constexpr size_t kGenericPayloadHeaderSize = 4;
inline constexpr size_t kSkfHeaderSize =
    8;  // generic header + Fragment Number + Total (RFC 7383 2.5)
inline constexpr uint8_t kMajorVersion = 2;  // RFC 7296 3.1
inline constexpr uint8_t kMinorVersion = 0;

// Next Payload / payload type values (RFC 7296 3.2).
enum class PayloadType : uint8_t {
    none = 0,
    sa = 33,
    ke = 34,
    idi = 35,
    idr = 36,
    cert = 37,
    certreq = 38,
    auth = 39,
    nonce = 40,
    notify = 41,
    del = 42,  // Delete; `delete` is a keyword
    vendor_id = 43,
    tsi = 44,
    tsr = 45,
    sk = 46,  // Encrypted and Authenticated
    cp = 47,  // Configuration
    eap = 48,
    gspm = 49,  // Generic Secure Password Method, RFC 6467
    skf = 53,   // Encrypted and Authenticated Fragment, RFC 7383
    ps = 54,    // Puzzle Solution, RFC 8019
};

// Exchange types (RFC 7296 3.1).
enum class ExchangeType : uint8_t {
    ike_sa_init = 34,
    ike_auth = 35,
    create_child_sa = 36,
    informational = 37,
    ike_session_resume = 38,  // RFC 5723
    ike_intermediate = 43,    // RFC 9242
    ike_followup_ke = 44,     // RFC 9370
};

// Header flag bits (RFC 7296 3.1). Other bits MUST be sent as zero and ignored on receipt.
enum class HeaderFlag : uint8_t {
    initiator = 0x08,  // sent by the original initiator of the IKE SA
    version = 0x10,    // sender could speak a higher major version
    response = 0x20,   // this message answers a request with the same message id
};

// Security protocol identifiers (RFC 7296 3.3.1). `none` is what a Notify without SPI carries.
enum class ProtocolId : uint8_t {
    none = 0,
    ike = 1,
    ah = 2,
    esp = 3,
};

// Transform types (RFC 7296 3.3.2; types 6-12 are RFC 9370's additional key exchanges).
enum class TransformType : uint8_t {
    encr = 1,
    prf = 2,
    integ = 3,
    ke = 4,   // formerly "Diffie-Hellman group (D-H)"
    esn = 5,  // Extended Sequence Numbers (ESP and AH only)
    addke1 = 6,
    addke2 = 7,
    addke3 = 8,
    addke4 = 9,
    addke5 = 10,
    addke6 = 11,
    addke7 = 12,
};

// Transform attribute types (RFC 7296 3.3.5). Key Length is the only one, in TV format.
enum class TransformAttr : uint16_t {
    key_length = 14,
};
// The Attribute Format bit: set = TV (2-byte value in the header), clear = TLV.
inline constexpr uint16_t kAttrFormatTv = 0x8000;

// Transform type 5 ids (RFC 7296 3.3.2).
enum class EsnId : uint16_t {
    no_esn = 0,
    esn = 1,
};

// Identification types (RFC 7296 3.5; ID_NULL from RFC 7619).
enum class IdType : uint8_t {
    ipv4_addr = 1,
    fqdn = 2,
    rfc822_addr = 3,
    ipv6_addr = 5,
    der_asn1_dn = 9,
    der_asn1_gn = 10,
    key_id = 11,
    fc_name = 12,  // RFC 4595
    null_id = 13,  // RFC 7619
};

// Authentication methods (RFC 7296 3.8; 9-11 RFC 4754, 12 RFC 6467, 13 RFC 7619, 14 RFC 7427).
enum class AuthMethod : uint8_t {
    rsa_sig = 1,
    shared_key_mic = 2,
    dss_sig = 3,
    ecdsa_sha256_p256 = 9,
    ecdsa_sha384_p384 = 10,
    ecdsa_sha512_p521 = 11,
    generic_secure_password = 12,
    null_auth = 13,
    digital_signature = 14,
};

// Certificate encodings (RFC 7296 3.6; 14 RFC 4806, 15 RFC 7670).
enum class CertEncoding : uint8_t {
    pkcs7_x509 = 1,
    pgp = 2,
    dns_signed_key = 3,
    x509_signature = 4,
    kerberos_token = 6,
    crl = 7,
    arl = 8,
    spki = 9,
    x509_attribute = 10,
    raw_rsa_key = 11,
    hash_url_x509_cert = 12,
    hash_url_x509_bundle = 13,
    ocsp_content = 14,
    raw_public_key = 15,
};

// Notify message types (RFC 7296 3.10.1 and the IANA registry). Values below 16384 are errors,
// the rest status types (see is_error()).
enum class NotifyType : uint16_t {
    // Error types, RFC 7296 unless noted.
    unsupported_critical_payload = 1,
    invalid_ike_spi = 4,
    invalid_major_version = 5,
    invalid_syntax = 7,
    invalid_message_id = 9,
    invalid_spi = 11,
    no_proposal_chosen = 14,
    invalid_ke_payload = 17,
    authentication_failed = 24,
    single_pair_required = 34,
    no_additional_sas = 35,
    internal_address_failure = 36,
    failed_cp_required = 37,
    ts_unacceptable = 38,
    invalid_selectors = 39,
    unacceptable_addresses = 40,   // RFC 4555
    unexpected_nat_detected = 41,  // RFC 4555
    use_assigned_hoa = 42,         // RFC 5026
    temporary_failure = 43,
    child_sa_not_found = 44,

    // Status types, RFC 7296 unless noted.
    initial_contact = 16384,
    set_window_size = 16385,
    additional_ts_possible = 16386,
    ipcomp_supported = 16387,
    nat_detection_source_ip = 16388,
    nat_detection_destination_ip = 16389,
    cookie = 16390,
    use_transport_mode = 16391,
    http_cert_lookup_supported = 16392,
    rekey_sa = 16393,
    esp_tfc_padding_not_supported = 16394,
    non_first_fragments_also = 16395,
    mobike_supported = 16396,                     // RFC 4555
    additional_ip4_address = 16397,               // RFC 4555
    additional_ip6_address = 16398,               // RFC 4555
    no_additional_addresses = 16399,              // RFC 4555
    update_sa_addresses = 16400,                  // RFC 4555
    cookie2 = 16401,                              // RFC 4555
    no_nats_allowed = 16402,                      // RFC 4555
    auth_lifetime = 16403,                        // RFC 4478
    multiple_auth_supported = 16404,              // RFC 4739
    another_auth_follows = 16405,                 // RFC 4739
    redirect_supported = 16406,                   // RFC 5685
    redirect = 16407,                             // RFC 5685
    redirected_from = 16408,                      // RFC 5685
    ticket_lt_opaque = 16409,                     // RFC 5723
    ticket_request = 16410,                       // RFC 5723
    ticket_ack = 16411,                           // RFC 5723
    ticket_nack = 16412,                          // RFC 5723
    ticket_opaque = 16413,                        // RFC 5723
    link_id = 16414,                              // RFC 5739
    use_wesp_mode = 16415,                        // RFC 5840
    rohc_supported = 16416,                       // RFC 5857
    eap_only_authentication = 16417,              // RFC 5998
    childless_ikev2_supported = 16418,            // RFC 6023
    quick_crash_detection = 16419,                // RFC 6290
    ikev2_message_id_sync_supported = 16420,      // RFC 6311
    ipsec_replay_counter_sync_supported = 16421,  // RFC 6311
    ikev2_message_id_sync = 16422,                // RFC 6311
    ipsec_replay_counter_sync = 16423,            // RFC 6311
    secure_password_methods = 16424,              // RFC 6467
    psk_persist = 16425,                          // RFC 6631
    psk_confirm = 16426,                          // RFC 6631
    erx_supported = 16427,                        // RFC 6867
    ifom_capability = 16428,                      // 3GPP TS 24.303
    sender_request_id = 16429,                    // draft-yeung-g-ikev2
    ikev2_fragmentation_supported = 16430,        // RFC 7383
    signature_hash_algorithms = 16431,            // RFC 7427
    clone_ike_sa_supported = 16432,               // RFC 7791
    clone_ike_sa = 16433,                         // RFC 7791
    puzzle = 16434,                               // RFC 8019
    use_ppk = 16435,                              // RFC 8784
    ppk_identity = 16436,                         // RFC 8784
    no_ppk_auth = 16437,                          // RFC 8784
    intermediate_exchange_supported = 16438,      // RFC 9242
    ip4_allowed = 16439,                          // RFC 8983
    ip6_allowed = 16440,                          // RFC 8983
    additional_key_exchange = 16441,              // RFC 9370
    use_aggfrag = 16442,                          // RFC 9347
};

// RFC 7296 3.10.1: types 0-16383 report errors; an unrecognised error type in a response means the
// request failed entirely, so the engine must know the range, not only the names.
inline constexpr uint16_t kFirstStatusNotify = 16384;
constexpr bool is_error(NotifyType t) {
    return static_cast<uint16_t>(t) < kFirstStatusNotify;
}

// Traffic selector types (RFC 7296 3.13.1; 9 RFC 4595, 10 RFC 9478).
enum class TsType : uint8_t {
    ipv4_addr_range = 7,
    ipv6_addr_range = 8,
    fc_addr_range = 9,
    seclabel = 10,
};

// Configuration payload types (RFC 7296 3.15).
enum class CfgType : uint8_t {
    request = 1,
    reply = 2,
    set = 3,
    ack = 4,
};

// Configuration attribute types (RFC 7296 3.15.1; 5, 9 and 11 are reserved there). Later registry
// entries are not named: CP is parsed, not acted on, so they only need to parse as numbers.
enum class CfgAttr : uint16_t {
    internal_ip4_address = 1,
    internal_ip4_netmask = 2,
    internal_ip4_dns = 3,
    internal_ip4_nbns = 4,
    internal_ip4_dhcp = 6,
    application_version = 7,
    internal_ip6_address = 8,
    internal_ip6_dns = 10,
    internal_ip6_dhcp = 12,
    internal_ip4_subnet = 13,
    supported_attributes = 14,
    internal_ip6_subnet = 15,
};

// EAP codes (RFC 3748 4; carried by the EAP payload, RFC 7296 3.16).
enum class EapCode : uint8_t {
    request = 1,
    response = 2,
    success = 3,
    failure = 4,
};

// Hash algorithms of the SIGNATURE_HASH_ALGORITHMS notify (RFC 7427 4; identity from RFC 8420).
enum class HashAlg : uint16_t {
    sha1 = 1,
    sha2_256 = 2,
    sha2_384 = 3,
    sha2_512 = 4,
    identity = 5,
};

// Names as the RFCs and IANA write them ("IKE_SA_INIT", "NO_PROPOSAL_CHOSEN", "IDi"); an empty
// view for a value without an enumerator.
std::string_view name(PayloadType v);
std::string_view name(ExchangeType v);
std::string_view name(ProtocolId v);
std::string_view name(TransformType v);
std::string_view name(EsnId v);
std::string_view name(IdType v);
std::string_view name(AuthMethod v);
std::string_view name(CertEncoding v);
std::string_view name(NotifyType v);
std::string_view name(TsType v);
std::string_view name(CfgType v);
std::string_view name(CfgAttr v);
std::string_view name(EapCode v);
std::string_view name(HashAlg v);

// The IANA name of a transform id within its type, e.g. (encr, 20) -> "ENCR_AES_GCM_16",
// (prf, 5) -> "PRF_HMAC_SHA2_256", (integ, 12) -> "AUTH_HMAC_SHA2_256_128", (ke, 31) ->
// "CURVE25519"; empty for ids ikemesh does not implement (the crypto enums list what it does).
std::string_view transform_id_name(TransformType type, uint16_t id);

// The name, or for an unnamed value "PREFIX(n)", e.g. "NOTIFY(40000)"; for logs and dumps.
template <typename Enum>
std::string name_or_number(Enum v, std::string_view prefix) {
    std::string_view n = name(v);
    if (!n.empty()) return std::string(n);
    return std::string(prefix) + "(" + std::to_string(static_cast<unsigned>(v)) + ")";
}

}  // namespace ikemesh::wire
