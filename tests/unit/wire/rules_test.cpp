// The payload rule table: each exchange and direction accepts the RFC 7296 layouts, notify-only
// refusals, and rejects missing, surplus and foreign payloads.
#include "ike/wire/rules.hpp"

#include <catch2/catch.hpp>

#include "golden_messages.hpp"
#include "ike/wire/parse.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;
using namespace ikemesh::wire::test;

namespace {

const Bytes kNonce(32, 0x4e);
const Bytes kKe(32, 0x4b);
const Bytes kData(4, 0xdd);

Payload sa() {
    SaPayload p;
    p.proposals.emplace_back().transforms.push_back({TransformType::encr, 20, 128});
    return p;
}
Payload ke() {
    return KePayload{crypto::DhGroup::curve25519, kKe};
}
Payload nonce() {
    return NoncePayload{kNonce};
}
Payload notify(NotifyType t) {
    return NotifyPayload{ProtocolId::none, {}, t, {}};
}
Payload idi() {
    return IdiPayload{IdType::fqdn, kData, {}};
}
Payload idr() {
    return IdrPayload{IdType::fqdn, kData, {}};
}
Payload auth() {
    return AuthPayload{AuthMethod::shared_key_mic, kData};
}
Payload tsi() {
    return TsiPayload{};
}
Payload tsr() {
    return TsrPayload{};
}
Payload vid() {
    return VendorIdPayload{kData};
}
Payload del() {
    return DeletePayload{ProtocolId::ike, 0, 0, {}};
}
Payload cert() {
    return CertPayload{CertEncoding::x509_signature, kData};
}
Payload certreq() {
    return CertReqPayload{CertEncoding::x509_signature, kData};
}
Payload unknown() {
    return UnknownPayload{static_cast<PayloadType>(250), false, kData};
}

PayloadList list(std::initializer_list<Payload> items) {
    PayloadList out;
    for (const Payload& p : items)
        out.push_back(p);
    return out;
}

Status check(ExchangeType x, bool response, std::initializer_list<Payload> items) {
    return check_payload_rules(x, response, list(items));
}

constexpr bool kRequest = false;
constexpr bool kResponse = true;
using X = ExchangeType;
using N = NotifyType;

}  // namespace

TEST_CASE("IKE_SA_INIT: HDR, SAi1, KEi, Ni, [N+], [V+] and its response") {
    CHECK(check(X::ike_sa_init, kRequest, {sa(), ke(), nonce()}));
    CHECK(
        check(X::ike_sa_init, kRequest,
              {notify(N::cookie), sa(), ke(), nonce(), notify(N::nat_detection_source_ip), vid()}));
    CHECK(check(X::ike_sa_init, kResponse, {sa(), ke(), nonce(), certreq(), certreq(), vid()}));

    Status missing_ke = check(X::ike_sa_init, kRequest, {sa(), nonce()});
    REQUIRE_FALSE(missing_ke);
    CHECK(missing_ke.error().is(Errc::payload_missing));
    CHECK_THAT(missing_ke.error().detail, Catch::Contains("KE"));

    Status two_sa = check(X::ike_sa_init, kRequest, {sa(), sa(), ke(), nonce()});
    REQUIRE_FALSE(two_sa);
    CHECK(two_sa.error().is(Errc::payload_not_allowed));

    Status idi_in_init = check(X::ike_sa_init, kRequest, {sa(), ke(), nonce(), idi()});
    REQUIRE_FALSE(idi_in_init);
    CHECK(idi_in_init.error().is(Errc::payload_not_allowed));
    CHECK_THAT(idi_in_init.error().detail, Catch::Contains("IDi in IKE_SA_INIT request"));

    CHECK_FALSE(check(X::ike_sa_init, kRequest, {sa(), ke(), nonce(), certreq()}));
}

TEST_CASE("the golden IKE_SA_INIT request passes the outer and payload rules") {
    const Bytes datagram = ike_sa_init_request();
    auto m = parse_message(datagram);
    REQUIRE(m);
    CHECK(check_outer_payloads(*m));
    CHECK(check_payload_rules(m->header.exchange, m->header.is_response(), m->payloads));
}

TEST_CASE("notify-only refusals pass for responses only") {
    // <-- HDR, N(COOKIE)            (RFC 7296 2.6)
    CHECK(check(X::ike_sa_init, kResponse, {notify(N::cookie)}));
    // <-- HDR, N(INVALID_KE_PAYLOAD) (RFC 7296 1.2)
    CHECK(check(X::ike_sa_init, kResponse, {notify(N::invalid_ke_payload)}));
    CHECK(check(X::ike_sa_init, kResponse, {notify(N::no_proposal_chosen), vid()}));
    // <-- HDR, SK {N(AUTHENTICATION_FAILED)}   (RFC 7296 2.21.2)
    CHECK(check(X::ike_auth, kResponse, {notify(N::authentication_failed)}));
    // An unknown error type in a response is still a refusal (RFC 7296 3.10.1).
    CHECK(check(X::create_child_sa, kResponse, {notify(static_cast<N>(12000))}));
    CHECK(check(X::create_child_sa, kResponse, {notify(N::no_additional_sas)}));

    // A status notify alone is no refusal, COOKIE only counts for IKE_SA_INIT, requests never.
    CHECK_FALSE(check(X::ike_sa_init, kResponse, {notify(N::nat_detection_source_ip)}));
    CHECK_FALSE(check(X::ike_auth, kResponse, {notify(N::cookie)}));
    CHECK_FALSE(check(X::ike_auth, kRequest, {notify(N::authentication_failed)}));
    // A refusal with another payload beside it is judged by the row.
    CHECK_FALSE(check(X::ike_sa_init, kResponse, {notify(N::invalid_ke_payload), ke()}));
}

TEST_CASE("IKE_AUTH carries SA, TSi, TSr together or none of them (RFC 6023)") {
    CHECK(check(X::ike_auth, kRequest,
                {idi(), auth(), notify(N::initial_contact), notify(N::use_transport_mode), sa(),
                 tsi(), tsr()}));
    CHECK(check(X::ike_auth, kRequest, {idi(), cert(), certreq(), idr(), auth()}));  // childless
    CHECK(check(X::ike_auth, kResponse, {idr(), auth(), sa(), tsi(), tsr()}));
    // Authenticated, but the CHILD SA was refused.
    CHECK(check(X::ike_auth, kResponse, {idr(), auth(), notify(N::ts_unacceptable)}));

    Status partial = check(X::ike_auth, kRequest, {idi(), auth(), sa(), tsi()});
    REQUIRE_FALSE(partial);
    CHECK(partial.error().is(Errc::payload_missing));
    CHECK_FALSE(check(X::ike_auth, kResponse, {idr(), auth(), tsi(), tsr()}));
    CHECK_FALSE(check(X::ike_auth, kRequest, {auth(), sa(), tsi(), tsr()}));  // no IDi
    CHECK_FALSE(check(X::ike_auth, kRequest, {idi(), sa(), tsi(), tsr()}));   // no AUTH
    CHECK_FALSE(check(X::ike_auth, kResponse, {idi(), auth()}));              // IDi
    CHECK_FALSE(check(X::ike_auth, kRequest, {idi(), auth(), ke()}));         // KE
    CHECK_FALSE(check(X::ike_auth, kRequest, {idi(), idi(), auth()}));        // two IDi
}

TEST_CASE("CREATE_CHILD_SA: child SA, child rekey, IKE SA rekey") {
    // HDR, SK {SA, Ni, [KEi], TSi, TSr} -->
    CHECK(check(X::create_child_sa, kRequest, {sa(), nonce(), tsi(), tsr()}));
    CHECK(check(
        X::create_child_sa, kRequest,
        {notify(N::rekey_sa), notify(N::use_transport_mode), sa(), nonce(), ke(), tsi(), tsr()}));
    // HDR, SK {SA, Ni, KEi} -->   (IKE SA rekey, RFC 7296 1.3.2)
    CHECK(check(X::create_child_sa, kRequest, {sa(), nonce(), ke()}));
    CHECK(check(X::create_child_sa, kResponse, {sa(), nonce(), ke()}));
    CHECK(check(X::create_child_sa, kResponse, {sa(), nonce(), tsi(), tsr()}));

    CHECK_FALSE(check(X::create_child_sa, kRequest, {sa(), nonce()}));  // neither TS nor KE
    CHECK_FALSE(check(X::create_child_sa, kRequest, {sa(), nonce(), ke(), tsi()}));
    CHECK_FALSE(check(X::create_child_sa, kRequest, {nonce(), ke()}));
    CHECK_FALSE(check(X::create_child_sa, kRequest, {sa(), nonce(), ke(), ke()}));
    CHECK_FALSE(check(X::create_child_sa, kRequest, {sa(), nonce(), ke(), auth()}));
}

TEST_CASE("INFORMATIONAL: [N+], [D+], [CP+], possibly empty") {
    CHECK(check(X::informational, kRequest, {}));
    CHECK(check(X::informational, kResponse, {}));
    CHECK(check(X::informational, kRequest, {del(), del(), notify(N::initial_contact)}));
    CHECK(check(X::informational, kRequest, {ConfigPayload{}}));
    CHECK_FALSE(check(X::informational, kRequest, {sa()}));
}

TEST_CASE("unknown non-critical payloads and Vendor IDs are allowed everywhere") {
    CHECK(check(X::informational, kRequest, {unknown(), vid()}));
    CHECK(check(X::ike_sa_init, kRequest, {sa(), unknown(), ke(), nonce()}));
    CHECK(check(X::ike_auth, kResponse, {idr(), auth(), vid(), unknown()}));
}

TEST_CASE("exchanges without rules and encrypted payloads in a checked list are refused") {
    Status s = check(static_cast<X>(99), kRequest, {});
    REQUIRE_FALSE(s);
    CHECK(s.error().is(Errc::invalid_syntax));
    CHECK_FALSE(check(X::ike_intermediate, kRequest, {}));
    CHECK_FALSE(check(X::informational, kRequest, {SkPayload{}}));
}

TEST_CASE("outer chain: IKE_SA_INIT in clear, everything else in one SK or SKF") {
    Message m;
    m.header.exchange = X::ike_auth;
    m.payloads.push_back(SkPayload{PayloadType::idi, kData});
    CHECK(check_outer_payloads(m));
    m.payloads[0] = SkfPayload{PayloadType::idi, 1, 2, kData};
    CHECK(check_outer_payloads(m));
    m.payloads.insert(m.payloads.begin(), unknown());
    CHECK(check_outer_payloads(m));

    Message clear;
    clear.header.exchange = X::informational;
    clear.payloads.push_back(notify(N::initial_contact));
    Status s = check_outer_payloads(clear);
    REQUIRE_FALSE(s);
    CHECK(s.error().is(Errc::payload_not_allowed));
    CHECK_THAT(s.error().detail, Catch::Contains("unprotected N"));

    Message empty;
    empty.header.exchange = X::create_child_sa;
    CHECK(check_outer_payloads(empty).error().is(Errc::payload_missing));

    Message init;
    init.header.exchange = X::ike_sa_init;
    init.payloads.push_back(SkPayload{});
    CHECK(check_outer_payloads(init).error().is(Errc::payload_not_allowed));
}

TEST_CASE("the rule table has one row per exchange and direction, each headed by its RFC line") {
    int rows = 0;
    for (const ExchangeRule& r : exchange_rules()) {
        ++rows;
        INFO(name(r.exchange) << (r.response ? " response" : " request"));
        CHECK_FALSE(r.rfc_line.empty());
        CHECK(r.rfc_line.find("HDR") != std::string_view::npos);
        CHECK(r.rfc_line.find(r.response ? "<--" : "-->") != std::string_view::npos);
        CHECK_FALSE(r.payloads.empty());
        for (const ExchangeRule& other : exchange_rules()) {
            if (&other != &r) {
                CHECK_FALSE((other.exchange == r.exchange && other.response == r.response));
            }
        }
    }
    CHECK(rows == 8);
}
