// Internal to crypto/: RAII owners for OpenSSL objects, the algorithms fetched once per process,
// per-thread reusable contexts, and the mapping of OpenSSL failures onto ikemesh::Error.
//
// Nothing outside crypto/ includes this header; the public headers never mention OpenSSL types.
// OpenSSL 3 fetches (EVP_MD_fetch, EVP_CIPHER_fetch, EVP_MAC_fetch) take a global lock and a
// property query each time, so they happen exactly once per process here (function-local
// statics, thread-safe initialisation) and the results are never freed: they must outlive every
// thread that uses them, and process exit releases them.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>

#include "common/result.hpp"

namespace ikemesh::crypto::detail {

template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX_free>>;

// The hash functions ikemesh uses, for HMAC (PRF and integrity) and signatures.
enum class Hash : uint8_t { sha1, sha256, sha384, sha512 };
size_t hash_size(Hash h);
const char* hash_name(Hash h);  // OpenSSL name: "SHA2-256"
const EVP_MD* md(Hash h);       // fetched once

// The error of a failed OpenSSL call: `code` plus what failed and OpenSSL's first queued reason.
// Clears OpenSSL's thread error queue so later failures are not attributed to this one.
Error openssl_error(Errc code, const char* what);
// Drops whatever OpenSSL queued (after an expected failure such as a bad tag).
void clear_openssl_errors();

// HMAC of `data` (in pieces) under `key` into `out` (out.size() <= hash_size(h); a shorter out
// receives the truncated MAC, as RFC 4868 integrity transforms use it). Per-thread contexts.
Status hmac(Hash h, std::span<const uint8_t> key,
            std::initializer_list<std::span<const uint8_t>> data, std::span<uint8_t> out);

// prf+ of RFC 7296 2.13 into `out`, keyed once; T(n) = HMAC(K, T(n-1) | seed... | n).
Status hmac_prf_plus(Hash h, std::span<const uint8_t> key,
                     std::initializer_list<std::span<const uint8_t>> seed, std::span<uint8_t> out);

}  // namespace ikemesh::crypto::detail
