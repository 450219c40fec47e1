// describe(): one human-readable line per payload.
#include "ike/wire/dump.hpp"

#include <catch2/catch.hpp>

#include "golden_messages.hpp"
#include "ike/wire/parse.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;
using namespace ikemesh::wire::test;

TEST_CASE("describe the golden IKE_SA_INIT request") {
    const Bytes datagram = ike_sa_init_request();
    auto m = parse_message(datagram);
    REQUIRE(m);
    CHECK(describe(*m) ==
          "IKE_SA_INIT request mid=0 spi_i=0102030405060708 spi_r=0000000000000000 flags=I "
          "len=252\n"
          "SA: proposal 1 IKE ENCR_AES_GCM_16(128) PRF_HMAC_SHA2_256 DH 31 DH 19\n"
          "KE: DH 31, 32 bytes\n"
          "Nonce: 32 bytes\n"
          "N(NAT_DETECTION_SOURCE_IP) data=c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3\n"
          "N(NAT_DETECTION_DESTINATION_IP) data=e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3\n"
          "N(IKEV2_FRAGMENTATION_SUPPORTED)\n"
          "N(SIGNATURE_HASH_ALGORITHMS) data=0002000300040005\n"
          "V: 882fe56d6fd20dbc2251613b2ebe5beb\n");
}

TEST_CASE("describe the golden IKE_AUTH inner chain") {
    const Bytes chain = ike_auth_inner_chain();
    auto l = parse_payloads(PayloadType::idi, chain);
    REQUIRE(l);
    CHECK(describe(*l) ==
          "IDi: ID_FQDN alice.example\n"
          "AUTH: PSK, 32 bytes\n"
          "N(INITIAL_CONTACT)\n"
          "N(USE_TRANSPORT_MODE)\n"
          "SA: proposal 1 ESP spi=c0ffee01 ENCR_AES_GCM_16(128) DH 31 NO_ESN\n"
          "TSi: 192.0.2.1-192.0.2.1 proto any ports 0-65535\n"
          "TSr: 192.0.2.2-192.0.2.2 proto any ports 0-65535\n");
}

TEST_CASE("describe every other payload kind") {
    const IpAddress a6 = *IpAddress::parse("2001:db8::7");
    const Bytes v6(a6.bytes().begin(), a6.bytes().end());
    const Bytes binary = {0x01, 0xff};
    const Bytes spis = hex("c0ffee01c0ffee02");
    const Bytes long_blob(40, 0xab);
    const Bytes dns = hex("c0000235");

    CHECK(describe(IdrPayload{IdType::ipv6_addr, v6, {}}) == "IDr: ID_IPV6_ADDR 2001:db8::7");
    CHECK(describe(IdrPayload{IdType::fqdn, binary, {}}) == "IDr: ID_FQDN 01ff");
    CHECK(describe(IdiPayload{IdType::der_asn1_dn, long_blob, {}}) ==
          "IDi: ID_DER_ASN1_DN 40 bytes");
    CHECK(describe(CertPayload{CertEncoding::x509_signature, long_blob}) ==
          "CERT: X509_SIGNATURE, 40 bytes");
    CHECK(describe(CertReqPayload{CertEncoding::x509_signature, binary}) ==
          "CERTREQ: X509_SIGNATURE, 2 bytes");
    CHECK(describe(
              NotifyPayload{ProtocolId::esp, ByteView(spis).first(4), NotifyType::rekey_sa, {}}) ==
          "N(REKEY_SA) ESP spi=c0ffee01");
    CHECK(
        describe(NotifyPayload{ProtocolId::none, {}, static_cast<NotifyType>(40000), long_blob}) ==
        "N(NOTIFY(40000)) data=40 bytes");
    CHECK(describe(DeletePayload{ProtocolId::esp, 4, 2, spis}) ==
          "D: ESP 2 SPIs c0ffee01 c0ffee02");
    CHECK(describe(DeletePayload{ProtocolId::ike, 0, 0, {}}) == "D: IKE");
    ConfigPayload cp;
    cp.type = CfgType::reply;
    cp.attributes.push_back({static_cast<uint16_t>(CfgAttr::internal_ip4_dns), dns});
    cp.attributes.push_back({999, {}});
    CHECK(describe(cp) == "CP: CFG_REPLY INTERNAL_IP4_DNS=c0000235 ATTR(999)");
    CHECK(describe(EapPayload{EapCode::request, 7, 1, binary}) ==
          "EAP: REQUEST id 7 type 1, 2 bytes");
    CHECK(describe(EapPayload{EapCode::success, 7, std::nullopt, {}}) ==
          "EAP: SUCCESS id 7, 0 bytes");
    CHECK(describe(SkPayload{PayloadType::idi, long_blob}) == "SK: first IDi, 40 bytes");
    CHECK(describe(SkfPayload{PayloadType::none, 2, 3, long_blob}) ==
          "SKF: fragment 2/3, first NONE, 40 bytes");
    CHECK(describe(UnknownPayload{static_cast<PayloadType>(250), true, binary}) ==
          "payload(250): unknown, 2 bytes, critical");

    TsrPayload ts;
    TrafficSelector& sel = ts.selectors.emplace_back();
    sel.type = TsType::ipv4_addr_range;
    sel.ip_protocol = 6;
    sel.start_port = 22;
    sel.end_port = 22;
    sel.start_address = *IpAddress::parse("10.0.0.1");
    sel.end_address = *IpAddress::parse("10.0.0.9");
    TrafficSelector& label = ts.selectors.emplace_back();
    label.type = TsType::seclabel;
    label.raw = binary;
    CHECK(describe(ts) == "TSr: 10.0.0.1-10.0.0.9 proto 6 ports 22-22; TS_SECLABEL 01ff");

    SaPayload sa;
    Proposal& p = sa.proposals.emplace_back();
    p.protocol = ProtocolId::esp;
    p.transforms.push_back({TransformType::encr, 3, std::nullopt});  // 3DES: not implemented
    p.transforms.push_back({TransformType::integ, 12, std::nullopt, true});
    p.transforms.push_back({TransformType::esn, 1, std::nullopt});
    Proposal& q = sa.proposals.emplace_back();
    q.number = 2;
    q.protocol = ProtocolId::esp;
    q.transforms.push_back({TransformType::encr, 12, 256});
    CHECK(describe(sa) ==
          "SA: proposal 1 ESP ENCR(3) AUTH_HMAC_SHA2_256_128+attr ESN; proposal 2 ESP "
          "ENCR_AES_CBC(256)");
}

TEST_CASE("describe a response header with unknown exchange type") {
    Header h;
    h.exchange = static_cast<ExchangeType>(99);
    h.set(HeaderFlag::response);
    h.message_id = MessageId{7};
    h.length = 28;
    CHECK(
        describe(h) ==
        "EXCHANGE(99) response mid=7 spi_i=0000000000000000 spi_r=0000000000000000 flags=R len=28");
}
