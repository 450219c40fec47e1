#include "crypto/openssl_util.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

namespace ikemesh::crypto::detail {

size_t hash_size(Hash h) {
    switch (h) {
        case Hash::sha1:
            return 20;
        case Hash::sha256:
            return 32;
        case Hash::sha384:
            return 48;
        case Hash::sha512:
            return 64;
    }
    return 0;
}

const char* hash_name(Hash h) {
    switch (h) {
        case Hash::sha1:
            return "SHA1";
        case Hash::sha256:
            return "SHA2-256";
        case Hash::sha384:
            return "SHA2-384";
        case Hash::sha512:
            return "SHA2-512";
    }
    return "";
}

namespace {

// A fetch that fails means the OpenSSL installation is broken (no default provider); nothing in
// ikemesh can work then, and failing later with a null pointer would be harder to diagnose.
template <typename T>
T* must(T* p, const char* what) {
    if (p == nullptr) {
        std::fprintf(stderr, "ikemesh: OpenSSL cannot provide %s\n", what);
        std::abort();
    }
    return p;
}

EVP_MAC* hmac_mac() {
    static EVP_MAC* const mac = must(EVP_MAC_fetch(nullptr, "HMAC", nullptr), "HMAC");
    return mac;
}

// One HMAC context per hash per thread, with its digest set once. EVP_MAC_init with a new key
// re-keys it without fetching anything; with a null key it restarts under the same key.
EVP_MAC_CTX* thread_hmac_ctx(Hash h) {
    thread_local std::array<MacCtxPtr, 4> ctxs;
    auto& slot = ctxs[static_cast<size_t>(h)];
    if (!slot) {
        MacCtxPtr ctx(EVP_MAC_CTX_new(hmac_mac()));
        if (!ctx) return nullptr;
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
                                         OSSL_MAC_PARAM_DIGEST, const_cast<char*>(hash_name(h)), 0),
                                     OSSL_PARAM_construct_end()};
        if (EVP_MAC_CTX_set_params(ctx.get(), params) != 1) return nullptr;
        slot = std::move(ctx);
    }
    return slot.get();
}

// A key of length zero must still be passed as a non-null pointer: OpenSSL treats a null key as
// "keep the previous key", which would silently reuse another SA's key.
const uint8_t* key_ptr(std::span<const uint8_t> key) {
    static const uint8_t empty = 0;
    return key.empty() ? &empty : key.data();
}

}  // namespace

const EVP_MD* md(Hash h) {
    static const EVP_MD* const mds[] = {
        must(EVP_MD_fetch(nullptr, "SHA1", nullptr), "SHA1"),
        must(EVP_MD_fetch(nullptr, "SHA2-256", nullptr), "SHA2-256"),
        must(EVP_MD_fetch(nullptr, "SHA2-384", nullptr), "SHA2-384"),
        must(EVP_MD_fetch(nullptr, "SHA2-512", nullptr), "SHA2-512"),
    };
    return mds[static_cast<size_t>(h)];
}

Error openssl_error(Errc code, const char* what) {
    std::string detail = what;
    unsigned long e = ERR_peek_error();
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        detail += " (";
        detail += buf;
        detail += ")";
    }
    ERR_clear_error();
    return Error{code, std::move(detail)};
}

void clear_openssl_errors() {
    ERR_clear_error();
}

Status hmac(Hash h, std::span<const uint8_t> key,
            std::initializer_list<std::span<const uint8_t>> data, std::span<uint8_t> out) {
    const size_t full = hash_size(h);
    if (out.size() > full) return Error{Errc::bad_length, "HMAC output longer than the hash"};
    EVP_MAC_CTX* ctx = thread_hmac_ctx(h);
    if (ctx == nullptr) return openssl_error(Errc::crypto_failure, "HMAC context");
    if (EVP_MAC_init(ctx, key_ptr(key), key.size(), nullptr) != 1)
        return openssl_error(Errc::crypto_failure, "HMAC init");
    for (auto piece : data) {
        if (!piece.empty() && EVP_MAC_update(ctx, piece.data(), piece.size()) != 1)
            return openssl_error(Errc::crypto_failure, "HMAC update");
    }
    size_t len = 0;
    if (out.size() == full) {
        if (EVP_MAC_final(ctx, out.data(), &len, out.size()) != 1)
            return openssl_error(Errc::crypto_failure, "HMAC final");
        return {};
    }
    uint8_t tmp[EVP_MAX_MD_SIZE];
    if (EVP_MAC_final(ctx, tmp, &len, sizeof tmp) != 1)
        return openssl_error(Errc::crypto_failure, "HMAC final");
    std::copy_n(tmp, out.size(), out.begin());
    OPENSSL_cleanse(tmp, sizeof tmp);
    return {};
}

Status hmac_prf_plus(Hash h, std::span<const uint8_t> key,
                     std::initializer_list<std::span<const uint8_t>> seed, std::span<uint8_t> out) {
    const size_t block = hash_size(h);
    // RFC 7296 2.13: the counter is one octet, so prf+ ends after 255 blocks.
    if (out.size() > 255 * block) return Error{Errc::bad_length, "prf+ output too long"};
    EVP_MAC_CTX* ctx = thread_hmac_ctx(h);
    if (ctx == nullptr) return openssl_error(Errc::crypto_failure, "HMAC context");
    if (EVP_MAC_init(ctx, key_ptr(key), key.size(), nullptr) != 1)
        return openssl_error(Errc::crypto_failure, "HMAC init");
    uint8_t t[EVP_MAX_MD_SIZE];
    size_t t_len = 0;
    size_t done = 0;
    for (unsigned counter = 1; done < out.size(); ++counter) {
        // The first block was initialised with the key above; later ones restart under it.
        if (counter > 1 && EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1) {
            OPENSSL_cleanse(t, sizeof t);
            return openssl_error(Errc::crypto_failure, "HMAC re-init");
        }
        const uint8_t n = static_cast<uint8_t>(counter);
        bool ok = t_len == 0 || EVP_MAC_update(ctx, t, t_len) == 1;
        for (auto piece : seed) {
            if (ok && !piece.empty()) ok = EVP_MAC_update(ctx, piece.data(), piece.size()) == 1;
        }
        ok = ok && EVP_MAC_update(ctx, &n, 1) == 1 && EVP_MAC_final(ctx, t, &t_len, sizeof t) == 1;
        if (!ok) {
            OPENSSL_cleanse(t, sizeof t);
            return openssl_error(Errc::crypto_failure, "prf+");
        }
        const size_t take = std::min(t_len, out.size() - done);
        std::copy_n(t, take, out.begin() + static_cast<std::ptrdiff_t>(done));
        done += take;
    }
    OPENSSL_cleanse(t, sizeof t);
    return {};
}

}  // namespace ikemesh::crypto::detail
