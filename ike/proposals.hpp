// Proposal negotiation (RFC 7296 2.7, 3.3): turning configured proposals into SA payloads,
// choosing one of a peer's proposals as responder, and checking a responder's choice as initiator.
//
// Suites are the negotiated result: exactly one algorithm per transform type. The responder prefers
// its own configured order (as strongSwan does by default), so an operator decides what a mesh
// runs by ordering the local list. Nothing here touches keys or state; SA payloads returned here
// view the SPI bytes the caller passes in, which must outlive the payload.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/algorithms.hpp"
#include "ike/engine_config.hpp"
#include "ike/wire/payloads.hpp"

namespace ikemesh::ike {

struct IkeSuite {
    crypto::EncrSpec encr;
    crypto::IntegAlg integ = crypto::IntegAlg::none;
    crypto::PrfAlg prf = crypto::PrfAlg::hmac_sha2_256;
    crypto::DhGroup dh = crypto::DhGroup::none;

    std::string name() const;  // "aes128gcm16-prfsha256-x25519"
    bool operator==(const IkeSuite&) const = default;
};

struct EspSuite {
    crypto::EncrSpec encr;
    crypto::IntegAlg integ = crypto::IntegAlg::none;
    crypto::DhGroup dh = crypto::DhGroup::none;  // PFS group of a CREATE_CHILD_SA, else none
    bool esn = false;

    std::string name() const;  // "aes128gcm16" or "aes256-sha256-modp3072-esn"
    bool operator==(const EspSuite&) const = default;
};

// The SAi1 payload (or the SA of an IKE rekey, with the new 8-byte SPI) for our proposals. A
// configured proposal mixing AEAD and classic ciphers becomes two wire proposals (RFC 5282 8).
wire::SaPayload ike_sa_payload(std::span<const IkeProposal> proposals, ByteView spi);
// SAi2 or the SA of a CREATE_CHILD_SA. `with_dh` adds the configured PFS groups (never in
// IKE_AUTH, RFC 7296 1.2).
wire::SaPayload esp_sa_payload(std::span<const EspProposal> proposals, ByteView spi, bool with_dh);

// The first DH group of our first IKE proposal: the one an initiator guesses in KEi.
crypto::DhGroup preferred_dh(std::span<const IkeProposal> proposals);
// Whether `group` appears in any of our proposals (to honour INVALID_KE_PAYLOAD).
bool offers_dh(std::span<const IkeProposal> proposals, crypto::DhGroup group);

struct IkeChoice {
    uint8_t number = 0;  // the peer's proposal number, echoed in the response
    IkeSuite suite;
    ByteView spi;  // the peer's SPI in that proposal (IKE rekey: its new SPI)
};
struct EspChoice {
    uint8_t number = 0;
    EspSuite suite;
    ByteView spi;  // the peer's inbound SPI = our outbound SPI
};

// Responder side. `ke_group`: the group of the KE payload received; if acceptable in the chosen
// proposal it is preferred over our own order, saving the INVALID_KE_PAYLOAD round trip.
// Errc::no_proposal_chosen when nothing matches.
Result<IkeChoice> select_ike(const wire::SaPayload& offered, std::span<const IkeProposal> ours,
                             std::optional<crypto::DhGroup> ke_group);
// `pfs_group`: the KE payload's group in a CREATE_CHILD_SA, nullopt without KE. In IKE_AUTH
// (`ike_auth`) DH transforms play no part (RFC 7296 1.2); in CREATE_CHILD_SA a configured PFS
// group makes a KE payload mandatory.
Result<EspChoice> select_esp(const wire::SaPayload& offered, std::span<const EspProposal> ours,
                             std::optional<crypto::DhGroup> pfs_group, bool ike_auth);

// The response SA payload carrying exactly the chosen proposal.
wire::SaPayload ike_sa_response(const IkeChoice& choice, ByteView spi);
wire::SaPayload esp_sa_response(const EspChoice& choice, ByteView spi);

// Initiator side: the responder must answer with one proposal holding one transform per type,
// all of which we offered (RFC 7296 2.7). Errc::no_proposal_chosen otherwise.
Result<IkeChoice> check_ike_response(const wire::SaPayload& answer,
                                     std::span<const IkeProposal> ours);
Result<EspChoice> check_esp_response(const wire::SaPayload& answer,
                                     std::span<const EspProposal> ours, bool with_dh);

}  // namespace ikemesh::ike
