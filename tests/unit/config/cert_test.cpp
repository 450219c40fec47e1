// auth = "cert": our certificate, key and trust anchors, from memory and from disk, and how they
// compare on reload. Uses the test PKI of tests/vectors/pki (see make-pki.sh there).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/diff.hpp"
#include "config/file_access.hpp"
#include "config_test_util.hpp"
#include "crypto/certificate.hpp"
#include "crypto/signature.hpp"

using namespace ikemesh;
using namespace ikemesh::config;
using namespace ikemesh::config::test;
namespace fs = std::filesystem;

namespace {

const fs::path kPki = fs::path(IKEMESH_SOURCE_DIR) / "tests/vectors/pki";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The PKI files under /etc/ikemesh/ in memory.
MemoryFileAccess pki_files() {
    MemoryFileAccess f;
    for (const char* name :
         {"ca.pem", "other-ca.pem", "node1.pem", "node1-key.pem", "node2-key.pem"}) {
        f.add(fs::path("/etc/ikemesh") / name, slurp(kPki / name));
    }
    f.add("/etc/ikemesh/bundle.pem", slurp(kPki / "ca.pem") + slurp(kPki / "other-ca.pem"));
    f.add("/etc/ikemesh/open-key.pem", slurp(kPki / "node1-key.pem"), /*insecure=*/true);
    f.add("/etc/ikemesh/empty.pem", "no certificates here\n");
    return f;
}

std::string cert_main(const std::string& id, const std::string& key = "node1-key.pem",
                      const std::string& ca = "\"ca.pem\"") {
    return "[local]\nid = \"" + id + "\"\nauth = \"cert\"\ncert = \"node1.pem\"\nkey = \"" + key +
           "\"\nca = " + ca + "\n";
}

}  // namespace

TEST_CASE("auth = cert loads our certificate, key and trust anchors") {
    auto files = pki_files();
    auto p = parse(cert_main("node1.example"),
                   {peer_file("a.conf",
                              "[peer.node2]\naddress = \"2001:db8::2\"\nid = "
                              "\"node2.example\"\n")},
                   &files);
    INFO(p.text());
    REQUIRE(p.ok());
    CHECK(p.diagnostics.empty());
    const ike::LocalConfig& l = p.config().local;
    CHECK(l.auth == ike::AuthMethod::cert);
    REQUIRE(l.cert);
    CHECK(l.cert->subject_text().find("node1") != std::string::npos);
    REQUIRE(l.key);
    CHECK(l.key->type() == crypto::KeyType::ecdsa_p256);
    REQUIRE(l.ca);
    CHECK(l.ca->size() == 1);
    auto ca = crypto::Certificate::load_file((kPki / "ca.pem").string());
    REQUIRE(ca.ok());
    REQUIRE(l.ca_certificates.size() == 1);
    CHECK(l.ca_certificates[0] == Bytes(ca->der().begin(), ca->der().end()));
    // Peers need no PSK with certificates.
    CHECK(p.config().peers.at(0).auth == ike::AuthMethod::cert);
    CHECK_FALSE(p.config().peers.at(0).psk);
}

TEST_CASE("every certificate of a CA bundle is a trust anchor") {
    auto files = pki_files();
    auto p = parse(cert_main("node1.example", "node1-key.pem", "[\"bundle.pem\", \"ca.pem\"]"), {},
                   &files);
    REQUIRE(p.ok());
    CHECK(p.config().local.ca_certificates.size() == 3);
    CHECK(p.config().local.ca->size() == 3);
}

TEST_CASE("our identity should be named by our certificate") {
    auto files = pki_files();
    for (const char* id :
         {"node1.example", "192.0.2.1", "node1@example.org", "O=ikemesh test,CN=node1",
          "dn:o=IKEMESH TEST, cn=node1", "keyid:0102"}) {
        INFO(id);
        auto p = parse(cert_main(id), {}, &files);
        REQUIRE(p.ok());
        CHECK(p.diagnostics.empty());
    }
    for (const char* id : {"node2.example", "192.0.2.2", "CN=node1,O=ikemesh test"}) {
        INFO(id);
        auto p = parse(cert_main(id), {}, &files);
        REQUIRE(p.ok());  // a warning, not an error
        CHECK(
            p.has("ikemesh.conf:2: warning: local.id: the certificate in cert does not name "
                  "this identity (subject or subjectAltName); peers that check it will refuse "
                  "us"));
    }
}

TEST_CASE("certificate problems are errors at their keys") {
    auto files = pki_files();
    auto p = parse(cert_main("node1.example", "node2-key.pem"), {}, &files);
    CHECK(
        p.has("ikemesh.conf:5: local.key: this private key does not belong to the certificate "
              "in cert"));
    auto q = parse(cert_main("node1.example", "open-key.pem"), {}, &files);
    CHECK(
        q.has("ikemesh.conf:5: local.key: /etc/ikemesh/open-key.pem is readable by group or "
              "others; make it private (chmod 600)"));
    auto r = parse(cert_main("node1.example", "node1-key.pem", "\"empty.pem\""), {}, &files);
    CHECK(r.mentions("ikemesh.conf:6: local.ca: cannot load trust anchors: "));
    CHECK(r.mentions("/etc/ikemesh/empty.pem holds no PEM certificate"));
    auto s = parse(cert_main("node1.example", "missing.pem", "[]"), {}, &files);
    CHECK(s.mentions("ikemesh.conf:5: local.key: cannot use /etc/ikemesh/missing.pem: "));
    CHECK(s.has("ikemesh.conf:6: local.ca: expected at least one trust anchor file"));
}

TEST_CASE("reloading the same certificates is no change; other anchors are") {
    auto files = pki_files();
    auto peers = std::vector<SourceFile>{peer_file("a.conf", "[peer.b]\naddress = \"10.0.0.2\"\n")};
    auto a = parse(cert_main("node1.example"), peers, &files);
    auto b = parse(cert_main("node1.example"), peers, &files);  // loaded again: new objects
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a.config().local.cert != b.config().local.cert);
    CHECK(a.config().local == b.config().local);
    CHECK(diff(a.config(), b.config()).empty());
    auto c = parse(cert_main("node1.example", "node1-key.pem", "[\"ca.pem\", \"other-ca.pem\"]"),
                   peers, &files);
    REQUIRE(c.ok());
    ConfigDiff d = diff(a.config(), c.config());
    CHECK(d.local_changed);
    CHECK(d.changed == std::vector<std::string>{"b"});
}

TEST_CASE("on disk, private key and PSK files must be mode 0600") {
    std::string pattern = (fs::temp_directory_path() / "ikemesh-cert-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    fs::path dir = pattern;
    struct Cleanup {
        fs::path dir;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup{dir};
    for (const char* name : {"ca.pem", "node1.pem", "node1-key.pem"}) {
        fs::copy_file(kPki / name, dir / name);
        REQUIRE(::chmod((dir / name).c_str(), 0644) == 0);
    }
    {
        std::ofstream(dir / "ikemesh.conf") << cert_main("node1.example");
        std::ofstream(dir / "mesh.psk") << kPsk << "\n";
    }
    Diagnostics diag;
    auto r = load_config(dir, &diag);
    REQUIRE_FALSE(r.ok());
    CHECK(diag.to_string() == "ikemesh.conf:5: local.key: " + (dir / "node1-key.pem").string() +
                                  " is readable by group or others; make it private (chmod "
                                  "600)\n");
    REQUIRE(::chmod((dir / "node1-key.pem").c_str(), 0600) == 0);
    auto ok = load_config(dir);
    REQUIRE(ok.ok());
    CHECK(ok->local.key);

    // The same for a PSK file through crypto's read_secret_file.
    { std::ofstream(dir / "ikemesh.conf") << main_file("[defaults]\npsk_file = \"mesh.psk\"\n"); }
    REQUIRE(::chmod((dir / "mesh.psk").c_str(), 0640) == 0);
    Diagnostics psk_diag;
    CHECK_FALSE(load_config(dir, &psk_diag).ok());
    CHECK(psk_diag.to_string() ==
          "ikemesh.conf:4: defaults.psk_file: " + (dir / "mesh.psk").string() +
              " is readable by group or others; make it private (chmod "
              "600)\n");
    REQUIRE(::chmod((dir / "mesh.psk").c_str(), 0600) == 0);
    CHECK(load_config(dir).ok());
}
