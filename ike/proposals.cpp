#include "ike/proposals.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

namespace ikemesh::ike {
namespace {

using crypto::DhGroup;
using crypto::EncrAlg;
using crypto::EncrSpec;
using crypto::IntegAlg;
using crypto::PrfAlg;
using wire::Transform;
using wire::TransformType;

bool fixed_key_length(EncrAlg alg) {
    return alg == EncrAlg::chacha20_poly1305;
}

Transform encr_transform(EncrSpec e) {
    Transform t{.type = TransformType::encr, .id = static_cast<uint16_t>(e.alg)};
    // RFC 7634 2: ChaCha20-Poly1305 has a fixed key size and no Key Length attribute; AES
    // requires one (RFC 3602 5, RFC 5282 8).
    if (!fixed_key_length(e.alg)) t.key_length = e.key_bits;
    return t;
}

template <typename Alg>
Transform transform(TransformType type, Alg id) {
    return Transform{.type = type, .id = static_cast<uint16_t>(id)};
}

bool encr_matches(const Transform& t, EncrSpec e) {
    if (t.type != TransformType::encr || t.unknown_attribute || t.encr() != e.alg) return false;
    if (fixed_key_length(e.alg)) return !t.key_length || *t.key_length == 256;
    return t.key_length && *t.key_length == e.key_bits;
}

template <typename Alg>
bool offers(const wire::Proposal& p, TransformType type, Alg id) {
    return std::any_of(p.transforms.begin(), p.transforms.end(), [&](const Transform& t) {
        return t.type == type && !t.unknown_attribute && t.id == static_cast<uint16_t>(id);
    });
}

bool has_type(const wire::Proposal& p, TransformType type) {
    return std::any_of(p.transforms.begin(), p.transforms.end(),
                       [&](const Transform& t) { return t.type == type; });
}

// INTEG transforms other than NONE: an AEAD proposal must not carry them (RFC 5282 8).
bool has_real_integ(const wire::Proposal& p) {
    return std::any_of(p.transforms.begin(), p.transforms.end(), [](const Transform& t) {
        return t.type == TransformType::integ && t.id != 0;
    });
}

// A transform of any type ikemesh does not negotiate at all (additional key exchanges of RFC
// 9370 and unknown types): a proposal that requires one cannot be accepted.
bool has_foreign_type(const wire::Proposal& p) {
    return std::any_of(p.transforms.begin(), p.transforms.end(), [](const Transform& t) {
        return t.type != TransformType::encr && t.type != TransformType::prf &&
               t.type != TransformType::integ && t.type != TransformType::ke &&
               t.type != TransformType::esn;
    });
}

template <typename T, typename Pred>
std::optional<T> first_of(std::span<const T> ours, Pred&& offered) {
    for (const T& x : ours) {
        if (offered(x)) return x;
    }
    return std::nullopt;
}

// Our encryption algorithms split by AEAD-ness, so each wire proposal is homogeneous.
template <typename P>
std::vector<std::vector<EncrSpec>> encr_groups(const P& proposal) {
    std::vector<EncrSpec> aead, classic;
    for (const EncrSpec& e : proposal.encr)
        (crypto::is_aead(e.alg) ? aead : classic).push_back(e);
    std::vector<std::vector<EncrSpec>> out;
    if (!aead.empty()) out.push_back(std::move(aead));
    if (!classic.empty()) out.push_back(std::move(classic));
    return out;
}

// Picks our first algorithm of `ours` that the peer's proposal offers.
template <typename Alg>
std::optional<Alg> pick(std::span<const Alg> ours, const wire::Proposal& p, TransformType type) {
    return first_of<Alg>(ours, [&](Alg a) { return offers(p, type, a); });
}

// Encryption and integrity as one choice: our first cipher the proposal offers, and for a
// classic cipher our first integrity algorithm it offers; an AEAD proposal must carry no other
// INTEG than NONE (RFC 5282 8).
std::optional<std::pair<EncrSpec, IntegAlg>> pick_cipher(std::span<const EncrSpec> encr,
                                                         std::span<const IntegAlg> integ,
                                                         const wire::Proposal& p) {
    auto e = first_of<EncrSpec>(encr, [&](EncrSpec x) {
        return std::any_of(p.transforms.begin(), p.transforms.end(),
                           [&](const Transform& t) { return encr_matches(t, x); });
    });
    if (!e) return std::nullopt;
    if (crypto::is_aead(e->alg)) {
        if (has_real_integ(p)) return std::nullopt;
        return std::pair{*e, IntegAlg::none};
    }
    auto i = pick<IntegAlg>(integ, p, TransformType::integ);
    if (!i || *i == IntegAlg::none) return std::nullopt;
    return std::pair{*e, *i};
}

std::optional<IkeSuite> match_ike(const IkeProposal& ours, std::span<const EncrSpec> encr,
                                  const wire::Proposal& p, std::optional<DhGroup> ke_group) {
    if (p.protocol != wire::ProtocolId::ike || has_foreign_type(p) ||
        has_type(p, TransformType::esn))
        return std::nullopt;
    IkeSuite s;
    auto cipher = pick_cipher(encr, ours.integ, p);
    if (!cipher) return std::nullopt;
    std::tie(s.encr, s.integ) = *cipher;
    auto prf = pick<PrfAlg>(ours.prf, p, TransformType::prf);
    if (!prf) return std::nullopt;
    s.prf = *prf;
    if (ke_group && std::find(ours.dh.begin(), ours.dh.end(), *ke_group) != ours.dh.end() &&
        offers(p, TransformType::ke, *ke_group)) {
        s.dh = *ke_group;
    } else {
        auto dh = pick<DhGroup>(ours.dh, p, TransformType::ke);
        if (!dh || *dh == DhGroup::none) return std::nullopt;
        s.dh = *dh;
    }
    return s;
}

std::optional<EspSuite> match_esp(const EspProposal& ours, std::span<const EncrSpec> encr,
                                  const wire::Proposal& p, std::optional<DhGroup> pfs_group,
                                  bool ike_auth) {
    if (p.protocol != wire::ProtocolId::esp || p.spi.size() != 4 || has_foreign_type(p) ||
        has_type(p, TransformType::prf))
        return std::nullopt;
    EspSuite s;
    auto cipher = pick_cipher(encr, ours.integ, p);
    if (!cipher) return std::nullopt;
    std::tie(s.encr, s.integ) = *cipher;
    // ESN: RFC 7296 3.3.2 makes the type mandatory for ESP; a proposal without it is treated as
    // offering "no ESN" (strongSwan does the same).
    if (!has_type(p, TransformType::esn)) {
        if (ours.esn) return std::nullopt;
        s.esn = false;
    } else {
        auto want = ours.esn ? wire::EsnId::esn : wire::EsnId::no_esn;
        if (!offers(p, TransformType::esn, want)) return std::nullopt;
        s.esn = ours.esn;
    }
    if (!ike_auth && !ours.dh.empty() && !pfs_group) {
        return std::nullopt;  // we require PFS on CREATE_CHILD_SA and the peer sent no KE
    }
    if (pfs_group) {
        // CREATE_CHILD_SA with KE: the group must be one we accept and one the proposal offers.
        if (std::find(ours.dh.begin(), ours.dh.end(), *pfs_group) == ours.dh.end() ||
            !offers(p, TransformType::ke, *pfs_group))
            return std::nullopt;
        s.dh = *pfs_group;
    } else if (!ours.dh.empty() && has_type(p, TransformType::ke) &&
               !offers(p, TransformType::ke, DhGroup::none)) {
        // The peer insists on PFS but sent no KE: nothing to agree on without another round.
        return std::nullopt;
    }
    return s;
}

template <typename Alg>
std::vector<Alg> types_of(const wire::Proposal& p, TransformType type) {
    std::vector<Alg> out;
    for (const Transform& t : p.transforms) {
        if (t.type == type) out.push_back(static_cast<Alg>(t.id));
    }
    return out;
}

}  // namespace

std::string IkeSuite::name() const {
    std::string n = crypto::name(encr);
    if (integ != IntegAlg::none) n += "-" + std::string(crypto::name(integ));
    n += "-" + std::string(crypto::name(prf));
    n += "-" + std::string(crypto::name(dh));
    return n;
}

std::string EspSuite::name() const {
    std::string n = crypto::name(encr);
    if (integ != IntegAlg::none) n += "-" + std::string(crypto::name(integ));
    if (dh != DhGroup::none) n += "-" + std::string(crypto::name(dh));
    if (esn) n += "-esn";
    return n;
}

wire::SaPayload ike_sa_payload(std::span<const IkeProposal> proposals, ByteView spi) {
    wire::SaPayload sa;
    uint8_t number = 1;
    for (const IkeProposal& q : proposals) {
        for (const auto& group : encr_groups(q)) {
            wire::Proposal p{.number = number++, .protocol = wire::ProtocolId::ike, .spi = spi};
            for (EncrSpec e : group)
                p.transforms.push_back(encr_transform(e));
            for (PrfAlg a : q.prf)
                p.transforms.push_back(transform(TransformType::prf, a));
            if (!crypto::is_aead(group.front().alg)) {
                for (IntegAlg a : q.integ)
                    p.transforms.push_back(transform(TransformType::integ, a));
            }
            for (DhGroup g : q.dh)
                p.transforms.push_back(transform(TransformType::ke, g));
            sa.proposals.push_back(std::move(p));
        }
    }
    return sa;
}

wire::SaPayload esp_sa_payload(std::span<const EspProposal> proposals, ByteView spi, bool with_dh) {
    wire::SaPayload sa;
    uint8_t number = 1;
    for (const EspProposal& q : proposals) {
        for (const auto& group : encr_groups(q)) {
            wire::Proposal p{.number = number++, .protocol = wire::ProtocolId::esp, .spi = spi};
            for (EncrSpec e : group)
                p.transforms.push_back(encr_transform(e));
            if (!crypto::is_aead(group.front().alg)) {
                for (IntegAlg a : q.integ)
                    p.transforms.push_back(transform(TransformType::integ, a));
            }
            if (with_dh) {
                for (DhGroup g : q.dh)
                    p.transforms.push_back(transform(TransformType::ke, g));
            }
            p.transforms.push_back(
                transform(TransformType::esn, q.esn ? wire::EsnId::esn : wire::EsnId::no_esn));
            sa.proposals.push_back(std::move(p));
        }
    }
    return sa;
}

DhGroup preferred_dh(std::span<const IkeProposal> proposals) {
    for (const IkeProposal& q : proposals) {
        if (!q.dh.empty()) return q.dh.front();
    }
    return DhGroup::none;
}

bool offers_dh(std::span<const IkeProposal> proposals, DhGroup group) {
    return std::any_of(proposals.begin(), proposals.end(), [&](const IkeProposal& q) {
        return std::find(q.dh.begin(), q.dh.end(), group) != q.dh.end();
    });
}

Result<IkeChoice> select_ike(const wire::SaPayload& offered, std::span<const IkeProposal> ours,
                             std::optional<DhGroup> ke_group) {
    for (const IkeProposal& q : ours) {
        for (const auto& group : encr_groups(q)) {
            for (const wire::Proposal& p : offered.proposals) {
                if (auto s = match_ike(q, group, p, ke_group)) {
                    return IkeChoice{.number = p.number, .suite = *s, .spi = p.spi};
                }
            }
        }
    }
    return Error{Errc::no_proposal_chosen, "no IKE proposal matches ours"};
}

Result<EspChoice> select_esp(const wire::SaPayload& offered, std::span<const EspProposal> ours,
                             std::optional<DhGroup> pfs_group, bool ike_auth) {
    for (const EspProposal& q : ours) {
        for (const auto& group : encr_groups(q)) {
            for (const wire::Proposal& p : offered.proposals) {
                if (auto s = match_esp(q, group, p, pfs_group, ike_auth)) {
                    return EspChoice{.number = p.number, .suite = *s, .spi = p.spi};
                }
            }
        }
    }
    return Error{Errc::no_proposal_chosen, "no ESP proposal matches ours"};
}

wire::SaPayload ike_sa_response(const IkeChoice& c, ByteView spi) {
    wire::Proposal p{.number = c.number, .protocol = wire::ProtocolId::ike, .spi = spi};
    p.transforms.push_back(encr_transform(c.suite.encr));
    p.transforms.push_back(transform(TransformType::prf, c.suite.prf));
    if (c.suite.integ != IntegAlg::none) {
        p.transforms.push_back(transform(TransformType::integ, c.suite.integ));
    }
    p.transforms.push_back(transform(TransformType::ke, c.suite.dh));
    wire::SaPayload sa;
    sa.proposals.push_back(std::move(p));
    return sa;
}

wire::SaPayload esp_sa_response(const EspChoice& c, ByteView spi) {
    wire::Proposal p{.number = c.number, .protocol = wire::ProtocolId::esp, .spi = spi};
    p.transforms.push_back(encr_transform(c.suite.encr));
    if (c.suite.integ != IntegAlg::none) {
        p.transforms.push_back(transform(TransformType::integ, c.suite.integ));
    }
    if (c.suite.dh != DhGroup::none)
        p.transforms.push_back(transform(TransformType::ke, c.suite.dh));
    p.transforms.push_back(
        transform(TransformType::esn, c.suite.esn ? wire::EsnId::esn : wire::EsnId::no_esn));
    wire::SaPayload sa;
    sa.proposals.push_back(std::move(p));
    return sa;
}

namespace {

// The responder's answer must be a single proposal with at most one transform per type.
bool single_choice(const wire::SaPayload& answer) {
    if (answer.proposals.size() != 1) return false;
    const wire::Proposal& p = answer.proposals.front();
    for (auto type : {TransformType::encr, TransformType::prf, TransformType::integ,
                      TransformType::ke, TransformType::esn}) {
        if (std::count_if(p.transforms.begin(), p.transforms.end(),
                          [&](const Transform& t) { return t.type == type; }) > 1)
            return false;
    }
    return true;
}

}  // namespace

Result<IkeChoice> check_ike_response(const wire::SaPayload& answer,
                                     std::span<const IkeProposal> ours) {
    if (!single_choice(answer)) {
        return Error{Errc::no_proposal_chosen, "responder returned more than one choice"};
    }
    const wire::Proposal& p = answer.proposals.front();
    auto dh = types_of<DhGroup>(p, TransformType::ke);
    std::optional<DhGroup> group = dh.empty() ? std::nullopt : std::optional(dh.front());
    for (const IkeProposal& q : ours) {
        for (const auto& g : encr_groups(q)) {
            if (auto s = match_ike(q, g, p, group)) {
                return IkeChoice{.number = p.number, .suite = *s, .spi = p.spi};
            }
        }
    }
    return Error{Errc::no_proposal_chosen, "responder chose an IKE proposal we did not offer"};
}

Result<EspChoice> check_esp_response(const wire::SaPayload& answer,
                                     std::span<const EspProposal> ours, bool with_dh) {
    if (!single_choice(answer)) {
        return Error{Errc::no_proposal_chosen, "responder returned more than one choice"};
    }
    const wire::Proposal& p = answer.proposals.front();
    auto dh = types_of<DhGroup>(p, TransformType::ke);
    std::optional<DhGroup> group;
    if (with_dh && !dh.empty() && dh.front() != DhGroup::none) group = dh.front();
    for (const EspProposal& q : ours) {
        for (const auto& g : encr_groups(q)) {
            if (auto s = match_esp(q, g, p, group, !with_dh)) {
                return EspChoice{.number = p.number, .suite = *s, .spi = p.spi};
            }
        }
    }
    return Error{Errc::no_proposal_chosen, "responder chose an ESP proposal we did not offer"};
}

}  // namespace ikemesh::ike
