#include "crypto/ike_kdf.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "common/bytes.hpp"

namespace ikemesh::crypto {
namespace {

std::array<uint8_t, 8> spi_bytes(IkeSpi spi) {
    std::array<uint8_t, 8> b{};
    store_be32(b.data(), static_cast<uint32_t>(spi.value >> 32));
    store_be32(b.data() + 4, static_cast<uint32_t>(spi.value));
    return b;
}

// RFC 7296 2.10: nonces are 16 to 256 octets. The KDF itself works on any length, but empty
// inputs here always mean a caller bug, so refuse them instead of deriving weak keys.
Status check_nonces(std::span<const uint8_t> ni, std::span<const uint8_t> nr) {
    if (ni.empty() || nr.empty()) return Error{Errc::bad_length, "empty nonce"};
    return {};
}

}  // namespace

Result<SecretBytes> compute_skeyseed(const Prf& prf, std::span<const uint8_t> shared_secret,
                                     std::span<const uint8_t> ni, std::span<const uint8_t> nr) {
    if (auto s = check_nonces(ni, nr); !s) return s.take_error();
    // The key is Ni | Nr: HMAC keys longer than the block are hashed first, which HMAC does.
    Bytes key;
    key.reserve(ni.size() + nr.size());
    key.insert(key.end(), ni.begin(), ni.end());
    key.insert(key.end(), nr.begin(), nr.end());
    SecretBytes out(prf.size());
    if (auto s = prf.compute(key, {shared_secret}, out.mutable_view()); !s) return s.take_error();
    return out;
}

Result<IkeKeys> expand_ike_keys(const Prf& prf, std::span<const uint8_t> skeyseed,
                                std::span<const uint8_t> ni, std::span<const uint8_t> nr,
                                IkeSpi spi_i, IkeSpi spi_r, IkeKeySizes sizes) {
    if (auto s = check_nonces(ni, nr); !s) return s.take_error();
    const size_t p = prf.size();  // SK_d, SK_pi, SK_pr have the PRF's preferred key length
    const size_t total = 3 * p + 2 * sizes.integ + 2 * sizes.encr;
    const auto spii = spi_bytes(spi_i);
    const auto spir = spi_bytes(spi_r);
    auto km = prf.prf_plus(skeyseed, {ni, nr, spii, spir}, total);
    if (!km) return km.take_error();
    size_t at = 0;
    auto take = [&](size_t n) {
        SecretBytes k = km->slice(at, n);
        at += n;
        return k;
    };
    IkeKeys keys;
    // RFC 7296 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}.
    keys.sk_d = take(p);
    keys.sk_ai = take(sizes.integ);
    keys.sk_ar = take(sizes.integ);
    keys.sk_ei = take(sizes.encr);
    keys.sk_er = take(sizes.encr);
    keys.sk_pi = take(p);
    keys.sk_pr = take(p);
    return keys;
}

Result<IkeKeys> derive_ike_keys(const Prf& prf, std::span<const uint8_t> shared_secret,
                                std::span<const uint8_t> ni, std::span<const uint8_t> nr,
                                IkeSpi spi_i, IkeSpi spi_r, IkeKeySizes sizes) {
    auto seed = compute_skeyseed(prf, shared_secret, ni, nr);
    if (!seed) return seed.take_error();
    return expand_ike_keys(prf, seed->view(), ni, nr, spi_i, spi_r, sizes);
}

Result<SecretBytes> compute_rekey_skeyseed(const Prf& prf, std::span<const uint8_t> old_sk_d,
                                           std::span<const uint8_t> shared_secret,
                                           std::span<const uint8_t> ni,
                                           std::span<const uint8_t> nr) {
    if (auto s = check_nonces(ni, nr); !s) return s.take_error();
    if (shared_secret.empty()) return Error{Errc::bad_length, "IKE rekey needs a new g^ir"};
    SecretBytes out(prf.size());
    if (auto s = prf.compute(old_sk_d, {shared_secret, ni, nr}, out.mutable_view()); !s)
        return s.take_error();
    return out;
}

Result<IkeKeys> derive_rekeyed_ike_keys(const Prf& prf, std::span<const uint8_t> old_sk_d,
                                        std::span<const uint8_t> shared_secret,
                                        std::span<const uint8_t> ni, std::span<const uint8_t> nr,
                                        IkeSpi spi_i, IkeSpi spi_r, IkeKeySizes sizes) {
    auto seed = compute_rekey_skeyseed(prf, old_sk_d, shared_secret, ni, nr);
    if (!seed) return seed.take_error();
    return expand_ike_keys(prf, seed->view(), ni, nr, spi_i, spi_r, sizes);
}

Result<SecretBytes> derive_child_keymat(const Prf& prf, std::span<const uint8_t> sk_d,
                                        std::span<const uint8_t> shared_secret_or_empty,
                                        std::span<const uint8_t> ni, std::span<const uint8_t> nr,
                                        size_t length) {
    if (auto s = check_nonces(ni, nr); !s) return s.take_error();
    // RFC 7296 2.17: KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir (new) | Ni | Nr) with PFS.
    return prf.prf_plus(sk_d, {shared_secret_or_empty, ni, nr}, length);
}

Result<SecretBytes> psk_auth(const Prf& prf, std::span<const uint8_t> psk,
                             std::span<const uint8_t> real_message, std::span<const uint8_t> nonce,
                             std::span<const uint8_t> maced_id) {
    // RFC 7296 2.15: the pad string is 17 ASCII characters without a terminating NUL.
    static constexpr std::string_view kKeyPad = "Key Pad for IKEv2";
    const std::span<const uint8_t> pad(reinterpret_cast<const uint8_t*>(kKeyPad.data()),
                                       kKeyPad.size());
    SecretBytes inner(prf.size());
    if (auto s = prf.compute(psk, {pad}, inner.mutable_view()); !s) return s.take_error();
    SecretBytes out(prf.size());
    if (auto s = prf.compute(inner.view(), {real_message, nonce, maced_id}, out.mutable_view()); !s)
        return s.take_error();
    return out;
}

Result<SecretBytes> maced_id(const Prf& prf, std::span<const uint8_t> sk_p,
                             std::span<const uint8_t> id_payload_body) {
    return prf.compute(sk_p, id_payload_body);
}

}  // namespace ikemesh::crypto
