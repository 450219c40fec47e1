#include "crypto/signature.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "crypto/certificate.hpp"
#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

namespace {
// Keys lose their mode in git: load a private copy made 0600.
PrivateKey load_key(const test::TempDir& dir, const std::string& name) {
    const auto dst = dir.path() / name;
    std::filesystem::copy_file(test::vector_path("pki/" + name), dst,
                               std::filesystem::copy_options::overwrite_existing);
    REQUIRE(::chmod(dst.c_str(), 0600) == 0);
    auto key = PrivateKey::load_file(dst);
    INFO(name << ": " << (key ? "" : key.error().message()));
    REQUIRE(key.ok());
    return *key;
}

const Bytes kSignedOctets = [] {
    Bytes b(300);
    for (size_t i = 0; i < b.size(); ++i)
        b[i] = static_cast<uint8_t>(i * 7);
    return b;
}();
}  // namespace

TEST_CASE("private keys load in PKCS#8 and traditional PEM and have the right type") {
    test::TempDir dir;
    CHECK(load_key(dir, "node1-key.pem").type() == KeyType::ecdsa_p256);
    CHECK(load_key(dir, "node1-key-traditional.pem").type() == KeyType::ecdsa_p256);
    CHECK(load_key(dir, "node2-key.pem").type() == KeyType::ed25519);
    CHECK(load_key(dir, "node3-key.pem").type() == KeyType::rsa);
    CHECK(load_key(dir, "node4-key.pem").type() == KeyType::ecdsa_p384);
    // The key matches the certificate issued for it.
    auto cert = Certificate::load_file(test::vector_path("pki/node1.pem"));
    REQUIRE(cert.ok());
    CHECK(*cert->public_key() == load_key(dir, "node1-key.pem").public_key());
    CHECK_FALSE(*cert->public_key() == load_key(dir, "node4-key.pem").public_key());
}

TEST_CASE("private key files open to group or others are refused; bad keys are typed errors") {
    test::TempDir dir;
    const auto path = dir.path() / "key.pem";
    std::filesystem::copy_file(test::vector_path("pki/node1-key.pem"), path);
    ::chmod(path.c_str(), 0644);
    CHECK(PrivateKey::load_file(path).error().is(Errc::key_file_insecure));
    ::chmod(path.c_str(), 0640);
    CHECK(PrivateKey::load_file(path).error().is(Errc::key_file_insecure));
    ::chmod(path.c_str(), 0600);
    CHECK(PrivateKey::load_file(path).ok());

    const auto short_rsa = dir.path() / "short.pem";
    std::filesystem::copy_file(test::vector_path("pki/short-rsa-key.pem"), short_rsa);
    ::chmod(short_rsa.c_str(), 0600);
    CHECK(PrivateKey::load_file(short_rsa).error().is(Errc::unsupported_algorithm));
    CHECK(PrivateKey::from_pem(test::text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE "
                                          "KEY-----\n"))
              .error()
              .is(Errc::invalid_syntax));
    CHECK(PrivateKey::from_pem(test::text("not a key")).error().is(Errc::invalid_syntax));
    CHECK(PrivateKey::load_file(dir.path() / "nope.pem").error().is(Errc::io_error));
}

TEST_CASE("AlgorithmIdentifiers are the RFC 7427 / RFC 8420 encodings") {
    CHECK(to_hex(*signature_algorithm_identifier(KeyType::ecdsa_p256, SignatureHash::sha256)) ==
          "300a06082a8648ce3d040302");
    CHECK(to_hex(*signature_algorithm_identifier(KeyType::ecdsa_p384, SignatureHash::sha384)) ==
          "300a06082a8648ce3d040303");
    CHECK(to_hex(*signature_algorithm_identifier(KeyType::ecdsa_p521, SignatureHash::sha512)) ==
          "300a06082a8648ce3d040304");
    CHECK(to_hex(*signature_algorithm_identifier(KeyType::ed25519, SignatureHash::identity)) ==
          "300506032b6570");
    // RSASSA-PSS, SHA-256, MGF1 with SHA-256, salt 32 (RFC 7427 A.4.3 layout, RFC 8247).
    CHECK(to_hex(*signature_algorithm_identifier(KeyType::rsa, SignatureHash::sha256)) ==
          "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886"
          "f70d010108300d06096086480165030402010500a203020120");
    CHECK(to_hex(*signature_algorithm_identifier(KeyType::rsa, SignatureHash::sha512)) ==
          "304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886"
          "f70d010108300d06096086480165030402030500a203020140");
    CHECK(signature_algorithm_identifier(KeyType::ed25519, SignatureHash::sha256)
              .error()
              .is(Errc::unsupported_algorithm));
    CHECK(signature_algorithm_identifier(KeyType::rsa, SignatureHash::identity)
              .error()
              .is(Errc::unsupported_algorithm));
    CHECK(signature_algorithm_identifier(KeyType::ecdsa_p256, SignatureHash::sha1)
              .error()
              .is(Errc::unsupported_algorithm));
}

TEST_CASE("RFC 7427 AUTH data signs and verifies for every key type and hash") {
    test::TempDir dir;
    const std::vector<std::pair<std::string, std::vector<SignatureHash>>> cases{
        {"node1-key.pem", {SignatureHash::sha256, SignatureHash::sha384, SignatureHash::sha512}},
        {"node4-key.pem", {SignatureHash::sha384}},
        {"node3-key.pem", {SignatureHash::sha256, SignatureHash::sha384, SignatureHash::sha512}},
        {"node2-key.pem", {SignatureHash::identity}},
    };
    for (const auto& [file, hashes] : cases) {
        const PrivateKey key = load_key(dir, file);
        for (auto h : hashes) {
            INFO(file << " " << name(h));
            auto auth = sign_auth(key, h, kSignedOctets);
            REQUIRE(auth.ok());
            const Bytes alg = *signature_algorithm_identifier(key.type(), h);
            REQUIRE(auth->size() > 1 + alg.size());
            CHECK((*auth)[0] == alg.size());
            CHECK(Bytes(auth->begin() + 1, auth->begin() + 1 + static_cast<long>(alg.size())) ==
                  alg);
            CHECK(verify_auth(key.public_key(), *auth, kSignedOctets).ok());

            // A different message, a changed signature, a truncated signature: all refused.
            Bytes other = kSignedOctets;
            other[100] ^= 1;
            CHECK(verify_auth(key.public_key(), *auth, other).error().is(Errc::signature_invalid));
            Bytes flipped = *auth;
            flipped.back() ^= 0x01;
            CHECK(verify_auth(key.public_key(), flipped, kSignedOctets)
                      .error()
                      .is(Errc::signature_invalid));
            Bytes cut(auth->begin(), auth->end() - 1);
            CHECK(verify_auth(key.public_key(), cut, kSignedOctets)
                      .error()
                      .is(Errc::signature_invalid));
        }
    }
}

TEST_CASE("verify_auth refuses AlgorithmIdentifiers we do not accept or that do not fit the key") {
    test::TempDir dir;
    const PrivateKey ec = load_key(dir, "node1-key.pem");
    const PrivateKey rsa = load_key(dir, "node3-key.pem");
    const PrivateKey ed = load_key(dir, "node2-key.pem");
    auto ec_auth = *sign_auth(ec, SignatureHash::sha256, kSignedOctets);
    auto rsa_auth = *sign_auth(rsa, SignatureHash::sha256, kSignedOctets);
    auto ed_auth = *sign_auth(ed, SignatureHash::identity, kSignedOctets);
    // Refused with signature_invalid, for the reason given (a substring of the detail).
    auto refused = [&](const PublicKey& k, const Bytes& auth, std::string_view why = "") {
        auto st = verify_auth(k, auth, kSignedOctets);
        if (st.ok()) return false;
        INFO(st.error().detail);
        CHECK(st.error().detail.find(why) != std::string::npos);
        return st.error().is(Errc::signature_invalid);
    };

    // Right signature, wrong key type.
    CHECK(refused(rsa.public_key(), ec_auth, "does not fit the key"));
    CHECK(refused(ec.public_key(), ed_auth, "does not fit the key"));
    CHECK(refused(ed.public_key(), rsa_auth, "does not fit the key"));
    // Right key type, other key.
    CHECK(refused(load_key(dir, "rogue-key.pem").public_key(), ec_auth, "does not verify"));

    // ECDSA signature relabelled as ecdsa-with-SHA384: hash mismatch, must fail.
    Bytes relabelled = ec_auth;
    relabelled[1 + 11] = 0x03;
    CHECK(refused(ec.public_key(), relabelled, "does not verify"));
    // ecdsa-with-SHA1 (1.2.840.10045.4.1) is not accepted.
    Bytes sha1_alg = test::hex("0b 3009 06072a8648ce3d0401");
    sha1_alg.insert(sha1_alg.end(), ec_auth.begin() + 13, ec_auth.end());
    CHECK(refused(ec.public_key(), sha1_alg, "not accepted"));
    // RSASSA-PSS with SHA-1 defaults (empty parameters sequence) is not accepted.
    Bytes pss_default = test::hex("0f 300d06092a864886f70d01010a3000");
    pss_default.insert(pss_default.end(), rsa_auth.begin() + 1 + 0x43, rsa_auth.end());
    CHECK(refused(rsa.public_key(), pss_default, "hash is not SHA-256"));
    // PSS whose MGF1 hash differs from the signature hash.
    Bytes mgf_mismatch = rsa_auth;
    mgf_mismatch[1 + 59] = 0x02;  // the MGF1 hash OID's last arc: SHA-256 -> SHA-384
    CHECK(refused(rsa.public_key(), mgf_mismatch, "MGF1 hash differs"));
    // Malformed framing: empty, zero length, length past the end, garbage DER.
    CHECK(refused(ec.public_key(), {}));
    CHECK(refused(ec.public_key(), test::hex("00 3044")));
    CHECK(refused(ec.public_key(), test::hex("7f 300a06082a8648ce3d040302")));
    CHECK(refused(ec.public_key(), test::hex("04 deadbeef 00"), "malformed"));
    Bytes trailing = test::hex("0d 300a06082a8648ce3d040302 00");  // DER plus a stray octet
    trailing.insert(trailing.end(), ec_auth.begin() + 13, ec_auth.end());
    CHECK(refused(ec.public_key(), trailing, "malformed"));
}

TEST_CASE("PKCS#1 v1.5 RSA signatures (strongSwan's default for RSA) verify") {
    // Built with OpenSSL directly so the test does not depend on our signer.
    test::TempDir dir;
    const PrivateKey rsa = load_key(dir, "node3-key.pem");
    // sha256WithRSAEncryption with NULL parameters.
    const Bytes alg = test::hex("300d06092a864886f70d01010b0500");
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    REQUIRE(EVP_DigestSignInit_ex(md, nullptr, "SHA2-256", nullptr, nullptr, rsa.native(),
                                  nullptr) == 1);
    size_t len = 0;
    REQUIRE(EVP_DigestSign(md, nullptr, &len, kSignedOctets.data(), kSignedOctets.size()) == 1);
    Bytes sig(len);
    REQUIRE(EVP_DigestSign(md, sig.data(), &len, kSignedOctets.data(), kSignedOctets.size()) == 1);
    EVP_MD_CTX_free(md);
    Bytes auth{static_cast<uint8_t>(alg.size())};
    auth.insert(auth.end(), alg.begin(), alg.end());
    auth.insert(auth.end(), sig.begin(), sig.begin() + static_cast<long>(len));
    CHECK(verify_auth(rsa.public_key(), auth, kSignedOctets).ok());
    auth.back() ^= 1;
    CHECK(verify_auth(rsa.public_key(), auth, kSignedOctets).error().is(Errc::signature_invalid));
}

TEST_CASE("the signature hash is chosen from what the peer announced (RFC 7427 4)") {
    const std::vector<uint16_t> all{1, 2, 3, 4, 5};
    CHECK(*choose_signature_hash(KeyType::ecdsa_p256, all) == SignatureHash::sha256);
    CHECK(*choose_signature_hash(KeyType::ecdsa_p384, all) == SignatureHash::sha384);
    CHECK(*choose_signature_hash(KeyType::ecdsa_p521, all) == SignatureHash::sha512);
    CHECK(*choose_signature_hash(KeyType::rsa, all) == SignatureHash::sha256);
    CHECK(*choose_signature_hash(KeyType::ed25519, all) == SignatureHash::identity);
    const std::vector<uint16_t> only512{4, 99};
    CHECK(*choose_signature_hash(KeyType::ecdsa_p256, only512) == SignatureHash::sha512);
    const std::vector<uint16_t> sha1_only{1};
    CHECK(choose_signature_hash(KeyType::rsa, sha1_only).error().is(Errc::unsupported_algorithm));
    CHECK(choose_signature_hash(KeyType::ed25519, only512).error().is(Errc::unsupported_algorithm));
    CHECK(choose_signature_hash(KeyType::ecdsa_p256, {}).error().is(Errc::unsupported_algorithm));
    auto announced = announced_signature_hashes();
    CHECK(announced.size() == 4);
    for (auto h : announced)
        CHECK(name(h) != "unknown");
    CHECK(name(SignatureHash::sha1) == "sha1");
    for (auto k : {KeyType::ecdsa_p256, KeyType::ecdsa_p384, KeyType::ecdsa_p521, KeyType::rsa,
                   KeyType::ed25519})
        CHECK(name(k) != "unknown");
}
