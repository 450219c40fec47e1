#include "ike/proposals.hpp"

#include <catch2/catch.hpp>

#include "ike/traffic_selectors.hpp"

using namespace ikemesh;
using namespace ikemesh::ike;
using crypto::DhGroup;
using crypto::EncrAlg;
using crypto::IntegAlg;
using crypto::PrfAlg;

namespace {

IkeProposal gcm_x25519() {
    return {{{EncrAlg::aes_gcm_16, 128}}, {}, {PrfAlg::hmac_sha2_256}, {DhGroup::curve25519}};
}
IkeProposal cbc_modp() {
    return {{{EncrAlg::aes_cbc, 256}},
            {IntegAlg::hmac_sha2_256_128},
            {PrfAlg::hmac_sha2_256},
            {DhGroup::modp3072, DhGroup::modp2048}};
}

}  // namespace

TEST_CASE("IKE SA payload: one wire proposal per configured proposal, AEAD without INTEG") {
    std::vector<IkeProposal> ours{gcm_x25519(), cbc_modp()};
    wire::SaPayload sa = ike_sa_payload(ours, {});
    REQUIRE(sa.proposals.size() == 2);
    CHECK(sa.proposals[0].number == 1);
    CHECK(sa.proposals[1].number == 2);
    auto has = [](const wire::Proposal& p, wire::TransformType t) {
        return std::any_of(p.transforms.begin(), p.transforms.end(),
                           [&](const wire::Transform& x) { return x.type == t; });
    };
    CHECK_FALSE(has(sa.proposals[0], wire::TransformType::integ));
    CHECK(has(sa.proposals[1], wire::TransformType::integ));
    CHECK(sa.proposals[0].transforms[0].key_length == 128);
}

TEST_CASE("a proposal mixing AEAD and classic ciphers is split in two (RFC 5282 8)") {
    IkeProposal mixed{{{EncrAlg::aes_gcm_16, 256}, {EncrAlg::aes_cbc, 128}},
                      {IntegAlg::hmac_sha2_256_128},
                      {PrfAlg::hmac_sha2_256},
                      {DhGroup::curve25519}};
    std::vector<IkeProposal> ours{mixed};
    wire::SaPayload sa = ike_sa_payload(ours, {});
    REQUIRE(sa.proposals.size() == 2);
}

TEST_CASE("responder selection prefers its own order and the KE group it received") {
    std::vector<IkeProposal> offer{cbc_modp(), gcm_x25519()};
    wire::SaPayload sa = ike_sa_payload(offer, {});
    std::vector<IkeProposal> ours{gcm_x25519(), cbc_modp()};
    auto c = select_ike(sa, ours, DhGroup::modp2048);
    REQUIRE(c);
    CHECK(c->number == 2);  // our first choice (GCM) wins over the peer's order
    CHECK(c->suite.name() == "aes128gcm16-prfsha256-x25519");
    std::vector<IkeProposal> only_cbc{cbc_modp()};
    auto d = select_ike(sa, only_cbc, DhGroup::modp2048);
    REQUIRE(d);
    CHECK(d->suite.dh == DhGroup::modp2048);  // the KE's group, though modp3072 is listed first
    auto e = select_ike(sa, only_cbc, std::nullopt);
    REQUIRE(e);
    CHECK(e->suite.dh == DhGroup::modp3072);
}

TEST_CASE("no common proposal is NO_PROPOSAL_CHOSEN") {
    std::vector<IkeProposal> offer{gcm_x25519()};
    std::vector<IkeProposal> ours{cbc_modp()};
    auto c = select_ike(ike_sa_payload(offer, {}), ours, DhGroup::curve25519);
    REQUIRE_FALSE(c);
    CHECK(c.error().is(Errc::no_proposal_chosen));
}

TEST_CASE("a key length mismatch does not match") {
    std::vector<IkeProposal> offer{
        {{{EncrAlg::aes_gcm_16, 256}}, {}, {PrfAlg::hmac_sha2_256}, {DhGroup::curve25519}}};
    std::vector<IkeProposal> ours{gcm_x25519()};
    CHECK_FALSE(select_ike(ike_sa_payload(offer, {}), ours, std::nullopt));
}

TEST_CASE("unknown transform types or attributes make a proposal unacceptable") {
    std::vector<IkeProposal> ours{gcm_x25519()};
    wire::SaPayload sa = ike_sa_payload(ours, {});
    SECTION("additional key exchange (RFC 9370)") {
        sa.proposals[0].transforms.push_back(
            wire::Transform{.type = wire::TransformType::addke1, .id = 31});
        CHECK_FALSE(select_ike(sa, ours, std::nullopt));
    }
    SECTION("unknown attribute on the only cipher") {
        sa.proposals[0].transforms[0].unknown_attribute = true;
        CHECK_FALSE(select_ike(sa, ours, std::nullopt));
    }
}

TEST_CASE("the initiator accepts only a single choice it offered") {
    std::vector<IkeProposal> ours{gcm_x25519()};
    IkeChoice good{.number = 1,
                   .suite = {{EncrAlg::aes_gcm_16, 128},
                             IntegAlg::none,
                             PrfAlg::hmac_sha2_256,
                             DhGroup::curve25519}};
    CHECK(check_ike_response(ike_sa_response(good, {}), ours));
    IkeChoice other = good;
    other.suite.dh = DhGroup::ecp256;
    CHECK_FALSE(check_ike_response(ike_sa_response(other, {}), ours));
    // The whole offer back is not a choice.
    CHECK_FALSE(check_ike_response(ike_sa_payload(std::vector<IkeProposal>{cbc_modp()}, {}),
                                   std::vector<IkeProposal>{cbc_modp()}));
}

TEST_CASE("ESP selection: ESN, PFS and the SPI") {
    const uint8_t spi[4] = {0xc0, 0xff, 0xee, 0x01};
    std::vector<EspProposal> ours{{{{EncrAlg::aes_gcm_16, 128}}, {}, {}, false}};
    auto sa = esp_sa_payload(ours, spi, false);
    auto c = select_esp(sa, ours, std::nullopt, true);
    REQUIRE(c);
    CHECK(c->suite.name() == "aes128gcm16");
    CHECK(c->spi.size() == 4);
    CHECK(c->spi[0] == 0xc0);
    SECTION("ESN required by us but not offered") {
        std::vector<EspProposal> esn{{{{EncrAlg::aes_gcm_16, 128}}, {}, {}, true}};
        CHECK_FALSE(select_esp(sa, esn, std::nullopt, true));
    }
    SECTION("PFS configured: CREATE_CHILD_SA without KE is refused, IKE_AUTH ignores it") {
        std::vector<EspProposal> pfs{
            {{{EncrAlg::aes_gcm_16, 128}}, {}, {DhGroup::curve25519}, false}};
        auto with_dh = esp_sa_payload(pfs, spi, true);
        CHECK_FALSE(select_esp(with_dh, pfs, std::nullopt, false));
        auto ok = select_esp(with_dh, pfs, DhGroup::curve25519, false);
        REQUIRE(ok);
        CHECK(ok->suite.dh == DhGroup::curve25519);
        CHECK(select_esp(esp_sa_payload(pfs, spi, false), pfs, std::nullopt, true));
    }
}

TEST_CASE("traffic selectors: narrowing by intersection") {
    auto a = *IpAddress::parse("10.0.0.1");
    auto b = *IpAddress::parse("10.0.0.2");
    TsPair all = allowed_selectors(a, b, {});
    REQUIRE(all.local.size() == 1);
    CHECK(all.local[0].start_address == a);
    CHECK(all.local[0].end_port == 65535);
    // A class's port may be at either end: the selectors carry the protocol, not the port, and
    // two classes of one protocol give one pair.
    std::vector<TrafficSpec> tcp_ports{{6, 8140}, {6, 8141}, {17, 53}};
    TsPair allowed = allowed_selectors(a, b, tcp_ports);
    REQUIRE(allowed.local.size() == 2);
    REQUIRE(allowed.remote.size() == 2);
    CHECK(allowed.remote[0].ip_protocol == 6);
    CHECK(allowed.remote[0].start_port == 0);
    CHECK(allowed.remote[0].end_port == 65535);
    CHECK(allowed.local[1].ip_protocol == 17);
    // The peer (b) offers everything between the two hosts: narrowed to the protocols.
    const TsPair offered = allowed_selectors(a, b, {});
    auto n = narrow(offered, allowed);
    REQUIRE(n);
    REQUIRE(n->remote.size() == 2);
    CHECK(n->remote[0].ip_protocol == 6);
    CHECK(n->local[0].ip_protocol == 6);
    CHECK(check_narrowed(*n, offered));
    // The other way round the answer is wider than the proposal: refused.
    CHECK_FALSE(check_narrowed(offered, *n));
    // A peer that offers ports (another implementation) is narrowed by port too.
    TsPair ports{{host_selector(a, 6)}, {host_selector(b, 6, 8000, 8200)}};
    auto p = narrow(ports, TsPair{{host_selector(a, 6)}, {host_selector(b, 6, 8140, 8140)}});
    REQUIRE(p);
    CHECK(p->remote[0].start_port == 8140);
    CHECK(p->remote[0].end_port == 8140);
    CHECK(check_narrowed(*p, ports));
    // Disjoint protocols.
    std::vector<TrafficSpec> sctp{{132, 0}};
    auto none = narrow(allowed_selectors(a, b, sctp), allowed);
    REQUIRE_FALSE(none);
    CHECK(none.error().is(Errc::ts_unacceptable));
    // A selector for a third host is never narrowed into ours.
    auto c = *IpAddress::parse("10.0.0.3");
    CHECK_FALSE(narrow(allowed_selectors(a, c, {}), all));
}

TEST_CASE("traffic selectors of different families never intersect") {
    auto v4 = host_selector(*IpAddress::parse("10.0.0.1"));
    auto v6 = host_selector(*IpAddress::parse("2001:db8::1"));
    CHECK_FALSE(intersect(v4, v6));
    CHECK(intersect(v6, v6));
    CHECK(to_string(v6) == "2001:db8::1");
}
