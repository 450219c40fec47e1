// Whole messages: the header, chains of payloads, the builder's bookkeeping (Next Payload fields
// and lengths), lookup helpers, and malformed input of every kind, including truncation at every
// offset of a real message.
#include <catch2/catch.hpp>

#include "golden_messages.hpp"
#include "ike/wire/build.hpp"
#include "ike/wire/parse.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;
using namespace ikemesh::wire::test;

namespace {

std::vector<PayloadType> types_of(const PayloadList& list) {
    std::vector<PayloadType> out;
    for (const Payload& p : list)
        out.push_back(payload_type(p));
    return out;
}

Bytes rebuild(const Message& m) {
    MessageBuilder b(m.header);
    for (const Payload& p : m.payloads)
        b.add(p);
    auto out = b.finish();
    if (!out) FAIL(out.error().message());
    return *out;
}

Error parse_error(const Bytes& datagram) {
    auto m = parse_message(datagram);
    REQUIRE_FALSE(m);
    return m.error();
}

Error chain_error(PayloadType first, const Bytes& chain) {
    auto l = parse_payloads(first, chain);
    REQUIRE_FALSE(l);
    return l.error();
}

}  // namespace

TEST_CASE("the golden IKE_SA_INIT request parses field by field and rebuilds identically") {
    const Bytes datagram = ike_sa_init_request();
    auto m = parse_message(datagram);
    REQUIRE(m);
    const Header& h = m->header;
    CHECK(h.spi_i == IkeSpi{0x0102030405060708});
    CHECK(h.spi_r.is_zero());
    CHECK(h.next_payload == PayloadType::sa);
    CHECK(h.major_version == 2);
    CHECK(h.minor_version == 0);
    CHECK(h.exchange == ExchangeType::ike_sa_init);
    CHECK(h.is_initiator());
    CHECK_FALSE(h.is_response());
    CHECK(h.message_id == MessageId{0});
    CHECK(h.length == 252);

    using P = PayloadType;
    CHECK(types_of(m->payloads) == std::vector<P>{P::sa, P::ke, P::nonce, P::notify, P::notify,
                                                  P::notify, P::notify, P::vendor_id});
    const auto* sa = find_first<SaPayload>(m->payloads);
    REQUIRE(sa);
    REQUIRE(sa->proposals.size() == 1);
    CHECK(sa->proposals[0].protocol == ProtocolId::ike);
    CHECK(sa->proposals[0].spi.empty());
    REQUIRE(sa->proposals[0].transforms.size() == 4);
    CHECK(sa->proposals[0].transforms[3].group() == crypto::DhGroup::ecp256);
    const auto* ke = find_first<KePayload>(m->payloads);
    REQUIRE(ke);
    CHECK(ke->group == crypto::DhGroup::curve25519);
    CHECK(ke->data.size() == 32);
    CHECK(find_first<NoncePayload>(m->payloads)->data.size() == 32);
    const auto* sig = find_notify(m->payloads, NotifyType::signature_hash_algorithms);
    REQUIRE(sig);
    CHECK(to_hex(sig->data) == "0002000300040005");
    CHECK(has_notify(m->payloads, NotifyType::ikev2_fragmentation_supported));
    CHECK_FALSE(has_notify(m->payloads, NotifyType::cookie));
    CHECK(notifies(m->payloads).size() == 4);
    CHECK(count_of<NotifyPayload>(m->payloads) == 4);
    CHECK(first_error_notify(m->payloads) == nullptr);
    CHECK(find_first<IdiPayload>(m->payloads) == nullptr);

    CHECK(rebuild(*m) == datagram);
}

TEST_CASE("the golden IKE_SA_INIT request built from hand-filled structs") {
    const Bytes golden = ike_sa_init_request();
    const ByteView g(golden);
    Header h;
    h.spi_i = IkeSpi{0x0102030405060708};
    h.exchange = ExchangeType::ike_sa_init;
    h.set(HeaderFlag::initiator);
    h.next_payload = PayloadType::cert;  // ignored by the builder
    h.length = 9999;                     // ignored by the builder

    SaPayload sa;
    Proposal& prop = sa.proposals.emplace_back();
    prop.transforms.push_back({TransformType::encr, 20, 128});
    prop.transforms.push_back({TransformType::prf, 5, std::nullopt});
    prop.transforms.push_back({TransformType::ke, 31, std::nullopt});
    prop.transforms.push_back({TransformType::ke, 19, std::nullopt});
    const Bytes nat_src = hex("c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf d0 d1 d2 d3");
    const Bytes nat_dst = hex("e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 ea eb ec ed ee ef f0 f1 f2 f3");
    const Bytes hashes = hex("0002000300040005");

    MessageBuilder b(h);
    b.add(sa)
        .add(KePayload{crypto::DhGroup::curve25519, g.subspan(84, 32)})
        .add(NoncePayload{g.subspan(120, 32)})
        .add(NotifyPayload{ProtocolId::none, {}, NotifyType::nat_detection_source_ip, nat_src})
        .add(NotifyPayload{ProtocolId::none, {}, NotifyType::nat_detection_destination_ip, nat_dst})
        .add(NotifyPayload{ProtocolId::none, {}, NotifyType::ikev2_fragmentation_supported, {}})
        .add(NotifyPayload{ProtocolId::none, {}, NotifyType::signature_hash_algorithms, hashes})
        .add(VendorIdPayload{g.subspan(236, 16)});
    auto out = b.finish();
    REQUIRE(out);
    CHECK(to_hex(*out) == to_hex(golden));
}

TEST_CASE("the golden IKE_AUTH inner chain parses and rebuilds") {
    const Bytes chain = ike_auth_inner_chain();
    auto list = parse_payloads(PayloadType::idi, chain);
    REQUIRE(list);
    using P = PayloadType;
    CHECK(types_of(*list) ==
          std::vector<P>{P::idi, P::auth, P::notify, P::notify, P::sa, P::tsi, P::tsr});
    CHECK(find_first<AuthPayload>(*list)->method == AuthMethod::shared_key_mic);
    CHECK(has_notify(*list, NotifyType::use_transport_mode));
    CHECK(find_first<TsrPayload>(*list)->selectors[0].start_address.to_string() == "192.0.2.2");

    ChainBuilder b;
    for (const Payload& p : *list)
        b.add(p);
    CHECK(b.first_type() == PayloadType::idi);
    auto out = b.finish();
    REQUIRE(out);
    CHECK(*out == chain);
}

TEST_CASE("an empty message and an empty chain are valid") {
    Header h;
    h.exchange = ExchangeType::informational;
    auto out = MessageBuilder(h).finish();
    REQUIRE(out);
    CHECK(out->size() == 28);
    auto m = parse_message(*out);
    REQUIRE(m);
    CHECK(m->payloads.empty());
    CHECK(m->header.length == 28);
    auto l = parse_payloads(PayloadType::none, ByteView{});
    REQUIRE(l);
    CHECK(l->empty());
    ChainBuilder c;
    CHECK(c.first_type() == PayloadType::none);
    CHECK(c.finish()->empty());
}

TEST_CASE("header: version and length checks") {
    Bytes d = ike_sa_init_request();
    SECTION("minor version is ignored") {
        d[17] = 0x2f;
        CHECK(parse_message(d));
    }
    SECTION("major version 1 or 3 is refused, but parse_header still returns the header") {
        for (uint8_t v : {0x10, 0x30}) {
            d[17] = v;
            CHECK(parse_error(d).is(Errc::bad_version));
            auto h = parse_header(d);
            REQUIRE(h);
            CHECK(h->major_version == v >> 4);
            CHECK(h->spi_i == IkeSpi{0x0102030405060708});
        }
    }
    SECTION("length field larger than the datagram") {
        d[27] = 0xfd;
        CHECK(parse_error(d).is(Errc::truncated));
    }
    SECTION("length field smaller than the datagram") {
        d.push_back(0);
        CHECK(parse_error(d).is(Errc::bad_length));
    }
    SECTION("shorter than a header") {
        d.resize(27);
        CHECK(parse_error(d).is(Errc::truncated));
        CHECK_FALSE(parse_header(d));
    }
    SECTION("flags other than I, V, R are carried but mean nothing") {
        d[19] = 0xff;
        auto m = parse_message(d);
        REQUIRE(m);
        CHECK(m->header.is_response());
        CHECK(m->header.has(HeaderFlag::version));
    }
}

TEST_CASE("truncation at every offset of a real message fails cleanly") {
    const Bytes full = ike_sa_init_request();
    for (size_t n = 0; n < full.size(); ++n) {
        INFO("prefix of " << n << " octets");
        Bytes prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
        CHECK_FALSE(parse_message(prefix));
        // The same prefix with the header Length patched to match, so the payload walk itself
        // meets the end of the data at every position.
        if (n >= kHeaderSize) {
            store_be32(prefix.data() + 24, static_cast<uint32_t>(n));
            auto m = parse_message(prefix);
            REQUIRE_FALSE(m);
            CHECK((m.error().is(Errc::truncated) || m.error().is(Errc::bad_length)));
        }
    }
    const Bytes chain = ike_auth_inner_chain();
    for (size_t n = 0; n < chain.size(); ++n) {
        INFO("chain prefix of " << n << " octets");
        CHECK_FALSE(parse_payloads(PayloadType::idi, ByteView(chain).first(n)));
    }
}

TEST_CASE("generic payload header lengths") {
    SECTION("length below 4") {
        CHECK(chain_error(PayloadType::vendor_id, hex("00 00 00 03")).is(Errc::bad_length));
    }
    SECTION("length past the end") {
        CHECK(chain_error(PayloadType::vendor_id, hex("00 00 00 09 01 02")).is(Errc::truncated));
    }
    SECTION("octets after the last payload") {
        CHECK(chain_error(PayloadType::vendor_id, hex("00 00 00 05 01 ff")).is(Errc::bad_length));
    }
    SECTION("a Next Payload pointing past the end") {
        CHECK(chain_error(PayloadType::vendor_id, hex("2b 00 00 05 01")).is(Errc::truncated));
    }
}

TEST_CASE("SK and SKF must be last, and never inside an encrypted chain") {
    SECTION("SK followed by a payload") {
        Bytes d = hex(R"(
            0102030405060708 1112131415161718  2e 20 23 08  00000001  00000024
            23 00 00 04                        # SK with an empty body...
            00 00 00 04                        # ...and 4 more octets after it
        )");
        Error e = parse_error(d);
        CHECK(e.is(Errc::invalid_syntax));
        CHECK_THAT(e.detail, Catch::Contains("last"));
    }
    SECTION("SK inside a decrypted chain") {
        CHECK(
            chain_error(PayloadType::sk, hex("00 00 00 08 01 02 03 04")).is(Errc::invalid_syntax));
        CHECK(
            chain_error(PayloadType::skf, hex("00 00 00 08 00 01 00 01")).is(Errc::invalid_syntax));
    }
    SECTION("the builder refuses a payload after SK") {
        Header h;
        MessageBuilder b(h);
        b.add(SkPayload{PayloadType::idi, {}}).add(VendorIdPayload{});
        auto out = b.finish();
        REQUIRE_FALSE(out);
        CHECK(out.error().is(Errc::invalid_syntax));
    }
}

TEST_CASE("SKF fragment numbers are checked (RFC 7383 2.5)") {
    for (const char* fields : {"00 00 00 03", "00 04 00 03", "00 01 00 00", "00 00 00 00"}) {
        INFO(fields);
        Bytes d = hex(std::string("0102030405060708 1112131415161718 35 20 23 08 00000001 00000024"
                                  " 00 00 00 08 ") +
                      fields);
        CHECK(parse_error(d).is(Errc::fragment_invalid));
    }
}

TEST_CASE("SA substructure errors") {
    SECTION("no proposal") {
        CHECK(chain_error(PayloadType::sa, hex("00 00 00 04")).is(Errc::invalid_syntax));
    }
    SECTION("Num Transforms larger than present") {
        chain_error(PayloadType::sa,
                    hex("00 00 00 14  00 00 00 10 01 01 00 02  00 00 00 08 01 00 00 14"));
    }
    SECTION("Num Transforms smaller than present") {
        CHECK(chain_error(PayloadType::sa, hex(R"(00 00 00 1c  00 00 00 18 01 01 00 01
                                                  03 00 00 08 01 00 00 14  00 00 00 08 02 00 00 05)"))
                  .is(Errc::invalid_syntax));  // the first transform claims more follow
    }
    SECTION("Last Substruc of a proposal says more but none follows") {
        CHECK(chain_error(PayloadType::sa, hex("00 00 00 14  02 00 00 10 01 01 00 01  "
                                               "00 00 00 08 01 00 00 14"))
                  .is(Errc::invalid_syntax));
    }
    SECTION("proposal length below its header") {
        CHECK(chain_error(PayloadType::sa, hex("00 00 00 0c  00 00 00 07 01 01 00 00"))
                  .is(Errc::bad_length));
    }
    SECTION("proposal longer than the payload") {
        CHECK(chain_error(PayloadType::sa, hex("00 00 00 0c  00 00 00 40 01 01 00 00"))
                  .is(Errc::bad_length));
    }
    SECTION("SPI size past the proposal") {
        CHECK(chain_error(PayloadType::sa, hex("00 00 00 0c  00 00 00 08 01 03 04 00"))
                  .is(Errc::bad_length));
    }
    SECTION("transform length below 8") {
        CHECK(chain_error(PayloadType::sa,
                          hex("00 00 00 14  00 00 00 10 01 01 00 01  00 00 00 04 01 00 00 14"))
                  .is(Errc::bad_length));
    }
    SECTION("Key Length in TLV format, or twice") {
        CHECK(chain_error(PayloadType::sa, hex(R"(00 00 00 1a  00 00 00 16 01 01 00 01
                                                  00 00 00 0e 01 00 00 14  00 0e 00 02 00 80)"))
                  .is(Errc::invalid_syntax));
        CHECK(chain_error(PayloadType::sa, hex(R"(00 00 00 1c  00 00 00 18 01 01 00 01
                                                  00 00 00 10 01 00 00 14  80 0e 00 80 80 0e 01 00)"))
                  .is(Errc::invalid_syntax));
    }
    SECTION("attribute header cut short") {
        CHECK(chain_error(PayloadType::sa, hex(R"(00 00 00 16  00 00 00 12 01 01 00 01
                                                  00 00 00 0a 01 00 00 14  80 0e)"))
                  .is(Errc::bad_length));
    }
    SECTION("TLV attribute longer than the transform") {
        CHECK(chain_error(PayloadType::sa, hex(R"(00 00 00 18  00 00 00 14 01 01 00 01
                                                  00 00 00 0c 01 00 00 14  00 07 00 09)"))
                  .is(Errc::bad_length));
    }
}

TEST_CASE("per-payload length and count errors") {
    CHECK(chain_error(PayloadType::ke, hex("00 00 00 07 00 13 00")).is(Errc::bad_length));
    CHECK(chain_error(PayloadType::idi, hex("00 00 00 06 02 00")).is(Errc::bad_length));
    CHECK(chain_error(PayloadType::cert, hex("00 00 00 04")).is(Errc::bad_length));
    CHECK(chain_error(PayloadType::auth, hex("00 00 00 07 02 00 00")).is(Errc::bad_length));
    CHECK(chain_error(PayloadType::notify, hex("00 00 00 0a 03 04 40 09 c0 ff"))
              .is(Errc::bad_length));
    CHECK(chain_error(PayloadType::del, hex("00 00 00 0c 03 04 00 02 c0 ff ee 01"))
              .is(Errc::bad_length));
    CHECK(chain_error(PayloadType::tsi, hex("00 00 00 10 02 00 00 00 07 00 00 10 00 00 ff ff"))
              .is(Errc::bad_length));  // two selectors announced, half of one present
    CHECK(chain_error(PayloadType::tsi, hex(R"(00 00 00 20 01 00 00 00
                                              07 00 00 18 00 00 ff ff c0 00 02 01 c0 00 02 01
                                              00 00 00 00 00 00 00 00)"))
              .is(Errc::bad_length));  // IPv4 selector with length 24
    CHECK(chain_error(PayloadType::tsi, hex("00 00 00 0c 01 00 00 00 07 00 00 03"))
              .is(Errc::bad_length));
    CHECK(chain_error(PayloadType::tsi, hex("00 00 00 09 00 00 00 00 ff")).is(Errc::bad_length));
    CHECK(
        chain_error(PayloadType::cp, hex("00 00 00 0b 01 00 00 00 00 01 00")).is(Errc::bad_length));
    CHECK(chain_error(PayloadType::cp, hex("00 00 00 0c 01 00 00 00 00 01 00 05"))
              .is(Errc::bad_length));
    CHECK(chain_error(PayloadType::eap, hex("00 00 00 07 01 01 00")).is(Errc::bad_length));
    CHECK(chain_error(PayloadType::eap, hex("00 00 00 08 01 01 00 04")).is(Errc::bad_length));
    CHECK(chain_error(PayloadType::skf, hex("00 00 00 07 00 01 00")).is(Errc::invalid_syntax));
}

TEST_CASE("huge counts are refused with too_many_items") {
    SECTION("65 payloads") {
        Bytes chain;
        for (int i = 0; i < 65; ++i) {
            Bytes v = hex("2b 00 00 04");
            if (i == 64) v[0] = 0;
            chain.insert(chain.end(), v.begin(), v.end());
        }
        CHECK(chain_error(PayloadType::vendor_id, chain).is(Errc::too_many_items));
        chain.resize(64 * 4);
        chain[63 * 4] = 0;
        CHECK(parse_payloads(PayloadType::vendor_id, chain));  // 64 is fine
    }
    SECTION("33 proposals") {
        Bytes sa = {0, 0, 0, 0};
        for (int i = 0; i < 33; ++i) {
            Bytes p = hex("02 00 00 08 01 01 00 00");
            if (i == 32) p[0] = 0;
            sa.insert(sa.end(), p.begin(), p.end());
        }
        store_be32(sa.data(), static_cast<uint32_t>(sa.size()));
        CHECK(chain_error(PayloadType::sa, sa).is(Errc::too_many_items));
    }
    SECTION("255 transforms announced") {
        CHECK(chain_error(PayloadType::sa, hex("00 00 00 0c 00 00 00 08 01 01 00 ff"))
                  .is(Errc::too_many_items));
    }
    SECTION("255 selectors announced") {
        CHECK(
            chain_error(PayloadType::tsi, hex("00 00 00 08 ff 00 00 00")).is(Errc::too_many_items));
    }
    SECTION("65 configuration attributes") {
        Bytes cp = hex("00 00 00 00 01 00 00 00");
        for (int i = 0; i < 65; ++i) {
            Bytes a = hex("00 01 00 00");
            cp.insert(cp.end(), a.begin(), a.end());
        }
        store_be32(cp.data(), static_cast<uint32_t>(cp.size()));
        CHECK(chain_error(PayloadType::cp, cp).is(Errc::too_many_items));
    }
}

TEST_CASE("builder refusals") {
    SECTION("selector address family that does not match the type") {
        TsiPayload ts;
        TrafficSelector& sel = ts.selectors.emplace_back();
        sel.type = TsType::ipv4_addr_range;
        sel.start_address = *IpAddress::parse("2001:db8::1");
        sel.end_address = *IpAddress::parse("2001:db8::1");
        auto out = ChainBuilder().add(ts).finish();
        REQUIRE_FALSE(out);
        CHECK(out.error().is(Errc::invalid_syntax));
    }
    SECTION("payload over 65535 octets") {
        Bytes big(70000, 0);
        auto out = ChainBuilder().add(VendorIdPayload{big}).finish();
        REQUIRE_FALSE(out);
        CHECK(out.error().is(Errc::bad_length));
    }
    SECTION("delete whose SPI octets do not match count and size") {
        Bytes spis(6, 1);
        auto out = ChainBuilder().add(DeletePayload{ProtocolId::esp, 4, 2, spis}).finish();
        REQUIRE_FALSE(out);
        CHECK(out.error().is(Errc::bad_length));
    }
    SECTION("the first error is kept and later adds are ignored") {
        Bytes big(70000, 0);
        ChainBuilder b;
        b.add(VendorIdPayload{big}).add(NoncePayload{big});
        auto out = b.finish();
        REQUIRE_FALSE(out);
        CHECK_THAT(out.error().detail, Catch::Contains("V"));
    }
}

TEST_CASE("the builder reuses a buffer handed in") {
    Header h;
    Bytes buffer;
    buffer.reserve(4096);
    const uint8_t* storage = buffer.data();
    auto out = MessageBuilder(h, std::move(buffer)).add(VendorIdPayload{}).finish();
    REQUIRE(out);
    CHECK(out->data() == storage);
    CHECK(out->size() == 32);
    Bytes again = std::move(*out);
    auto second = MessageBuilder(h, std::move(again)).finish();
    REQUIRE(second);
    CHECK(second->data() == storage);
    CHECK(second->size() == 28);
}

TEST_CASE("parse_message into a reused Message replaces its previous content") {
    Message m;
    const Bytes datagram = ike_sa_init_request();
    REQUIRE(parse_message(datagram, m));
    CHECK(m.payloads.size() == 8);
    Header h;
    h.exchange = ExchangeType::informational;
    Bytes empty = *MessageBuilder(h).finish();
    REQUIRE(parse_message(empty, m));
    CHECK(m.payloads.empty());
    CHECK(m.header.exchange == ExchangeType::informational);
}
