// Parsers for the scalar value syntaxes of the configuration: durations, byte sizes, pre-shared
// key encodings, IKE identities and traffic classes, plus the "did you mean" helper.
//
// Each is a pure function from text to a value or an Error (Errc::config_invalid) whose detail
// says what was wrong in words that can be shown after "expected ..., got ...". The caller adds
// file, line and key. decode_psk never puts any part of its input into an error. These functions
// know nothing about TOML or about which key a value belongs to.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "crypto/secret.hpp"
#include "ike/engine_config.hpp"

namespace ikemesh::config {

// Upper bound for every duration, so later arithmetic (margins, jitter, millisecond conversion)
// cannot overflow: 100 years is beyond any sensible lifetime.
inline constexpr std::chrono::milliseconds kMaxDuration{100LL * 365 * 24 * 3600 * 1000};

// "30s", "5m", "1h", "1d", "250ms", combinations such as "1h30m"; digits alone are seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest text parse_duration reads back to `d`: "1h30m", "250ms", "0s".
std::string format_duration(std::chrono::milliseconds d);

// "1024", "64K", "500M", "4G", "1T": binary multiples (K = 1024). Digits alone are bytes.
Result<uint64_t> parse_byte_size(std::string_view text);

// strongSwan's PSK notation: "0x" + hex, "0s" + base64, otherwise the text's own bytes.
// The error detail never quotes the input.
Result<crypto::SecretBytes> decode_psk(std::span<const uint8_t> text);
inline Result<crypto::SecretBytes> decode_psk(std::string_view text) {
    return decode_psk(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// An IKE identity (RFC 7296 3.5). Guessing: an IPv4/IPv6 literal -> ID_IPV4_ADDR/ID_IPV6_ADDR;
// text containing '=' -> ID_DER_ASN1_DN ("CN=node1,O=Example", RDNs in the order written, which
// is the DER order); "user@host" -> ID_RFC822_ADDR; "@name" or a host name -> ID_FQDN. Prefixes
// "ipv4:", "ipv6:", "fqdn:", "email:", "dn:", "keyid:HEX" override the guess.
Result<ike::Identity> parse_identity(std::string_view text);
// Whether two DER distinguished names name the same entity, comparing as X.509 does (OpenSSL's
// X509_NAME_cmp: case and string type do not matter). False if either is not a DN.
bool same_dn(ByteView a, ByteView b);
// The ID_IPV4_ADDR or ID_IPV6_ADDR identity of an address.
ike::Identity identity_of(const IpAddress& address);
// "fqdn", "email", "ipv4", "ipv6", "dn", "keyid": the prefix parse_identity accepts for a kind.
std::string_view id_kind_name(ike::IdKind kind);

// "tcp/22", "udp/53", "tcp" (any port), "icmp", "ipv6-icmp", "gre", or a protocol number.
Result<ike::TrafficSpec> parse_traffic_spec(std::string_view text);
std::string to_string(const ike::TrafficSpec& spec);

// Levenshtein distance, for suggestions.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` if it is close enough to be a likely typo.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

}  // namespace ikemesh::config
