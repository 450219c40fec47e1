#include "config/file_access.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <iterator>

#include "crypto/certificate.hpp"
#include "crypto/secret_file.hpp"
#include "crypto/signature.hpp"

namespace ikemesh::config {
namespace {

// Every certificate of a PEM text, as DER, in order. crypto::Certificate::from_pem takes only
// the first, and a CA bundle usually holds several.
Result<std::vector<Bytes>> pem_certificates(std::string_view pem, const std::string& what) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    if (!bio) return Error{Errc::crypto_failure, "BIO_new_mem_buf"};
    std::vector<Bytes> out;
    while (true) {
        X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (!cert) break;
        unsigned char* der = nullptr;
        int len = i2d_X509(cert, &der);
        X509_free(cert);
        if (len <= 0) return Error{Errc::crypto_failure, "i2d_X509"};
        out.emplace_back(der, der + len);
        OPENSSL_free(der);
    }
    ERR_clear_error();  // the loop ends on "no start line"
    if (out.empty()) return Error{Errc::certificate_invalid, what + " holds no PEM certificate"};
    return out;
}

Result<TrustAnchors> anchors_from(const std::vector<std::pair<std::string, std::string>>& pems) {
    crypto::CertStore store;
    TrustAnchors anchors;
    for (const auto& [name, pem] : pems) {
        auto ders = pem_certificates(pem, name);
        if (!ders) return ders.take_error();
        for (auto& der : *ders) {
            auto cert = crypto::Certificate::from_der(der);
            if (!cert) return Error{cert.error().code, name + ": " + cert.error().message()};
            if (auto s = store.add(*cert); !s) return s.take_error();
            anchors.certificates.push_back(std::move(der));
        }
    }
    anchors.store = std::make_shared<const crypto::CertStore>(std::move(store));
    return anchors;
}

// Trust anchors are public: an ordinary read, bounded like every config file.
Result<std::string> read_public_file(const std::filesystem::path& path) {
    constexpr size_t kMaxBytes = 4 * 1024 * 1024;
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{Errc::io_error, "cannot open " + path.string()};
    std::string text;
    char buf[8192];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<size_t>(in.gcount()));
        if (text.size() > kMaxBytes) return Error{Errc::io_error, path.string() + " is too large"};
    }
    return text;
}

}  // namespace

// ---- DiskFileAccess ---------------------------------------------------------------------------

Result<crypto::SecretBytes> DiskFileAccess::read_secret(const std::filesystem::path& path) const {
    return crypto::read_secret_file(path.string());
}

Result<std::shared_ptr<const crypto::PrivateKey>> DiskFileAccess::load_private_key(
    const std::filesystem::path& path) const {
    auto key = crypto::PrivateKey::load_file(path.string());
    if (!key) return key.take_error();
    return std::make_shared<const crypto::PrivateKey>(std::move(*key));
}

Result<std::shared_ptr<const crypto::Certificate>> DiskFileAccess::load_certificate(
    const std::filesystem::path& path) const {
    auto cert = crypto::Certificate::load_file(path.string());
    if (!cert) return cert.take_error();
    return std::make_shared<const crypto::Certificate>(std::move(*cert));
}

Result<TrustAnchors> DiskFileAccess::load_trust_anchors(
    std::span<const std::filesystem::path> paths) const {
    std::vector<std::pair<std::string, std::string>> pems;
    for (const auto& p : paths) {
        auto text = read_public_file(p);
        if (!text) return text.take_error();
        pems.emplace_back(p.string(), std::move(*text));
    }
    return anchors_from(pems);
}

// ---- MemoryFileAccess -------------------------------------------------------------------------

void MemoryFileAccess::add(const std::filesystem::path& path, std::string content, bool insecure) {
    files_[path] = Entry{std::move(content), insecure};
}

const MemoryFileAccess::Entry* MemoryFileAccess::find(const std::filesystem::path& path) const {
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : &it->second;
}

Result<crypto::SecretBytes> MemoryFileAccess::read_secret(const std::filesystem::path& path) const {
    ++secret_reads_;
    const Entry* e = find(path);
    if (!e) return Error{Errc::io_error, "no such file"};
    if (e->insecure) return Errc::key_file_insecure;
    return crypto::SecretBytes(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(e->content.data()), e->content.size()));
}

Result<std::shared_ptr<const crypto::PrivateKey>> MemoryFileAccess::load_private_key(
    const std::filesystem::path& path) const {
    const Entry* e = find(path);
    if (!e) return Error{Errc::io_error, "no such file"};
    if (e->insecure) return Errc::key_file_insecure;
    auto key = crypto::PrivateKey::from_pem(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(e->content.data()), e->content.size()));
    if (!key) return key.take_error();
    return std::make_shared<const crypto::PrivateKey>(std::move(*key));
}

Result<std::shared_ptr<const crypto::Certificate>> MemoryFileAccess::load_certificate(
    const std::filesystem::path& path) const {
    const Entry* e = find(path);
    if (!e) return Error{Errc::io_error, "no such file"};
    auto cert = crypto::Certificate::from_pem(e->content);
    if (!cert) return cert.take_error();
    return std::make_shared<const crypto::Certificate>(std::move(*cert));
}

Result<TrustAnchors> MemoryFileAccess::load_trust_anchors(
    std::span<const std::filesystem::path> paths) const {
    std::vector<std::pair<std::string, std::string>> pems;
    for (const auto& p : paths) {
        const Entry* e = find(p);
        if (!e) return Error{Errc::io_error, "cannot open " + p.string()};
        pems.emplace_back(p.string(), e->content);
    }
    return anchors_from(pems);
}

}  // namespace ikemesh::config
