// Golden-byte tests for every payload type. Each byte string was written by hand from the layout
// drawings of RFC 7296 section 3 (and RFC 7383 2.5, RFC 3748 4), field by field as commented; the
// code under test produced none of them. Each test parses the bytes and checks every struct field,
// then builds from the struct and expects the same bytes.
#include <catch2/catch.hpp>

#include "ike/wire/build.hpp"
#include "ike/wire/parse.hpp"
#include "wire_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;
using wire::test::hex;

namespace {

// Parses `bytes` as a one-payload chain of `type` and returns the payload.
Payload parse_one(PayloadType type, const Bytes& bytes) {
    auto list = parse_payloads(type, bytes);
    if (!list) FAIL(list.error().message());
    REQUIRE(list->size() == 1);
    return (*list)[0];
}

Bytes build_one(const Payload& p) {
    ChainBuilder b;
    b.add(p);
    auto out = b.finish();
    if (!out) FAIL(out.error().message());
    return *out;
}

template <typename T>
const T& as(const Payload& p) {
    REQUIRE(std::holds_alternative<T>(p));
    return std::get<T>(p);
}

}  // namespace

TEST_CASE("SA payload with two ESP proposals, SPI, key length and ESN (RFC 7296 3.3)") {
    const Bytes bytes = hex(R"(
        00 00 00 4c             # generic header: next none, length 76
        02 00 00 28             # proposal: more follow (2), length 40
        01 03 04 03             # number 1, ESP, SPI size 4, 3 transforms
        c0 ff ee 01             # SPI
        03 00 00 0c 01 00 00 0c # transform: more (3), length 12, ENCR, id 12 (AES-CBC)
        80 0e 01 00             #   attribute TV Key Length = 256
        03 00 00 08 03 00 00 0c # transform: INTEG, id 12 (HMAC-SHA2-256-128)
        00 00 00 08 05 00 00 00 # transform: last, ESN, id 0 (no ESN)
        00 00 00 20             # proposal: last (0), length 32
        02 03 04 02             # number 2, ESP, SPI size 4, 2 transforms
        c0 ff ee 02
        03 00 00 0c 01 00 00 14 80 0e 00 80 # ENCR AES-GCM-16, Key Length 128
        00 00 00 08 05 00 00 01             # ESN
    )");
    Payload p = parse_one(PayloadType::sa, bytes);
    const auto& sa = as<SaPayload>(p);
    REQUIRE(sa.proposals.size() == 2);
    const Proposal& p1 = sa.proposals[0];
    CHECK(p1.number == 1);
    CHECK(p1.protocol == ProtocolId::esp);
    CHECK(to_hex(p1.spi) == "c0ffee01");
    REQUIRE(p1.transforms.size() == 3);
    CHECK(p1.transforms[0].type == TransformType::encr);
    CHECK(p1.transforms[0].encr() == crypto::EncrAlg::aes_cbc);
    CHECK(p1.transforms[0].key_length == 256);
    CHECK_FALSE(p1.transforms[0].unknown_attribute);
    CHECK(p1.transforms[1].type == TransformType::integ);
    CHECK(p1.transforms[1].integ() == crypto::IntegAlg::hmac_sha2_256_128);
    CHECK_FALSE(p1.transforms[1].key_length);
    CHECK(p1.transforms[2].type == TransformType::esn);
    CHECK(p1.transforms[2].esn() == EsnId::no_esn);
    const Proposal& p2 = sa.proposals[1];
    CHECK(p2.number == 2);
    CHECK(to_hex(p2.spi) == "c0ffee02");
    REQUIRE(p2.transforms.size() == 2);
    CHECK(p2.transforms[0].encr() == crypto::EncrAlg::aes_gcm_16);
    CHECK(p2.transforms[0].key_length == 128);
    CHECK(p2.transforms[1].esn() == EsnId::esn);
    CHECK(build_one(p) == bytes);
}

TEST_CASE("SA transform with an unknown attribute is kept and flagged") {
    const Bytes bytes = hex(R"(
        00 00 00 1c  00 00 00 18  01 01 00 01  # one IKE proposal, 1 transform
        00 00 00 10 01 00 00 14                # ENCR AES-GCM-16, length 16
        80 0e 00 80                            # Key Length 128 (TV)
        00 07 00 00                            # TLV attribute type 7, empty value
    )");
    Payload p = parse_one(PayloadType::sa, bytes);
    const Transform& t = as<SaPayload>(p).proposals[0].transforms[0];
    CHECK(t.key_length == 128);
    CHECK(t.unknown_attribute);
}

TEST_CASE("SA payload built from hand-filled structs") {
    SaPayload sa;
    Proposal& prop = sa.proposals.emplace_back();
    prop.number = 1;
    prop.protocol = ProtocolId::ike;
    prop.transforms.push_back({TransformType::encr, 20, 256});
    prop.transforms.push_back({TransformType::prf, 7, std::nullopt});
    prop.transforms.push_back({TransformType::ke, 31, std::nullopt});
    CHECK(build_one(sa) == hex(R"(
        00 00 00 28  00 00 00 24  01 01 00 03   # length 40; proposal length 36, IKE, 3
        03 00 00 0c 01 00 00 14 80 0e 01 00
        03 00 00 08 02 00 00 07
        00 00 00 08 04 00 00 1f
    )"));
}

TEST_CASE("KE payload (RFC 7296 3.4)") {
    const Bytes bytes = hex("00 00 00 0c  00 13 00 00  aa bb cc dd");
    Payload p = parse_one(PayloadType::ke, bytes);
    const auto& ke = as<KePayload>(p);
    CHECK(ke.group == crypto::DhGroup::ecp256);
    CHECK(to_hex(ke.data) == "aabbccdd");
    CHECK(build_one(p) == bytes);
}

TEST_CASE("IDi with an FQDN and IDr with an IPv4 address (RFC 7296 3.5)") {
    const Bytes idi = hex(R"(
        00 00 00 15  02 00 00 00       # length 21, ID_FQDN, reserved
        61 6c 69 63 65 2e 65 78 61 6d 70 6c 65  # "alice.example"
    )");
    Payload p = parse_one(PayloadType::idi, idi);
    const auto& id = as<IdiPayload>(p);
    CHECK(id.type == IdType::fqdn);
    CHECK(std::string(id.data.begin(), id.data.end()) == "alice.example");
    CHECK(to_hex(id.body) == to_hex(ByteView(idi).subspan(4)));  // IDx' for RFC 7296 2.15
    CHECK(build_one(p) == idi);
    CHECK(id_body(id.type, id.data) == Bytes(idi.begin() + 4, idi.end()));

    const Bytes idr = hex("00 00 00 0c  01 00 00 00  c0 00 02 01");
    Payload q = parse_one(PayloadType::idr, idr);
    CHECK(as<IdrPayload>(q).type == IdType::ipv4_addr);
    CHECK(to_hex(as<IdrPayload>(q).data) == "c0000201");
    CHECK(build_one(q) == idr);
}

TEST_CASE("ID body keeps the received RESERVED octets for the AUTH computation") {
    const Bytes idi = hex("00 00 00 0c  02 01 02 03  61 62 63 64");
    Payload p = parse_one(PayloadType::idi, idi);
    CHECK(to_hex(as<IdiPayload>(p).body) == "0201020361626364");
}

TEST_CASE("CERT and CERTREQ payloads (RFC 7296 3.6, 3.7)") {
    const Bytes cert = hex("00 00 00 08  04  30 82 01");
    Payload p = parse_one(PayloadType::cert, cert);
    CHECK(as<CertPayload>(p).encoding == CertEncoding::x509_signature);
    CHECK(to_hex(as<CertPayload>(p).data) == "308201");
    CHECK(build_one(p) == cert);

    const Bytes req = hex(R"(
        00 00 00 19  04                        # length 25, X.509 signature
        00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 01 02 03 04  # SHA-1 of a CA key
    )");
    Payload q = parse_one(PayloadType::certreq, req);
    CHECK(as<CertReqPayload>(q).encoding == CertEncoding::x509_signature);
    CHECK(as<CertReqPayload>(q).data.size() == 20);
    CHECK(build_one(q) == req);
}

TEST_CASE("AUTH payload (RFC 7296 3.8)") {
    const Bytes bytes = hex("00 00 00 10  0e 00 00 00  01 02 03 04 05 06 07 08");
    Payload p = parse_one(PayloadType::auth, bytes);
    CHECK(as<AuthPayload>(p).method == AuthMethod::digital_signature);
    CHECK(to_hex(as<AuthPayload>(p).data) == "0102030405060708");
    CHECK(build_one(p) == bytes);
}

TEST_CASE("Nonce payload (RFC 7296 3.9) and its size limits") {
    const Bytes bytes = hex("00 00 00 14  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
    Payload p = parse_one(PayloadType::nonce, bytes);
    CHECK(as<NoncePayload>(p).data.size() == 16);
    CHECK(build_one(p) == bytes);

    const Bytes short_bytes = hex("00 00 00 13" + std::string(30, '0'));
    auto short_nonce = parse_payloads(PayloadType::nonce, short_bytes);
    REQUIRE_FALSE(short_nonce);
    CHECK(short_nonce.error().is(Errc::invalid_syntax));
    Bytes long_nonce = {0, 0, 0x01, 0x05};  // length 261: 257 octets of nonce
    long_nonce.resize(261, 0x55);
    auto too_long = parse_payloads(PayloadType::nonce, long_nonce);
    REQUIRE_FALSE(too_long);
    CHECK(too_long.error().is(Errc::invalid_syntax));
}

TEST_CASE("Notify payloads with SPI and with data (RFC 7296 3.10)") {
    const Bytes rekey = hex("00 00 00 0c  03 04 40 09  c0 ff ee 01");  // ESP, REKEY_SA
    Payload p = parse_one(PayloadType::notify, rekey);
    const auto& n = as<NotifyPayload>(p);
    CHECK(n.protocol == ProtocolId::esp);
    CHECK(n.type == NotifyType::rekey_sa);
    CHECK(to_hex(n.spi) == "c0ffee01");
    CHECK(n.data.empty());
    CHECK(build_one(p) == rekey);

    const Bytes invalid_ke = hex("00 00 00 0a  00 00 00 11  00 13");  // INVALID_KE_PAYLOAD, 19
    Payload q = parse_one(PayloadType::notify, invalid_ke);
    CHECK(as<NotifyPayload>(q).type == NotifyType::invalid_ke_payload);
    CHECK(as<NotifyPayload>(q).spi.empty());
    CHECK(to_hex(as<NotifyPayload>(q).data) == "0013");
    CHECK(build_one(q) == invalid_ke);

    // An unknown status type parses and keeps its number.
    Payload u = parse_one(PayloadType::notify, hex("00 00 00 08  00 00 9c 40"));
    CHECK(static_cast<unsigned>(as<NotifyPayload>(u).type) == 40000);
}

TEST_CASE("Delete payloads for ESP SPIs and for the IKE SA (RFC 7296 3.11)") {
    const Bytes esp = hex("00 00 00 10  03 04 00 02  c0 ff ee 01  c0 ff ee 02");
    Payload p = parse_one(PayloadType::del, esp);
    const auto& d = as<DeletePayload>(p);
    CHECK(d.protocol == ProtocolId::esp);
    CHECK(d.spi_size == 4);
    CHECK(d.count == 2);
    CHECK(to_hex(d.spi_at(0)) == "c0ffee01");
    CHECK(to_hex(d.spi_at(1)) == "c0ffee02");
    CHECK(build_one(p) == esp);

    const Bytes ike = hex("00 00 00 08  01 00 00 00");
    Payload q = parse_one(PayloadType::del, ike);
    CHECK(as<DeletePayload>(q).protocol == ProtocolId::ike);
    CHECK(as<DeletePayload>(q).count == 0);
    CHECK(build_one(q) == ike);
}

TEST_CASE("Vendor ID payload (RFC 7296 3.12)") {
    const Bytes bytes = hex("00 00 00 08  de ad be ef");
    Payload p = parse_one(PayloadType::vendor_id, bytes);
    CHECK(to_hex(as<VendorIdPayload>(p).data) == "deadbeef");
    CHECK(build_one(p) == bytes);
}

TEST_CASE("TSi with an IPv4 and an IPv6 range (RFC 7296 3.13)") {
    const Bytes bytes = hex(R"(
        00 00 00 40  02 00 00 00                  # length 64, 2 selectors
        07 11 00 10  01 f4 01 f4                  # IPv4 range, UDP, length 16, ports 500-500
        c0 00 02 01  c0 00 02 ff                  # 192.0.2.1 - 192.0.2.255
        08 00 00 28  00 00 ff ff                  # IPv6 range, any protocol, length 40, all ports
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01   # 2001:db8::1
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 ff ff   # 2001:db8::ffff
    )");
    Payload p = parse_one(PayloadType::tsi, bytes);
    const auto& ts = as<TsiPayload>(p);
    REQUIRE(ts.selectors.size() == 2);
    const TrafficSelector& v4 = ts.selectors[0];
    CHECK(v4.type == TsType::ipv4_addr_range);
    CHECK(v4.ip_protocol == 17);
    CHECK(v4.start_port == 500);
    CHECK(v4.end_port == 500);
    CHECK(v4.start_address.to_string() == "192.0.2.1");
    CHECK(v4.end_address.to_string() == "192.0.2.255");
    const TrafficSelector& v6 = ts.selectors[1];
    CHECK(v6.type == TsType::ipv6_addr_range);
    CHECK(v6.ip_protocol == 0);
    CHECK(v6.start_port == 0);
    CHECK(v6.end_port == 65535);
    CHECK(v6.start_address.to_string() == "2001:db8::1");
    CHECK(v6.end_address.to_string() == "2001:db8::ffff");
    CHECK(build_one(p) == bytes);
}

TEST_CASE("TSr with a selector type the codec does not interpret keeps its octets") {
    const Bytes bytes = hex(R"(
        00 00 00 10  01 00 00 00     # length 16, 1 selector
        0a 00 00 08  73 65 6c 30     # TS_SECLABEL, length 8, label "sel0"
    )");
    Payload p = parse_one(PayloadType::tsr, bytes);
    const auto& ts = as<TsrPayload>(p);
    REQUIRE(ts.selectors.size() == 1);
    CHECK(ts.selectors[0].type == TsType::seclabel);
    CHECK(to_hex(ts.selectors[0].raw) == "73656c30");
    CHECK(build_one(p) == bytes);
}

TEST_CASE("Configuration payload (RFC 7296 3.15)") {
    const Bytes bytes = hex(R"(
        00 00 00 14  01 00 00 00      # length 20, CFG_REQUEST
        00 01 00 00                   # INTERNAL_IP4_ADDRESS, empty
        00 03 00 04  c0 00 02 35      # INTERNAL_IP4_DNS 192.0.2.53
    )");
    Payload p = parse_one(PayloadType::cp, bytes);
    const auto& cp = as<ConfigPayload>(p);
    CHECK(cp.type == CfgType::request);
    REQUIRE(cp.attributes.size() == 2);
    CHECK(cp.attributes[0].type == static_cast<uint16_t>(CfgAttr::internal_ip4_address));
    CHECK(cp.attributes[0].value.empty());
    CHECK(cp.attributes[1].type == static_cast<uint16_t>(CfgAttr::internal_ip4_dns));
    CHECK(to_hex(cp.attributes[1].value) == "c0000235");
    CHECK(build_one(p) == bytes);
}

TEST_CASE("EAP payloads: a request with a Type and a success without (RFC 7296 3.16, RFC 3748)") {
    const Bytes req = hex("00 00 00 0d  01 07 00 09 01  61 6c 69 63");
    Payload p = parse_one(PayloadType::eap, req);
    const auto& e = as<EapPayload>(p);
    CHECK(e.code == EapCode::request);
    CHECK(e.identifier == 7);
    CHECK(e.type == 1);
    CHECK(std::string(e.data.begin(), e.data.end()) == "alic");
    CHECK(build_one(p) == req);

    const Bytes success = hex("00 00 00 08  03 07 00 04");
    Payload q = parse_one(PayloadType::eap, success);
    CHECK(as<EapPayload>(q).code == EapCode::success);
    CHECK_FALSE(as<EapPayload>(q).type);
    CHECK(build_one(q) == success);

    const Bytes bad_bytes = hex("00 00 00 08  03 07 00 05");
    auto bad = parse_payloads(PayloadType::eap, bad_bytes);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().is(Errc::bad_length));
}

TEST_CASE("SK and SKF payloads keep their body undivided (RFC 7296 3.14, RFC 7383 2.5)") {
    const Bytes sk_msg = hex(R"(
        0102030405060708 1112131415161718   # SPIs
        2e 20 23 08  00 00 00 01  00 00 00 28  # next SK, v2.0, IKE_AUTH, I, mid 1, length 40
        23 00 00 0c  aa aa aa aa bb bb bb bb   # SK: inner first IDi (35), length 12, body
    )");
    auto m = parse_message(sk_msg);
    REQUIRE(m);
    REQUIRE(m->payloads.size() == 1);
    const auto& sk = as<SkPayload>(m->payloads[0]);
    CHECK(sk.inner_first == PayloadType::idi);
    CHECK(to_hex(sk.body) == "aaaaaaaabbbbbbbb");
    MessageBuilder b(m->header);
    b.add(sk);
    CHECK(*b.finish() == sk_msg);

    const Bytes skf_msg = hex(R"(
        0102030405060708 1112131415161718
        35 20 23 08  00 00 00 01  00 00 00 2c  # next SKF, length 44
        00 00 00 10  00 02 00 03  cc cc cc cc dd dd dd dd  # SKF: next 0, fragment 2 of 3
    )");
    auto f = parse_message(skf_msg);
    REQUIRE(f);
    const auto& skf = as<SkfPayload>(f->payloads[0]);
    CHECK(skf.inner_first == PayloadType::none);
    CHECK(skf.fragment_number == 2);
    CHECK(skf.total_fragments == 3);
    CHECK(to_hex(skf.body) == "ccccccccdddddddd");
    MessageBuilder fb(f->header);
    fb.add(skf);
    CHECK(*fb.finish() == skf_msg);
}

TEST_CASE("unknown payloads: skipped when not critical, refused with their type when critical") {
    // V, then unknown type 250 (not critical), then Nonce.
    const Bytes chain = hex(R"(
        fa 00 00 06  ab cd                          # V: next 250, data abcd
        28 00 00 06  01 02                          # type 250: next Nonce, C=0
        00 00 00 14  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
    )");
    auto list = parse_payloads(PayloadType::vendor_id, chain);
    REQUIRE(list);
    REQUIRE(list->size() == 3);
    const auto& u = as<UnknownPayload>((*list)[1]);
    CHECK(static_cast<unsigned>(u.type) == 250);
    CHECK_FALSE(u.critical);
    CHECK(to_hex(u.body) == "0102");
    CHECK(std::holds_alternative<NoncePayload>((*list)[2]));
    ChainBuilder b;
    for (const Payload& p : *list)
        b.add(p);
    CHECK(*b.finish() == chain);

    Bytes critical = chain;
    critical[7] = 0x80;  // critical bit of the type-250 payload
    PayloadList out;
    PayloadType offending = PayloadType::none;
    Status s = parse_payloads(PayloadType::vendor_id, critical, out, &offending);
    REQUIRE_FALSE(s);
    CHECK(s.error().is(Errc::unsupported_critical));
    CHECK(static_cast<unsigned>(offending) == 250);

    // RFC 7296 3.2: the critical bit is ignored on payloads the recipient understands.
    Bytes known_critical = chain;
    known_critical[1] = 0x80;  // the V payload
    CHECK(parse_payloads(PayloadType::vendor_id, known_critical));
}
