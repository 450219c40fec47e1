#include "crypto/certificate.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>

#include "common/ip.hpp"
#include "crypto/openssl_util.hpp"

namespace ikemesh::crypto {
namespace {

using detail::openssl_error;
using BioPtr = std::unique_ptr<BIO, detail::Deleter<BIO_free>>;

// Certificates are public, but a file path from the config could name anything: cap the read.
constexpr size_t kMaxCertFile = 1 << 20;

Result<Bytes> read_public_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{Errc::io_error, path + ": cannot open"};
    Bytes data;
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        data.insert(data.end(), buf, buf + in.gcount());
        if (data.size() > kMaxCertFile) return Error{Errc::io_error, path + ": file too large"};
    }
    if (in.bad()) return Error{Errc::io_error, path + ": read failed"};
    return data;
}

bool looks_like_pem(std::span<const uint8_t> data) {
    static constexpr std::string_view kBegin = "-----BEGIN";
    std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    return text.find(kBegin) != std::string_view::npos;
}

// A Certificate from a parsed X509 the caller still owns (and frees).
Result<Certificate> wrap(X509* x) {
    unsigned char* buf = nullptr;
    const int len = i2d_X509(x, &buf);
    if (len <= 0) return openssl_error(Errc::certificate_invalid, "certificate encoding");
    Bytes der(buf, buf + len);
    OPENSSL_free(buf);
    return Certificate::from_der(der);
}

}  // namespace

Result<Certificate> Certificate::from_der(std::span<const uint8_t> der) {
    const unsigned char* p = der.data();
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (x == nullptr || p != der.data() + der.size()) {
        X509_free(x);
        return openssl_error(Errc::certificate_invalid, "malformed DER certificate");
    }
    return Certificate(std::shared_ptr<x509_st>(x, X509_free), Bytes(der.begin(), der.end()));
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509* x = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (x == nullptr) return openssl_error(Errc::certificate_invalid, "no PEM certificate");
    auto cert = wrap(x);
    X509_free(x);
    return cert;
}

Result<Certificate> Certificate::load_file(const std::string& path) {
    auto data = read_public_file(path);
    if (!data) return data.take_error();
    auto cert =
        looks_like_pem(*data)
            ? from_pem(std::string_view(reinterpret_cast<const char*>(data->data()), data->size()))
            : from_der(*data);
    if (!cert) return Error{cert.error().code, path + ": " + cert.error().detail};
    return cert;
}

Bytes Certificate::subject_der() const {
    unsigned char* buf = nullptr;
    const int len = i2d_X509_NAME(X509_get_subject_name(cert_.get()), &buf);
    if (len <= 0) return {};
    Bytes out(buf, buf + len);
    OPENSSL_free(buf);
    return out;
}

std::string Certificate::subject_text() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) return {};
    X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert_.get()), 0,
                       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

std::vector<SubjectAltName> Certificate::subject_alt_names() const {
    std::vector<SubjectAltName> out;
    auto* names = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, nullptr, nullptr));
    if (names == nullptr) return out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
        SubjectAltName san;
        const ASN1_STRING* s = nullptr;
        switch (gn->type) {
            case GEN_DNS:
                san.kind = SubjectAltName::Kind::dns;
                s = gn->d.dNSName;
                break;
            case GEN_EMAIL:
                san.kind = SubjectAltName::Kind::email;
                s = gn->d.rfc822Name;
                break;
            case GEN_IPADD:
                san.kind = SubjectAltName::Kind::ip;
                s = gn->d.iPAddress;
                break;
            default:
                continue;  // URIs, directory names etc. identify nothing IKE asks about
        }
        const auto* p = ASN1_STRING_get0_data(s);
        san.raw.assign(p, p + ASN1_STRING_length(s));
        if (san.kind == SubjectAltName::Kind::ip) {
            auto ip = IpAddress::from_bytes(san.raw);
            if (!ip) continue;  // an address of neither 4 nor 16 octets is meaningless
            san.text = ip->to_string();
        } else {
            san.text.assign(san.raw.begin(), san.raw.end());
        }
        out.push_back(std::move(san));
    }
    GENERAL_NAMES_free(names);
    return out;
}

Result<PublicKey> Certificate::public_key() const {
    EVP_PKEY* k = X509_get_pubkey(cert_.get());  // a new reference
    if (k == nullptr) return openssl_error(Errc::certificate_invalid, "certificate public key");
    unsigned char* buf = nullptr;
    const int len = i2d_PUBKEY(k, &buf);
    EVP_PKEY_free(k);
    if (len <= 0) return openssl_error(Errc::certificate_invalid, "certificate public key");
    Bytes der(buf, buf + len);
    OPENSSL_free(buf);
    return PublicKey::from_der(der);
}

CertStore::CertStore() : store_(X509_STORE_new(), X509_STORE_free) {}

Result<CertStore> CertStore::load_files(std::span<const std::string> pem_paths) {
    CertStore store;
    for (const auto& path : pem_paths)
        if (auto s = store.add_pem_file(path); !s) return s.take_error();
    return store;
}

Status CertStore::add(const Certificate& anchor) {
    if (!store_) return Error{Errc::crypto_failure, "no certificate store"};
    if (X509_STORE_add_cert(store_.get(), anchor.native()) != 1)
        return openssl_error(Errc::certificate_invalid, "adding trust anchor");
    anchors_.push_back(anchor);
    return {};
}

Status CertStore::add_pem_file(const std::string& path) {
    auto data = read_public_file(path);
    if (!data) return data.take_error();
    BioPtr bio(BIO_new_mem_buf(data->data(), static_cast<int>(data->size())));
    if (!bio) return openssl_error(Errc::crypto_failure, "BIO");
    size_t added = 0;
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        auto cert = wrap(x);
        X509_free(x);
        if (!cert) return Error{cert.error().code, path + ": " + cert.error().detail};
        if (auto s = add(*cert); !s) return s;
        ++added;
    }
    detail::clear_openssl_errors();  // the loop ends on "no start line"
    if (added == 0) return Error{Errc::certificate_invalid, path + ": no PEM certificate"};
    return {};
}

Status CertStore::verify(const Certificate& leaf, std::span<const Certificate> intermediates,
                         std::chrono::system_clock::time_point at) const {
    if (!store_) return Error{Errc::crypto_failure, "no certificate store"};
    // sk_X509_free is a macro; the stack holds borrowed pointers, so free only the stack.
    auto free_stack = [](STACK_OF(X509) * s) { sk_X509_free(s); };
    std::unique_ptr<STACK_OF(X509), decltype(free_stack)> chain(sk_X509_new_null(), free_stack);
    std::unique_ptr<X509_STORE_CTX, detail::Deleter<X509_STORE_CTX_free>> ctx(X509_STORE_CTX_new());
    if (!chain || !ctx) return openssl_error(Errc::crypto_failure, "verify context");
    for (const auto& c : intermediates)
        if (sk_X509_push(chain.get(), c.native()) <= 0)
            return openssl_error(Errc::crypto_failure, "intermediate chain");
    if (X509_STORE_CTX_init(ctx.get(), store_.get(), leaf.native(), chain.get()) != 1)
        return openssl_error(Errc::crypto_failure, "verify context");
    X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(at));
    if (X509_verify_cert(ctx.get()) != 1) {
        const int err = X509_STORE_CTX_get_error(ctx.get());
        detail::clear_openssl_errors();
        return Error{Errc::certificate_invalid, X509_verify_cert_error_string(err)};
    }
    return {};
}

}  // namespace ikemesh::crypto
