#include "kernel/esp_algorithms.hpp"

#include <string>

namespace ikemesh::kernel {

namespace {

constexpr size_t kAeadSaltBytes = 4;    // RFC 4106 8.1, RFC 7634 2
constexpr uint32_t kAeadIcvBits = 128;  // the "-16" in AES-GCM-16; Poly1305's tag (RFC 7634 2)

bool aes_key_bits_ok(uint16_t bits) {
    return bits == 128 || bits == 192 || bits == 256;
}

Error invalid(std::string detail) {
    return Error{Errc::kernel_invalid_request, std::move(detail)};
}

}  // namespace

Result<EncrMapping> map_encr(crypto::EncrSpec spec) {
    switch (spec.alg) {
        case crypto::EncrAlg::aes_gcm_16:
            if (!aes_key_bits_ok(spec.key_bits)) break;
            return EncrMapping{"rfc4106(gcm(aes))", true,
                               size_t{spec.key_bits} / 8 + kAeadSaltBytes, kAeadIcvBits};
        case crypto::EncrAlg::chacha20_poly1305:
            if (spec.key_bits != 0 && spec.key_bits != 256) break;
            return EncrMapping{"rfc7539esp(chacha20,poly1305)", true, 32 + kAeadSaltBytes,
                               kAeadIcvBits};
        case crypto::EncrAlg::aes_cbc:
            if (!aes_key_bits_ok(spec.key_bits)) break;
            return EncrMapping{"cbc(aes)", false, size_t{spec.key_bits} / 8, 0};
    }
    return Error{Errc::unsupported_algorithm,
                 "ESP encryption " + std::to_string(static_cast<unsigned>(spec.alg)) + " with " +
                     std::to_string(spec.key_bits) + "-bit key"};
}

Result<IntegMapping> map_integ(crypto::IntegAlg alg) {
    switch (alg) {
        case crypto::IntegAlg::hmac_sha1_96:
            return IntegMapping{"hmac(sha1)", 20, 96};
        case crypto::IntegAlg::hmac_sha2_256_128:
            return IntegMapping{"hmac(sha256)", 32, 128};
        case crypto::IntegAlg::hmac_sha2_384_192:
            return IntegMapping{"hmac(sha384)", 48, 192};
        case crypto::IntegAlg::hmac_sha2_512_256:
            return IntegMapping{"hmac(sha512)", 64, 256};
        case crypto::IntegAlg::none:
            break;
    }
    return Error{Errc::unsupported_algorithm,
                 "ESP integrity " + std::to_string(static_cast<unsigned>(alg))};
}

Status validate_selector(const Selector& sel) {
    if (sel.src.empty() || sel.src.family() != sel.dst.family()) {
        return invalid("selector " + sel.to_string() + " mixes address families");
    }
    const unsigned max = sel.src.is_v4() ? 32 : 128;
    if (sel.src_prefix > max || sel.dst_prefix > max) {
        return invalid("selector " + sel.to_string() + " has a prefix longer than the address");
    }
    return {};
}

Status validate_sa(const SaParams& sa) {
    if (sa.src.empty() || sa.src.family() != sa.dst.family()) {
        return invalid("SA " + sa.src.to_string() + " -> " + sa.dst.to_string() +
                       " needs two addresses of one family");
    }
    // RFC 4303 2.1: SPI values 1-255 are reserved by IANA, 0 is for local use only.
    if (sa.spi.value < 256) return invalid("SPI " + to_hex(sa.spi) + " is reserved");
    auto encr = map_encr(sa.encr);
    if (!encr) return encr.take_error();
    if (sa.encr_key.size() != encr->key_bytes) {
        return invalid(std::string(encr->kernel_name) + " needs a " +
                       std::to_string(encr->key_bytes) + "-byte key, got " +
                       std::to_string(sa.encr_key.size()));
    }
    if (encr->aead) {
        if (sa.integ != crypto::IntegAlg::none || !sa.integ_key.empty()) {
            return invalid("an AEAD SA takes no separate integrity algorithm");
        }
    } else {
        // ESP without integrity protection is allowed by RFC 4303 but never negotiated by us.
        auto integ = map_integ(sa.integ);
        if (!integ) return invalid("non-AEAD encryption needs an integrity algorithm");
        if (sa.integ_key.size() != integ->key_bytes) {
            return invalid(std::string(integ->kernel_name) + " needs a " +
                           std::to_string(integ->key_bytes) + "-byte key, got " +
                           std::to_string(sa.integ_key.size()));
        }
    }
    if (sa.replay_window > kMaxReplayWindow) {
        return invalid("replay window " + std::to_string(sa.replay_window) + " exceeds " +
                       std::to_string(kMaxReplayWindow));
    }
    if (sa.selector) {
        if (auto s = validate_selector(*sa.selector); !s) return s;
        if (sa.selector->family() != sa.src.family()) {
            return invalid("SA selector family differs from the SA's");
        }
    }
    return {};
}

Status validate_policy(const PolicyParams& policy) {
    if (auto s = validate_selector(policy.id.selector); !s) return s;
    if (policy.action == PolicyAction::ipsec) {
        const bool any_tmpl_addr = !policy.tmpl_src.empty() || !policy.tmpl_dst.empty();
        if (any_tmpl_addr && policy.tmpl_src.family() != policy.tmpl_dst.family()) {
            return invalid("policy template mixes address families");
        }
        if (policy.mode == Mode::tunnel && (policy.tmpl_src.empty() || policy.tmpl_dst.empty())) {
            return invalid("a tunnel-mode template needs both endpoint addresses");
        }
    }
    return {};
}

}  // namespace ikemesh::kernel
