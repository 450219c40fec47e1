// IKE and ESP proposals in strongSwan's notation: "aes128gcm16-prfsha256-x25519",
// "aes256-sha256-modp3072", "aes128gcm16", "aes256-sha256-ecp256-esn".
//
// A proposal is a dash-separated list of algorithm names. As in strongSwan, several names of one
// kind in one proposal are alternatives in preference order ("aes256-aes128-sha256-x25519-ecp256"
// offers both ciphers and both groups). AEAD ciphers carry no integrity algorithm. In IKE
// proposals a PRF may be named ("prfsha256") or is implied by each integrity algorithm (sha256
// -> prfsha256); AEAD IKE proposals must name one, and every IKE proposal needs a key exchange
// group. In ESP proposals a group means PFS on CHILD SA rekeying, and "esn"/"noesn" selects
// extended sequence numbers. Accepted names are crypto::name()'s plus strongSwan's aliases
// ("aes128gcm", "aes128gcm128", "curve25519", "sha2_256", ...). Pure functions, no I/O.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "crypto/algorithms.hpp"
#include "ike/config.hpp"

namespace ikemesh::config {

enum class AlgorithmKind : uint8_t { encr, integ, prf, dh, esn };

// One accepted spelling. `canonical` marks the spelling crypto::name() uses, which is also how
// proposals are printed back.
struct AlgorithmName {
    std::string_view name;
    AlgorithmKind kind;
    crypto::EncrSpec encr{};
    crypto::IntegAlg integ = crypto::IntegAlg::none;
    crypto::PrfAlg prf = crypto::PrfAlg::hmac_sha2_256;
    crypto::DhGroup dh = crypto::DhGroup::none;
    bool esn = false;
    bool canonical = false;
};

// Every name a proposal may contain, canonical names first within each algorithm.
std::span<const AlgorithmName> algorithm_names();
const AlgorithmName* find_algorithm(std::string_view name);

Result<ike::IkeProposal> parse_ike_proposal(std::string_view text);
Result<ike::EspProposal> parse_esp_proposal(std::string_view text);

// The PRF strongSwan implies from an integrity algorithm (sha256 -> prfsha256).
std::optional<crypto::PrfAlg> prf_for_integrity(crypto::IntegAlg integ);

// Canonical text, e.g. "aes256-sha256-prfsha256-modp3072"; parses back to an equal proposal.
std::string to_string(const ike::IkeProposal& p);
std::string to_string(const ike::EspProposal& p);

}  // namespace ikemesh::config
