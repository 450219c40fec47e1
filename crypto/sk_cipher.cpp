#include "crypto/sk_cipher.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "crypto/openssl_util.hpp"

namespace ikemesh::crypto {
namespace {

using detail::CipherCtxPtr;
using detail::openssl_error;

constexpr size_t kAeadSalt = 4;   // RFC 5282 4 / RFC 7634 2: salt at the end of the key
constexpr size_t kAeadIv = 8;     // explicit IV on the wire
constexpr size_t kAeadTag = 16;   // AES-GCM-16 and Poly1305 tags
constexpr size_t kCbcBlock = 16;  // AES block and IV size (RFC 3602)

// The OpenSSL ciphers we use, fetched once. Index: see cipher_index().
enum CipherIndex : size_t { gcm128, gcm256, chacha, cbc128, cbc192, cbc256, kCipherCount };

const EVP_CIPHER* fetched_cipher(size_t index) {
    static const std::array<const EVP_CIPHER*, kCipherCount> ciphers = [] {
        std::array<const EVP_CIPHER*, kCipherCount> c{
            EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr),
            EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr),
            EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr),
            EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr),
            EVP_CIPHER_fetch(nullptr, "AES-192-CBC", nullptr),
            EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr),
        };
        for (auto* p : c)
            if (p == nullptr) std::abort();  // no default provider: nothing can work
        return c;
    }();
    return ciphers[index];
}

size_t cipher_index(EncrSpec e) {
    switch (e.alg) {
        case EncrAlg::aes_gcm_16:
            return e.key_bits == 128 ? gcm128 : gcm256;
        case EncrAlg::chacha20_poly1305:
            return chacha;
        case EncrAlg::aes_cbc:
            return e.key_bits == 128 ? cbc128 : e.key_bits == 192 ? cbc192 : cbc256;
    }
    return gcm128;
}

// One cipher context per cipher and thread. Re-initialising a context with the same cipher
// keeps its provider state allocated, so a message costs only the key schedule and the data.
EVP_CIPHER_CTX* thread_cipher_ctx(size_t index) {
    thread_local std::array<CipherCtxPtr, kCipherCount> ctxs;
    auto& slot = ctxs[index];
    if (!slot) slot.reset(EVP_CIPHER_CTX_new());
    return slot.get();
}

detail::Hash integ_hash(IntegAlg a) {
    switch (a) {
        case IntegAlg::hmac_sha1_96:
            return detail::Hash::sha1;
        case IntegAlg::hmac_sha2_384_192:
            return detail::Hash::sha384;
        case IntegAlg::hmac_sha2_512_256:
            return detail::Hash::sha512;
        default:
            return detail::Hash::sha256;
    }
}

int to_int(size_t n) {
    return static_cast<int>(n);
}

// Messages are bounded by the IKE length field (32 bits) and in practice by UDP; refusing more
// than INT_MAX keeps the int-sized OpenSSL length parameters exact.
constexpr size_t kMaxLen = 0x7fffffff;

}  // namespace

Result<SkCipher> SkCipher::create(EncrSpec encr, IntegAlg integ, SecretBytes encr_key,
                                  SecretBytes integ_key) {
    const auto want = encr_key_size(encr);
    if (!want) return Error{Errc::unsupported_algorithm, name(encr)};
    if (encr_key.size() != *want) return Error{Errc::bad_key_length, "encryption key"};
    if (is_aead(encr.alg)) {
        // RFC 5282 8 / RFC 7634 4: an AEAD takes no integrity transform (or NONE).
        if (integ != IntegAlg::none)
            return Error{Errc::unsupported_algorithm, "integrity transform with an AEAD"};
        if (!integ_key.empty()) return Error{Errc::bad_key_length, "integrity key with an AEAD"};
    } else {
        if (integ == IntegAlg::none || integ_key_size(integ) == 0)
            return Error{Errc::unsupported_algorithm, "AES-CBC needs an integrity transform"};
        if (integ_key.size() != integ_key_size(integ))
            return Error{Errc::bad_key_length, "integrity key"};
    }
    if (encr.alg == EncrAlg::chacha20_poly1305) encr.key_bits = 256;
    return SkCipher(encr, integ, std::move(encr_key), std::move(integ_key));
}

size_t SkCipher::iv_size() const {
    return is_aead(encr_.alg) ? kAeadIv : kCbcBlock;
}
size_t SkCipher::block_size() const {
    return is_aead(encr_.alg) ? 1 : kCbcBlock;
}
size_t SkCipher::icv_size() const {
    return is_aead(encr_.alg) ? kAeadTag : integ_icv_size(integ_);
}

Status SkCipher::seal(std::span<const uint8_t> aad, std::span<const uint8_t> iv,
                      std::span<const uint8_t> plaintext, std::span<uint8_t> ciphertext_out,
                      std::span<uint8_t> icv_out) const {
    if (iv.size() != iv_size() || icv_out.size() != icv_size() ||
        ciphertext_out.size() != plaintext.size() || plaintext.size() % block_size() != 0 ||
        plaintext.size() > kMaxLen || aad.size() > kMaxLen)
        return Error{Errc::bad_length, "SK seal buffer sizes"};
    const size_t index = cipher_index(encr_);
    EVP_CIPHER_CTX* ctx = thread_cipher_ctx(index);
    if (ctx == nullptr) return openssl_error(Errc::crypto_failure, "cipher context");
    const auto key = encr_key_.view();
    int len = 0;

    if (is_aead(encr_.alg)) {
        // Nonce = salt || IV (RFC 5282 4, RFC 7634 2).
        std::array<uint8_t, kAeadSalt + kAeadIv> nonce{};
        const size_t key_len = key.size() - kAeadSalt;
        std::copy_n(key.begin() + static_cast<std::ptrdiff_t>(key_len), kAeadSalt, nonce.begin());
        std::copy(iv.begin(), iv.end(), nonce.begin() + kAeadSalt);
        if (EVP_EncryptInit_ex2(ctx, fetched_cipher(index), key.data(), nonce.data(), nullptr) !=
                1 ||
            (!aad.empty() &&
             EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), to_int(aad.size())) != 1) ||
            (!plaintext.empty() &&
             EVP_EncryptUpdate(ctx, ciphertext_out.data(), &len, plaintext.data(),
                               to_int(plaintext.size())) != 1) ||
            EVP_EncryptFinal_ex(ctx, ciphertext_out.data() + plaintext.size(), &len) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kAeadTag, icv_out.data()) != 1)
            return openssl_error(Errc::crypto_failure, "AEAD seal");
        return {};
    }

    if (EVP_EncryptInit_ex2(ctx, fetched_cipher(index), key.data(), iv.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        (!plaintext.empty() && EVP_EncryptUpdate(ctx, ciphertext_out.data(), &len, plaintext.data(),
                                                 to_int(plaintext.size())) != 1) ||
        EVP_EncryptFinal_ex(ctx, ciphertext_out.data() + plaintext.size(), &len) != 1)
        return openssl_error(Errc::crypto_failure, "AES-CBC encrypt");
    // RFC 7296 3.14: the checksum covers the message up to and including the ciphertext.
    return detail::hmac(integ_hash(integ_), integ_key_.view(),
                        {aad, iv, std::span<const uint8_t>(ciphertext_out)}, icv_out);
}

Status SkCipher::open(std::span<const uint8_t> aad, std::span<const uint8_t> iv,
                      std::span<const uint8_t> ciphertext, std::span<const uint8_t> icv,
                      std::span<uint8_t> plaintext_out) const {
    if (iv.size() != iv_size() || icv.size() != icv_size() ||
        plaintext_out.size() != ciphertext.size() || ciphertext.size() % block_size() != 0 ||
        ciphertext.size() > kMaxLen || aad.size() > kMaxLen)
        return Error{Errc::bad_length, "SK open buffer sizes"};
    const size_t index = cipher_index(encr_);
    EVP_CIPHER_CTX* ctx = thread_cipher_ctx(index);
    if (ctx == nullptr) return openssl_error(Errc::crypto_failure, "cipher context");
    const auto key = encr_key_.view();
    int len = 0;

    if (is_aead(encr_.alg)) {
        std::array<uint8_t, kAeadSalt + kAeadIv> nonce{};
        const size_t key_len = key.size() - kAeadSalt;
        std::copy_n(key.begin() + static_cast<std::ptrdiff_t>(key_len), kAeadSalt, nonce.begin());
        std::copy(iv.begin(), iv.end(), nonce.begin() + kAeadSalt);
        std::array<uint8_t, kAeadTag> tag{};
        std::copy(icv.begin(), icv.end(), tag.begin());
        if (EVP_DecryptInit_ex2(ctx, fetched_cipher(index), key.data(), nonce.data(), nullptr) !=
                1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kAeadTag, tag.data()) != 1 ||
            (!aad.empty() &&
             EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), to_int(aad.size())) != 1) ||
            (!ciphertext.empty() &&
             EVP_DecryptUpdate(ctx, plaintext_out.data(), &len, ciphertext.data(),
                               to_int(ciphertext.size())) != 1))
            return openssl_error(Errc::crypto_failure, "AEAD open");
        if (EVP_DecryptFinal_ex(ctx, plaintext_out.data() + ciphertext.size(), &len) != 1) {
            // The AEAD decrypts before it can check the tag; never leave unauthenticated
            // plaintext in the caller's buffer.
            OPENSSL_cleanse(plaintext_out.data(), plaintext_out.size());
            detail::clear_openssl_errors();
            return Errc::integrity_check_failed;
        }
        return {};
    }

    // Encrypt-then-MAC: check the ICV first and decrypt only authenticated data.
    std::array<uint8_t, 32> expected{};
    const std::span<uint8_t> want(expected.data(), icv.size());
    if (auto s = detail::hmac(integ_hash(integ_), integ_key_.view(), {aad, iv, ciphertext}, want);
        !s)
        return s;
    if (CRYPTO_memcmp(want.data(), icv.data(), icv.size()) != 0)
        return Errc::integrity_check_failed;
    if (EVP_DecryptInit_ex2(ctx, fetched_cipher(index), key.data(), iv.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        (!ciphertext.empty() &&
         EVP_DecryptUpdate(ctx, plaintext_out.data(), &len, ciphertext.data(),
                           to_int(ciphertext.size())) != 1) ||
        EVP_DecryptFinal_ex(ctx, plaintext_out.data() + ciphertext.size(), &len) != 1)
        return openssl_error(Errc::crypto_failure, "AES-CBC decrypt");
    return {};
}

}  // namespace ikemesh::crypto
