// Real strongSwan 5.9.8 messages (tests/vectors/strongswan/, captured by the e2e engineer with a
// known PSK and the logged DH secrets; see the README there). For both captured suites:
//  - all 14 messages parse, rebuild to the same octets, and their payload types match the list
//    the capture script wrote independently;
//  - the IKE SA keys derived by crypto::derive_ike_keys from the parsed nonces and SPIs (and the
//    logged g^ir) decrypt every SK payload to exactly the plaintext the capture script decrypted,
//    including the messages of the rekeyed IKE SA (RFC 7296 2.18);
//  - every message passes the payload rule table;
//  - both IKE_AUTH AUTH payloads verify with crypto::psk_auth over the parsed messages.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "crypto/ike_kdf.hpp"
#include "crypto/prf.hpp"
#include "crypto/sk_cipher.hpp"
#include "ike/wire/build.hpp"
#include "ike/wire/dump.hpp"
#include "ike/wire/encrypted.hpp"
#include "ike/wire/parse.hpp"
#include "ike/wire/rules.hpp"
#include "wire_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;
using namespace ikemesh::wire::test;
namespace fs = std::filesystem;

namespace {

struct Capture {
    Bytes bytes;
    std::string payload_line;  // "# payloads: ..." as the capture script wrote it
};

fs::path folder(const std::string& suite) {
    return fs::path(IKEMESH_SOURCE_DIR) / "tests/vectors/strongswan" / suite;
}

Capture read_hex_file(const fs::path& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    Capture c;
    std::string line, data;
    while (std::getline(in, line)) {
        if (line.rfind("# payloads:", 0) == 0) c.payload_line = line.substr(11);
        if (!line.empty() && line[0] == '#') continue;
        data += line + " ";
    }
    auto b = from_hex(data);
    REQUIRE(b);
    c.bytes = *b;
    return c;
}

// The payload type list in the capture script's notation: "SK 35 41 ..." or "33 34 40 ...".
std::string type_line(const Message& m, const PayloadList* inner) {
    std::ostringstream out;
    for (const Payload& p : m.payloads) {
        PayloadType t = payload_type(p);
        if (t == PayloadType::sk) {
            out << " SK";
        } else {
            out << " " << static_cast<unsigned>(t);
        }
    }
    if (inner) {
        for (const Payload& p : *inner)
            out << " " << static_cast<unsigned>(payload_type(p));
    }
    return out.str();
}

struct SaKeys {
    IkeSpi spi_i, spi_r;
    crypto::IkeKeys keys;
};

Bytes value(const std::map<std::string, std::string>& kv, const std::string& key) {
    return hex(kv.at(key));
}

IkeSpi spi_from(ByteView b) {
    REQUIRE(b.size() == 8);
    return IkeSpi{uint64_t{load_be32(b.data())} << 32 | load_be32(b.data() + 4)};
}

crypto::SkCipher cipher_for(const SaKeys& sa, bool from_initiator, crypto::EncrSpec encr,
                            crypto::IntegAlg integ) {
    const crypto::SecretBytes& ek = from_initiator ? sa.keys.sk_ei : sa.keys.sk_er;
    const crypto::SecretBytes& ak = from_initiator ? sa.keys.sk_ai : sa.keys.sk_ar;
    auto c = crypto::SkCipher::create(encr, integ, ek.clone(), ak.clone());
    REQUIRE(c);
    return std::move(*c);
}

void check_suite(const std::string& suite) {
    INFO("suite " << suite);
    const auto kv = read_vector_file("strongswan/" + suite + "/keys.txt");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(folder(suite))) {
        std::string n = e.path().filename().string();
        if (n.size() > 4 && n.substr(n.size() - 4) == ".hex" &&
            n.find(".plain.") == std::string::npos) {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() == 14);

    // IKE_SA_INIT: parse both, take the negotiated suite from the response's SA.
    const Capture init_req = read_hex_file(files[0]);
    const Capture init_resp = read_hex_file(files[1]);
    auto req = parse_message(init_req.bytes);
    auto resp = parse_message(init_resp.bytes);
    REQUIRE(req);
    REQUIRE(resp);
    for (const Message* m : {&*req, &*resp}) {
        CHECK(check_outer_payloads(*m));
        CHECK(check_payload_rules(m->header.exchange, m->header.is_response(), m->payloads));
    }
    CHECK(type_line(*req, nullptr) == init_req.payload_line);
    CHECK(type_line(*resp, nullptr) == init_resp.payload_line);
    const ByteView ni = find_first<NoncePayload>(req->payloads)->data;
    const ByteView nr = find_first<NoncePayload>(resp->payloads)->data;
    CHECK(to_hex(ni) == kv.at("nonce_i"));
    CHECK(to_hex(nr) == kv.at("nonce_r"));
    CHECK(to_hex(find_first<KePayload>(req->payloads)->data) == kv.at("ke_i"));
    CHECK(to_hex(find_first<KePayload>(resp->payloads)->data) == kv.at("ke_r"));

    const auto* sa = find_first<SaPayload>(resp->payloads);
    REQUIRE(sa);
    REQUIRE(sa->proposals.size() == 1);
    crypto::EncrSpec encr{};
    crypto::IntegAlg integ = crypto::IntegAlg::none;
    crypto::PrfAlg prf_alg{};
    for (const Transform& t : sa->proposals[0].transforms) {
        if (t.type == TransformType::encr) encr = {t.encr(), t.key_length.value_or(0)};
        if (t.type == TransformType::integ) integ = t.integ();
        if (t.type == TransformType::prf) prf_alg = t.prf();
    }
    const crypto::Prf prf(prf_alg);
    const crypto::IkeKeySizes sizes{*crypto::encr_key_size(encr), crypto::integ_key_size(integ)};

    SaKeys first{resp->header.spi_i, resp->header.spi_r, {}};
    auto derived = crypto::derive_ike_keys(prf, value(kv, "dh_shared"), ni, nr, first.spi_i,
                                           first.spi_r, sizes);
    REQUIRE(derived);
    first.keys = std::move(*derived);
    CHECK(to_hex(first.keys.sk_ei.view()) == kv.at("sk_ei"));

    std::optional<SaKeys> rekeyed;
    Bytes rekey_ni, rekey_nr, rekey_spi_i, rekey_spi_r;
    const IdiPayload* idi = nullptr;
    const AuthPayload* auth_i = nullptr;
    std::vector<Bytes> plaintexts(files.size());
    std::vector<PayloadList> inners(files.size());
    Bytes auth_req_datagram, auth_resp_datagram;

    for (size_t i = 2; i < files.size(); ++i) {
        INFO(files[i].filename().string());
        const Capture cap = read_hex_file(files[i]);
        Message m;
        REQUIRE(parse_message(cap.bytes, m));
        CHECK(check_outer_payloads(m));
        {  // the outer chain rebuilds to the same octets
            MessageBuilder b(m.header);
            for (const Payload& p : m.payloads)
                b.add(p);
            CHECK(*b.finish() == cap.bytes);
        }

        const SaKeys* keys = nullptr;
        if (m.header.spi_i == first.spi_i && m.header.spi_r == first.spi_r) keys = &first;
        if (rekeyed && m.header.spi_i == rekeyed->spi_i && m.header.spi_r == rekeyed->spi_r) {
            keys = &*rekeyed;
        }
        REQUIRE(keys);
        crypto::SkCipher cipher = cipher_for(*keys, m.header.is_initiator(), encr, integ);
        auto opened = open_sk(cap.bytes, m, cipher, plaintexts[i]);
        REQUIRE(opened);
        fs::path plain = files[i];
        plain.replace_extension(".plain.hex");
        CHECK(to_hex(opened->chain) == to_hex(read_hex_file(plain).bytes));

        REQUIRE(parse_payloads(opened->first, opened->chain, inners[i]));
        CHECK(type_line(m, &inners[i]) == cap.payload_line);
        Status rules = check_payload_rules(m.header.exchange, m.header.is_response(), inners[i]);
        CHECK(rules.ok());
        if (!rules) FAIL_CHECK(rules.error().message());
        const std::string text = describe(inners[i]);
        CHECK(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) == inners[i].size());

        const PayloadList& inner = inners[i];
        if (m.header.exchange == ExchangeType::ike_auth && !m.header.is_response()) {
            idi = find_first<IdiPayload>(inner);
            auth_i = find_first<AuthPayload>(inner);
            auth_req_datagram = cap.bytes;
        }
        if (m.header.exchange == ExchangeType::ike_auth && m.header.is_response()) {
            // Responder's AUTH over its IKE_SA_INIT response, Ni and prf(SK_pr, IDr').
            const auto* idr = find_first<IdrPayload>(inner);
            const auto* auth_r = find_first<AuthPayload>(inner);
            REQUIRE(idr);
            REQUIRE(auth_r);
            CHECK(std::string(idr->data.begin(), idr->data.end()) == "responder.ikemesh.test");
            auto mid = crypto::maced_id(prf, first.keys.sk_pr.view(), idr->body);
            REQUIRE(mid);
            auto expect = crypto::psk_auth(prf, value(kv, "psk"), init_resp.bytes, ni, mid->view());
            REQUIRE(expect);
            CHECK(auth_r->method == AuthMethod::shared_key_mic);
            CHECK(to_hex(auth_r->data) == to_hex(expect->view()));
        }
        // CREATE_CHILD_SA with KE and no TS: the IKE SA rekey (RFC 7296 1.3.2).
        if (m.header.exchange == ExchangeType::create_child_sa && find_first<KePayload>(inner) &&
            !find_first<TsiPayload>(inner)) {
            const auto* rsa = find_first<SaPayload>(inner);
            REQUIRE(rsa);
            const Bytes spi(rsa->proposals[0].spi.begin(), rsa->proposals[0].spi.end());
            const auto* n = find_first<NoncePayload>(inner);
            const Bytes nonce(n->data.begin(), n->data.end());
            if (m.header.is_response()) {
                rekey_spi_r = spi;
                rekey_nr = nonce;
                CHECK(to_hex(rekey_spi_r) == kv.at("ike_rekey_spi_r"));
                rekeyed = SaKeys{spi_from(rekey_spi_i), spi_from(rekey_spi_r), {}};
                auto k = crypto::derive_rekeyed_ike_keys(
                    prf, first.keys.sk_d.view(), value(kv, "ike_rekey_dh_shared"), rekey_ni,
                    rekey_nr, rekeyed->spi_i, rekeyed->spi_r, sizes);
                REQUIRE(k);
                rekeyed->keys = std::move(*k);
            } else {
                rekey_spi_i = spi;
                rekey_ni = nonce;
                CHECK(to_hex(rekey_spi_i) == kv.at("ike_rekey_spi_i"));
            }
        }
    }

    // Initiator's AUTH over its IKE_SA_INIT request, Nr and prf(SK_pi, IDi').
    REQUIRE(idi);
    REQUIRE(auth_i);
    CHECK(std::string(idi->data.begin(), idi->data.end()) == "initiator.ikemesh.test");
    auto mid = crypto::maced_id(prf, first.keys.sk_pi.view(), idi->body);
    REQUIRE(mid);
    auto expect = crypto::psk_auth(prf, value(kv, "psk"), init_req.bytes, nr, mid->view());
    REQUIRE(expect);
    CHECK(to_hex(auth_i->data) == to_hex(expect->view()));
    CHECK(to_hex(auth_i->data) == kv.at("auth_i"));
    CHECK(rekeyed.has_value());
}

}  // namespace

TEST_CASE("strongSwan capture: X25519, AES-GCM-16-128, PRF-HMAC-SHA2-256") {
    check_suite("x25519-aes128gcm16");
}

TEST_CASE("strongSwan capture: MODP-3072, AES-CBC-256, HMAC-SHA2-256-128") {
    check_suite("modp3072-aes256cbc-sha256");
}

TEST_CASE("strongSwan's IKE_SA_INIT request, described") {
    const Capture c = read_hex_file(folder("x25519-aes128gcm16") / "01_ike_sa_init_request.hex");
    auto m = parse_message(c.bytes);
    REQUIRE(m);
    const std::string text = describe(*m);
    CHECK_THAT(text, Catch::StartsWith("IKE_SA_INIT request mid=0 spi_i=741a3df0a365635f"));
    CHECK_THAT(
        text, Catch::Contains("SA: proposal 1 IKE ENCR_AES_GCM_16(128) PRF_HMAC_SHA2_256 DH 31\n"));
    CHECK_THAT(text, Catch::Contains("N(IKEV2_FRAGMENTATION_SUPPORTED)\n"));
}
