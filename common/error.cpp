#include "common/error.hpp"

namespace ikemesh {
namespace {

class Category final : public std::error_category {
  public:
    const char* name() const noexcept override { return "ikemesh"; }
    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::ok:
                return "success";
            case Errc::truncated:
                return "message truncated";
            case Errc::bad_length:
                return "inconsistent length field";
            case Errc::bad_version:
                return "unsupported IKE major version";
            case Errc::invalid_syntax:
                return "invalid syntax";
            case Errc::unsupported_critical:
                return "unsupported critical payload";
            case Errc::payload_not_allowed:
                return "payload not allowed in this exchange";
            case Errc::payload_missing:
                return "required payload missing";
            case Errc::too_many_items:
                return "too many items";
            case Errc::fragment_invalid:
                return "invalid IKE fragment";
            case Errc::fragment_incomplete:
                return "IKE fragments incomplete";
            case Errc::crypto_failure:
                return "cryptographic operation failed";
            case Errc::integrity_check_failed:
                return "integrity check failed";
            case Errc::invalid_public_key:
                return "invalid peer public key";
            case Errc::unsupported_algorithm:
                return "unsupported algorithm";
            case Errc::bad_key_length:
                return "bad key length";
            case Errc::signature_invalid:
                return "signature invalid";
            case Errc::certificate_invalid:
                return "certificate invalid";
            case Errc::key_file_insecure:
                return "key file readable by group or others";
            case Errc::io_error:
                return "I/O error";
            case Errc::no_proposal_chosen:
                return "no proposal chosen";
            case Errc::invalid_ke_payload:
                return "invalid KE payload";
            case Errc::authentication_failed:
                return "authentication failed";
            case Errc::identity_mismatch:
                return "peer identity does not match configuration";
            case Errc::ts_unacceptable:
                return "traffic selectors unacceptable";
            case Errc::invalid_message_id:
                return "invalid message id";
            case Errc::invalid_spi:
                return "invalid SPI";
            case Errc::cookie_required:
                return "cookie required";
            case Errc::peer_dead:
                return "peer not responding";
            case Errc::deleted_by_peer:
                return "deleted by peer";
            case Errc::rekey_collision_lost:
                return "rekey collision lost";
            case Errc::unknown_peer:
                return "unknown peer";
            case Errc::child_sa_failed:
                return "CHILD SA failed";
            case Errc::state_error:
                return "unexpected in current state";
            case Errc::kernel_failure:
                return "kernel request failed";
            case Errc::kernel_not_supported:
                return "not supported by the kernel";
            case Errc::kernel_no_entry:
                return "no such kernel entry";
            case Errc::kernel_exists:
                return "kernel entry exists";
            case Errc::kernel_invalid_request:
                return "invalid kernel request";
            case Errc::kernel_permission_denied:
                return "kernel request not permitted";
            case Errc::kernel_events_lost:
                return "kernel events lost";
            case Errc::config_invalid:
                return "invalid configuration";
            case Errc::control_bad_request:
                return "bad control request";
            case Errc::control_unknown_command:
                return "unknown control command";
        }
        return "unknown error " + std::to_string(value);
    }
};

}  // namespace

const std::error_category& ikemesh_category() noexcept {
    static const Category category;
    return category;
}

const char* errc_name(Errc e) noexcept {
    switch (e) {
#define IKEMESH_ERRC_NAME(n) \
    case Errc::n:            \
        return #n;
        IKEMESH_ERRC_NAME(ok)
        IKEMESH_ERRC_NAME(truncated)
        IKEMESH_ERRC_NAME(bad_length)
        IKEMESH_ERRC_NAME(bad_version)
        IKEMESH_ERRC_NAME(invalid_syntax)
        IKEMESH_ERRC_NAME(unsupported_critical)
        IKEMESH_ERRC_NAME(payload_not_allowed)
        IKEMESH_ERRC_NAME(payload_missing)
        IKEMESH_ERRC_NAME(too_many_items)
        IKEMESH_ERRC_NAME(fragment_invalid)
        IKEMESH_ERRC_NAME(fragment_incomplete)
        IKEMESH_ERRC_NAME(crypto_failure)
        IKEMESH_ERRC_NAME(integrity_check_failed)
        IKEMESH_ERRC_NAME(invalid_public_key)
        IKEMESH_ERRC_NAME(unsupported_algorithm)
        IKEMESH_ERRC_NAME(bad_key_length)
        IKEMESH_ERRC_NAME(signature_invalid)
        IKEMESH_ERRC_NAME(certificate_invalid)
        IKEMESH_ERRC_NAME(key_file_insecure)
        IKEMESH_ERRC_NAME(io_error)
        IKEMESH_ERRC_NAME(no_proposal_chosen)
        IKEMESH_ERRC_NAME(invalid_ke_payload)
        IKEMESH_ERRC_NAME(authentication_failed)
        IKEMESH_ERRC_NAME(identity_mismatch)
        IKEMESH_ERRC_NAME(ts_unacceptable)
        IKEMESH_ERRC_NAME(invalid_message_id)
        IKEMESH_ERRC_NAME(invalid_spi)
        IKEMESH_ERRC_NAME(cookie_required)
        IKEMESH_ERRC_NAME(peer_dead)
        IKEMESH_ERRC_NAME(deleted_by_peer)
        IKEMESH_ERRC_NAME(rekey_collision_lost)
        IKEMESH_ERRC_NAME(unknown_peer)
        IKEMESH_ERRC_NAME(child_sa_failed)
        IKEMESH_ERRC_NAME(state_error)
        IKEMESH_ERRC_NAME(kernel_failure)
        IKEMESH_ERRC_NAME(kernel_not_supported)
        IKEMESH_ERRC_NAME(kernel_no_entry)
        IKEMESH_ERRC_NAME(kernel_exists)
        IKEMESH_ERRC_NAME(kernel_invalid_request)
        IKEMESH_ERRC_NAME(kernel_permission_denied)
        IKEMESH_ERRC_NAME(kernel_events_lost)
        IKEMESH_ERRC_NAME(config_invalid)
        IKEMESH_ERRC_NAME(control_bad_request)
        IKEMESH_ERRC_NAME(control_unknown_command)
#undef IKEMESH_ERRC_NAME
    }
    return "unknown";
}

}  // namespace ikemesh
