#include "config/values.hpp"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <vector>

#include "common/bytes.hpp"

namespace ikemesh::config {
namespace {

using namespace std::chrono_literals;

Error invalid(std::string detail) {
    return Error{Errc::config_invalid, std::move(detail)};
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Reads the digits at text[pos...] into `value`; false on no digits or overflow past `limit`.
bool read_number(std::string_view text, size_t& pos, uint64_t limit, uint64_t& value) {
    size_t start = pos;
    value = 0;
    while (pos < text.size() && is_digit(text[pos])) {
        uint64_t digit = static_cast<uint64_t>(text[pos] - '0');
        if (value > (limit - digit) / 10) return false;
        value = value * 10 + digit;
        ++pos;
    }
    return pos > start;
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const uint64_t max_ms = static_cast<uint64_t>(kMaxDuration.count());
    if (text.empty()) return invalid("empty");
    if (std::all_of(text.begin(), text.end(), is_digit)) {
        size_t pos = 0;
        uint64_t secs = 0;
        if (!read_number(text, pos, max_ms / 1000, secs)) return invalid("too large");
        return std::chrono::milliseconds(secs * 1000);
    }
    uint64_t total = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        uint64_t n = 0;
        if (!is_digit(text[pos])) {
            if (text[pos] == '-') return invalid("negative");
            return invalid("a number must come before each unit");
        }
        if (!read_number(text, pos, max_ms, n)) return invalid("too large");
        size_t unit_start = pos;
        while (pos < text.size() && is_alpha(text[pos]))
            ++pos;
        std::string_view unit = text.substr(unit_start, pos - unit_start);
        uint64_t scale = 0;
        if (unit == "ms") {
            scale = 1;
        } else if (unit == "s") {
            scale = 1000;
        } else if (unit == "m") {
            scale = 60 * 1000;
        } else if (unit == "h") {
            scale = 3600 * 1000;
        } else if (unit == "d") {
            scale = 24 * 3600 * 1000;
        } else if (unit.empty()) {
            if (pos < text.size() && text[pos] == '.') {
                return invalid("fractions are not supported; combine units as in \"1h30m\"");
            }
            return invalid("a unit (ms, s, m, h, d) must follow each number");
        } else {
            return invalid("unknown unit \"" + std::string(unit) + "\" (use ms, s, m, h or d)");
        }
        if (n > (max_ms - total) / scale) return invalid("too large");
        total += n * scale;
    }
    return std::chrono::milliseconds(static_cast<int64_t>(total));
}

std::string format_duration(std::chrono::milliseconds d) {
    int64_t ms = d.count();
    if (ms <= 0) return "0s";  // durations in a config are never negative
    static constexpr std::pair<int64_t, const char*> kUnits[] = {{24 * 3600 * 1000LL, "d"},
                                                                 {3600 * 1000LL, "h"},
                                                                 {60 * 1000LL, "m"},
                                                                 {1000, "s"},
                                                                 {1, "ms"}};
    std::string out;
    for (auto [scale, unit] : kUnits) {
        if (ms >= scale) {
            out += std::to_string(ms / scale) + unit;
            ms %= scale;
        }
    }
    return out;
}

Result<uint64_t> parse_byte_size(std::string_view text) {
    if (text.empty()) return invalid("empty");
    size_t pos = 0;
    uint64_t n = 0;
    // 2^60 bytes: far beyond any SA byte limit and safe to scale.
    constexpr uint64_t kLimit = uint64_t{1} << 60;
    if (text[0] == '-') return invalid("negative");
    if (!read_number(text, pos, kLimit, n)) {
        return invalid(pos == 0 ? "a number must come first" : "too large");
    }
    std::string_view unit = text.substr(pos);
    unsigned shift = 0;
    if (unit.empty()) {
        shift = 0;
    } else if (unit == "K" || unit == "k") {
        shift = 10;
    } else if (unit == "M") {
        shift = 20;
    } else if (unit == "G") {
        shift = 30;
    } else if (unit == "T") {
        shift = 40;
    } else {
        return invalid("unknown unit \"" + std::string(unit) + "\" (use K, M, G or T)");
    }
    if (n > (kLimit >> shift)) return invalid("too large");
    return n << shift;
}

namespace {

int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int base64_value(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Decoders write straight into SecretBytes so no unwiped copy of the key is left behind.
Result<crypto::SecretBytes> decode_hex_secret(std::span<const uint8_t> digits) {
    if (digits.empty()) return invalid("no hex digits after \"0x\"");
    if (digits.size() % 2 != 0) return invalid("odd number of hex digits after \"0x\"");
    crypto::SecretBytes out(digits.size() / 2);
    auto dst = out.mutable_view();
    for (size_t i = 0; i < dst.size(); ++i) {
        int hi = hex_value(digits[2 * i]);
        int lo = hex_value(digits[2 * i + 1]);
        if (hi < 0 || lo < 0) return invalid("a character after \"0x\" is not a hex digit");
        dst[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return out;
}

Result<crypto::SecretBytes> decode_base64_secret(std::span<const uint8_t> text) {
    size_t len = text.size();
    size_t padding = 0;
    while (len > 0 && text[len - 1] == '=' && padding < 2) {
        --len;
        ++padding;
    }
    if (len == 0) return invalid("no base64 characters after \"0s\"");
    if (padding > 0 && (len + padding) % 4 != 0) return invalid("bad base64 padding after \"0s\"");
    if (len % 4 == 1) return invalid("base64 text after \"0s\" has an impossible length");
    crypto::SecretBytes out(len * 6 / 8);
    auto dst = out.mutable_view();
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; ++i) {
        int v = base64_value(text[i]);
        if (v < 0) return invalid("a character after \"0s\" is not base64");
        acc = (acc << 6 | static_cast<uint32_t>(v)) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = static_cast<uint8_t>(acc >> bits);
        }
    }
    return out;
}

}  // namespace

Result<crypto::SecretBytes> decode_psk(std::span<const uint8_t> text) {
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        return decode_hex_secret(text.subspan(2));
    }
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 's' || text[1] == 'S')) {
        return decode_base64_secret(text.subspan(2));
    }
    if (text.empty()) return invalid("empty");
    return crypto::SecretBytes(text);
}

// ---- identities -------------------------------------------------------------------------------

namespace {

// RFC 7296 3.5 gives no limit for ID data; these keep IDs well inside one IKE message.
constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxDnLength = 1024;

bool is_host_char(char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

bool is_printable(char c) {
    return c > ' ' && c < 0x7f;
}

Result<ike::Identity> make_name(ike::IdKind kind, std::string_view name, std::string_view text) {
    if (name.empty()) return invalid("empty name");
    if (name.size() > kMaxNameLength) {
        return invalid("longer than " + std::to_string(kMaxNameLength) + " characters");
    }
    if (!std::all_of(name.begin(), name.end(), is_printable)) {
        return invalid("contains spaces or non-printable characters");
    }
    return ike::Identity{kind, Bytes(name.begin(), name.end()), std::string(text)};
}

struct X509NameDeleter {
    void operator()(X509_NAME* n) const { X509_NAME_free(n); }
};

// Splits "CN=a, O=b\, Inc." into RDNs and adds each, in order, to an X509_NAME.
Result<Bytes> encode_dn(std::string_view text) {
    std::unique_ptr<X509_NAME, X509NameDeleter> name(X509_NAME_new());
    if (!name) return Error{Errc::crypto_failure, "X509_NAME_new"};
    size_t pos = 0;
    while (pos < text.size()) {
        std::string type, value;
        bool in_value = false;
        for (; pos < text.size(); ++pos) {
            char c = text[pos];
            if (c == '\\' && pos + 1 < text.size()) {
                (in_value ? value : type) += text[++pos];
                continue;
            }
            if (c == ',' || c == ';') {
                ++pos;
                break;
            }
            if (c == '=' && !in_value) {
                in_value = true;
                continue;
            }
            (in_value ? value : type) += c;
        }
        auto trim = [](std::string& s) {
            size_t b = s.find_first_not_of(' ');
            size_t e = s.find_last_not_of(' ');
            s = b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
        };
        trim(type);
        trim(value);
        if (!in_value) return invalid("\"" + type + "\" is not of the form TYPE=value");
        if (type.empty()) return invalid("an attribute type is missing before '='");
        if (value.empty()) return invalid("attribute " + type + " has an empty value");
        int nid = OBJ_txt2nid(type.c_str());
        if (nid == NID_undef) {
            // Attribute types are case-insensitive ("cn" = "CN"); OpenSSL's short names are not.
            std::string upper = type;
            for (char& c : upper)
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            nid = OBJ_txt2nid(upper.c_str());
        }
        if (nid == NID_undef) return invalid("unknown attribute type \"" + type + "\"");
        if (X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), -1, 0) != 1) {
            return invalid("attribute " + type + " has a value that is too long or not allowed");
        }
    }
    if (X509_NAME_entry_count(name.get()) == 0) return invalid("empty distinguished name");
    unsigned char* der = nullptr;
    int len = i2d_X509_NAME(name.get(), &der);
    if (len <= 0) return Error{Errc::crypto_failure, "i2d_X509_NAME"};
    Bytes out(der, der + len);
    OPENSSL_free(der);
    return out;
}

}  // namespace

bool same_dn(ByteView a, ByteView b) {
    auto decode = [](ByteView der) {
        const unsigned char* p = der.data();
        return std::unique_ptr<X509_NAME, X509NameDeleter>(
            d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size())));
    };
    auto x = decode(a);
    auto y = decode(b);
    return x && y && X509_NAME_cmp(x.get(), y.get()) == 0;
}

namespace {

struct Prefix {
    std::string_view text;
    ike::IdKind kind;
};
constexpr std::array<Prefix, 6> kPrefixes{{
    {"ipv4", ike::IdKind::ipv4},
    {"ipv6", ike::IdKind::ipv6},
    {"fqdn", ike::IdKind::fqdn},
    {"email", ike::IdKind::rfc822},
    {"dn", ike::IdKind::der_asn1_dn},
    {"keyid", ike::IdKind::key_id},
}};

Result<ike::Identity> make_identity(ike::IdKind kind, std::string_view value,
                                    std::string_view text) {
    switch (kind) {
        case ike::IdKind::ipv4:
        case ike::IdKind::ipv6: {
            auto ip = IpAddress::parse(value);
            bool v4 = kind == ike::IdKind::ipv4;
            if (!ip || ip->is_v4() != v4) {
                return invalid(v4 ? "not an IPv4 address" : "not an IPv6 address");
            }
            auto b = ip->bytes();
            return ike::Identity{kind, Bytes(b.begin(), b.end()), std::string(text)};
        }
        case ike::IdKind::fqdn:
        case ike::IdKind::rfc822:
            return make_name(kind, value, text);
        case ike::IdKind::der_asn1_dn: {
            if (value.size() > kMaxDnLength) return invalid("distinguished name too long");
            auto der = encode_dn(value);
            if (!der) return der.take_error();
            return ike::Identity{kind, std::move(*der), std::string(text)};
        }
        case ike::IdKind::key_id: {
            auto bytes = from_hex(value);
            if (!bytes || bytes->empty()) return invalid("keyid: must be followed by hex digits");
            if (bytes->size() > kMaxNameLength) return invalid("key id too long");
            return ike::Identity{kind, std::move(*bytes), std::string(text)};
        }
    }
    return invalid("unknown identity type");
}

}  // namespace

Result<ike::Identity> parse_identity(std::string_view text) {
    if (text.empty()) return invalid("empty");
    for (const auto& p : kPrefixes) {
        if (text.size() > p.text.size() && text.substr(0, p.text.size()) == p.text &&
            text[p.text.size()] == ':') {
            return make_identity(p.kind, text.substr(p.text.size() + 1), text);
        }
    }
    if (auto ip = IpAddress::parse(text)) {
        return make_identity(ip->is_v4() ? ike::IdKind::ipv4 : ike::IdKind::ipv6, text, text);
    }
    if (text.find('=') != std::string_view::npos) {
        return make_identity(ike::IdKind::der_asn1_dn, text, text);
    }
    if (text[0] == '@') {
        std::string_view name = text.substr(1);
        if (name.empty() || !std::all_of(name.begin(), name.end(), is_host_char)) {
            return invalid("\"@\" must be followed by a host name (letters, digits, '-', '.')");
        }
        return make_identity(ike::IdKind::fqdn, name, text);
    }
    size_t at = text.find('@');
    if (at != std::string_view::npos) {
        if (at + 1 == text.size() || text.find('@', at + 1) != std::string_view::npos) {
            return invalid("an email identity has the form user@host");
        }
        return make_identity(ike::IdKind::rfc822, text, text);
    }
    if (!std::all_of(text.begin(), text.end(), is_host_char)) {
        return invalid(
            "not an IP address, host name, user@host or distinguished name; use a prefix such as "
            "\"fqdn:\" for other names");
    }
    return make_identity(ike::IdKind::fqdn, text, text);
}

ike::Identity identity_of(const IpAddress& address) {
    auto b = address.bytes();
    return ike::Identity{address.is_v6() ? ike::IdKind::ipv6 : ike::IdKind::ipv4,
                         Bytes(b.begin(), b.end()), address.to_string()};
}

std::string_view id_kind_name(ike::IdKind kind) {
    for (const auto& p : kPrefixes) {
        if (p.kind == kind) return p.text;
    }
    return "unknown";
}

// ---- traffic classes ----------------------------------------------------------------------------

namespace {

struct ProtocolName {
    std::string_view name;
    uint8_t number;  // IANA protocol numbers
};
constexpr std::array<ProtocolName, 8> kProtocols{{
    {"icmp", 1},
    {"tcp", 6},
    {"udp", 17},
    {"gre", 47},
    {"ipv6-icmp", 58},
    {"icmpv6", 58},
    {"icmp6", 58},
    {"sctp", 132},
}};

bool has_ports(uint8_t protocol) {
    return protocol == 6 || protocol == 17 || protocol == 132;
}

}  // namespace

Result<ike::TrafficSpec> parse_traffic_spec(std::string_view text) {
    if (text.empty()) return invalid("empty");
    size_t slash = text.find('/');
    std::string_view proto = text.substr(0, slash);
    ike::TrafficSpec spec;
    bool known = false;
    for (const auto& p : kProtocols) {
        if (p.name == proto) {
            spec.protocol = p.number;
            known = true;
            break;
        }
    }
    if (!known) {
        size_t pos = 0;
        uint64_t n = 0;
        if (!read_number(proto, pos, 255, n) || pos != proto.size() || n == 0) {
            return invalid("unknown protocol \"" + std::string(proto) +
                           "\" (use tcp, udp, sctp, icmp, ipv6-icmp, gre or a number 1-255)");
        }
        spec.protocol = static_cast<uint8_t>(n);
    }
    if (slash == std::string_view::npos) return spec;
    std::string_view port = text.substr(slash + 1);
    if (!has_ports(spec.protocol)) return invalid("only tcp, udp and sctp have ports");
    size_t pos = 0;
    uint64_t n = 0;
    if (!read_number(port, pos, 65535, n) || pos != port.size() || n == 0) {
        return invalid("port must be a number from 1 to 65535");
    }
    spec.port = static_cast<uint16_t>(n);
    return spec;
}

std::string to_string(const ike::TrafficSpec& spec) {
    std::string out;
    for (const auto& p : kProtocols) {
        if (p.number == spec.protocol) {
            out = p.name;
            break;
        }
    }
    if (out.empty()) out = spec.protocol == 0 ? "any" : std::to_string(spec.protocol);
    if (spec.port != 0) out += "/" + std::to_string(spec.port);
    return out;
}

// ---- suggestions --------------------------------------------------------------------------------

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates) {
    // Words are short identifiers; bound the work for pathological input.
    if (word.size() > 64) return std::nullopt;
    std::optional<std::string_view> best;
    size_t best_distance = 0;
    for (auto c : candidates) {
        size_t d = edit_distance(word, c);
        if (!best || d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    // A typo is at most a third of the word (at least one edit, at most three).
    size_t allowed = std::clamp<size_t>(word.size() / 3, 1, 3);
    if (best && best_distance <= allowed) return best;
    return std::nullopt;
}

}  // namespace ikemesh::config
