#include "config/proposals.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "config/values.hpp"

namespace ikemesh::config {
namespace {

using crypto::DhGroup;
using crypto::EncrAlg;
using crypto::EncrSpec;
using crypto::IntegAlg;
using crypto::PrfAlg;

Algorithm encr(EncrAlg alg, uint16_t bits) {
    Algorithm a;
    a.kind = AlgorithmKind::encr;
    a.encr = EncrSpec{alg, bits};
    return a;
}
Algorithm integ(IntegAlg alg) {
    Algorithm a;
    a.kind = AlgorithmKind::integ;
    a.integ = alg;
    return a;
}
Algorithm prf(PrfAlg alg) {
    Algorithm a;
    a.kind = AlgorithmKind::prf;
    a.prf = alg;
    return a;
}
Algorithm dh(DhGroup g) {
    Algorithm a;
    a.kind = AlgorithmKind::dh;
    a.dh = g;
    return a;
}
Algorithm esn(bool on) {
    Algorithm a;
    a.kind = AlgorithmKind::esn;
    a.esn = on;
    return a;
}

// Everything a proposal may name: the algorithms of crypto/algorithms.hpp (RFC 7296 3.3.2
// transform IDs), AES with each key length it is used with, and ESN (RFC 7296 3.3.2 type 5).
const std::vector<Algorithm>& all_algorithms() {
    static const std::vector<Algorithm> v{
        encr(EncrAlg::aes_gcm_16, 128),
        encr(EncrAlg::aes_gcm_16, 256),
        encr(EncrAlg::chacha20_poly1305, 256),
        encr(EncrAlg::aes_cbc, 128),
        encr(EncrAlg::aes_cbc, 192),
        encr(EncrAlg::aes_cbc, 256),
        integ(IntegAlg::hmac_sha1_96),
        integ(IntegAlg::hmac_sha2_256_128),
        integ(IntegAlg::hmac_sha2_384_192),
        integ(IntegAlg::hmac_sha2_512_256),
        prf(PrfAlg::hmac_sha1),
        prf(PrfAlg::hmac_sha2_256),
        prf(PrfAlg::hmac_sha2_384),
        prf(PrfAlg::hmac_sha2_512),
        dh(DhGroup::modp2048),
        dh(DhGroup::modp3072),
        dh(DhGroup::modp4096),
        dh(DhGroup::ecp256),
        dh(DhGroup::ecp384),
        dh(DhGroup::ecp521),
        dh(DhGroup::curve25519),
        dh(DhGroup::curve448),
        esn(true),
        esn(false),
    };
    return v;
}

// strongSwan proposal keywords that crypto::parse_* does not know (crypto accepts its own names
// plus "curve25519", "curve448", "aes128gcm", "aes256gcm").
struct Alias {
    std::string_view name;
    Algorithm algorithm;
};
const std::vector<Alias>& aliases() {
    static const std::vector<Alias> v{
        {"aes", encr(EncrAlg::aes_cbc, 128)},
        {"aes128gcm128", encr(EncrAlg::aes_gcm_16, 128)},  // ICV length in bits
        {"aes256gcm128", encr(EncrAlg::aes_gcm_16, 256)},
        {"sha", integ(IntegAlg::hmac_sha1_96)},
        {"sha2_256", integ(IntegAlg::hmac_sha2_256_128)},
        {"sha2_384", integ(IntegAlg::hmac_sha2_384_192)},
        {"sha2_512", integ(IntegAlg::hmac_sha2_512_256)},
        {"esn", esn(true)},
        {"noesn", esn(false)},
    };
    return v;
}

Error invalid(std::string detail) {
    return Error{Errc::config_invalid, std::move(detail)};
}

template <typename T>
void add_unique(std::vector<T>& list, const T& v) {
    if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

// The algorithms of one proposal string, sorted by kind, duplicates dropped.
struct Tokens {
    std::vector<EncrSpec> encr;
    std::vector<IntegAlg> integ;
    std::vector<PrfAlg> prf;
    std::vector<DhGroup> dh;
    std::vector<bool> esn;
    std::string first_prf, first_esn;  // for messages
};

Result<Tokens> tokenize(std::string_view text) {
    if (text.empty()) return invalid("empty proposal");
    Tokens t;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t dash = text.find('-', pos);
        if (dash == std::string_view::npos) dash = text.size();
        std::string_view token = text.substr(pos, dash - pos);
        pos = dash + 1;
        if (token.empty()) return invalid("empty algorithm name (two dashes in a row?)");
        std::optional<Algorithm> a = find_algorithm(token);
        if (!a) {
            std::string msg = "unknown algorithm \"" + std::string(token) + "\"";
            if (auto guess = closest_match(token, algorithm_spellings())) {
                msg += " (did you mean \"" + std::string(*guess) + "\"?)";
            }
            return invalid(std::move(msg));
        }
        switch (a->kind) {
            case AlgorithmKind::encr:
                add_unique(t.encr, a->encr);
                break;
            case AlgorithmKind::integ:
                add_unique(t.integ, a->integ);
                break;
            case AlgorithmKind::prf:
                if (t.first_prf.empty()) t.first_prf = token;
                add_unique(t.prf, a->prf);
                break;
            case AlgorithmKind::dh:
                add_unique(t.dh, a->dh);
                break;
            case AlgorithmKind::esn:
                if (t.first_esn.empty()) t.first_esn = token;
                add_unique(t.esn, a->esn);
                break;
        }
    }
    return t;
}

// Shared rules for the cipher part of IKE and ESP proposals.
Status check_ciphers(const Tokens& t) {
    if (t.encr.empty()) return invalid("no encryption algorithm");
    size_t aead = static_cast<size_t>(std::count_if(
        t.encr.begin(), t.encr.end(), [](const EncrSpec& e) { return crypto::is_aead(e.alg); }));
    if (aead != 0 && aead != t.encr.size()) {
        return invalid("AEAD and non-AEAD encryption algorithms cannot be mixed in one proposal");
    }
    if (aead != 0 && !t.integ.empty()) {
        return invalid("an AEAD cipher takes no integrity algorithm");
    }
    if (aead == 0 && t.integ.empty()) {
        return invalid("a non-AEAD cipher needs an integrity algorithm such as sha256");
    }
    return {};
}

void append(std::string& out, std::string_view name) {
    if (!out.empty()) out += '-';
    out += name;
}

}  // namespace

std::optional<Algorithm> find_algorithm(std::string_view name) {
    // crypto's lookups also accept "none" (a placeholder, not an algorithm to offer).
    if (name == "none") return std::nullopt;
    if (auto e = crypto::parse_encr(name)) return encr(e->alg, e->key_bits);
    if (auto i = crypto::parse_integ(name)) return integ(*i);
    if (auto f = crypto::parse_prf(name)) return prf(*f);
    if (auto g = crypto::parse_dh_group(name)) return dh(*g);
    for (const auto& a : aliases()) {
        if (a.name == name) return a.algorithm;
    }
    return std::nullopt;
}

std::span<const Algorithm> proposal_algorithms() {
    return all_algorithms();
}

std::string canonical_name(const Algorithm& a) {
    switch (a.kind) {
        case AlgorithmKind::encr:
            return crypto::name(a.encr);
        case AlgorithmKind::integ:
            return std::string(crypto::name(a.integ));
        case AlgorithmKind::prf:
            return std::string(crypto::name(a.prf));
        case AlgorithmKind::dh:
            return std::string(crypto::name(a.dh));
        case AlgorithmKind::esn:
            return a.esn ? "esn" : "noesn";
    }
    return "?";
}

const std::vector<std::string_view>& algorithm_spellings() {
    static const std::vector<std::string_view> v = [] {
        static std::vector<std::string> canonical;  // owns the printed names
        for (const auto& a : all_algorithms())
            canonical.push_back(canonical_name(a));
        std::vector<std::string_view> out(canonical.begin(), canonical.end());
        // crypto's own aliases, for suggestions ("curve2519" -> "curve25519").
        for (std::string_view extra : {"curve25519", "curve448", "aes128gcm", "aes256gcm"}) {
            out.push_back(extra);
        }
        for (const auto& a : aliases())
            out.push_back(a.name);
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }();
    return v;
}

std::optional<crypto::PrfAlg> prf_for_integrity(crypto::IntegAlg alg) {
    switch (alg) {
        case IntegAlg::hmac_sha1_96:
            return PrfAlg::hmac_sha1;
        case IntegAlg::hmac_sha2_256_128:
            return PrfAlg::hmac_sha2_256;
        case IntegAlg::hmac_sha2_384_192:
            return PrfAlg::hmac_sha2_384;
        case IntegAlg::hmac_sha2_512_256:
            return PrfAlg::hmac_sha2_512;
        case IntegAlg::none:
            break;
    }
    return std::nullopt;
}

Result<ike::IkeProposal> parse_ike_proposal(std::string_view text) {
    auto tokens = tokenize(text);
    if (!tokens) return tokens.take_error();
    Tokens& t = *tokens;
    if (!t.esn.empty()) {
        return invalid("\"" + t.first_esn + "\" applies to ESP proposals only");
    }
    if (auto s = check_ciphers(t); !s) return s.take_error();
    ike::IkeProposal p;
    p.encr = std::move(t.encr);
    p.integ = std::move(t.integ);
    p.prf = std::move(t.prf);
    p.dh = std::move(t.dh);
    if (p.prf.empty()) {
        // RFC 7296 3.3.3 requires a PRF in every IKE proposal; strongSwan derives it from the
        // integrity algorithms, which AEAD proposals do not have.
        if (p.integ.empty()) {
            return invalid("an AEAD IKE proposal needs a PRF such as prfsha256");
        }
        for (auto i : p.integ) {
            if (auto implied = prf_for_integrity(i)) add_unique(p.prf, *implied);
        }
    }
    if (p.dh.empty()) return invalid("an IKE proposal needs a key exchange group such as x25519");
    return p;
}

Result<ike::EspProposal> parse_esp_proposal(std::string_view text) {
    auto tokens = tokenize(text);
    if (!tokens) return tokens.take_error();
    Tokens& t = *tokens;
    if (!t.prf.empty()) {
        return invalid("\"" + t.first_prf + "\": a PRF is not part of an ESP proposal");
    }
    if (auto s = check_ciphers(t); !s) return s.take_error();
    if (t.esn.size() > 1) {
        return invalid("\"esn\" and \"noesn\" together are not supported; choose one");
    }
    ike::EspProposal p;
    p.encr = std::move(t.encr);
    p.integ = std::move(t.integ);
    p.dh = std::move(t.dh);
    p.esn = !t.esn.empty() && t.esn.front();
    return p;
}

std::string to_string(const ike::IkeProposal& p) {
    std::string out;
    for (auto e : p.encr)
        append(out, crypto::name(e));
    for (auto i : p.integ)
        append(out, crypto::name(i));
    for (auto f : p.prf)
        append(out, crypto::name(f));
    for (auto g : p.dh)
        append(out, crypto::name(g));
    return out;
}

std::string to_string(const ike::EspProposal& p) {
    std::string out;
    for (auto e : p.encr)
        append(out, crypto::name(e));
    for (auto i : p.integ)
        append(out, crypto::name(i));
    for (auto g : p.dh)
        append(out, crypto::name(g));
    if (p.esn) append(out, "esn");
    return out;
}

}  // namespace ikemesh::config
