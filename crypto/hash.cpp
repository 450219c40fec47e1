#include "crypto/hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

namespace ikemesh::crypto {
namespace {

const EVP_MD* sha1_md() {
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    return md;
}

struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

Sha1Digest sha1(std::initializer_list<std::span<const uint8_t>> parts) {
    thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
    Sha1Digest out{};
    unsigned int len = 0;
    // SHA-1 of a few dozen bytes cannot fail unless the library is broken; stopping is safer
    // than answering NAT detection with garbage.
    if (!ctx || !sha1_md() || EVP_DigestInit_ex(ctx.get(), sha1_md(), nullptr) != 1) std::abort();
    for (auto p : parts) {
        if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) std::abort();
    }
    if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) std::abort();
    return out;
}

bool equal_consttime(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ikemesh::crypto
