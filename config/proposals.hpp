// IKE and ESP proposals in strongSwan's notation: "aes128gcm16-prfsha256-x25519",
// "aes256-sha256-modp3072", "aes128gcm16", "aes256-sha256-ecp256-esn".
//
// A proposal is a dash-separated list of algorithm names. As in strongSwan, several names of one
// kind in one proposal are alternatives in preference order ("aes256-aes128-sha256-x25519-ecp256"
// offers both ciphers and both groups). AEAD ciphers carry no integrity algorithm. In IKE
// proposals a PRF may be named ("prfsha256") or is implied by each integrity algorithm (sha256
// -> prfsha256); AEAD IKE proposals must name one, and every IKE proposal needs a key exchange
// group. In ESP proposals a group means PFS on CHILD SA rekeying, and "esn"/"noesn" selects
// extended sequence numbers. Accepted names are those crypto::parse_* knows (crypto::name()'s
// plus "curve25519", "aes128gcm", ...) and a few more strongSwan aliases ("aes", "aes128gcm128",
// "sha2_256", ...). Pure functions, no I/O.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "crypto/algorithms.hpp"
#include "ike/engine_config.hpp"

namespace ikemesh::config {

enum class AlgorithmKind : uint8_t { encr, integ, prf, dh, esn };

// What one name in a proposal stands for.
struct Algorithm {
    AlgorithmKind kind = AlgorithmKind::encr;
    crypto::EncrSpec encr{};
    crypto::IntegAlg integ = crypto::IntegAlg::none;
    crypto::PrfAlg prf = crypto::PrfAlg::hmac_sha2_256;
    crypto::DhGroup dh = crypto::DhGroup::none;
    bool esn = false;

    bool operator==(const Algorithm&) const = default;
};

// The algorithm a name stands for: crypto::parse_*'s names, strongSwan's further aliases, and
// "esn"/"noesn". nullopt for unknown names (and for "none", which is not an algorithm).
std::optional<Algorithm> find_algorithm(std::string_view name);

// Every algorithm a proposal may carry (each enumerator of crypto/algorithms.hpp once, AES with
// each key length), and the spellings find_algorithm accepts for them (for suggestions, docs
// and tests).
std::span<const Algorithm> proposal_algorithms();
const std::vector<std::string_view>& algorithm_spellings();
// How an algorithm is printed: crypto::name()'s spelling ("esn" for ESN on).
std::string canonical_name(const Algorithm& a);

Result<ike::IkeProposal> parse_ike_proposal(std::string_view text);
Result<ike::EspProposal> parse_esp_proposal(std::string_view text);

// The PRF strongSwan implies from an integrity algorithm (sha256 -> prfsha256).
std::optional<crypto::PrfAlg> prf_for_integrity(crypto::IntegAlg integ);

// Canonical text, e.g. "aes256-sha256-prfsha256-modp3072"; parses back to an equal proposal.
std::string to_string(const ike::IkeProposal& p);
std::string to_string(const ike::EspProposal& p);

}  // namespace ikemesh::config
