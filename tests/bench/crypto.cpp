// Micro-benchmarks of the crypto suite on the paths an IKE responder runs per handshake.
// Run: build/tests/bench/bench_crypto (figures and the exact command in docs/performance.md).
// BM_X25519_KeyExchange is one side of an IKE_SA_INIT: generate a key pair and derive g^ir
// from the peer's value; the wire engineer compares it with the codec's parse benchmark.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/ike_kdf.hpp"
#include "crypto/key_exchange.hpp"
#include "crypto/prf.hpp"
#include "crypto/self_test.hpp"
#include "crypto/signature.hpp"
#include "crypto/sk_cipher.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

namespace {

void key_exchange(benchmark::State& state, DhGroup group) {
    auto peer = generate_key_exchange(group);
    if (!peer) {
        state.SkipWithError("peer key");
        return;
    }
    const Bytes peer_public((*peer)->public_key().begin(), (*peer)->public_key().end());
    for (auto _ : state) {
        auto kex = generate_key_exchange(group);
        auto secret = (*kex)->shared_secret(peer_public);
        benchmark::DoNotOptimize(secret->view().data());
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_X25519_KeyExchange(benchmark::State& s) {
    key_exchange(s, DhGroup::curve25519);
}
void BM_X448_KeyExchange(benchmark::State& s) {
    key_exchange(s, DhGroup::curve448);
}
void BM_P256_KeyExchange(benchmark::State& s) {
    key_exchange(s, DhGroup::ecp256);
}
void BM_P384_KeyExchange(benchmark::State& s) {
    key_exchange(s, DhGroup::ecp384);
}
void BM_MODP2048_KeyExchange(benchmark::State& s) {
    key_exchange(s, DhGroup::modp2048);
}
void BM_MODP3072_KeyExchange(benchmark::State& s) {
    key_exchange(s, DhGroup::modp3072);
}
BENCHMARK(BM_X25519_KeyExchange);
BENCHMARK(BM_X448_KeyExchange);
BENCHMARK(BM_P256_KeyExchange);
BENCHMARK(BM_P384_KeyExchange);
BENCHMARK(BM_MODP2048_KeyExchange);
BENCHMARK(BM_MODP3072_KeyExchange);

void BM_X25519_Generate(benchmark::State& state) {
    for (auto _ : state) {
        auto kex = generate_key_exchange(DhGroup::curve25519);
        benchmark::DoNotOptimize((*kex)->public_key().data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519_Generate);

void BM_X25519_Derive(benchmark::State& state) {
    auto peer = generate_key_exchange(DhGroup::curve25519);
    auto kex = generate_key_exchange(DhGroup::curve25519);
    const Bytes peer_public((*peer)->public_key().begin(), (*peer)->public_key().end());
    for (auto _ : state) {
        auto secret = (*kex)->shared_secret(peer_public);
        benchmark::DoNotOptimize(secret->view().data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519_Derive);

// The same work written straight against EVP with a reused key-generation context, as a floor
// for what our wrapper adds (openssl speed measures derive alone, with keys made in advance).
void BM_RawEvp_X25519_KeyExchange(benchmark::State& state) {
    EVP_PKEY* peer = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
    EVP_PKEY_CTX* gen = EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr);
    EVP_PKEY_keygen_init(gen);
    unsigned char peer_raw[32];
    size_t peer_len = sizeof peer_raw;
    EVP_PKEY_get_raw_public_key(peer, peer_raw, &peer_len);
    for (auto _ : state) {
        EVP_PKEY* key = nullptr;
        EVP_PKEY_generate(gen, &key);
        unsigned char pub[32];
        size_t pub_len = sizeof pub;
        EVP_PKEY_get_raw_public_key(key, pub, &pub_len);
        EVP_PKEY* p = EVP_PKEY_new_raw_public_key_ex(nullptr, "X25519", nullptr, peer_raw, 32);
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
        EVP_PKEY_derive_init(ctx);
        EVP_PKEY_derive_set_peer_ex(ctx, p, 0);
        unsigned char out[32];
        size_t out_len = sizeof out;
        EVP_PKEY_derive(ctx, out, &out_len);
        benchmark::DoNotOptimize(out);
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(p);
        EVP_PKEY_free(key);
    }
    EVP_PKEY_CTX_free(gen);
    EVP_PKEY_free(peer);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawEvp_X25519_KeyExchange);

// SKEYSEED and the seven SK_* keys for prfsha256 with aes128gcm16 (what a responder derives
// once per IKE SA), then a CHILD SA's KEYMAT for aes128gcm16 in both directions.
void BM_IkeKeySchedule(benchmark::State& state) {
    const Prf prf(PrfAlg::hmac_sha2_256);
    const Bytes ni(32, 0x11), nr(32, 0x22), gir(32, 0x33);
    for (auto _ : state) {
        auto keys = derive_ike_keys(prf, gir, ni, nr, IkeSpi{0x0102030405060708},
                                    IkeSpi{0x1112131415161718}, {.encr = 20, .integ = 0});
        auto keymat = derive_child_keymat(prf, keys->sk_d.view(), {}, ni, nr, 2 * 20);
        benchmark::DoNotOptimize(keymat->view().data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IkeKeySchedule);

// HMAC routes: ours (a per-thread EVP_MAC_CTX with its digest set once, re-keyed per call)
// against OpenSSL's one-shot EVP_Q_mac, which fetches HMAC and the digest on every call.
void BM_HmacSha256_64B(benchmark::State& state) {
    const Prf prf(PrfAlg::hmac_sha2_256);
    const Bytes key(32, 0x0b), data(64, 0x5a);
    Bytes out(32);
    for (auto _ : state) {
        auto s = prf.compute(key, data, out);
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HmacSha256_64B);

void BM_HmacSha256_64B_EvpQMac(benchmark::State& state) {
    const Bytes key(32, 0x0b), data(64, 0x5a);
    Bytes out(32);
    for (auto _ : state) {
        size_t len = 0;
        EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA2-256", nullptr, key.data(), key.size(),
                  data.data(), data.size(), out.data(), out.size(), &len);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HmacSha256_64B_EvpQMac);

void BM_PskAuth(benchmark::State& state) {
    const Prf prf(PrfAlg::hmac_sha2_256);
    const Bytes psk(32, 0x44), msg(300, 0x55), nonce(32, 0x66), sk_p(32, 0x77), id(20, 0x88);
    for (auto _ : state) {
        auto mid = maced_id(prf, sk_p, id);
        auto auth = psk_auth(prf, psk, msg, nonce, mid->view());
        benchmark::DoNotOptimize(auth->view().data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PskAuth);

void sk_seal(benchmark::State& state, EncrSpec e, IntegAlg i, size_t len) {
    auto c = SkCipher::create(e, i, SecretBytes(Bytes(*encr_key_size(e), 0x42)),
                              SecretBytes(Bytes(integ_key_size(i), 0x43)));
    const Bytes aad(32, 0x01), iv(c->iv_size(), 0x02), pt(len, 0x03);
    Bytes ct(len), icv(c->icv_size());
    for (auto _ : state) {
        auto s = c->seal(aad, iv, pt, ct, icv);
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(ct.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
void BM_AesGcm128_Seal300(benchmark::State& s) {
    sk_seal(s, {EncrAlg::aes_gcm_16, 128}, IntegAlg::none, 300);
}
void BM_ChaCha20Poly1305_Seal300(benchmark::State& s) {
    sk_seal(s, {EncrAlg::chacha20_poly1305, 256}, IntegAlg::none, 300);
}
void BM_AesCbc128Sha256_Seal304(benchmark::State& s) {
    sk_seal(s, {EncrAlg::aes_cbc, 128}, IntegAlg::hmac_sha2_256_128, 304);
}
BENCHMARK(BM_AesGcm128_Seal300);
BENCHMARK(BM_ChaCha20Poly1305_Seal300);
BENCHMARK(BM_AesCbc128Sha256_Seal304);

PrivateKey fresh_key(const char* alg, const char* param) {
    EVP_PKEY* k = param ? EVP_PKEY_Q_keygen(nullptr, nullptr, alg, param)
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, alg);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    auto key = PrivateKey::from_pem({reinterpret_cast<const uint8_t*>(data), size_t(len)});
    BIO_free(bio);
    EVP_PKEY_free(k);
    return *key;
}

void sign(benchmark::State& state, const PrivateKey& key, SignatureHash h) {
    const Bytes octets(400, 0x5a);
    for (auto _ : state) {
        auto auth = sign_auth(key, h, octets);
        benchmark::DoNotOptimize(auth->data());
    }
    state.SetItemsProcessed(state.iterations());
}
void verify(benchmark::State& state, const PrivateKey& key, SignatureHash h) {
    const Bytes octets(400, 0x5a);
    const Bytes auth = *sign_auth(key, h, octets);
    const PublicKey pub = key.public_key();
    for (auto _ : state) {
        auto s = verify_auth(pub, auth, octets);
        benchmark::DoNotOptimize(s);
    }
    state.SetItemsProcessed(state.iterations());
}
void BM_EcdsaP256_Sign(benchmark::State& s) {
    static const PrivateKey k = fresh_key("EC", "P-256");
    sign(s, k, SignatureHash::sha256);
}
void BM_EcdsaP256_Verify(benchmark::State& s) {
    static const PrivateKey k = fresh_key("EC", "P-256");
    verify(s, k, SignatureHash::sha256);
}
void BM_Ed25519_Sign(benchmark::State& s) {
    static const PrivateKey k = fresh_key("ED25519", nullptr);
    sign(s, k, SignatureHash::identity);
}
void BM_Ed25519_Verify(benchmark::State& s) {
    static const PrivateKey k = fresh_key("ED25519", nullptr);
    verify(s, k, SignatureHash::identity);
}
BENCHMARK(BM_EcdsaP256_Sign);
BENCHMARK(BM_EcdsaP256_Verify);
BENCHMARK(BM_Ed25519_Sign);
BENCHMARK(BM_Ed25519_Verify);

// The start-up self-test (crypto/self_test.hpp promises well under 5 ms).
void BM_SelfTest(benchmark::State& state) {
    for (auto _ : state) {
        auto s = run_self_test();
        if (!s) state.SkipWithError("self-test failed");
    }
}
BENCHMARK(BM_SelfTest)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
