#include "crypto/certificate.hpp"

#include <catch2/catch.hpp>
#include <fstream>

#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;
using std::chrono::system_clock;

namespace {
Certificate cert(const std::string& name) {
    auto c = Certificate::load_file(test::vector_path("pki/" + name));
    REQUIRE(c.ok());
    return *c;
}
CertStore anchors() {
    const std::vector<std::string> files{test::vector_path("pki/ca.pem")};
    auto s = CertStore::load_files(files);
    REQUIRE(s.ok());
    return *s;
}
}  // namespace

TEST_CASE("a certificate loads from PEM and DER with the same identity") {
    const Certificate pem = cert("node1.pem");
    const Certificate der = cert("node1.der");
    CHECK(pem == der);
    CHECK_FALSE(pem == cert("node2.pem"));
    CHECK(pem.der().size() > 200);
    CHECK(pem.der()[0] == 0x30);  // a DER SEQUENCE, as the CERT payload carries it
    auto again = Certificate::from_der(pem.der());
    REQUIRE(again.ok());
    CHECK(*again == pem);
}

TEST_CASE("subject as DER and text, subjectAltNames and public key") {
    const Certificate c = cert("node1.pem");
    CHECK(c.subject_text() == "CN=node1,O=ikemesh test");
    // SEQUENCE of two RDNs: O=ikemesh test, CN=node1.
    CHECK(to_hex(c.subject_der()) ==
          "302731153013060355040a0c0c696b656d6573682074657374310e300c06035504030c056e6f646531");
    const auto sans = c.subject_alt_names();
    REQUIRE(sans.size() == 3);
    CHECK(sans[0].kind == SubjectAltName::Kind::dns);
    CHECK(sans[0].text == "node1.example");
    CHECK(sans[1].kind == SubjectAltName::Kind::ip);
    CHECK(sans[1].text == "192.0.2.1");
    CHECK(to_hex(sans[1].raw) == "c0000201");
    CHECK(sans[2].kind == SubjectAltName::Kind::email);
    CHECK(sans[2].text == "node1@example.org");
    const auto v6 = cert("node2.pem").subject_alt_names();
    REQUIRE(v6.size() == 2);
    CHECK(v6[1].text == "2001:db8::2");
    CHECK(v6[1].raw.size() == 16);
    CHECK(cert("node2.pem").public_key()->type() == KeyType::ed25519);
    CHECK(cert("node3.pem").public_key()->type() == KeyType::rsa);
    CHECK(cert("node4.pem").public_key()->type() == KeyType::ecdsa_p384);
    CHECK(cert("ca.pem").subject_alt_names().empty());
}

TEST_CASE("malformed certificates and files are typed errors") {
    CHECK(Certificate::from_der(test::hex("3003020101")).error().is(Errc::certificate_invalid));
    CHECK(Certificate::from_der({}).error().is(Errc::certificate_invalid));
    const Certificate node1 = cert("node1.pem");
    Bytes trailing(node1.der().begin(), node1.der().end());
    trailing.push_back(0);
    CHECK(Certificate::from_der(trailing).error().is(Errc::certificate_invalid));
    CHECK(Certificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
              .error()
              .is(Errc::certificate_invalid));
    CHECK(Certificate::load_file(test::vector_path("pki/missing.pem")).error().is(Errc::io_error));
    CertStore s;
    CHECK(
        s.add_pem_file(test::vector_path("crypto/aead.txt")).error().is(Errc::certificate_invalid));
    CHECK(s.size() == 0);
}

TEST_CASE("chains verify against the configured CA, with intermediates, at a given time") {
    const CertStore store = anchors();
    CHECK(store.size() == 1);
    const auto now = system_clock::now();
    for (auto name : {"node1.pem", "node2.pem", "node3.pem"}) {
        INFO(name);
        auto s = store.verify(cert(name), {}, now);
        INFO((s ? "" : s.error().message()));
        CHECK(s.ok());
    }
    const std::vector<Certificate> inter{cert("intermediate.pem")};
    CHECK(store.verify(cert("node4.pem"), inter, now).ok());
    // Without its intermediate there is no path.
    CHECK(store.verify(cert("node4.pem"), {}, now).error().is(Errc::certificate_invalid));
}

TEST_CASE("untrusted issuers, leaf issuers and times outside validity are refused") {
    const CertStore store = anchors();
    const auto now = system_clock::now();
    CHECK(store.verify(cert("rogue.pem"), {}, now).error().is(Errc::certificate_invalid));
    const std::vector<Certificate> rogue_ca{cert("other-ca.pem")};
    CHECK(store.verify(cert("rogue.pem"), rogue_ca, now).error().is(Errc::certificate_invalid));
    // node1 is CA:FALSE: what it signs is not trusted even with node1 supplied.
    const std::vector<Certificate> leaf_as_ca{cert("node1.pem")};
    auto fake = store.verify(cert("fake.pem"), leaf_as_ca, now);
    REQUIRE_FALSE(fake.ok());
    CHECK(fake.error().is(Errc::certificate_invalid));
    // Before the certificates existed (they were made in 2026 or later).
    const auto y2000 = system_clock::from_time_t(946684800);
    auto early = store.verify(cert("node1.pem"), {}, y2000);
    REQUIRE_FALSE(early.ok());
    CHECK(early.error().detail.find("not yet valid") != std::string::npos);
    // A store holding both CAs accepts both.
    CertStore both = anchors();
    REQUIRE(both.add_pem_file(test::vector_path("pki/other-ca.pem")).ok());
    CHECK(both.size() == 2);
    CHECK(both.verify(cert("rogue.pem"), {}, now).ok());
}
