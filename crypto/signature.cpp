#include "crypto/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>

#include "crypto/openssl_util.hpp"
#include "crypto/secret_file.hpp"

namespace ikemesh::crypto {
namespace {

using detail::Hash;
using detail::MdCtxPtr;
using detail::openssl_error;

std::shared_ptr<evp_pkey_st> share(EVP_PKEY* k) {
    return {k, EVP_PKEY_free};
}

// The minimum RSA modulus we accept for our own keys (RFC 8247 4.1 recommends 2048 or more).
constexpr int kMinRsaBits = 2048;

Result<KeyType> classify(EVP_PKEY* key) {
    if (EVP_PKEY_is_a(key, "ED25519")) return KeyType::ed25519;
    if (EVP_PKEY_is_a(key, "RSA")) {
        if (EVP_PKEY_get_bits(key) < kMinRsaBits)
            return Error{Errc::unsupported_algorithm, "RSA key shorter than 2048 bits"};
        return KeyType::rsa;
    }
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = {};
        size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &len) != 1)
            return openssl_error(Errc::unsupported_algorithm, "EC key without a named curve");
        const int nid = OBJ_txt2nid(group);
        if (nid == NID_X9_62_prime256v1) return KeyType::ecdsa_p256;
        if (nid == NID_secp384r1) return KeyType::ecdsa_p384;
        if (nid == NID_secp521r1) return KeyType::ecdsa_p521;
        return Error{Errc::unsupported_algorithm, std::string("EC curve ") + group};
    }
    return Error{Errc::unsupported_algorithm, "key type not supported for IKE signatures"};
}

std::optional<Hash> digest_of(SignatureHash h) {
    switch (h) {
        case SignatureHash::sha256:
            return Hash::sha256;
        case SignatureHash::sha384:
            return Hash::sha384;
        case SignatureHash::sha512:
            return Hash::sha512;
        default:
            return std::nullopt;
    }
}

bool fits(KeyType key, SignatureHash hash) {
    if (key == KeyType::ed25519) return hash == SignatureHash::identity;
    return digest_of(hash).has_value();
}

// DER building blocks of the AlgorithmIdentifiers (RFC 7427 Appendix A, RFC 4055 3.1).
// OID contents (without tag and length).
constexpr std::array<uint8_t, 9> kOidSha256{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
constexpr std::array<uint8_t, 8> kOidEcdsaSha256{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
constexpr std::array<uint8_t, 9> kOidRsassaPss{0x2a, 0x86, 0x48, 0x86, 0xf7,
                                               0x0d, 0x01, 0x01, 0x0a};
constexpr std::array<uint8_t, 9> kOidMgf1{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
constexpr std::array<uint8_t, 3> kOidEd25519{0x2b, 0x65, 0x70};

// The last OID octet distinguishes SHA-256/384/512 (2.16.840.1.101.3.4.2.{1,2,3}) and
// ecdsa-with-SHA256/384/512 (1.2.840.10045.4.3.{2,3,4}).
uint8_t sha_arc(Hash h) {
    return h == Hash::sha256 ? 1 : h == Hash::sha384 ? 2 : 3;
}
uint8_t ecdsa_arc(Hash h) {
    return h == Hash::sha256 ? 2 : h == Hash::sha384 ? 3 : 4;
}

void put_oid(Bytes& out, std::span<const uint8_t> oid) {
    out.push_back(0x06);
    out.push_back(static_cast<uint8_t>(oid.size()));
    out.insert(out.end(), oid.begin(), oid.end());
}

// SEQUENCE { OID shaN, NULL }: 15 octets.
void put_hash_alg(Bytes& out, Hash h) {
    out.insert(out.end(), {0x30, 0x0d});
    Bytes oid(kOidSha256.begin(), kOidSha256.end());
    oid.back() = sha_arc(h);
    put_oid(out, oid);
    out.insert(out.end(), {0x05, 0x00});
}

Bytes algorithm_identifier_der(KeyType key, SignatureHash hash) {
    Bytes out;
    if (key == KeyType::ed25519) {
        // RFC 8420 / RFC 8410: SEQUENCE { id-Ed25519 }, parameters absent.
        out.insert(out.end(), {0x30, 0x05});
        put_oid(out, kOidEd25519);
        return out;
    }
    const Hash h = *digest_of(hash);
    if (key == KeyType::rsa) {
        // SEQUENCE { id-RSASSA-PSS, SEQUENCE { [0] hashAlg, [1] SEQUENCE { id-mgf1, hashAlg },
        //            [2] INTEGER saltLength } }; trailerField is the default and so omitted.
        out.insert(out.end(), {0x30, 0x41});
        put_oid(out, kOidRsassaPss);
        out.insert(out.end(), {0x30, 0x34, 0xa0, 0x0f});
        put_hash_alg(out, h);
        out.insert(out.end(), {0xa1, 0x1c, 0x30, 0x1a});
        put_oid(out, kOidMgf1);
        put_hash_alg(out, h);
        out.insert(out.end(), {0xa2, 0x03, 0x02, 0x01, static_cast<uint8_t>(detail::hash_size(h))});
        return out;
    }
    // SEQUENCE { ecdsa-with-SHAn }, parameters absent (RFC 5758 3.2).
    out.insert(out.end(), {0x30, 0x0a});
    Bytes oid(kOidEcdsaSha256.begin(), kOidEcdsaSha256.end());
    oid.back() = ecdsa_arc(h);
    put_oid(out, oid);
    return out;
}

Result<Bytes> raw_sign(EVP_PKEY* key, KeyType type, SignatureHash hash,
                       std::span<const uint8_t> msg) {
    MdCtxPtr md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    const char* mdname = type == KeyType::ed25519 ? nullptr : detail::hash_name(*digest_of(hash));
    if (!md || EVP_DigestSignInit_ex(md.get(), &pctx, mdname, nullptr, nullptr, key, nullptr) != 1)
        return openssl_error(Errc::crypto_failure, "sign init");
    if (type == KeyType::rsa) {
        const int salt = static_cast<int>(detail::hash_size(*digest_of(hash)));
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mdname, nullptr) != 1)
            return openssl_error(Errc::crypto_failure, "RSASSA-PSS parameters");
    }
    size_t len = 0;
    if (EVP_DigestSign(md.get(), nullptr, &len, msg.data(), msg.size()) != 1)
        return openssl_error(Errc::crypto_failure, "signature size");
    Bytes sig(len);
    if (EVP_DigestSign(md.get(), sig.data(), &len, msg.data(), msg.size()) != 1)
        return openssl_error(Errc::crypto_failure, "sign");
    sig.resize(len);
    return sig;
}

// ---- verification: the AlgorithmIdentifier as the peer sent it

enum class Scheme { ecdsa, rsa_pss, rsa_pkcs1, ed25519 };

struct Parsed {
    Scheme scheme;
    Hash hash = Hash::sha256;
    int salt = 0;
};

using AlgorPtr = std::unique_ptr<X509_ALGOR, detail::Deleter<X509_ALGOR_free>>;

Error bad(const char* why) {
    return Error{Errc::signature_invalid, why};
}

std::optional<Hash> hash_from_nid(int nid) {
    switch (nid) {
        case NID_sha256:
            return Hash::sha256;
        case NID_sha384:
            return Hash::sha384;
        case NID_sha512:
            return Hash::sha512;
        default:
            return std::nullopt;
    }
}

// A hash AlgorithmIdentifier inside PSS parameters: SHA-2 with NULL or absent parameters.
std::optional<Hash> hash_alg(const X509_ALGOR* a) {
    if (a == nullptr) return std::nullopt;  // absent means SHA-1, which we do not accept
    const ASN1_OBJECT* obj = nullptr;
    int ptype = 0;
    X509_ALGOR_get0(&obj, &ptype, nullptr, a);
    if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL) return std::nullopt;
    return hash_from_nid(OBJ_obj2nid(obj));
}

Result<Parsed> parse_pss(const X509_ALGOR* alg) {
    const void* pval = nullptr;
    int ptype = 0;
    X509_ALGOR_get0(nullptr, &ptype, &pval, alg);
    if (ptype != V_ASN1_SEQUENCE) return bad("RSASSA-PSS without parameters");
    const ASN1_STRING* seq = static_cast<const ASN1_STRING*>(pval);
    const unsigned char* p = ASN1_STRING_get0_data(seq);
    std::unique_ptr<RSA_PSS_PARAMS, detail::Deleter<RSA_PSS_PARAMS_free>> params(
        d2i_RSA_PSS_PARAMS(nullptr, &p, ASN1_STRING_length(seq)));
    if (!params || p != ASN1_STRING_get0_data(seq) + ASN1_STRING_length(seq)) {
        detail::clear_openssl_errors();
        return bad("malformed RSASSA-PSS parameters");
    }
    auto h = hash_alg(params->hashAlgorithm);
    if (!h) return bad("RSASSA-PSS hash is not SHA-256/384/512");
    // maskGenAlgorithm must be MGF1 with the same hash (RFC 8247 3.2 and RFC 4055 3.1).
    const X509_ALGOR* mgf = params->maskGenAlgorithm;
    if (mgf == nullptr) return bad("RSASSA-PSS with the default MGF (SHA-1)");
    const ASN1_OBJECT* mgf_oid = nullptr;
    int mgf_ptype = 0;
    const void* mgf_val = nullptr;
    X509_ALGOR_get0(&mgf_oid, &mgf_ptype, &mgf_val, mgf);
    if (OBJ_obj2nid(mgf_oid) != NID_mgf1 || mgf_ptype != V_ASN1_SEQUENCE)
        return bad("RSASSA-PSS mask generation is not MGF1");
    const ASN1_STRING* mgf_seq = static_cast<const ASN1_STRING*>(mgf_val);
    const unsigned char* q = ASN1_STRING_get0_data(mgf_seq);
    AlgorPtr mgf_hash(d2i_X509_ALGOR(nullptr, &q, ASN1_STRING_length(mgf_seq)));
    if (!mgf_hash) {
        detail::clear_openssl_errors();
        return bad("malformed MGF1 parameters");
    }
    auto mh = hash_alg(mgf_hash.get());
    if (!mh || *mh != *h) return bad("MGF1 hash differs from the signature hash");
    long salt = 20;  // RFC 4055 3.1 default
    if (params->saltLength != nullptr && ASN1_INTEGER_get_int64(&salt, params->saltLength) != 1)
        return bad("bad RSASSA-PSS salt length");
    // We sign with a salt as long as the hash; accept any salt from 0 up to that length's
    // double, which covers every implementation we know and excludes absurd values.
    if (salt < 0 || salt > 2 * static_cast<long>(detail::hash_size(*h)))
        return bad("RSASSA-PSS salt length out of range");
    if (params->trailerField != nullptr) {
        int64_t trailer = 0;
        if (ASN1_INTEGER_get_int64(&trailer, params->trailerField) != 1 || trailer != 1)
            return bad("RSASSA-PSS trailer field is not 1");
    }
    return Parsed{Scheme::rsa_pss, *h, static_cast<int>(salt)};
}

Result<Parsed> parse_algorithm(std::span<const uint8_t> der) {
    const unsigned char* p = der.data();
    AlgorPtr alg(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(der.size())));
    if (!alg || p != der.data() + der.size()) {
        detail::clear_openssl_errors();
        return bad("malformed AlgorithmIdentifier");
    }
    const ASN1_OBJECT* obj = nullptr;
    int ptype = 0;
    X509_ALGOR_get0(&obj, &ptype, nullptr, alg.get());
    const int nid = OBJ_obj2nid(obj);
    const bool no_params = ptype == V_ASN1_UNDEF;
    const bool null_or_none = no_params || ptype == V_ASN1_NULL;
    switch (nid) {
        case NID_ecdsa_with_SHA256:
        case NID_ecdsa_with_SHA384:
        case NID_ecdsa_with_SHA512: {
            // RFC 5758 says absent; some implementations send NULL. Both mean the same.
            if (!null_or_none) return bad("ECDSA AlgorithmIdentifier with parameters");
            const Hash h = nid == NID_ecdsa_with_SHA256   ? Hash::sha256
                           : nid == NID_ecdsa_with_SHA384 ? Hash::sha384
                                                          : Hash::sha512;
            return Parsed{Scheme::ecdsa, h, 0};
        }
        case NID_ED25519:
            if (!no_params) return bad("Ed25519 AlgorithmIdentifier with parameters");
            return Parsed{Scheme::ed25519, Hash::sha256, 0};
        case NID_sha256WithRSAEncryption:
        case NID_sha384WithRSAEncryption:
        case NID_sha512WithRSAEncryption: {
            if (!null_or_none) return bad("PKCS#1 AlgorithmIdentifier with parameters");
            const Hash h = nid == NID_sha256WithRSAEncryption   ? Hash::sha256
                           : nid == NID_sha384WithRSAEncryption ? Hash::sha384
                                                                : Hash::sha512;
            return Parsed{Scheme::rsa_pkcs1, h, 0};
        }
        case NID_rsassaPss:
            return parse_pss(alg.get());
        default:
            return bad("signature algorithm not accepted");
    }
}

bool scheme_fits(Scheme s, KeyType k) {
    switch (s) {
        case Scheme::ecdsa:
            return k == KeyType::ecdsa_p256 || k == KeyType::ecdsa_p384 || k == KeyType::ecdsa_p521;
        case Scheme::rsa_pss:
        case Scheme::rsa_pkcs1:
            return k == KeyType::rsa;
        case Scheme::ed25519:
            return k == KeyType::ed25519;
    }
    return false;
}

}  // namespace

std::string_view name(KeyType t) {
    switch (t) {
        case KeyType::ecdsa_p256:
            return "ecdsa-p256";
        case KeyType::ecdsa_p384:
            return "ecdsa-p384";
        case KeyType::ecdsa_p521:
            return "ecdsa-p521";
        case KeyType::rsa:
            return "rsa";
        case KeyType::ed25519:
            return "ed25519";
    }
    return "unknown";
}

std::string_view name(SignatureHash h) {
    switch (h) {
        case SignatureHash::sha1:
            return "sha1";
        case SignatureHash::sha256:
            return "sha256";
        case SignatureHash::sha384:
            return "sha384";
        case SignatureHash::sha512:
            return "sha512";
        case SignatureHash::identity:
            return "identity";
    }
    return "unknown";
}

std::span<const SignatureHash> announced_signature_hashes() {
    static constexpr std::array<SignatureHash, 4> kHashes{
        SignatureHash::sha256, SignatureHash::sha384, SignatureHash::sha512,
        SignatureHash::identity};
    return kHashes;
}

Result<SignatureHash> choose_signature_hash(KeyType key, std::span<const uint16_t> peer) {
    auto offered = [&](SignatureHash h) {
        for (uint16_t v : peer)
            if (v == static_cast<uint16_t>(h)) return true;
        return false;
    };
    using enum SignatureHash;
    std::array<SignatureHash, 3> order{sha256, sha384, sha512};
    switch (key) {
        case KeyType::ed25519:
            if (offered(identity)) return identity;
            return Error{Errc::unsupported_algorithm, "peer does not accept Ed25519 (identity)"};
        case KeyType::ecdsa_p384:
            order = {sha384, sha512, sha256};
            break;
        case KeyType::ecdsa_p521:
            order = {sha512, sha384, sha256};
            break;
        default:
            break;
    }
    for (auto h : order)
        if (offered(h)) return h;
    return Error{Errc::unsupported_algorithm, "no common signature hash"};
}

Result<PublicKey> PublicKey::from_der(std::span<const uint8_t> spki) {
    const unsigned char* p = spki.data();
    EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
    if (k == nullptr || p != spki.data() + spki.size()) {
        EVP_PKEY_free(k);
        return openssl_error(Errc::invalid_syntax, "SubjectPublicKeyInfo");
    }
    auto key = share(k);
    auto type = classify(k);
    if (!type) return type.take_error();
    return PublicKey(std::move(key), *type);
}

Bytes PublicKey::der() const {
    unsigned char* buf = nullptr;
    const int len = i2d_PUBKEY(key_.get(), &buf);
    if (len <= 0) return {};
    Bytes out(buf, buf + len);
    OPENSSL_free(buf);
    return out;
}

bool PublicKey::operator==(const PublicKey& o) const {
    return EVP_PKEY_eq(key_.get(), o.key_.get()) == 1;
}

Result<PrivateKey> PrivateKey::from_pem(std::span<const uint8_t> pem) {
    std::unique_ptr<BIO, detail::Deleter<BIO_free>> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return openssl_error(Errc::crypto_failure, "BIO");
    // No passphrase callback: encrypted keys are refused rather than prompting.
    auto no_password = [](char*, int, int, void*) -> int { return -1; };
    EVP_PKEY* k =
        PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, no_password, nullptr, nullptr, nullptr);
    if (k == nullptr) return openssl_error(Errc::invalid_syntax, "no unencrypted PEM private key");
    auto key = share(k);
    auto type = classify(k);
    if (!type) return type.take_error();
    return PrivateKey(std::move(key), *type);
}

Result<PrivateKey> PrivateKey::load_file(const std::string& path) {
    auto pem = read_secret_file_raw(path);
    if (!pem) return pem.take_error();
    auto key = from_pem(pem->view());
    if (!key) return Error{key.error().code, path + ": " + key.error().detail};
    return key;
}

Result<PrivateKey> PrivateKey::ed25519_from_seed(std::span<const uint8_t> seed) {
    if (seed.size() != 32) return Error{Errc::bad_key_length, "Ed25519 seed"};
    EVP_PKEY* k =
        EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, seed.data(), seed.size());
    if (k == nullptr) return openssl_error(Errc::crypto_failure, "Ed25519 key");
    return PrivateKey(share(k), KeyType::ed25519);
}

PublicKey PrivateKey::public_key() const {
    // The private key object carries the public half; share it (verification ignores d).
    return PublicKey(key_, type_);
}

Result<Bytes> signature_algorithm_identifier(KeyType key, SignatureHash hash) {
    if (!fits(key, hash))
        return Error{Errc::unsupported_algorithm,
                     std::string(name(hash)) + " with " + std::string(name(key))};
    return algorithm_identifier_der(key, hash);
}

Result<Bytes> sign_auth(const PrivateKey& key, SignatureHash hash,
                        std::span<const uint8_t> signed_octets) {
    auto alg = signature_algorithm_identifier(key.type(), hash);
    if (!alg) return alg.take_error();
    auto sig = raw_sign(key.native(), key.type(), hash, signed_octets);
    if (!sig) return sig.take_error();
    // RFC 7427 3: one octet of AlgorithmIdentifier length, the AlgorithmIdentifier, the value.
    Bytes out;
    out.reserve(1 + alg->size() + sig->size());
    out.push_back(static_cast<uint8_t>(alg->size()));
    out.insert(out.end(), alg->begin(), alg->end());
    out.insert(out.end(), sig->begin(), sig->end());
    return out;
}

Status verify_auth(const PublicKey& key, std::span<const uint8_t> auth_data,
                   std::span<const uint8_t> signed_octets) {
    if (auth_data.empty()) return bad("empty AUTH data");
    const size_t alg_len = auth_data[0];
    if (alg_len == 0 || auth_data.size() <= 1 + alg_len)
        return bad("AUTH data shorter than its AlgorithmIdentifier");
    auto parsed = parse_algorithm(auth_data.subspan(1, alg_len));
    if (!parsed) return parsed.take_error();
    if (!scheme_fits(parsed->scheme, key.type()))
        return bad("AlgorithmIdentifier does not fit the key type");
    const auto sig = auth_data.subspan(1 + alg_len);

    MdCtxPtr md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    const char* mdname =
        parsed->scheme == Scheme::ed25519 ? nullptr : detail::hash_name(parsed->hash);
    if (!md || EVP_DigestVerifyInit_ex(md.get(), &pctx, mdname, nullptr, nullptr, key.native(),
                                       nullptr) != 1)
        return openssl_error(Errc::crypto_failure, "verify init");
    if (parsed->scheme == Scheme::rsa_pss &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, parsed->salt) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mdname, nullptr) != 1))
        return openssl_error(Errc::crypto_failure, "RSASSA-PSS parameters");
    if (parsed->scheme == Scheme::rsa_pkcs1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return openssl_error(Errc::crypto_failure, "PKCS#1 padding");
    const int r = EVP_DigestVerify(md.get(), sig.data(), sig.size(), signed_octets.data(),
                                   signed_octets.size());
    if (r != 1) {
        detail::clear_openssl_errors();
        return bad("signature does not verify");
    }
    return {};
}

}  // namespace ikemesh::crypto
