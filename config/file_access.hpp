// How the configuration reaches the files it refers to: PSK files, our private key and
// certificate, and the trust anchors.
//
// The config layer never opens these itself. load_config uses DiskFileAccess, which goes through
// crypto/ (read_secret_file and the key and certificate loaders refuse private files readable by
// group or others); tests and the fuzzer use MemoryFileAccess, so parsing needs no disk.
// Not here: reading the config files themselves (load_config does that, see config.hpp).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/secret.hpp"
#include "ike/engine_config.hpp"

namespace ikemesh::config {

// Trust anchors as loaded: the store the engine verifies with, and the DER of each certificate
// in it (ike::LocalConfig::ca_certificates).
struct TrustAnchors {
    std::shared_ptr<const crypto::CertStore> store;
    std::vector<Bytes> certificates;
};

class FileAccess {
  public:
    virtual ~FileAccess() = default;
    // The whole content of a secret file (psk_file). Errc::key_file_insecure when the file is
    // readable by group or others.
    virtual Result<crypto::SecretBytes> read_secret(const std::filesystem::path& path) const = 0;
    // Our private key (PEM). Errc::key_file_insecure as above.
    virtual Result<std::shared_ptr<const crypto::PrivateKey>> load_private_key(
        const std::filesystem::path& path) const = 0;
    // Our certificate (PEM).
    virtual Result<std::shared_ptr<const crypto::Certificate>> load_certificate(
        const std::filesystem::path& path) const = 0;
    // The trust anchors: every certificate of every file (PEM).
    virtual Result<TrustAnchors> load_trust_anchors(
        std::span<const std::filesystem::path> paths) const = 0;
};

// The real file system, through crypto/'s loaders.
class DiskFileAccess final : public FileAccess {
  public:
    Result<crypto::SecretBytes> read_secret(const std::filesystem::path& path) const override;
    Result<std::shared_ptr<const crypto::PrivateKey>> load_private_key(
        const std::filesystem::path& path) const override;
    Result<std::shared_ptr<const crypto::Certificate>> load_certificate(
        const std::filesystem::path& path) const override;
    Result<TrustAnchors> load_trust_anchors(
        std::span<const std::filesystem::path> paths) const override;
};

// Files held in memory, keyed by path as the config resolves it (base_dir / relative path).
// Keys and certificates are PEM text parsed by crypto/ as the disk variant would.
class MemoryFileAccess final : public FileAccess {
  public:
    // `insecure` makes the file behave like one readable by group or others.
    void add(const std::filesystem::path& path, std::string content, bool insecure = false);

    Result<crypto::SecretBytes> read_secret(const std::filesystem::path& path) const override;
    Result<std::shared_ptr<const crypto::PrivateKey>> load_private_key(
        const std::filesystem::path& path) const override;
    Result<std::shared_ptr<const crypto::Certificate>> load_certificate(
        const std::filesystem::path& path) const override;
    Result<TrustAnchors> load_trust_anchors(
        std::span<const std::filesystem::path> paths) const override;

    // How many times read_secret was called (tests check that a shared psk_file is read once).
    size_t secret_reads() const { return secret_reads_; }

  private:
    struct Entry {
        std::string content;
        bool insecure = false;
    };
    const Entry* find(const std::filesystem::path& path) const;

    std::map<std::filesystem::path, Entry> files_;
    mutable size_t secret_reads_ = 0;
};

}  // namespace ikemesh::config
