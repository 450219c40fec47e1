#include "config/values.hpp"

#include <catch2/catch.hpp>

using namespace ikemesh;
using namespace ikemesh::config;
using namespace std::chrono_literals;

namespace {

std::string hex_of(const crypto::SecretBytes& s) {
    return to_hex(s.view());
}

}  // namespace

TEST_CASE("durations: units, combinations and bare seconds") {
    CHECK(*parse_duration("30s") == 30s);
    CHECK(*parse_duration("5m") == 5min);
    CHECK(*parse_duration("1h") == 1h);
    CHECK(*parse_duration("1d") == 24h);
    CHECK(*parse_duration("250ms") == 250ms);
    CHECK(*parse_duration("1h30m") == 90min);
    CHECK(*parse_duration("1d2h3m4s5ms") == 24h + 2h + 3min + 4s + 5ms);
    CHECK(*parse_duration("45") == 45s);
    CHECK(*parse_duration("0") == 0s);
    CHECK(*parse_duration("0s") == 0s);
}

TEST_CASE("durations: malformed text is refused with a reason") {
    auto reason = [](std::string_view text) {
        auto r = parse_duration(text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().is(Errc::config_invalid));
        return r.error().detail;
    };
    CHECK(reason("") == "empty");
    CHECK(reason("3x").find("unknown unit \"x\"") != std::string::npos);
    CHECK(reason("1.5h").find("fractions") != std::string::npos);
    CHECK(reason("-5s") == "negative");
    CHECK(reason("s") == "a number must come before each unit");
    CHECK(reason("1h30") == "a unit (ms, s, m, h, d) must follow each number");
    CHECK(reason("5 s").find("unit") != std::string::npos);
    CHECK(reason("99999999999999999999s") == "too large");
    CHECK(reason("36500d1d") == "too large");  // past kMaxDuration (100 years)
    CHECK(reason("3650000000000") == "too large");
}

TEST_CASE("durations format back to the text that parses to them") {
    for (auto d : {0ms, 250ms, 1000ms, 90000ms, 3600000ms, 86400000ms + 1ms}) {
        CHECK(*parse_duration(format_duration(d)) == d);
    }
    CHECK(format_duration(90min) == "1h30m");
    CHECK(format_duration(0s) == "0s");
    CHECK(format_duration(1500ms) == "1s500ms");
}

TEST_CASE("byte sizes use binary multiples") {
    CHECK(*parse_byte_size("1024") == 1024);
    CHECK(*parse_byte_size("64K") == 64 * 1024);
    CHECK(*parse_byte_size("64k") == 64 * 1024);
    CHECK(*parse_byte_size("500M") == 500ull << 20);
    CHECK(*parse_byte_size("4G") == 4ull << 30);
    CHECK(*parse_byte_size("2T") == 2ull << 40);
    CHECK(*parse_byte_size("0") == 0);
    CHECK_FALSE(parse_byte_size("").ok());
    CHECK_FALSE(parse_byte_size("M").ok());
    CHECK_FALSE(parse_byte_size("-1").ok());
    CHECK(parse_byte_size("5Q").error().detail.find("unknown unit \"Q\"") != std::string::npos);
    CHECK(parse_byte_size("2000000000T").error().detail == "too large");
}

TEST_CASE("PSK notation: text, 0x hex and 0s base64") {
    CHECK(hex_of(*decode_psk("abc")) == "616263");
    CHECK(hex_of(*decode_psk("0x00ff10AB")) == "00ff10ab");
    CHECK(hex_of(*decode_psk("0XdeadBEEF")) == "deadbeef");
    // RFC 4648 10 test vectors.
    CHECK(hex_of(*decode_psk("0sZm9vYmFy")) == to_hex(Bytes{'f', 'o', 'o', 'b', 'a', 'r'}));
    CHECK(hex_of(*decode_psk("0sZm9vYg==")) == to_hex(Bytes{'f', 'o', 'o', 'b'}));
    CHECK(hex_of(*decode_psk("0sZm9vYmE=")) == to_hex(Bytes{'f', 'o', 'o', 'b', 'a'}));
    CHECK(hex_of(*decode_psk("0sZm9vYmE")) == to_hex(Bytes{'f', 'o', 'o', 'b', 'a'}));
    CHECK(hex_of(*decode_psk("0s+/+/")) == "fbffbf");
    // Text that merely starts with 0 is text.
    CHECK(hex_of(*decode_psk("0abc")) == "30616263");
}

TEST_CASE("PSK notation errors never quote the key") {
    const std::string secret_part = "SECRETzz";
    for (const std::string& text :
         std::vector<std::string>{"0x" + secret_part, "0x123", "0x", "0s" + secret_part + "!", "0s",
                                  "0sA", "0sQQ=Q", ""}) {
        auto r = decode_psk(text);
        INFO(text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().is(Errc::config_invalid));
        CHECK(r.error().detail.find("SECRET") == std::string::npos);
        // (texts of two characters are just the notation's prefix, which messages do name)
        if (text.size() > 2) CHECK(r.error().message().find(text) == std::string::npos);
    }
}

TEST_CASE("identities: guessing by form") {
    auto v4 = *parse_identity("192.0.2.7");
    CHECK(v4.kind == ike::IdKind::ipv4);
    CHECK(to_hex(v4.data) == "c0000207");
    auto v6 = *parse_identity("2001:db8::1");
    CHECK(v6.kind == ike::IdKind::ipv6);
    CHECK(to_hex(v6.data) == "20010db8000000000000000000000001");
    auto fqdn = *parse_identity("node1.mesh.example");
    CHECK(fqdn.kind == ike::IdKind::fqdn);
    CHECK(std::string(fqdn.data.begin(), fqdn.data.end()) == "node1.mesh.example");
    CHECK(fqdn.text == "node1.mesh.example");
    auto at = *parse_identity("@node1");
    CHECK(at.kind == ike::IdKind::fqdn);
    CHECK(std::string(at.data.begin(), at.data.end()) == "node1");
    CHECK(at.text == "@node1");
    auto mail = *parse_identity("ops@mesh.example");
    CHECK(mail.kind == ike::IdKind::rfc822);
    CHECK(std::string(mail.data.begin(), mail.data.end()) == "ops@mesh.example");
}

TEST_CASE("identities: a DN is encoded to DER in the order written") {
    // X.690 by hand: SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String "node1" } },
    //                           SET { SEQUENCE { OID 2.5.4.10, UTF8String "Example" } } }
    auto dn = *parse_identity("CN=node1,O=Example");
    CHECK(dn.kind == ike::IdKind::der_asn1_dn);
    CHECK(to_hex(dn.data) ==
          "3022"
          "310e300c06035504030c056e6f646531"
          "3110300e060355040a0c074578616d706c65");
    // countryName is a PrintableString (X.520); spaces around separators are not part of values.
    auto c = *parse_identity("C=CH, O=strongSwan, CN=moon.strongswan.org");
    CHECK(to_hex(c.data).substr(0, 30) ==
          "30" + to_hex(Bytes{uint8_t(c.data.size() - 2)}) + "310b3009060355040613024348");
    // Escaped separators stay in the value.
    auto esc = *parse_identity("O=Example\\, Inc.,CN=x");
    auto plain = *parse_identity("dn:O=Example\\, Inc.,CN=x");
    CHECK(esc.data == plain.data);
    CHECK(to_hex(esc.data).find(to_hex(Bytes{'E', 'x', 'a', 'm', 'p', 'l', 'e', ',', ' ', 'I'})) !=
          std::string::npos);
}

TEST_CASE("identities: explicit prefixes override the guess") {
    auto f = *parse_identity("fqdn:192.0.2.1");
    CHECK(f.kind == ike::IdKind::fqdn);
    CHECK(std::string(f.data.begin(), f.data.end()) == "192.0.2.1");
    auto e = *parse_identity("email:node1");
    CHECK(e.kind == ike::IdKind::rfc822);
    auto k = *parse_identity("keyid:0a0B:ff");
    CHECK(k.kind == ike::IdKind::key_id);
    CHECK(to_hex(k.data) == "0a0bff");
    CHECK(parse_identity("ipv4:10.1.2.3")->kind == ike::IdKind::ipv4);
    CHECK(parse_identity("ipv6:::1")->kind == ike::IdKind::ipv6);
    CHECK(parse_identity("dn:CN=a")->kind == ike::IdKind::der_asn1_dn);
    CHECK(parse_identity("fqdn:any name with spaces").ok() == false);
}

TEST_CASE("identities: malformed ones are refused with a reason") {
    auto reason = [](std::string_view text) {
        auto r = parse_identity(text);
        INFO(text);
        REQUIRE_FALSE(r.ok());
        return r.error().detail;
    };
    CHECK(reason("") == "empty");
    CHECK(reason("ipv4:2001:db8::1") == "not an IPv4 address");
    CHECK(reason("ipv6:10.0.0.1") == "not an IPv6 address");
    CHECK(reason("keyid:xyz").find("hex") != std::string::npos);
    CHECK(reason("CN=") == "attribute CN has an empty value");
    CHECK(reason("XX=1") == "unknown attribute type \"XX\"");
    CHECK(reason("CN=a,junk") == "\"junk\" is not of the form TYPE=value");
    CHECK(reason("C=Switzerland").find("too long or not allowed") != std::string::npos);
    CHECK(reason("node 1").find("not an IP address") != std::string::npos);
    CHECK(reason("a@b@c") == "an email identity has the form user@host");
    CHECK(reason("@").find("host name") != std::string::npos);
    CHECK(reason("fqdn:" + std::string(256, 'a')).find("longer than 255") != std::string::npos);
}

TEST_CASE("the identity of an address") {
    auto id = identity_of(*IpAddress::parse("10.0.0.2"));
    CHECK(id.kind == ike::IdKind::ipv4);
    CHECK(to_hex(id.data) == "0a000002");
    CHECK(id == *parse_identity("10.0.0.2"));
    CHECK(identity_of(*IpAddress::parse("fe80::1")).kind == ike::IdKind::ipv6);
    CHECK(id_kind_name(ike::IdKind::rfc822) == "email");
}

TEST_CASE("every identity kind has a prefix name that parses back") {
    for (auto kind : {ike::IdKind::ipv4, ike::IdKind::fqdn, ike::IdKind::rfc822, ike::IdKind::ipv6,
                      ike::IdKind::der_asn1_dn, ike::IdKind::key_id}) {
        std::string name(id_kind_name(kind));
        CHECK(name != "unknown");
        std::string sample = kind == ike::IdKind::ipv4          ? "10.0.0.1"
                             : kind == ike::IdKind::ipv6        ? "::1"
                             : kind == ike::IdKind::der_asn1_dn ? "CN=x"
                             : kind == ike::IdKind::key_id      ? "01"
                                                                : "x";
        auto id = parse_identity(name + ":" + sample);
        REQUIRE(id.ok());
        CHECK(id->kind == kind);
    }
}

TEST_CASE("traffic classes") {
    CHECK(*parse_traffic_spec("tcp/22") == ike::TrafficSpec{6, 22});
    CHECK(*parse_traffic_spec("udp/53") == ike::TrafficSpec{17, 53});
    CHECK(*parse_traffic_spec("sctp/9899") == ike::TrafficSpec{132, 9899});
    CHECK(*parse_traffic_spec("tcp") == ike::TrafficSpec{6, 0});
    CHECK(*parse_traffic_spec("icmp") == ike::TrafficSpec{1, 0});
    CHECK(*parse_traffic_spec("ipv6-icmp") == ike::TrafficSpec{58, 0});
    CHECK(*parse_traffic_spec("icmpv6") == ike::TrafficSpec{58, 0});
    CHECK(*parse_traffic_spec("gre") == ike::TrafficSpec{47, 0});
    CHECK(*parse_traffic_spec("50") == ike::TrafficSpec{50, 0});
    CHECK(to_string(ike::TrafficSpec{6, 22}) == "tcp/22");
    CHECK(to_string(ike::TrafficSpec{58, 0}) == "ipv6-icmp");
    CHECK(to_string(ike::TrafficSpec{50, 0}) == "50");
    for (const char* bad :
         {"", "tcp/", "tcp/0", "tcp/65536", "icmp/8", "foo", "0", "256", "tcp/22/1", "tcp/x"}) {
        INFO(bad);
        CHECK_FALSE(parse_traffic_spec(bad).ok());
    }
    CHECK(parse_traffic_spec("icmp/8").error().detail == "only tcp, udp and sctp have ports");
}

TEST_CASE("suggestions for typos") {
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("same", "same") == 0);
    std::vector<std::string_view> keys{"dpd_delay", "ike_lifetime", "child_lifetime"};
    CHECK(closest_match("dpd_dealy", keys) == std::optional<std::string_view>("dpd_delay"));
    CHECK(closest_match("ike_lifetme", keys) == std::optional<std::string_view>("ike_lifetime"));
    CHECK_FALSE(closest_match("bananas", keys));
    CHECK_FALSE(closest_match(std::string(100, 'x'), keys));
}
