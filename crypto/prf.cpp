#include "crypto/prf.hpp"

#include "crypto/openssl_util.hpp"

namespace ikemesh::crypto {
namespace {

detail::Hash hash_of(PrfAlg alg) {
    switch (alg) {
        case PrfAlg::hmac_sha1:
            return detail::Hash::sha1;
        case PrfAlg::hmac_sha2_256:
            return detail::Hash::sha256;
        case PrfAlg::hmac_sha2_384:
            return detail::Hash::sha384;
        case PrfAlg::hmac_sha2_512:
            return detail::Hash::sha512;
    }
    return detail::Hash::sha256;
}

bool known(PrfAlg alg) {
    return prf_size(alg) != 0;
}

}  // namespace

Status Prf::compute(std::span<const uint8_t> key, std::span<const uint8_t> data,
                    std::span<uint8_t> out) const {
    return compute(key, {data}, out);
}

Status Prf::compute(std::span<const uint8_t> key,
                    std::initializer_list<std::span<const uint8_t>> data,
                    std::span<uint8_t> out) const {
    if (!known(alg_)) return Errc::unsupported_algorithm;
    if (out.size() != size()) return Error{Errc::bad_length, "PRF output buffer size"};
    return detail::hmac(hash_of(alg_), key, data, out);
}

Result<SecretBytes> Prf::compute(std::span<const uint8_t> key,
                                 std::span<const uint8_t> data) const {
    if (!known(alg_)) return Errc::unsupported_algorithm;
    SecretBytes out(size());
    if (auto s = compute(key, {data}, out.mutable_view()); !s) return s.take_error();
    return out;
}

Result<SecretBytes> Prf::prf_plus(std::span<const uint8_t> key, std::span<const uint8_t> seed,
                                  size_t length) const {
    return prf_plus(key, {seed}, length);
}

Result<SecretBytes> Prf::prf_plus(std::span<const uint8_t> key,
                                  std::initializer_list<std::span<const uint8_t>> seed,
                                  size_t length) const {
    if (!known(alg_)) return Errc::unsupported_algorithm;
    if (length > 255 * size()) return Error{Errc::bad_length, "prf+ output too long"};
    SecretBytes out(length);
    if (auto s = detail::hmac_prf_plus(hash_of(alg_), key, seed, out.mutable_view()); !s)
        return s.take_error();
    return out;
}

}  // namespace ikemesh::crypto
