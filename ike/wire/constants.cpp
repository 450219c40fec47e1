#include "ike/wire/constants.hpp"

#include "crypto/algorithms.hpp"

// Each name() is a switch without a default: -Wswitch (with -Werror) makes a new enumerator
// without a name a compile error, and tests/unit/wire/constants_test.cpp checks the values against
// the IANA registry.
namespace ikemesh::wire {

std::string_view name(PayloadType v) {
    switch (v) {
        case PayloadType::none:
            return "NONE";
        case PayloadType::sa:
            return "SA";
        case PayloadType::ke:
            return "KE";
        case PayloadType::idi:
            return "IDi";
        case PayloadType::idr:
            return "IDr";
        case PayloadType::cert:
            return "CERT";
        case PayloadType::certreq:
            return "CERTREQ";
        case PayloadType::auth:
            return "AUTH";
        case PayloadType::nonce:
            return "Nonce";
        case PayloadType::notify:
            return "N";
        case PayloadType::del:
            return "D";
        case PayloadType::vendor_id:
            return "V";
        case PayloadType::tsi:
            return "TSi";
        case PayloadType::tsr:
            return "TSr";
        case PayloadType::sk:
            return "SK";
        case PayloadType::cp:
            return "CP";
        case PayloadType::eap:
            return "EAP";
        case PayloadType::gspm:
            return "GSPM";
        case PayloadType::skf:
            return "SKF";
        case PayloadType::ps:
            return "PS";
    }
    return {};
}

std::string_view name(ExchangeType v) {
    switch (v) {
        case ExchangeType::ike_sa_init:
            return "IKE_SA_INIT";
        case ExchangeType::ike_auth:
            return "IKE_AUTH";
        case ExchangeType::create_child_sa:
            return "CREATE_CHILD_SA";
        case ExchangeType::informational:
            return "INFORMATIONAL";
        case ExchangeType::ike_session_resume:
            return "IKE_SESSION_RESUME";
        case ExchangeType::ike_intermediate:
            return "IKE_INTERMEDIATE";
        case ExchangeType::ike_followup_ke:
            return "IKE_FOLLOWUP_KE";
    }
    return {};
}

std::string_view name(ProtocolId v) {
    switch (v) {
        case ProtocolId::none:
            return "NONE";
        case ProtocolId::ike:
            return "IKE";
        case ProtocolId::ah:
            return "AH";
        case ProtocolId::esp:
            return "ESP";
    }
    return {};
}

std::string_view name(TransformType v) {
    switch (v) {
        case TransformType::encr:
            return "ENCR";
        case TransformType::prf:
            return "PRF";
        case TransformType::integ:
            return "INTEG";
        case TransformType::ke:
            return "KE";
        case TransformType::esn:
            return "ESN";
        case TransformType::addke1:
            return "ADDKE1";
        case TransformType::addke2:
            return "ADDKE2";
        case TransformType::addke3:
            return "ADDKE3";
        case TransformType::addke4:
            return "ADDKE4";
        case TransformType::addke5:
            return "ADDKE5";
        case TransformType::addke6:
            return "ADDKE6";
        case TransformType::addke7:
            return "ADDKE7";
    }
    return {};
}

std::string_view name(EsnId v) {
    switch (v) {
        case EsnId::no_esn:
            return "NO_ESN";
        case EsnId::esn:
            return "ESN";
    }
    return {};
}

std::string_view name(IdType v) {
    switch (v) {
        case IdType::ipv4_addr:
            return "ID_IPV4_ADDR";
        case IdType::fqdn:
            return "ID_FQDN";
        case IdType::rfc822_addr:
            return "ID_RFC822_ADDR";
        case IdType::ipv6_addr:
            return "ID_IPV6_ADDR";
        case IdType::der_asn1_dn:
            return "ID_DER_ASN1_DN";
        case IdType::der_asn1_gn:
            return "ID_DER_ASN1_GN";
        case IdType::key_id:
            return "ID_KEY_ID";
        case IdType::fc_name:
            return "ID_FC_NAME";
        case IdType::null_id:
            return "ID_NULL";
    }
    return {};
}

std::string_view name(AuthMethod v) {
    switch (v) {
        case AuthMethod::rsa_sig:
            return "RSA_SIG";
        case AuthMethod::shared_key_mic:
            return "PSK";
        case AuthMethod::dss_sig:
            return "DSS_SIG";
        case AuthMethod::ecdsa_sha256_p256:
            return "ECDSA_SHA256_P256";
        case AuthMethod::ecdsa_sha384_p384:
            return "ECDSA_SHA384_P384";
        case AuthMethod::ecdsa_sha512_p521:
            return "ECDSA_SHA512_P521";
        case AuthMethod::generic_secure_password:
            return "GSPM";
        case AuthMethod::null_auth:
            return "NULL";
        case AuthMethod::digital_signature:
            return "DIGITAL_SIGNATURE";
    }
    return {};
}

std::string_view name(CertEncoding v) {
    switch (v) {
        case CertEncoding::pkcs7_x509:
            return "PKCS7_X509";
        case CertEncoding::pgp:
            return "PGP";
        case CertEncoding::dns_signed_key:
            return "DNS_SIGNED_KEY";
        case CertEncoding::x509_signature:
            return "X509_SIGNATURE";
        case CertEncoding::kerberos_token:
            return "KERBEROS_TOKEN";
        case CertEncoding::crl:
            return "CRL";
        case CertEncoding::arl:
            return "ARL";
        case CertEncoding::spki:
            return "SPKI";
        case CertEncoding::x509_attribute:
            return "X509_ATTRIBUTE";
        case CertEncoding::raw_rsa_key:
            return "RAW_RSA_KEY";
        case CertEncoding::hash_url_x509_cert:
            return "HASH_URL_X509_CERT";
        case CertEncoding::hash_url_x509_bundle:
            return "HASH_URL_X509_BUNDLE";
        case CertEncoding::ocsp_content:
            return "OCSP_CONTENT";
        case CertEncoding::raw_public_key:
            return "RAW_PUBLIC_KEY";
    }
    return {};
}

std::string_view name(NotifyType v) {
    switch (v) {
        case NotifyType::unsupported_critical_payload:
            return "UNSUPPORTED_CRITICAL_PAYLOAD";
        case NotifyType::invalid_ike_spi:
            return "INVALID_IKE_SPI";
        case NotifyType::invalid_major_version:
            return "INVALID_MAJOR_VERSION";
        case NotifyType::invalid_syntax:
            return "INVALID_SYNTAX";
        case NotifyType::invalid_message_id:
            return "INVALID_MESSAGE_ID";
        case NotifyType::invalid_spi:
            return "INVALID_SPI";
        case NotifyType::no_proposal_chosen:
            return "NO_PROPOSAL_CHOSEN";
        case NotifyType::invalid_ke_payload:
            return "INVALID_KE_PAYLOAD";
        case NotifyType::authentication_failed:
            return "AUTHENTICATION_FAILED";
        case NotifyType::single_pair_required:
            return "SINGLE_PAIR_REQUIRED";
        case NotifyType::no_additional_sas:
            return "NO_ADDITIONAL_SAS";
        case NotifyType::internal_address_failure:
            return "INTERNAL_ADDRESS_FAILURE";
        case NotifyType::failed_cp_required:
            return "FAILED_CP_REQUIRED";
        case NotifyType::ts_unacceptable:
            return "TS_UNACCEPTABLE";
        case NotifyType::invalid_selectors:
            return "INVALID_SELECTORS";
        case NotifyType::unacceptable_addresses:
            return "UNACCEPTABLE_ADDRESSES";
        case NotifyType::unexpected_nat_detected:
            return "UNEXPECTED_NAT_DETECTED";
        case NotifyType::use_assigned_hoa:
            return "USE_ASSIGNED_HoA";
        case NotifyType::temporary_failure:
            return "TEMPORARY_FAILURE";
        case NotifyType::child_sa_not_found:
            return "CHILD_SA_NOT_FOUND";
        case NotifyType::initial_contact:
            return "INITIAL_CONTACT";
        case NotifyType::set_window_size:
            return "SET_WINDOW_SIZE";
        case NotifyType::additional_ts_possible:
            return "ADDITIONAL_TS_POSSIBLE";
        case NotifyType::ipcomp_supported:
            return "IPCOMP_SUPPORTED";
        case NotifyType::nat_detection_source_ip:
            return "NAT_DETECTION_SOURCE_IP";
        case NotifyType::nat_detection_destination_ip:
            return "NAT_DETECTION_DESTINATION_IP";
        case NotifyType::cookie:
            return "COOKIE";
        case NotifyType::use_transport_mode:
            return "USE_TRANSPORT_MODE";
        case NotifyType::http_cert_lookup_supported:
            return "HTTP_CERT_LOOKUP_SUPPORTED";
        case NotifyType::rekey_sa:
            return "REKEY_SA";
        case NotifyType::esp_tfc_padding_not_supported:
            return "ESP_TFC_PADDING_NOT_SUPPORTED";
        case NotifyType::non_first_fragments_also:
            return "NON_FIRST_FRAGMENTS_ALSO";
        case NotifyType::mobike_supported:
            return "MOBIKE_SUPPORTED";
        case NotifyType::additional_ip4_address:
            return "ADDITIONAL_IP4_ADDRESS";
        case NotifyType::additional_ip6_address:
            return "ADDITIONAL_IP6_ADDRESS";
        case NotifyType::no_additional_addresses:
            return "NO_ADDITIONAL_ADDRESSES";
        case NotifyType::update_sa_addresses:
            return "UPDATE_SA_ADDRESSES";
        case NotifyType::cookie2:
            return "COOKIE2";
        case NotifyType::no_nats_allowed:
            return "NO_NATS_ALLOWED";
        case NotifyType::auth_lifetime:
            return "AUTH_LIFETIME";
        case NotifyType::multiple_auth_supported:
            return "MULTIPLE_AUTH_SUPPORTED";
        case NotifyType::another_auth_follows:
            return "ANOTHER_AUTH_FOLLOWS";
        case NotifyType::redirect_supported:
            return "REDIRECT_SUPPORTED";
        case NotifyType::redirect:
            return "REDIRECT";
        case NotifyType::redirected_from:
            return "REDIRECTED_FROM";
        case NotifyType::ticket_lt_opaque:
            return "TICKET_LT_OPAQUE";
        case NotifyType::ticket_request:
            return "TICKET_REQUEST";
        case NotifyType::ticket_ack:
            return "TICKET_ACK";
        case NotifyType::ticket_nack:
            return "TICKET_NACK";
        case NotifyType::ticket_opaque:
            return "TICKET_OPAQUE";
        case NotifyType::link_id:
            return "LINK_ID";
        case NotifyType::use_wesp_mode:
            return "USE_WESP_MODE";
        case NotifyType::rohc_supported:
            return "ROHC_SUPPORTED";
        case NotifyType::eap_only_authentication:
            return "EAP_ONLY_AUTHENTICATION";
        case NotifyType::childless_ikev2_supported:
            return "CHILDLESS_IKEV2_SUPPORTED";
        case NotifyType::quick_crash_detection:
            return "QUICK_CRASH_DETECTION";
        case NotifyType::ikev2_message_id_sync_supported:
            return "IKEV2_MESSAGE_ID_SYNC_SUPPORTED";
        case NotifyType::ipsec_replay_counter_sync_supported:
            return "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED";
        case NotifyType::ikev2_message_id_sync:
            return "IKEV2_MESSAGE_ID_SYNC";
        case NotifyType::ipsec_replay_counter_sync:
            return "IPSEC_REPLAY_COUNTER_SYNC";
        case NotifyType::secure_password_methods:
            return "SECURE_PASSWORD_METHODS";
        case NotifyType::psk_persist:
            return "PSK_PERSIST";
        case NotifyType::psk_confirm:
            return "PSK_CONFIRM";
        case NotifyType::erx_supported:
            return "ERX_SUPPORTED";
        case NotifyType::ifom_capability:
            return "IFOM_CAPABILITY";
        case NotifyType::sender_request_id:
            return "SENDER_REQUEST_ID";
        case NotifyType::ikev2_fragmentation_supported:
            return "IKEV2_FRAGMENTATION_SUPPORTED";
        case NotifyType::signature_hash_algorithms:
            return "SIGNATURE_HASH_ALGORITHMS";
        case NotifyType::clone_ike_sa_supported:
            return "CLONE_IKE_SA_SUPPORTED";
        case NotifyType::clone_ike_sa:
            return "CLONE_IKE_SA";
        case NotifyType::puzzle:
            return "PUZZLE";
        case NotifyType::use_ppk:
            return "USE_PPK";
        case NotifyType::ppk_identity:
            return "PPK_IDENTITY";
        case NotifyType::no_ppk_auth:
            return "NO_PPK_AUTH";
        case NotifyType::intermediate_exchange_supported:
            return "INTERMEDIATE_EXCHANGE_SUPPORTED";
        case NotifyType::ip4_allowed:
            return "IP4_ALLOWED";
        case NotifyType::ip6_allowed:
            return "IP6_ALLOWED";
        case NotifyType::additional_key_exchange:
            return "ADDITIONAL_KEY_EXCHANGE";
        case NotifyType::use_aggfrag:
            return "USE_AGGFRAG";
    }
    return {};
}

std::string_view name(TsType v) {
    switch (v) {
        case TsType::ipv4_addr_range:
            return "TS_IPV4_ADDR_RANGE";
        case TsType::ipv6_addr_range:
            return "TS_IPV6_ADDR_RANGE";
        case TsType::fc_addr_range:
            return "TS_FC_ADDR_RANGE";
        case TsType::seclabel:
            return "TS_SECLABEL";
    }
    return {};
}

std::string_view name(CfgType v) {
    switch (v) {
        case CfgType::request:
            return "CFG_REQUEST";
        case CfgType::reply:
            return "CFG_REPLY";
        case CfgType::set:
            return "CFG_SET";
        case CfgType::ack:
            return "CFG_ACK";
    }
    return {};
}

std::string_view name(CfgAttr v) {
    switch (v) {
        case CfgAttr::internal_ip4_address:
            return "INTERNAL_IP4_ADDRESS";
        case CfgAttr::internal_ip4_netmask:
            return "INTERNAL_IP4_NETMASK";
        case CfgAttr::internal_ip4_dns:
            return "INTERNAL_IP4_DNS";
        case CfgAttr::internal_ip4_nbns:
            return "INTERNAL_IP4_NBNS";
        case CfgAttr::internal_ip4_dhcp:
            return "INTERNAL_IP4_DHCP";
        case CfgAttr::application_version:
            return "APPLICATION_VERSION";
        case CfgAttr::internal_ip6_address:
            return "INTERNAL_IP6_ADDRESS";
        case CfgAttr::internal_ip6_dns:
            return "INTERNAL_IP6_DNS";
        case CfgAttr::internal_ip6_dhcp:
            return "INTERNAL_IP6_DHCP";
        case CfgAttr::internal_ip4_subnet:
            return "INTERNAL_IP4_SUBNET";
        case CfgAttr::supported_attributes:
            return "SUPPORTED_ATTRIBUTES";
        case CfgAttr::internal_ip6_subnet:
            return "INTERNAL_IP6_SUBNET";
    }
    return {};
}

std::string_view name(EapCode v) {
    switch (v) {
        case EapCode::request:
            return "REQUEST";
        case EapCode::response:
            return "RESPONSE";
        case EapCode::success:
            return "SUCCESS";
        case EapCode::failure:
            return "FAILURE";
    }
    return {};
}

std::string_view name(HashAlg v) {
    switch (v) {
        case HashAlg::sha1:
            return "SHA1";
        case HashAlg::sha2_256:
            return "SHA2_256";
        case HashAlg::sha2_384:
            return "SHA2_384";
        case HashAlg::sha2_512:
            return "SHA2_512";
        case HashAlg::identity:
            return "IDENTITY";
    }
    return {};
}

namespace {

std::string_view encr_name(crypto::EncrAlg a) {
    switch (a) {
        case crypto::EncrAlg::aes_cbc:
            return "ENCR_AES_CBC";
        case crypto::EncrAlg::aes_gcm_16:
            return "ENCR_AES_GCM_16";
        case crypto::EncrAlg::chacha20_poly1305:
            return "ENCR_CHACHA20_POLY1305";
    }
    return {};
}

std::string_view prf_name(crypto::PrfAlg a) {
    switch (a) {
        case crypto::PrfAlg::hmac_sha1:
            return "PRF_HMAC_SHA1";
        case crypto::PrfAlg::hmac_sha2_256:
            return "PRF_HMAC_SHA2_256";
        case crypto::PrfAlg::hmac_sha2_384:
            return "PRF_HMAC_SHA2_384";
        case crypto::PrfAlg::hmac_sha2_512:
            return "PRF_HMAC_SHA2_512";
    }
    return {};
}

std::string_view integ_name(crypto::IntegAlg a) {
    switch (a) {
        case crypto::IntegAlg::none:
            return "NONE";
        case crypto::IntegAlg::hmac_sha1_96:
            return "AUTH_HMAC_SHA1_96";
        case crypto::IntegAlg::hmac_sha2_256_128:
            return "AUTH_HMAC_SHA2_256_128";
        case crypto::IntegAlg::hmac_sha2_384_192:
            return "AUTH_HMAC_SHA2_384_192";
        case crypto::IntegAlg::hmac_sha2_512_256:
            return "AUTH_HMAC_SHA2_512_256";
    }
    return {};
}

std::string_view group_name(crypto::DhGroup g) {
    switch (g) {
        case crypto::DhGroup::none:
            return "NONE";
        case crypto::DhGroup::modp2048:
            return "MODP_2048";
        case crypto::DhGroup::modp3072:
            return "MODP_3072";
        case crypto::DhGroup::modp4096:
            return "MODP_4096";
        case crypto::DhGroup::ecp256:
            return "ECP_256";
        case crypto::DhGroup::ecp384:
            return "ECP_384";
        case crypto::DhGroup::ecp521:
            return "ECP_521";
        case crypto::DhGroup::curve25519:
            return "CURVE25519";
        case crypto::DhGroup::curve448:
            return "CURVE448";
    }
    return {};
}

}  // namespace

std::string_view transform_id_name(TransformType type, uint16_t id) {
    switch (type) {
        case TransformType::encr:
            return encr_name(static_cast<crypto::EncrAlg>(id));
        case TransformType::prf:
            return prf_name(static_cast<crypto::PrfAlg>(id));
        case TransformType::integ:
            return integ_name(static_cast<crypto::IntegAlg>(id));
        case TransformType::ke:
        case TransformType::addke1:
        case TransformType::addke2:
        case TransformType::addke3:
        case TransformType::addke4:
        case TransformType::addke5:
        case TransformType::addke6:
        case TransformType::addke7:
            return group_name(static_cast<crypto::DhGroup>(id));
        case TransformType::esn:
            return name(static_cast<EsnId>(id));
    }
    return {};
}

}  // namespace ikemesh::wire
