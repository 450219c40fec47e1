// Every enumerator of ike/wire/constants.hpp has the IANA value and a name. The expected tables
// below were typed from the IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registry
// (https://www.iana.org/assignments/ikev2-parameters) and RFC 7296 section 3, independently of the
// header: a wrong number in either place fails here. Each table is also checked for completeness:
// every value of the enum's range that has a name must appear in the table.
#include "ike/wire/constants.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

using namespace ikemesh::wire;

namespace {

template <typename Enum>
void check_registry(const std::map<unsigned, std::string>& expected, unsigned range_end) {
    std::set<std::string> seen;
    for (const auto& [value, text] : expected) {
        INFO("value " << value);
        CHECK(name(static_cast<Enum>(value)) == text);
        CHECK(seen.insert(text).second);  // names are unique
    }
    for (unsigned v = 0; v < range_end; ++v) {
        if (expected.count(v)) continue;
        INFO("value " << v << " has a name but is not in the IANA table of this test");
        CHECK(name(static_cast<Enum>(v)).empty());
    }
}

}  // namespace

TEST_CASE("payload types have their IANA values (RFC 7296 3.2, RFC 7383, RFC 6467, RFC 8019)") {
    check_registry<PayloadType>(
        {{0, "NONE"},  {33, "SA"},      {34, "KE"},   {35, "IDi"},   {36, "IDr"},
         {37, "CERT"}, {38, "CERTREQ"}, {39, "AUTH"}, {40, "Nonce"}, {41, "N"},
         {42, "D"},    {43, "V"},       {44, "TSi"},  {45, "TSr"},   {46, "SK"},
         {47, "CP"},   {48, "EAP"},     {49, "GSPM"}, {53, "SKF"},   {54, "PS"}},
        256);
}

TEST_CASE("exchange types have their IANA values") {
    check_registry<ExchangeType>({{34, "IKE_SA_INIT"},
                                  {35, "IKE_AUTH"},
                                  {36, "CREATE_CHILD_SA"},
                                  {37, "INFORMATIONAL"},
                                  {38, "IKE_SESSION_RESUME"},
                                  {43, "IKE_INTERMEDIATE"},
                                  {44, "IKE_FOLLOWUP_KE"}},
                                 256);
}

TEST_CASE("header flags are the RFC 7296 3.1 bits") {
    CHECK(static_cast<unsigned>(HeaderFlag::initiator) == 0x08);
    CHECK(static_cast<unsigned>(HeaderFlag::version) == 0x10);
    CHECK(static_cast<unsigned>(HeaderFlag::response) == 0x20);
}

TEST_CASE("protocol ids, transform types and ESN ids have their IANA values") {
    check_registry<ProtocolId>({{0, "NONE"}, {1, "IKE"}, {2, "AH"}, {3, "ESP"}}, 256);
    check_registry<TransformType>({{1, "ENCR"},
                                   {2, "PRF"},
                                   {3, "INTEG"},
                                   {4, "KE"},
                                   {5, "ESN"},
                                   {6, "ADDKE1"},
                                   {7, "ADDKE2"},
                                   {8, "ADDKE3"},
                                   {9, "ADDKE4"},
                                   {10, "ADDKE5"},
                                   {11, "ADDKE6"},
                                   {12, "ADDKE7"}},
                                  256);
    check_registry<EsnId>({{0, "NO_ESN"}, {1, "ESN"}}, 65536);
    CHECK(static_cast<unsigned>(TransformAttr::key_length) == 14);
    CHECK(kAttrFormatTv == 0x8000);
}

TEST_CASE("ID types, auth methods and certificate encodings have their IANA values") {
    check_registry<IdType>({{1, "ID_IPV4_ADDR"},
                            {2, "ID_FQDN"},
                            {3, "ID_RFC822_ADDR"},
                            {5, "ID_IPV6_ADDR"},
                            {9, "ID_DER_ASN1_DN"},
                            {10, "ID_DER_ASN1_GN"},
                            {11, "ID_KEY_ID"},
                            {12, "ID_FC_NAME"},
                            {13, "ID_NULL"}},
                           256);
    check_registry<AuthMethod>({{1, "RSA_SIG"},
                                {2, "PSK"},
                                {3, "DSS_SIG"},
                                {9, "ECDSA_SHA256_P256"},
                                {10, "ECDSA_SHA384_P384"},
                                {11, "ECDSA_SHA512_P521"},
                                {12, "GSPM"},
                                {13, "NULL"},
                                {14, "DIGITAL_SIGNATURE"}},
                               256);
    check_registry<CertEncoding>({{1, "PKCS7_X509"},
                                  {2, "PGP"},
                                  {3, "DNS_SIGNED_KEY"},
                                  {4, "X509_SIGNATURE"},
                                  {6, "KERBEROS_TOKEN"},
                                  {7, "CRL"},
                                  {8, "ARL"},
                                  {9, "SPKI"},
                                  {10, "X509_ATTRIBUTE"},
                                  {11, "RAW_RSA_KEY"},
                                  {12, "HASH_URL_X509_CERT"},
                                  {13, "HASH_URL_X509_BUNDLE"},
                                  {14, "OCSP_CONTENT"},
                                  {15, "RAW_PUBLIC_KEY"}},
                                 256);
}

TEST_CASE("notify types have their IANA values, errors below 16384") {
    const std::map<unsigned, std::string> expected = {
        {1, "UNSUPPORTED_CRITICAL_PAYLOAD"},
        {4, "INVALID_IKE_SPI"},
        {5, "INVALID_MAJOR_VERSION"},
        {7, "INVALID_SYNTAX"},
        {9, "INVALID_MESSAGE_ID"},
        {11, "INVALID_SPI"},
        {14, "NO_PROPOSAL_CHOSEN"},
        {17, "INVALID_KE_PAYLOAD"},
        {24, "AUTHENTICATION_FAILED"},
        {34, "SINGLE_PAIR_REQUIRED"},
        {35, "NO_ADDITIONAL_SAS"},
        {36, "INTERNAL_ADDRESS_FAILURE"},
        {37, "FAILED_CP_REQUIRED"},
        {38, "TS_UNACCEPTABLE"},
        {39, "INVALID_SELECTORS"},
        {40, "UNACCEPTABLE_ADDRESSES"},
        {41, "UNEXPECTED_NAT_DETECTED"},
        {42, "USE_ASSIGNED_HoA"},
        {43, "TEMPORARY_FAILURE"},
        {44, "CHILD_SA_NOT_FOUND"},
        {16384, "INITIAL_CONTACT"},
        {16385, "SET_WINDOW_SIZE"},
        {16386, "ADDITIONAL_TS_POSSIBLE"},
        {16387, "IPCOMP_SUPPORTED"},
        {16388, "NAT_DETECTION_SOURCE_IP"},
        {16389, "NAT_DETECTION_DESTINATION_IP"},
        {16390, "COOKIE"},
        {16391, "USE_TRANSPORT_MODE"},
        {16392, "HTTP_CERT_LOOKUP_SUPPORTED"},
        {16393, "REKEY_SA"},
        {16394, "ESP_TFC_PADDING_NOT_SUPPORTED"},
        {16395, "NON_FIRST_FRAGMENTS_ALSO"},
        {16396, "MOBIKE_SUPPORTED"},
        {16397, "ADDITIONAL_IP4_ADDRESS"},
        {16398, "ADDITIONAL_IP6_ADDRESS"},
        {16399, "NO_ADDITIONAL_ADDRESSES"},
        {16400, "UPDATE_SA_ADDRESSES"},
        {16401, "COOKIE2"},
        {16402, "NO_NATS_ALLOWED"},
        {16403, "AUTH_LIFETIME"},
        {16404, "MULTIPLE_AUTH_SUPPORTED"},
        {16405, "ANOTHER_AUTH_FOLLOWS"},
        {16406, "REDIRECT_SUPPORTED"},
        {16407, "REDIRECT"},
        {16408, "REDIRECTED_FROM"},
        {16409, "TICKET_LT_OPAQUE"},
        {16410, "TICKET_REQUEST"},
        {16411, "TICKET_ACK"},
        {16412, "TICKET_NACK"},
        {16413, "TICKET_OPAQUE"},
        {16414, "LINK_ID"},
        {16415, "USE_WESP_MODE"},
        {16416, "ROHC_SUPPORTED"},
        {16417, "EAP_ONLY_AUTHENTICATION"},
        {16418, "CHILDLESS_IKEV2_SUPPORTED"},
        {16419, "QUICK_CRASH_DETECTION"},
        {16420, "IKEV2_MESSAGE_ID_SYNC_SUPPORTED"},
        {16421, "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED"},
        {16422, "IKEV2_MESSAGE_ID_SYNC"},
        {16423, "IPSEC_REPLAY_COUNTER_SYNC"},
        {16424, "SECURE_PASSWORD_METHODS"},
        {16425, "PSK_PERSIST"},
        {16426, "PSK_CONFIRM"},
        {16427, "ERX_SUPPORTED"},
        {16428, "IFOM_CAPABILITY"},
        {16429, "SENDER_REQUEST_ID"},
        {16430, "IKEV2_FRAGMENTATION_SUPPORTED"},
        {16431, "SIGNATURE_HASH_ALGORITHMS"},
        {16432, "CLONE_IKE_SA_SUPPORTED"},
        {16433, "CLONE_IKE_SA"},
        {16434, "PUZZLE"},
        {16435, "USE_PPK"},
        {16436, "PPK_IDENTITY"},
        {16437, "NO_PPK_AUTH"},
        {16438, "INTERMEDIATE_EXCHANGE_SUPPORTED"},
        {16439, "IP4_ALLOWED"},
        {16440, "IP6_ALLOWED"},
        {16441, "ADDITIONAL_KEY_EXCHANGE"},
        {16442, "USE_AGGFRAG"},
    };
    check_registry<NotifyType>(expected, 65536);
    for (const auto& [value, text] : expected) {
        INFO(text);
        CHECK(is_error(static_cast<NotifyType>(value)) == (value < 16384));
    }
    CHECK(is_error(static_cast<NotifyType>(16383)));  // unknown errors are errors too
    CHECK_FALSE(is_error(static_cast<NotifyType>(40000)));
}

TEST_CASE("TS, CP, EAP and hash algorithm values") {
    check_registry<TsType>({{7, "TS_IPV4_ADDR_RANGE"},
                            {8, "TS_IPV6_ADDR_RANGE"},
                            {9, "TS_FC_ADDR_RANGE"},
                            {10, "TS_SECLABEL"}},
                           256);
    check_registry<CfgType>({{1, "CFG_REQUEST"}, {2, "CFG_REPLY"}, {3, "CFG_SET"}, {4, "CFG_ACK"}},
                            256);
    check_registry<CfgAttr>({{1, "INTERNAL_IP4_ADDRESS"},
                             {2, "INTERNAL_IP4_NETMASK"},
                             {3, "INTERNAL_IP4_DNS"},
                             {4, "INTERNAL_IP4_NBNS"},
                             {6, "INTERNAL_IP4_DHCP"},
                             {7, "APPLICATION_VERSION"},
                             {8, "INTERNAL_IP6_ADDRESS"},
                             {10, "INTERNAL_IP6_DNS"},
                             {12, "INTERNAL_IP6_DHCP"},
                             {13, "INTERNAL_IP4_SUBNET"},
                             {14, "SUPPORTED_ATTRIBUTES"},
                             {15, "INTERNAL_IP6_SUBNET"}},
                            65536);
    check_registry<EapCode>({{1, "REQUEST"}, {2, "RESPONSE"}, {3, "SUCCESS"}, {4, "FAILURE"}}, 256);
    check_registry<HashAlg>(
        {{1, "SHA1"}, {2, "SHA2_256"}, {3, "SHA2_384"}, {4, "SHA2_512"}, {5, "IDENTITY"}}, 65536);
}

TEST_CASE("transform ids are named through the crypto enums with their IANA values") {
    CHECK(transform_id_name(TransformType::encr, 12) == "ENCR_AES_CBC");
    CHECK(transform_id_name(TransformType::encr, 20) == "ENCR_AES_GCM_16");
    CHECK(transform_id_name(TransformType::encr, 28) == "ENCR_CHACHA20_POLY1305");
    CHECK(transform_id_name(TransformType::encr, 3).empty());  // 3DES: not implemented
    CHECK(transform_id_name(TransformType::prf, 2) == "PRF_HMAC_SHA1");
    CHECK(transform_id_name(TransformType::prf, 5) == "PRF_HMAC_SHA2_256");
    CHECK(transform_id_name(TransformType::prf, 6) == "PRF_HMAC_SHA2_384");
    CHECK(transform_id_name(TransformType::prf, 7) == "PRF_HMAC_SHA2_512");
    CHECK(transform_id_name(TransformType::integ, 2) == "AUTH_HMAC_SHA1_96");
    CHECK(transform_id_name(TransformType::integ, 12) == "AUTH_HMAC_SHA2_256_128");
    CHECK(transform_id_name(TransformType::integ, 13) == "AUTH_HMAC_SHA2_384_192");
    CHECK(transform_id_name(TransformType::integ, 14) == "AUTH_HMAC_SHA2_512_256");
    CHECK(transform_id_name(TransformType::ke, 14) == "MODP_2048");
    CHECK(transform_id_name(TransformType::ke, 15) == "MODP_3072");
    CHECK(transform_id_name(TransformType::ke, 16) == "MODP_4096");
    CHECK(transform_id_name(TransformType::ke, 19) == "ECP_256");
    CHECK(transform_id_name(TransformType::ke, 20) == "ECP_384");
    CHECK(transform_id_name(TransformType::ke, 21) == "ECP_521");
    CHECK(transform_id_name(TransformType::ke, 31) == "CURVE25519");
    CHECK(transform_id_name(TransformType::ke, 32) == "CURVE448");
    CHECK(transform_id_name(TransformType::esn, 1) == "ESN");
    CHECK(transform_id_name(static_cast<TransformType>(99), 1).empty());
}

TEST_CASE("name_or_number prints unknown values as numbers") {
    CHECK(name_or_number(NotifyType::cookie, "NOTIFY") == "COOKIE");
    CHECK(name_or_number(static_cast<NotifyType>(40000), "NOTIFY") == "NOTIFY(40000)");
    CHECK(name_or_number(static_cast<PayloadType>(250), "payload") == "payload(250)");
}

TEST_CASE("fixed sizes of the wire format") {
    CHECK(kHeaderSize == 28);               // RFC 7296 3.1
    CHECK(kGenericPayloadHeaderSize == 4);  // RFC 7296 3.2
    CHECK(kSkfHeaderSize == 8);             // RFC 7383 2.5
}
