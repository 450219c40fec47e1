#include "crypto/key_exchange.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/openssl_util.hpp"

namespace ikemesh::crypto {
namespace {

using detail::BnCtxPtr;
using detail::BnPtr;
using detail::openssl_error;
using detail::PkeyCtxPtr;
using detail::PkeyPtr;

BN_CTX* thread_bn_ctx() {
    thread_local BnCtxPtr ctx(BN_CTX_secure_new());
    return ctx.get();
}

// ---------------------------------------------------------------------------------------------
// MODP groups (RFC 3526), generator 2, computed with OpenSSL's constant-time Montgomery
// exponentiation over one shared, read-only Montgomery context per group. This is a deliberate
// step below EVP: it gives exact control of the peer check (RFC 6989 2.1: 1 < y < p-1 and, as
// these are safe primes, nothing else) and of the exponent length, and it skips EVP's per-call
// key import.

struct ModpGroup {
    BIGNUM* p = nullptr;
    BIGNUM* p_minus_1 = nullptr;
    BIGNUM* g = nullptr;
    BN_MONT_CTX* mont = nullptr;
    size_t bytes = 0;
    // Private exponent length in bits. RFC 3526 8 gives 220-320 bits for group 14, 260-420 for
    // 15 and 300-480 for 16 as the range matching each group's strength; we take twice the
    // security level of NIST SP 800-57 (112, 128, 152 bits) rounded up to whole bytes, which is
    // inside each range and keeps the exponentiation short.
    int exponent_bits = 0;
};

const ModpGroup* modp_group(DhGroup group) {
    auto make = [](BIGNUM* (*prime)(BIGNUM*), size_t bytes, int exponent_bits) {
        ModpGroup g;
        g.p = prime(nullptr);
        g.p_minus_1 = BN_dup(g.p);
        g.g = BN_new();
        g.mont = BN_MONT_CTX_new();
        BnCtxPtr ctx(BN_CTX_new());
        if (!g.p || !g.p_minus_1 || !g.g || !g.mont || !ctx || !BN_sub_word(g.p_minus_1, 1) ||
            !BN_set_word(g.g, 2) || !BN_MONT_CTX_set(g.mont, g.p, ctx.get()))
            std::abort();  // allocation failure at start-up
        g.bytes = bytes;
        g.exponent_bits = exponent_bits;
        return g;
    };
    switch (group) {
        case DhGroup::modp2048: {
            static const ModpGroup g = make(BN_get_rfc3526_prime_2048, 256, 224);
            return &g;
        }
        case DhGroup::modp3072: {
            static const ModpGroup g = make(BN_get_rfc3526_prime_3072, 384, 256);
            return &g;
        }
        case DhGroup::modp4096: {
            static const ModpGroup g = make(BN_get_rfc3526_prime_4096, 512, 304);
            return &g;
        }
        default:
            return nullptr;
    }
}

class ModpKeyExchange final : public KeyExchange {
  public:
    ModpKeyExchange(DhGroup group, const ModpGroup& params, BnPtr x, Bytes pub)
        : group_(group), params_(params), x_(std::move(x)), public_(std::move(pub)) {}

    static Result<std::unique_ptr<KeyExchange>> create(DhGroup group, const ModpGroup& params,
                                                       BnPtr x) {
        BN_set_flags(x.get(), BN_FLG_CONSTTIME);
        BN_CTX* ctx = thread_bn_ctx();
        BnPtr y(BN_new());
        Bytes pub(params.bytes);
        if (!ctx || !y ||
            BN_mod_exp_mont_consttime(y.get(), params.g, x.get(), params.p, ctx, params.mont) !=
                1 ||
            BN_bn2binpad(y.get(), pub.data(), static_cast<int>(pub.size())) < 0)
            return openssl_error(Errc::crypto_failure, "MODP public value");
        return std::unique_ptr<KeyExchange>(
            new ModpKeyExchange(group, params, std::move(x), std::move(pub)));
    }

    DhGroup group() const override { return group_; }
    std::span<const uint8_t> public_key() const override { return public_; }

    Result<SecretBytes> shared_secret(std::span<const uint8_t> peer) const override {
        // RFC 7296 3.4: the KE data is exactly the prime's length, zero-padded.
        if (peer.size() != params_.bytes)
            return Error{Errc::invalid_public_key, "MODP value has the wrong length"};
        BnPtr y(BN_bin2bn(peer.data(), static_cast<int>(peer.size()), nullptr));
        if (!y) return openssl_error(Errc::crypto_failure, "MODP peer value");
        // RFC 6989 2.1: 1 < y < p-1. For these safe primes that is the whole check; the
        // y^q = 1 test OpenSSL's EVP_PKEY_public_check adds would cost a full exponentiation.
        if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), params_.p_minus_1) >= 0)
            return Error{Errc::invalid_public_key, "MODP value outside 1 < y < p-1"};
        BN_CTX* ctx = thread_bn_ctx();
        BnPtr z(BN_secure_new());
        SecretBytes out(params_.bytes);
        if (!ctx || !z ||
            BN_mod_exp_mont_consttime(z.get(), y.get(), x_.get(), params_.p, ctx, params_.mont) !=
                1 ||
            BN_bn2binpad(z.get(), out.mutable_view().data(), static_cast<int>(out.size())) < 0)
            return openssl_error(Errc::crypto_failure, "MODP shared secret");
        // RFC 7296 2.14: g^ir is zero-padded to the prime's length (BN_bn2binpad did that).
        return out;
    }

  private:
    DhGroup group_;
    const ModpGroup& params_;
    BnPtr x_;
    Bytes public_;
};

Result<std::unique_ptr<KeyExchange>> generate_modp(DhGroup group, const ModpGroup& params) {
    BnPtr x(BN_secure_new());
    // Top bit set: the exponent has its full length, never a short one by chance.
    if (!x || BN_priv_rand_ex(x.get(), params.exponent_bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY, 0,
                              thread_bn_ctx()) != 1)
        return openssl_error(Errc::crypto_failure, "MODP exponent");
    return ModpKeyExchange::create(group, params, std::move(x));
}

Result<std::unique_ptr<KeyExchange>> modp_from_private(DhGroup group, const ModpGroup& params,
                                                       std::span<const uint8_t> priv) {
    if (priv.empty() || priv.size() > params.bytes)
        return Error{Errc::bad_key_length, "MODP exponent length"};
    BnPtr x(BN_secure_new());
    if (!x || !BN_bin2bn(priv.data(), static_cast<int>(priv.size()), x.get()))
        return openssl_error(Errc::crypto_failure, "MODP exponent");
    if (BN_is_zero(x.get()) || BN_cmp(x.get(), params.p_minus_1) >= 0)
        return Error{Errc::bad_key_length, "MODP exponent out of range"};
    return ModpKeyExchange::create(group, params, std::move(x));
}

// ---------------------------------------------------------------------------------------------
// ECP (RFC 5903) and Curve25519/Curve448 (RFC 8031) through EVP.

enum class Family { ecp, xdh };

struct PkeyGroup {
    Family family;
    const char* keytype;  // EVP key type: "EC", "X25519", "X448"
    const char* curve;    // EC group name, or nullptr
    int nid;              // EC curve NID, or 0
    size_t public_bytes;  // KE payload data length
    size_t secret_bytes;  // length of g^ir
    size_t index;         // slot in per-thread caches
};

const PkeyGroup* pkey_group(DhGroup group) {
    static const PkeyGroup groups[] = {
        {Family::ecp, "EC", "P-256", NID_X9_62_prime256v1, 64, 32, 0},
        {Family::ecp, "EC", "P-384", NID_secp384r1, 96, 48, 1},
        {Family::ecp, "EC", "P-521", NID_secp521r1, 132, 66, 2},
        {Family::xdh, "X25519", nullptr, 0, 32, 32, 3},
        {Family::xdh, "X448", nullptr, 0, 56, 56, 4},
    };
    switch (group) {
        case DhGroup::ecp256:
            return &groups[0];
        case DhGroup::ecp384:
            return &groups[1];
        case DhGroup::ecp521:
            return &groups[2];
        case DhGroup::curve25519:
            return &groups[3];
        case DhGroup::curve448:
            return &groups[4];
        default:
            return nullptr;
    }
}

constexpr size_t kPkeyGroups = 5;

// The curve as a low-level group for the peer point check; shared and only read.
const EC_GROUP* ec_group(const PkeyGroup& g) {
    static const std::array<EC_GROUP*, 3> groups = {
        EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1),
        EC_GROUP_new_by_curve_name(NID_secp384r1),
        EC_GROUP_new_by_curve_name(NID_secp521r1),
    };
    return g.index < groups.size() ? groups[g.index] : nullptr;
}

// A key-generation context per group and thread, initialised once: EVP_PKEY_generate on it
// costs only the key generation itself.
EVP_PKEY_CTX* thread_keygen_ctx(const PkeyGroup& g) {
    thread_local std::array<PkeyCtxPtr, kPkeyGroups> ctxs;
    auto& slot = ctxs[g.index];
    if (!slot) {
        PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, g.keytype, nullptr));
        if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return nullptr;
        if (g.curve != nullptr) {
            const OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 const_cast<char*>(g.curve), 0),
                OSSL_PARAM_construct_end()};
            if (EVP_PKEY_CTX_set_params(ctx.get(), params) != 1) return nullptr;
        }
        slot = std::move(ctx);
    }
    return slot.get();
}

EVP_PKEY_CTX* thread_fromdata_ctx() {
    thread_local PkeyCtxPtr ctx = [] {
        PkeyCtxPtr c(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
        if (c && EVP_PKEY_fromdata_init(c.get()) != 1) c.reset();
        return c;
    }();
    return ctx.get();
}

// An EC key from its encoded point (0x04 || x || y) and, optionally, its private scalar.
Result<PkeyPtr> ec_key_from(const PkeyGroup& g, std::span<const uint8_t> point,
                            const BIGNUM* priv) {
    EVP_PKEY_CTX* ctx = thread_fromdata_ctx();
    std::unique_ptr<OSSL_PARAM_BLD, detail::Deleter<OSSL_PARAM_BLD_free>> bld(OSSL_PARAM_BLD_new());
    if (!ctx || !bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, g.curve, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                          point.size()) ||
        (priv != nullptr && !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv)))
        return openssl_error(Errc::crypto_failure, "EC key parameters");
    std::unique_ptr<OSSL_PARAM, detail::Deleter<OSSL_PARAM_free>> params(
        OSSL_PARAM_BLD_to_param(bld.get()));
    EVP_PKEY* pkey = nullptr;
    if (!params || EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                                     params.get()) != 1)
        return openssl_error(Errc::invalid_public_key, "EC point rejected");
    return PkeyPtr(pkey);
}

class EcpKeyExchange final : public KeyExchange {
  public:
    EcpKeyExchange(DhGroup group, const PkeyGroup& params, PkeyPtr key, Bytes pub, BnPtr ec_d)
        : group_(group),
          params_(params),
          key_(std::move(key)),
          public_(std::move(pub)),
          ec_d_(std::move(ec_d)) {}

    DhGroup group() const override { return group_; }
    std::span<const uint8_t> public_key() const override { return public_; }

    Result<SecretBytes> shared_secret(std::span<const uint8_t> peer) const override {
        // RFC 5903 7: a value of any other length is not a public key.
        if (peer.size() != params_.public_bytes)
            return Error{Errc::invalid_public_key, "KE data has the wrong length"};
        return ec_derive(peer);
    }

  private:
    // ECDH on the shared, read-only curve object: the same constant-time ladder EVP's ECDH
    // runs (EC_POINT_mul with one point and no generator scalar), without importing the peer
    // point into a new EVP_PKEY, which in OpenSSL 3.0 rebuilds the curve every time (a quarter
    // of the cost of the whole derivation, measured with callgrind).
    Result<SecretBytes> ec_derive(std::span<const uint8_t> peer) const {
        // RFC 5903 7: x || y without the SEC 1 prefix. Check the point decodes, is on the curve
        // and is not the point at infinity (which has no affine encoding) before any use.
        std::array<uint8_t, 1 + 132> point{};
        point[0] = POINT_CONVERSION_UNCOMPRESSED;
        std::copy(peer.begin(), peer.end(), point.begin() + 1);
        const EC_GROUP* group = ec_group(params_);
        BN_CTX* ctx = thread_bn_ctx();
        using PointPtr = std::unique_ptr<EC_POINT, detail::Deleter<EC_POINT_clear_free>>;
        PointPtr pt(EC_POINT_new(group));
        PointPtr shared(EC_POINT_new(group));
        BnPtr x(BN_secure_new());
        if (!pt || !shared || !x || !ctx) return openssl_error(Errc::crypto_failure, "EC point");
        if (EC_POINT_oct2point(group, pt.get(), point.data(), 1 + peer.size(), ctx) != 1 ||
            EC_POINT_is_on_curve(group, pt.get(), ctx) != 1 ||
            EC_POINT_is_at_infinity(group, pt.get()))
            return openssl_error(Errc::invalid_public_key, "ECP point not on the curve");
        SecretBytes out(params_.secret_bytes);
        // These curves have cofactor 1, so a valid point times d in [1, n-1] is never infinity.
        if (EC_POINT_mul(group, shared.get(), nullptr, pt.get(), ec_d_.get(), ctx) != 1 ||
            EC_POINT_is_at_infinity(group, shared.get()) ||
            EC_POINT_get_affine_coordinates(group, shared.get(), x.get(), nullptr, ctx) != 1 ||
            BN_bn2binpad(x.get(), out.mutable_view().data(), static_cast<int>(out.size())) < 0)
            return openssl_error(Errc::crypto_failure, "ECDH");
        // RFC 5903 7: the shared secret is the x coordinate, as long as the field.
        return out;
    }

    DhGroup group_;
    const PkeyGroup& params_;
    PkeyPtr key_;
    Bytes public_;
    BnPtr ec_d_;  // the private scalar, for ec_derive()
};

// X25519/X448 (RFC 7748, RFC 8031) on EVP, with two departures from the obvious calls, both for
// speed and both covered at start-up by the RFC 7748 6.1 known-answer test (crypto/self_test.cpp)
// and in tests/unit/crypto/key_exchange_test.cpp against OpenSSL's own key generation:
// - One derivation context per key pair, made once, serves every derivation by changing its
//   peer; and the peer's public value is set into one reusable EVP_PKEY per thread instead of a
//   new EVP_PKEY per exchange (3 us of OpenSSL 3.0 object set-up per IKE SA).
// - An X25519 public key is computed as RFC 7748 6.1 defines it, X25519(a, 9), with the same
//   Montgomery ladder (OpenSSL's assembly) as the shared secret, through that context. OpenSSL's
//   key generation and raw-key import compute it with its generic Edwards-curve code instead,
//   which is slower (38.5 vs 31.5 us here). To keep OpenSSL from doing that, the private key is
//   imported together with a placeholder public value (the base point), which OpenSSL stores
//   without checking and never reads for a derivation; the real public value is held here and
//   is what public_key() returns; an OpenSSL that refused such an import would get the ordinary
//   one instead (slower, same values). X448 keys are made by OpenSSL: there its fixed-base code is
//   the faster one (X448 exchange 413 us that way, 444 us with the ladder).
// X25519 key pair + shared secret: about 67 us instead of 76 (docs/performance.md).
class XdhKeyExchange final : public KeyExchange {
  public:
    // A fresh key pair.
    static Result<std::unique_ptr<KeyExchange>> generate(DhGroup group, const PkeyGroup& g) {
        if (!ladder_public(g)) {
            EVP_PKEY* raw = nullptr;
            EVP_PKEY_CTX* ctx = thread_keygen_ctx(g);
            if (ctx == nullptr || EVP_PKEY_generate(ctx, &raw) != 1)
                return openssl_error(Errc::crypto_failure, "key generation");
            return with_openssl_public(group, g, PkeyPtr(raw));
        }
        // RFC 7748 6.1: the private key is 32 random octets, from OpenSSL's private DRBG as its
        // own key generation would draw them.
        std::array<uint8_t, 32> scalar{};
        if (RAND_priv_bytes(scalar.data(), static_cast<int>(scalar.size())) != 1)
            return openssl_error(Errc::crypto_failure, "X25519 private key");
        auto kx = from_private(group, g, scalar);
        OPENSSL_cleanse(scalar.data(), scalar.size());
        return kx;
    }

    // `priv` is the RFC 7748 scalar (any octets; the function clamps it).
    static Result<std::unique_ptr<KeyExchange>> from_private(DhGroup group, const PkeyGroup& g,
                                                             std::span<const uint8_t> priv) {
        if (priv.size() != g.secret_bytes)
            return Error{Errc::bad_key_length, "X25519/X448 private key length"};
        // Set once an OpenSSL refused the placeholder import (see below): no point asking again.
        static std::atomic<bool> placeholder_refused{false};
        if (!ladder_public(g) || placeholder_refused.load(std::memory_order_relaxed))
            return from_private_by_openssl(group, g, priv);
        const std::span<const uint8_t> base = kBasePoint;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY,
                                              const_cast<uint8_t*>(priv.data()), priv.size()),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                              const_cast<uint8_t*>(base.data()), base.size()),
            OSSL_PARAM_construct_end()};
        EVP_PKEY_CTX* fromdata = thread_xdh_fromdata_ctx(g);
        EVP_PKEY* raw = nullptr;
        if (fromdata == nullptr ||
            EVP_PKEY_fromdata(fromdata, &raw, EVP_PKEY_KEYPAIR, params) != 1) {
            // An OpenSSL that checked the public value against the private key on import would
            // refuse the placeholder: take the ordinary, slower way then rather than fail.
            detail::clear_openssl_errors();
            placeholder_refused.store(true, std::memory_order_relaxed);
            return from_private_by_openssl(group, g, priv);
        }
        auto kx = make(group, g, PkeyPtr(raw));
        if (!kx) return kx.take_error();
        auto pub = (*kx)->derive_with(base);
        if (!pub) return Error{Errc::crypto_failure, "X25519 public key"};
        (*kx)->public_.assign(pub->view().begin(), pub->view().end());
        return std::unique_ptr<KeyExchange>(std::move(*kx));
    }

    DhGroup group() const override { return group_; }
    std::span<const uint8_t> public_key() const override { return public_; }

    Result<SecretBytes> shared_secret(std::span<const uint8_t> peer) const override {
        // RFC 8031 2: a value of any other length is not a public key.
        if (peer.size() != params_.public_bytes)
            return Error{Errc::invalid_public_key, "KE data has the wrong length"};
        return derive_with(peer);
    }

  private:
    XdhKeyExchange(DhGroup group, const PkeyGroup& params, PkeyPtr key, PkeyCtxPtr derive)
        : group_(group), params_(params), key_(std::move(key)), derive_(std::move(derive)) {}

    static bool ladder_public(const PkeyGroup& g) { return g.public_bytes == 32; }

    static Result<std::unique_ptr<XdhKeyExchange>> make(DhGroup group, const PkeyGroup& g,
                                                        PkeyPtr key) {
        PkeyCtxPtr derive(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
        if (!derive || EVP_PKEY_derive_init(derive.get()) != 1)
            return openssl_error(Errc::crypto_failure, "X25519/X448 derive context");
        return std::unique_ptr<XdhKeyExchange>(
            new XdhKeyExchange(group, g, std::move(key), std::move(derive)));
    }

    // OpenSSL computes the public value from the private key.
    static Result<std::unique_ptr<KeyExchange>> from_private_by_openssl(
        DhGroup group, const PkeyGroup& g, std::span<const uint8_t> priv) {
        PkeyPtr key(
            EVP_PKEY_new_raw_private_key_ex(nullptr, g.keytype, nullptr, priv.data(), priv.size()));
        if (!key) return openssl_error(Errc::crypto_failure, "raw private key");
        return with_openssl_public(group, g, std::move(key));
    }

    // A key whose public value OpenSSL computed: take it from the key.
    static Result<std::unique_ptr<KeyExchange>> with_openssl_public(DhGroup group,
                                                                    const PkeyGroup& g,
                                                                    PkeyPtr key) {
        Bytes pub(g.public_bytes);
        size_t len = pub.size();
        if (EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != pub.size())
            return openssl_error(Errc::crypto_failure, "raw public key");
        auto kx = make(group, g, std::move(key));
        if (!kx) return kx.take_error();
        (*kx)->public_ = std::move(pub);
        return std::unique_ptr<KeyExchange>(std::move(*kx));
    }

    // RFC 7748 4.1: the Curve25519 base point u = 9, little-endian.
    static constexpr std::array<uint8_t, 32> kBasePoint{9};

    static EVP_PKEY_CTX* thread_xdh_fromdata_ctx(const PkeyGroup& g) {
        thread_local std::array<PkeyCtxPtr, kPkeyGroups> ctxs;
        auto& slot = ctxs[g.index];
        if (!slot) {
            PkeyCtxPtr c(EVP_PKEY_CTX_new_from_name(nullptr, g.keytype, nullptr));
            if (!c || EVP_PKEY_fromdata_init(c.get()) != 1) return nullptr;
            slot = std::move(c);
        }
        return slot.get();
    }

    // The one peer key object per group and thread, re-filled for every derivation. A context
    // keeps a reference to the last peer it was given, but only ever reads it in the derivation
    // that follows setting it, on this same thread.
    static EVP_PKEY* thread_peer(const PkeyGroup& g, std::span<const uint8_t> value) {
        thread_local std::array<PkeyPtr, kPkeyGroups> peers;
        auto& slot = peers[g.index];
        if (!slot) {
            slot.reset(EVP_PKEY_new_raw_public_key_ex(nullptr, g.keytype, nullptr, value.data(),
                                                      value.size()));
            return slot.get();
        }
        if (EVP_PKEY_set1_encoded_public_key(slot.get(), value.data(), value.size()) != 1)
            return nullptr;
        return slot.get();
    }

    Result<SecretBytes> derive_with(std::span<const uint8_t> peer) const {
        EVP_PKEY* peer_key = thread_peer(params_, peer);
        // validate_peer = 0: the length check is all RFC 8031 asks of the input; the all-zero
        // result is checked below.
        if (peer_key == nullptr || EVP_PKEY_derive_set_peer_ex(derive_.get(), peer_key, 0) != 1)
            return openssl_error(Errc::invalid_public_key, "X25519/X448 public value");
        size_t len = params_.secret_bytes;
        SecretBytes out(len);
        if (EVP_PKEY_derive(derive_.get(), out.mutable_view().data(), &len) != 1) {
            // X25519/X448 derivation fails exactly when the result is all zero (a small-order
            // peer point); that is the peer's fault, not ours.
            return openssl_error(Errc::invalid_public_key, "all-zero shared secret");
        }
        if (len != params_.secret_bytes)
            return Error{Errc::crypto_failure, "unexpected shared secret length"};
        // RFC 7748 6.1 / RFC 8031 2.2: reject the all-zero value (checked in constant time
        // whatever OpenSSL already did).
        static const std::array<uint8_t, 56> zeros{};
        if (CRYPTO_memcmp(out.view().data(), zeros.data(), len) == 0)
            return Error{Errc::invalid_public_key, "all-zero shared secret"};
        return out;
    }

    DhGroup group_;
    const PkeyGroup& params_;
    PkeyPtr key_;  // the private key (X25519: with the placeholder public value, see above)
    PkeyCtxPtr derive_;
    Bytes public_;
};

Result<Bytes> public_bytes(const PkeyGroup& g, EVP_PKEY* key) {
    Bytes pub(g.public_bytes);
    std::array<uint8_t, 1 + 132> encoded{};
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, encoded.data(),
                                        encoded.size(), &len) != 1 ||
        len != 1 + g.public_bytes || encoded[0] != POINT_CONVERSION_UNCOMPRESSED)
        return openssl_error(Errc::crypto_failure, "EC public point");
    std::copy_n(encoded.begin() + 1, g.public_bytes, pub.begin());
    return pub;
}

Result<std::unique_ptr<KeyExchange>> wrap(DhGroup group, const PkeyGroup& g, PkeyPtr key) {
    auto pub = public_bytes(g, key.get());
    if (!pub) return pub.take_error();
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1)
        return openssl_error(Errc::crypto_failure, "EC private scalar");
    BnPtr tmp(raw);  // cleared on free
    BnPtr d(BN_secure_new());
    if (!d || !BN_copy(d.get(), tmp.get()))
        return openssl_error(Errc::crypto_failure, "EC private scalar");
    BN_set_flags(d.get(), BN_FLG_CONSTTIME);
    return std::unique_ptr<KeyExchange>(
        new EcpKeyExchange(group, g, std::move(key), std::move(*pub), std::move(d)));
}

Result<std::unique_ptr<KeyExchange>> generate_pkey(DhGroup group, const PkeyGroup& g) {
    if (g.family == Family::xdh) return XdhKeyExchange::generate(group, g);
    EVP_PKEY_CTX* ctx = thread_keygen_ctx(g);
    EVP_PKEY* key = nullptr;
    if (!ctx || EVP_PKEY_generate(ctx, &key) != 1)
        return openssl_error(Errc::crypto_failure, "key generation");
    return wrap(group, g, PkeyPtr(key));
}

Result<std::unique_ptr<KeyExchange>> pkey_from_private(DhGroup group, const PkeyGroup& g,
                                                       std::span<const uint8_t> priv) {
    if (g.family == Family::xdh) return XdhKeyExchange::from_private(group, g, priv);
    // ECP: compute the public point ourselves so the imported key pair is complete.
    if (priv.empty() || priv.size() > g.secret_bytes)
        return Error{Errc::bad_key_length, "ECP private key length"};
    const EC_GROUP* group_ec = ec_group(g);
    BnPtr d(BN_secure_new());
    std::unique_ptr<EC_POINT, detail::Deleter<EC_POINT_free>> q(EC_POINT_new(group_ec));
    if (!d || !q || !BN_bin2bn(priv.data(), static_cast<int>(priv.size()), d.get()))
        return openssl_error(Errc::crypto_failure, "ECP private key");
    if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group_ec)) >= 0)
        return Error{Errc::bad_key_length, "ECP private key out of range"};
    std::array<uint8_t, 1 + 132> encoded{};
    if (EC_POINT_mul(group_ec, q.get(), d.get(), nullptr, nullptr, thread_bn_ctx()) != 1 ||
        EC_POINT_point2oct(group_ec, q.get(), POINT_CONVERSION_UNCOMPRESSED, encoded.data(),
                           encoded.size(), thread_bn_ctx()) != 1 + g.public_bytes)
        return openssl_error(Errc::crypto_failure, "ECP public point");
    auto key =
        ec_key_from(g, std::span<const uint8_t>(encoded.data(), 1 + g.public_bytes), d.get());
    if (!key) return Error{Errc::crypto_failure, key.error().detail};
    return wrap(group, g, std::move(*key));
}

}  // namespace

bool is_supported(DhGroup group) {
    return modp_group(group) != nullptr || pkey_group(group) != nullptr;
}

Result<std::unique_ptr<KeyExchange>> generate_key_exchange(DhGroup group) {
    if (const ModpGroup* m = modp_group(group)) return generate_modp(group, *m);
    if (const PkeyGroup* g = pkey_group(group)) return generate_pkey(group, *g);
    return Error{Errc::unsupported_algorithm, std::string(name(group))};
}

Result<std::unique_ptr<KeyExchange>> key_exchange_from_private(DhGroup group,
                                                               std::span<const uint8_t> priv) {
    if (const ModpGroup* m = modp_group(group)) return modp_from_private(group, *m, priv);
    if (const PkeyGroup* g = pkey_group(group)) return pkey_from_private(group, *g, priv);
    return Error{Errc::unsupported_algorithm, std::string(name(group))};
}

}  // namespace ikemesh::crypto
