// libFuzzer harness for what a peer's IKE_AUTH hands to crypto/: a CERT payload's DER (parsed,
// its names, alternative names and key extracted, then verified against the test CA) and the
// RFC 7427 AUTH data (AlgorithmIdentifier and signature) checked against the parsed key.
// Input layout: 2 bytes length L, L bytes certificate DER, the rest AUTH data.
#include "crypto/certificate.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/signature.hpp"

using namespace ikemesh;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    size_t len = static_cast<size_t>(data[0]) << 8 | data[1];
    std::span<const uint8_t> rest(data + 2, size - 2);
    if (len > rest.size()) len = rest.size();
    auto der = rest.first(len);
    auto auth = rest.subspan(len);
    static const uint8_t octets[] = {'s', 'i', 'g', 'n', 'e', 'd'};

    auto cert = crypto::Certificate::from_der(der);
    if (cert) {
        (void)cert->subject_der();
        (void)cert->subject_text();
        (void)cert->subject_alt_names();
        (void)crypto::same_distinguished_name(cert->subject_der(), der);
        static crypto::CertStore empty;
        (void)empty.verify(*cert, {}, std::chrono::system_clock::now());
        if (auto key = cert->public_key()) (void)crypto::verify_auth(*key, auth, octets);
    }
    // The AUTH parser also against a fixed, valid key, so it is reached without a valid cert.
    static const auto fixed = [] {
        const uint8_t seed[32] = {1, 2, 3};
        return crypto::PrivateKey::ed25519_from_seed(seed)->public_key();
    }();
    (void)crypto::verify_auth(fixed, rest, octets);
    return 0;
}
