// X.509 certificates and trust anchors for certificate authentication.
//
// Certificate wraps one parsed certificate: its DER (what a CERT payload with encoding 4,
// X.509 Certificate - Signature, carries), its subject as DER (to match an ID_DER_ASN1_DN
// identity byte for byte) and as text, its subjectAltNames (to match FQDN, RFC822 and IP
// identities), and its public key. CertStore holds trust anchors and checks a peer's chain with
// OpenSSL's X509_verify_cert at a time the caller gives (the engine never reads the clock).
// Neither decides whether an identity matches a certificate: that is the engine's policy.
// Both are immutable once built and cheap to copy (shared, reference-counted).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/signature.hpp"

struct x509_st;        // OpenSSL's X509
struct x509_store_st;  // OpenSSL's X509_STORE

namespace ikemesh::crypto {

struct SubjectAltName {
    enum class Kind : uint8_t { dns, ip, email };
    Kind kind = Kind::dns;
    std::string text;  // the name, the address ("192.0.2.1", "2001:db8::1") or the mailbox
    Bytes raw;         // the octets as in the certificate (4 or 16 for an address)

    bool operator==(const SubjectAltName&) const = default;
};

class Certificate {
  public:
    static Result<Certificate> from_der(std::span<const uint8_t> der);
    // The first certificate of a PEM text.
    static Result<Certificate> from_pem(std::string_view pem);
    // PEM or DER, detected by content; the first certificate of a PEM file.
    static Result<Certificate> load_file(const std::string& path);

    std::span<const uint8_t> der() const { return der_; }
    Bytes subject_der() const;
    std::string subject_text() const;  // RFC 2253 form, "CN=node1,O=ikemesh test"
    std::vector<SubjectAltName> subject_alt_names() const;
    Result<PublicKey> public_key() const;

    bool operator==(const Certificate& o) const { return der_ == o.der_; }

    x509_st* native() const { return cert_.get(); }

  private:
    Certificate(std::shared_ptr<x509_st> cert, Bytes der)
        : cert_(std::move(cert)), der_(std::move(der)) {}
    std::shared_ptr<x509_st> cert_;
    Bytes der_;
};

class CertStore {
  public:
    CertStore();
    // Every certificate in each PEM file becomes a trust anchor.
    static Result<CertStore> load_files(std::span<const std::string> pem_paths);
    Status add_pem_file(const std::string& path);
    Status add(const Certificate& anchor);
    size_t size() const { return anchors_.size(); }
    // The trust anchors, for CERTREQ (RFC 7296 3.7).
    const std::vector<Certificate>& anchors() const { return anchors_; }

    // Builds a path from `leaf` through `intermediates` to one of our anchors and checks every
    // signature, validity period (at `at`) and the CA basic constraints on the way.
    // Errc::certificate_invalid with OpenSSL's reason otherwise.
    Status verify(const Certificate& leaf, std::span<const Certificate> intermediates,
                  std::chrono::system_clock::time_point at) const;

  private:
    std::shared_ptr<x509_store_st> store_;
    std::vector<Certificate> anchors_;
};

}  // namespace ikemesh::crypto
