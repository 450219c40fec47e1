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

constexpr AlgorithmName encr(std::string_view n, EncrAlg alg, uint16_t bits, bool canonical) {
    return {n,
            AlgorithmKind::encr,
            EncrSpec{alg, bits},
            IntegAlg::none,
            PrfAlg::hmac_sha2_256,
            DhGroup::none,
            false,
            canonical};
}
constexpr AlgorithmName integ(std::string_view n, IntegAlg alg, bool canonical) {
    return {n,        AlgorithmKind::integ, {}, alg, PrfAlg::hmac_sha2_256, DhGroup::none, false,
            canonical};
}
constexpr AlgorithmName prf(std::string_view n, PrfAlg alg) {
    return {n, AlgorithmKind::prf, {}, IntegAlg::none, alg, DhGroup::none, false, true};
}
constexpr AlgorithmName dh(std::string_view n, DhGroup g, bool canonical) {
    return {n, AlgorithmKind::dh, {}, IntegAlg::none, PrfAlg::hmac_sha2_256, g, false, canonical};
}
constexpr AlgorithmName esn(std::string_view n, bool on) {
    return {n,   AlgorithmKind::esn, {}, IntegAlg::none, PrfAlg::hmac_sha2_256, DhGroup::none, on,
            true};
}

// The algorithms of crypto/algorithms.hpp under crypto::name()'s spelling (canonical) and the
// aliases strongSwan accepts for them (its proposal keywords).
constexpr std::array kNames{
    encr("aes128", EncrAlg::aes_cbc, 128, true),
    encr("aes", EncrAlg::aes_cbc, 128, false),
    encr("aes192", EncrAlg::aes_cbc, 192, true),
    encr("aes256", EncrAlg::aes_cbc, 256, true),
    encr("aes128gcm16", EncrAlg::aes_gcm_16, 128, true),
    encr("aes128gcm128", EncrAlg::aes_gcm_16, 128, false),  // ICV length in bits
    encr("aes128gcm", EncrAlg::aes_gcm_16, 128, false),
    encr("aes256gcm16", EncrAlg::aes_gcm_16, 256, true),
    encr("aes256gcm128", EncrAlg::aes_gcm_16, 256, false),
    encr("aes256gcm", EncrAlg::aes_gcm_16, 256, false),
    encr("chacha20poly1305", EncrAlg::chacha20_poly1305, 256, true),
    integ("sha1", IntegAlg::hmac_sha1_96, true),
    integ("sha", IntegAlg::hmac_sha1_96, false),
    integ("sha256", IntegAlg::hmac_sha2_256_128, true),
    integ("sha2_256", IntegAlg::hmac_sha2_256_128, false),
    integ("sha384", IntegAlg::hmac_sha2_384_192, true),
    integ("sha2_384", IntegAlg::hmac_sha2_384_192, false),
    integ("sha512", IntegAlg::hmac_sha2_512_256, true),
    integ("sha2_512", IntegAlg::hmac_sha2_512_256, false),
    prf("prfsha1", PrfAlg::hmac_sha1),
    prf("prfsha256", PrfAlg::hmac_sha2_256),
    prf("prfsha384", PrfAlg::hmac_sha2_384),
    prf("prfsha512", PrfAlg::hmac_sha2_512),
    dh("modp2048", DhGroup::modp2048, true),
    dh("modp3072", DhGroup::modp3072, true),
    dh("modp4096", DhGroup::modp4096, true),
    dh("ecp256", DhGroup::ecp256, true),
    dh("ecp384", DhGroup::ecp384, true),
    dh("ecp521", DhGroup::ecp521, true),
    dh("x25519", DhGroup::curve25519, true),
    dh("curve25519", DhGroup::curve25519, false),
    dh("x448", DhGroup::curve448, true),
    dh("curve448", DhGroup::curve448, false),
    esn("esn", true),
    esn("noesn", false),
};

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
        const AlgorithmName* a = find_algorithm(token);
        if (!a) {
            std::vector<std::string_view> names;
            for (const auto& n : kNames)
                names.push_back(n.name);
            std::string msg = "unknown algorithm \"" + std::string(token) + "\"";
            if (auto guess = closest_match(token, names)) {
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
                if (t.first_prf.empty()) t.first_prf = a->name;
                add_unique(t.prf, a->prf);
                break;
            case AlgorithmKind::dh:
                add_unique(t.dh, a->dh);
                break;
            case AlgorithmKind::esn:
                if (t.first_esn.empty()) t.first_esn = a->name;
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

std::string_view canonical_name(AlgorithmKind kind, const AlgorithmName& probe) {
    for (const auto& n : kNames) {
        if (n.kind != kind || !n.canonical) continue;
        bool same = false;
        switch (kind) {
            case AlgorithmKind::encr:
                same = n.encr == probe.encr;
                break;
            case AlgorithmKind::integ:
                same = n.integ == probe.integ;
                break;
            case AlgorithmKind::prf:
                same = n.prf == probe.prf;
                break;
            case AlgorithmKind::dh:
                same = n.dh == probe.dh;
                break;
            case AlgorithmKind::esn:
                same = n.esn == probe.esn;
                break;
        }
        if (same) return n.name;
    }
    return "?";
}

void append(std::string& out, std::string_view name) {
    if (!out.empty()) out += '-';
    out += name;
}

}  // namespace

std::span<const AlgorithmName> algorithm_names() {
    return kNames;
}

const AlgorithmName* find_algorithm(std::string_view name) {
    for (const auto& n : kNames) {
        if (n.name == name) return &n;
    }
    return nullptr;
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
    AlgorithmName probe{};
    for (auto e : p.encr) {
        probe.encr = e;
        append(out, canonical_name(AlgorithmKind::encr, probe));
    }
    for (auto i : p.integ) {
        probe.integ = i;
        append(out, canonical_name(AlgorithmKind::integ, probe));
    }
    for (auto f : p.prf) {
        probe.prf = f;
        append(out, canonical_name(AlgorithmKind::prf, probe));
    }
    for (auto g : p.dh) {
        probe.dh = g;
        append(out, canonical_name(AlgorithmKind::dh, probe));
    }
    return out;
}

std::string to_string(const ike::EspProposal& p) {
    std::string out;
    AlgorithmName probe{};
    for (auto e : p.encr) {
        probe.encr = e;
        append(out, canonical_name(AlgorithmKind::encr, probe));
    }
    for (auto i : p.integ) {
        probe.integ = i;
        append(out, canonical_name(AlgorithmKind::integ, probe));
    }
    for (auto g : p.dh) {
        probe.dh = g;
        append(out, canonical_name(AlgorithmKind::dh, probe));
    }
    if (p.esn) append(out, "esn");
    return out;
}

}  // namespace ikemesh::config
