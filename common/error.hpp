// The one error vocabulary of ikemesh.
//
// Every layer (wire codec, crypto, kernel, config, engine) reports failure as an `Errc` value
// inside a std::error_code, so errors cross layer boundaries without exceptions and print the same
// way everywhere. The enum groups errors by layer for readability only; the category is shared.
// This header does not decide what to do about an error (drop, notify, tear down): the engine does.
#pragma once

#include <string>
#include <system_error>

namespace ikemesh {

enum class Errc {
    ok = 0,

    // wire codec: malformed input
    truncated = 1,         // the input ends before a length says it should
    bad_length,            // a length field is smaller than its header or larger than its parent
    bad_version,           // IKE major version other than 2
    invalid_syntax,        // a field holds a value RFC 7296 forbids
    unsupported_critical,  // an unknown payload with the critical bit set (RFC 7296 2.5)
    payload_not_allowed,   // the exchange rule table forbids this payload here
    payload_missing,       // the exchange rule table requires a payload that is absent
    too_many_items,        // more proposals/transforms/selectors/payloads than we accept
    fragment_invalid,      // an SKF fragment does not fit the set being reassembled
    fragment_incomplete,   // not all fragments of a message are present yet

    // crypto
    crypto_failure = 100,    // OpenSSL refused an operation that should work
    integrity_check_failed,  // ICV or AEAD tag mismatch
    invalid_public_key,      // peer KE value fails the RFC 6989 / RFC 7296 checks
    unsupported_algorithm,   // an algorithm or group we do not implement
    bad_key_length,
    signature_invalid,
    certificate_invalid,  // chain, validity or usage check failed
    key_file_insecure,    // a private key or PSK file is readable by group or others
    io_error,             // a file could not be read

    // engine (IKE protocol outcomes)
    no_proposal_chosen = 200,
    invalid_ke_payload,
    authentication_failed,
    identity_mismatch,
    ts_unacceptable,
    invalid_message_id,
    invalid_spi,
    cookie_required,
    peer_dead,  // liveness check or retransmits exhausted
    deleted_by_peer,
    rekey_collision_lost,
    unknown_peer,
    child_sa_failed,
    state_error,  // an event that makes no sense in the current state

    // kernel
    kernel_failure = 300,  // generic netlink/PF_KEY error; details in the message
    kernel_not_supported,  // the kernel lacks the algorithm, protocol or socket family
    kernel_no_entry,
    kernel_exists,
    kernel_invalid_request,    // parameters the kernel (or our own check before sending) rejects
    kernel_permission_denied,  // EPERM/EACCES: the daemon lacks CAP_NET_ADMIN
    kernel_events_lost,        // the event socket overran (ENOBUFS): resync with list_owned()

    // config and control
    config_invalid = 400,
    control_bad_request,      // a control request that is not valid JSON, too large, or malformed
    control_unknown_command,  // a well-formed control request naming a verb we do not have
};

const std::error_category& ikemesh_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
    return {static_cast<int>(e), ikemesh_category()};
}

// Short, stable name of an error code ("integrity_check_failed"); used in logs and metrics labels.
const char* errc_name(Errc e) noexcept;

}  // namespace ikemesh

template <>
struct std::is_error_code_enum<ikemesh::Errc> : std::true_type {};
