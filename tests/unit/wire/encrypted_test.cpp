// SK and SKF end to end with the real crypto::SkCipher: the RFC 7634 Appendix B known answer,
// round trips for every SK cipher ikemesh implements, an independent check of the authenticated
// region, tampering, malformed bodies, and fragmentation through reassembly.
#include "ike/wire/encrypted.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

#include "crypto/algorithms.hpp"
#include "golden_messages.hpp"
#include "ike/wire/build.hpp"
#include "ike/wire/parse.hpp"
#include "ike/wire/reassembly.hpp"
#include "ike/wire/rules.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;
using namespace ikemesh::wire::test;

namespace {

struct Suite {
    crypto::EncrSpec encr;
    crypto::IntegAlg integ;
};

const Suite kSuites[] = {
    {{crypto::EncrAlg::aes_gcm_16, 128}, crypto::IntegAlg::none},
    {{crypto::EncrAlg::aes_gcm_16, 256}, crypto::IntegAlg::none},
    {{crypto::EncrAlg::chacha20_poly1305, 256}, crypto::IntegAlg::none},
    {{crypto::EncrAlg::aes_cbc, 128}, crypto::IntegAlg::hmac_sha2_256_128},
    {{crypto::EncrAlg::aes_cbc, 256}, crypto::IntegAlg::hmac_sha2_512_256},
};

crypto::SkCipher make_cipher(const Suite& s, uint8_t fill = 0x5a) {
    auto c = crypto::SkCipher::create(
        s.encr, s.integ, crypto::SecretBytes(Bytes(*crypto::encr_key_size(s.encr), fill)),
        crypto::SecretBytes(Bytes(crypto::integ_key_size(s.integ), fill ^ 0xff)));
    REQUIRE(c);
    return std::move(*c);
}

Header auth_header() {
    Header h;
    h.spi_i = IkeSpi{0x0102030405060708};
    h.spi_r = IkeSpi{0x1112131415161718};
    h.exchange = ExchangeType::ike_auth;
    h.set(HeaderFlag::initiator);
    h.message_id = MessageId{1};
    return h;
}

std::string describe_suite(const Suite& s) {
    return crypto::name(s.encr) + "-" + std::string(crypto::name(s.integ));
}

}  // namespace

TEST_CASE("seal_sk reproduces the RFC 7634 Appendix B IKEv2 message, and open_sk reverses it") {
    auto v = read_vector_file("wire/rfc7634_appendix_b.txt");
    const Bytes expected = hex(v.at("message"));
    const Bytes inner = hex(v.at("inner"));
    auto cipher =
        crypto::SkCipher::create({crypto::EncrAlg::chacha20_poly1305, 256}, crypto::IntegAlg::none,
                                 crypto::SecretBytes(hex(v.at("key"))), {});
    REQUIRE(cipher);

    // The inner chain, built by the codec: N(SET_WINDOW_SIZE) with window 10.
    const Bytes window = hex("0000000a");
    auto chain = ChainBuilder()
                     .add(NotifyPayload{ProtocolId::none, {}, NotifyType::set_window_size, window})
                     .finish();
    REQUIRE(chain);
    CHECK(*chain == inner);

    Header h;
    h.spi_i = IkeSpi{0xc0c1c2c3c4c5c6c7};
    h.spi_r = IkeSpi{0xd0d1d2d3d4d5d6d7};
    h.exchange = ExchangeType::informational;
    h.message_id = MessageId{9};
    ScriptedRandom rng(hex(v.at("iv")));
    Bytes out;
    REQUIRE(seal_sk(h, PayloadType::notify, *chain, *cipher, rng, out));
    CHECK(to_hex(out) == to_hex(expected));

    auto m = parse_message(expected);
    REQUIRE(m);
    Bytes plaintext;
    auto opened = open_sk(expected, *m, *cipher, plaintext);
    REQUIRE(opened);
    CHECK(opened->first == PayloadType::notify);
    CHECK(to_hex(opened->chain) == to_hex(inner));
    auto list = parse_payloads(opened->first, opened->chain);
    REQUIRE(list);
    const auto* n = find_notify(*list, NotifyType::set_window_size);
    REQUIRE(n);
    CHECK(to_hex(n->data) == "0000000a");
}

TEST_CASE("SK round trip of the IKE_AUTH inner chain with every SK cipher") {
    const Bytes inner = ike_auth_inner_chain();
    for (const Suite& s : kSuites) {
        INFO(describe_suite(s));
        crypto::SkCipher cipher = make_cipher(s);
        CountingRandom rng(0x10);
        Bytes datagram;
        REQUIRE(seal_sk(auth_header(), PayloadType::idi, inner, cipher, rng, datagram));

        const size_t block = cipher.block_size();
        const size_t padded = (inner.size() + 1 + block - 1) / block * block;
        CHECK(datagram.size() == kHeaderSize + 4 + cipher.iv_size() + padded + cipher.icv_size());

        auto m = parse_message(datagram);
        REQUIRE(m);
        CHECK(m->header.next_payload == PayloadType::sk);
        CHECK(m->header.length == datagram.size());
        CHECK(m->header.message_id == MessageId{1});
        CHECK(check_outer_payloads(*m));
        const auto& sk = std::get<SkPayload>(m->payloads.back());
        CHECK(sk.inner_first == PayloadType::idi);
        // The IV comes from the random source.
        CHECK(sk.body[0] == 0x10);
        CHECK(sk.body[1] == 0x11);

        Bytes plaintext;
        auto opened = open_sk(datagram, *m, cipher, plaintext);
        REQUIRE(opened);
        CHECK(opened->first == PayloadType::idi);
        CHECK(to_hex(opened->chain) == to_hex(inner));
        auto list = parse_payloads(opened->first, opened->chain);
        REQUIRE(list);
        CHECK(list->size() == 7);
    }
}

TEST_CASE("the authenticated region is header through SK header, checked without open_sk") {
    const Bytes inner = ike_auth_inner_chain();
    for (const Suite& s : kSuites) {
        INFO(describe_suite(s));
        crypto::SkCipher cipher = make_cipher(s);
        CountingRandom rng;
        Bytes d;
        REQUIRE(seal_sk(auth_header(), PayloadType::idi, inner, cipher, rng, d));
        // RFC 7296 3.14 by hand: aad = octets 0..31, then IV, ciphertext, ICV.
        const size_t iv = cipher.iv_size(), icv = cipher.icv_size();
        const size_t ct_len = d.size() - 32 - iv - icv;
        ByteView all(d);
        Bytes plain(ct_len);
        REQUIRE(cipher.open(all.first(32), all.subspan(32, iv), all.subspan(32 + iv, ct_len),
                            all.subspan(32 + iv + ct_len), plain));
        const size_t pad = plain.back();
        CHECK(pad < cipher.block_size());  // minimal padding
        CHECK(ct_len == inner.size() + pad + 1);
        CHECK(Bytes(plain.begin(), plain.begin() + static_cast<ptrdiff_t>(inner.size())) == inner);
    }
}

TEST_CASE("any tampering with an SK message fails the integrity check") {
    const Bytes inner = ike_auth_inner_chain();
    for (const Suite& s : kSuites) {
        INFO(describe_suite(s));
        crypto::SkCipher cipher = make_cipher(s);
        CountingRandom rng;
        Bytes good;
        REQUIRE(seal_sk(auth_header(), PayloadType::idi, inner, cipher, rng, good));
        // One flipped bit in the message id (header), the SK Next Payload, the IV, the
        // ciphertext and the ICV.
        for (size_t at : {size_t{20}, size_t{28}, size_t{33}, size_t{60}, good.size() - 1}) {
            INFO("offset " << at);
            Bytes bad = good;
            bad[at] ^= 0x01;
            auto m = parse_message(bad);
            REQUIRE(m);
            Bytes plaintext;
            auto opened = open_sk(bad, *m, cipher, plaintext);
            REQUIRE_FALSE(opened);
            CHECK(opened.error().is(Errc::integrity_check_failed));
        }
        // The other direction's key.
        auto m = parse_message(good);
        REQUIRE(m);
        Bytes plaintext;
        auto wrong = open_sk(good, *m, make_cipher(s, 0x33), plaintext);
        REQUIRE_FALSE(wrong);
        CHECK(wrong.error().is(Errc::integrity_check_failed));
    }
}

TEST_CASE("malformed SK bodies are typed errors before any decryption") {
    crypto::SkCipher gcm = make_cipher(kSuites[0]);
    crypto::SkCipher cbc = make_cipher(kSuites[3]);
    Bytes plaintext;
    SECTION("body shorter than IV + ICV") {
        MessageBuilder b(auth_header());
        const Bytes body(23, 0);
        b.add(SkPayload{PayloadType::idi, body});
        Bytes d = *b.finish();
        auto m = parse_message(d);
        REQUIRE(m);
        CHECK(open_sk(d, *m, gcm, plaintext).error().is(Errc::invalid_syntax));
    }
    SECTION("CBC ciphertext not a whole number of blocks") {
        MessageBuilder b(auth_header());
        const Bytes body(16 + 20 + 16, 0);  // IV, 20 octets, ICV
        b.add(SkPayload{PayloadType::idi, body});
        Bytes d = *b.finish();
        auto m = parse_message(d);
        REQUIRE(m);
        CHECK(open_sk(d, *m, cbc, plaintext).error().is(Errc::invalid_syntax));
    }
    SECTION("no SK payload, or an SKF where SK is expected") {
        Bytes d = *MessageBuilder(auth_header()).finish();
        auto m = parse_message(d);
        REQUIRE(m);
        CHECK(open_sk(d, *m, gcm, plaintext).error().is(Errc::invalid_syntax));
        CHECK(open_skf(d, *m, gcm, plaintext).error().is(Errc::invalid_syntax));
    }
    SECTION("a message parsed from another buffer") {
        CountingRandom rng;
        Bytes d;
        REQUIRE(seal_sk(auth_header(), PayloadType::idi, ike_auth_inner_chain(), gcm, rng, d));
        auto m = parse_message(d);
        REQUIRE(m);
        Bytes copy = d;
        CHECK(open_sk(copy, *m, gcm, plaintext).error().is(Errc::invalid_syntax));
    }
    SECTION("Pad Length longer than the plaintext, behind a valid ICV") {
        // Sealed by hand: a 4-octet plaintext ending in Pad Length 200.
        Bytes d = hex(R"(0102030405060708 1112131415161718 2e 20 23 08 00000001 0000003c
                         23 00 00 20)");
        const Bytes iv(8, 0x01);
        const Bytes pt = {0, 0, 0, 200};
        d.insert(d.end(), iv.begin(), iv.end());
        Bytes ct(4), icv(16);
        REQUIRE(gcm.seal(ByteView(d).first(32), iv, pt, ct, icv));
        d.insert(d.end(), ct.begin(), ct.end());
        d.insert(d.end(), icv.begin(), icv.end());
        auto m = parse_message(d);
        REQUIRE(m);
        auto opened = open_sk(d, *m, gcm, plaintext);
        REQUIRE_FALSE(opened);
        CHECK(opened.error().is(Errc::invalid_syntax));
    }
}

TEST_CASE("seal_sk reuses the output buffer and an empty inner chain is valid") {
    crypto::SkCipher cipher = make_cipher(kSuites[0]);
    CountingRandom rng;
    Bytes out;
    out.reserve(2048);
    const uint8_t* storage = out.data();
    Header h = auth_header();
    h.exchange = ExchangeType::informational;  // a liveness check: HDR, SK {} -->
    REQUIRE(seal_sk(h, PayloadType::none, {}, cipher, rng, out));
    CHECK(out.data() == storage);
    CHECK(out.size() == 28 + 4 + 8 + 1 + 16);
    auto m = parse_message(out);
    REQUIRE(m);
    Bytes plaintext;
    auto opened = open_sk(out, *m, cipher, plaintext);
    REQUIRE(opened);
    CHECK(opened->first == PayloadType::none);
    CHECK(opened->chain.empty());
    CHECK(parse_payloads(opened->first, opened->chain)->empty());
}

TEST_CASE("SKF: fragment, open each fragment, reassemble (RFC 7383)") {
    // An IKE_AUTH with a certificate: too big for one 576-octet datagram.
    const Bytes cert(1500, 0x30);
    const Bytes base = ike_auth_inner_chain();
    Bytes inner = *ChainBuilder().add(CertPayload{CertEncoding::x509_signature, cert}).finish();
    inner.insert(inner.begin(), base.begin(), base.end());
    // `inner` is now IDi..TSr followed by CERT; patch TSr's Next Payload to CERT so it is one
    // valid chain (TSr is the last payload of the golden chain, 24 octets from its end).
    inner[base.size() - 24] = static_cast<uint8_t>(PayloadType::cert);
    REQUIRE(parse_payloads(PayloadType::idi, inner));

    for (const Suite& s : kSuites) {
        INFO(describe_suite(s));
        crypto::SkCipher cipher = make_cipher(s);
        CountingRandom rng;
        std::vector<Bytes> fragments;
        REQUIRE(seal_skf(auth_header(), PayloadType::idi, inner, cipher, rng, 576, fragments));
        REQUIRE(fragments.size() >= 3);

        FragmentReassembler reassembler;
        Result<OpenedChain> done = Errc::fragment_incomplete;
        // Deliver in reverse order, with a duplicate of the last one.
        std::vector<size_t> order;
        for (size_t i = fragments.size(); i-- > 0;)
            order.push_back(i);
        order.push_back(0);
        Bytes plaintext;
        for (size_t i : order) {
            const Bytes& d = fragments[i];
            CHECK(d.size() <= 576);
            auto m = parse_message(d);
            REQUIRE(m);
            CHECK(m->header.next_payload == PayloadType::skf);
            CHECK(m->header.message_id == MessageId{1});
            const auto& skf = std::get<SkfPayload>(m->payloads.back());
            CHECK(skf.fragment_number == i + 1);
            CHECK(skf.total_fragments == fragments.size());
            CHECK(skf.inner_first == (i == 0 ? PayloadType::idi : PayloadType::none));
            auto opened = open_skf(d, *m, cipher, plaintext);
            REQUIRE(opened);
            if (done) break;  // the trailing duplicate after completion is not needed
            done = reassembler.add(m->header.message_id, *opened);
        }
        REQUIRE(done);
        CHECK(done->first == PayloadType::idi);
        CHECK(to_hex(done->chain) == to_hex(inner));
        auto list = parse_payloads(done->first, done->chain);
        REQUIRE(list);
        CHECK(find_first<CertPayload>(*list)->data.size() == 1500);
    }
}

TEST_CASE("SKF: the fragment number fields are authenticated (RFC 7383 2.5)") {
    crypto::SkCipher cipher = make_cipher(kSuites[0]);
    CountingRandom rng;
    std::vector<Bytes> fragments;
    const Bytes inner = ike_auth_inner_chain();
    REQUIRE(seal_skf(auth_header(), PayloadType::idi, inner, cipher, rng, 120, fragments));
    REQUIRE(fragments.size() >= 2);
    Bytes bad = fragments[1];
    bad[33] = 1;  // Fragment Number 2 -> 1 (octets 32-33)
    auto m = parse_message(bad);
    REQUIRE(m);
    Bytes plaintext;
    auto opened = open_skf(bad, *m, cipher, plaintext);
    REQUIRE_FALSE(opened);
    CHECK(opened.error().is(Errc::integrity_check_failed));
}

TEST_CASE("SKF: sizes, limits and buffer reuse") {
    crypto::SkCipher cbc = make_cipher(kSuites[3]);
    CountingRandom rng;
    std::vector<Bytes> fragments;
    const Bytes inner(1000, 0x42);
    SECTION("every fragment but the last fills the datagram up to a block") {
        REQUIRE(seal_skf(auth_header(), PayloadType::vendor_id, inner, cbc, rng, 300, fragments));
        for (size_t i = 0; i + 1 < fragments.size(); ++i) {
            CHECK(fragments[i].size() <= 300);
            CHECK(fragments[i].size() > 300 - cbc.block_size());
        }
    }
    SECTION("a datagram size with no room for data") {
        const size_t overhead = 28 + 8 + cbc.iv_size() + cbc.icv_size();
        CHECK(seal_skf(auth_header(), PayloadType::vendor_id, inner, cbc, rng, overhead + 15,
                       fragments)
                  .error()
                  .is(Errc::bad_length));
        CHECK(seal_skf(auth_header(), PayloadType::vendor_id, inner, cbc, rng, 0, fragments)
                  .error()
                  .is(Errc::bad_length));
        CHECK(seal_skf(auth_header(), PayloadType::vendor_id, inner, cbc, rng, overhead + 16,
                       fragments));  // 15 octets of data per fragment
        CHECK(fragments.size() == (inner.size() + 14) / 15);
    }
    SECTION("the fragment vector and its buffers are reused") {
        REQUIRE(seal_skf(auth_header(), PayloadType::vendor_id, inner, cbc, rng, 300, fragments));
        const uint8_t* first = fragments[0].data();
        REQUIRE(seal_skf(auth_header(), PayloadType::vendor_id, inner, cbc, rng, 300, fragments));
        CHECK(fragments[0].data() == first);
    }
    SECTION("one fragment when the message fits") {
        REQUIRE(seal_skf(auth_header(), PayloadType::vendor_id, inner, cbc, rng, 1500, fragments));
        CHECK(fragments.size() == 1);
    }
}

TEST_CASE("an SK message sealed by an independent AES-GCM (fuzz seed from fuzz/make_seeds.py)") {
    // Python's `cryptography` AESGCM sealed the golden IKE_AUTH chain with the fuzz harness's
    // fixed key (16 x 0x42, salt 42424242) over the RFC 7296 3.14 associated data.
    std::ifstream in(std::string(IKEMESH_SOURCE_DIR) +
                         "/fuzz/corpus/ike_message/golden_ike_auth_sealed_fixed_key",
                     std::ios::binary);
    REQUIRE(in.good());
    const Bytes d{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto cipher =
        crypto::SkCipher::create({crypto::EncrAlg::aes_gcm_16, 128}, crypto::IntegAlg::none,
                                 crypto::SecretBytes(Bytes(20, 0x42)), {});
    REQUIRE(cipher);
    auto m = parse_message(d);
    REQUIRE(m);
    Bytes plaintext;
    auto opened = open_sk(d, *m, *cipher, plaintext);
    REQUIRE(opened);
    CHECK(opened->first == PayloadType::idi);
    CHECK(to_hex(opened->chain) == to_hex(ike_auth_inner_chain()));
}
