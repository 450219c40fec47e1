#include "crypto/self_test.hpp"

#include <string>

#include "common/bytes.hpp"
#include "crypto/ike_kdf.hpp"
#include "crypto/key_exchange.hpp"
#include "crypto/prf.hpp"
#include "crypto/signature.hpp"
#include "crypto/sk_cipher.hpp"

namespace ikemesh::crypto {
namespace {

Bytes hex(std::string_view h) {
    return from_hex(h).value_or(Bytes{});
}

Error fail(const char* what) {
    return Error{Errc::crypto_failure, std::string("self-test: ") + what};
}

bool same(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

Status x25519() {
    // RFC 7748 6.1: Alice's private key with Bob's public key gives K.
    auto kex = key_exchange_from_private(
        DhGroup::curve25519,
        hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    if (!kex || !same((*kex)->public_key(),
                      hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")))
        return fail("X25519 public key");
    auto k = (*kex)->shared_secret(
        hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
    if (!k ||
        !same(k->view(), hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")))
        return fail("X25519 shared secret");
    return {};
}

Status prf() {
    // RFC 4231 4.3 (test case 2).
    const std::string_view data = "what do ya want for nothing?";
    const std::string_view key = "Jefe";
    auto mac = Prf(PrfAlg::hmac_sha2_256)
                   .compute({reinterpret_cast<const uint8_t*>(key.data()), key.size()},
                            {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
    if (!mac ||
        !same(mac->view(), hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")))
        return fail("HMAC-SHA-256");
    // NIST CAVP SP 800-135 IKEv2 (SHA-1, COUNT 0): SKEYSEED and the first 32 octets of DKM.
    const Prf sha1(PrfAlg::hmac_sha1);
    const Bytes ni = hex("32b50d5f4a3763f3"), nr = hex("9206a04b26564cb1");
    auto seed = compute_skeyseed(
        sha1, hex("4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52"), ni, nr);
    if (!seed || !same(seed->view(), hex("a9a7b222b59f8f48645f28a1db5b5f5d7479cba7")))
        return fail("SKEYSEED");
    auto keys = expand_ike_keys(sha1, seed->view(), ni, nr, IkeSpi{0x34c9e7c188868785},
                                IkeSpi{0x3ff77d760d2b2199}, {16, 20});
    if (!keys || !same(keys->sk_d.view(), hex("a14293677cc80ff8f9cc0eee30d895da9d8f4056")))
        return fail("prf+");
    return {};
}

Status aead() {
    // RFC 7634 Appendix B: an INFORMATIONAL request protected with ChaCha20-Poly1305.
    auto c = SkCipher::create({EncrAlg::chacha20_poly1305, 256}, IntegAlg::none,
                              SecretBytes(hex("808182838485868788898a8b8c8d8e8f909192939495969798"
                                              "999a9b9c9d9e9fa0a1a2a3")),
                              SecretBytes{});
    if (!c) return fail("ChaCha20-Poly1305 key");
    const Bytes aad = hex("c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e202500000000090000004529000029");
    const Bytes iv = hex("1011121314151617");
    const Bytes pt = hex("0000000c000040010000000a00");
    Bytes ct(pt.size()), icv(16), back(pt.size());
    if (!c->seal(aad, iv, pt, ct, icv) || !same(ct, hex("610394701f8d017f7c12924889")) ||
        !same(icv, hex("6b71bfe25236efd7cdc67066906315b2")))
        return fail("ChaCha20-Poly1305 seal");
    if (!c->open(aad, iv, ct, icv, back) || !same(back, pt)) return fail("ChaCha20-Poly1305 open");
    icv[0] ^= 1;
    if (c->open(aad, iv, ct, icv, back)) return fail("ChaCha20-Poly1305 accepted a bad tag");
    return {};
}

Status cbc() {
    // NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt, first block), with HMAC-SHA-256-128 whose ICV
    // must equal the truncated PRF over aad | iv | ciphertext (RFC 7296 3.14, RFC 4868).
    const Bytes ikey(32, 0x0b);
    auto c =
        SkCipher::create({EncrAlg::aes_cbc, 128}, IntegAlg::hmac_sha2_256_128,
                         SecretBytes(hex("2b7e151628aed2a6abf7158809cf4f3c")), SecretBytes(ikey));
    if (!c) return fail("AES-CBC key");
    const Bytes aad = hex("0102030405060708");
    const Bytes iv = hex("000102030405060708090a0b0c0d0e0f");
    const Bytes pt = hex("6bc1bee22e409f96e93d7e117393172a");
    Bytes ct(16), icv(16), back(16);
    if (!c->seal(aad, iv, pt, ct, icv) || !same(ct, hex("7649abac8119b246cee98e9b12e9197d")))
        return fail("AES-CBC encrypt");
    Bytes mac_input = aad;
    mac_input.insert(mac_input.end(), iv.begin(), iv.end());
    mac_input.insert(mac_input.end(), ct.begin(), ct.end());
    auto full = Prf(PrfAlg::hmac_sha2_256).compute(ikey, mac_input);
    if (!full || !same(icv, full->view().first(16))) return fail("HMAC-SHA-256-128 ICV");
    if (!c->open(aad, iv, ct, icv, back) || !same(back, pt)) return fail("AES-CBC decrypt");
    return {};
}

Status signature() {
    // RFC 8032 7.1 TEST 1: Ed25519 over the empty message; signatures are deterministic.
    auto key = PrivateKey::ed25519_from_seed(
        hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    if (!key) return fail("Ed25519 key");
    auto auth = sign_auth(*key, SignatureHash::identity, {});
    const Bytes want = hex(
        "07300506032b6570"
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
        "1cf9b46bd25bf5f0595bbe24655141438e7a100b");
    if (!auth || !same(*auth, want)) return fail("Ed25519 AUTH");
    if (!verify_auth(key->public_key(), *auth, {})) return fail("Ed25519 verify");
    const uint8_t other[] = {0x00};
    if (verify_auth(key->public_key(), *auth, other)) return fail("Ed25519 accepted a bad message");
    return {};
}

}  // namespace

Status run_self_test() {
    for (auto check : {x25519, prf, aead, cbc, signature})
        if (auto s = check(); !s) return s;
    return {};
}

}  // namespace ikemesh::crypto
