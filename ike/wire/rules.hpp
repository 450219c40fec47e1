// Which payloads each exchange may carry, as a constant table per exchange type and direction.
//
// check_payload_rules() runs before any handler, so a handler may rely on the payloads its row
// requires being present exactly as often as the row says. The table holds the RFC 7296 message
// layouts; a few relations that counts cannot express are named constraints on a row (an IKE_AUTH
// carries SA, TSi and TSr together or none of them, RFC 6023; a CREATE_CHILD_SA without traffic
// selectors is an IKE SA rekey and needs KE). A response that carries only notifies including an
// error type (or, for IKE_SA_INIT, a COOKIE) passes every row: that is how a responder refuses
// (RFC 7296 1.2, 2.6, 2.21). Unknown non-critical payloads and Vendor IDs are allowed everywhere
// (RFC 7296 2.5, 3.12). The rules judge presence and counts only, never content.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.hpp"
#include "ike/wire/payloads.hpp"

namespace ikemesh::wire {

inline constexpr uint8_t kAny = 255;  // no upper bound

struct PayloadRule {
    PayloadType type;
    uint8_t min;
    uint8_t max;
};

enum class RowConstraint : uint8_t {
    none,
    child_sa_all_or_none,  // SA, TSi, TSr all present or all absent (IKE_AUTH)
    ts_pair_or_ike_rekey,  // TSi and TSr together; without them KE is required (CREATE_CHILD_SA)
};

struct ExchangeRule {
    ExchangeType exchange;
    bool response;
    std::string_view rfc_line;  // the message as RFC 7296 writes it
    std::span<const PayloadRule> payloads;
    RowConstraint constraint = RowConstraint::none;
};

// The whole table, for documentation and tests.
std::span<const ExchangeRule> exchange_rules();

// Checks the payloads of an unprotected IKE_SA_INIT message, or the decrypted inner chain of any
// other exchange. Errors: payload_not_allowed (a payload the row does not list, one too many, or an
// SK/SKF payload), payload_missing, invalid_syntax (an exchange type without a row); the detail
// names the payload and the exchange.
Status check_payload_rules(ExchangeType exchange, bool is_response, const PayloadList& payloads);

// Checks the outer chain: IKE_SA_INIT must not be encrypted; every other exchange must consist of
// exactly one SK or SKF payload (RFC 7296 1.2-1.4, RFC 7383 2.5), apart from unknown non-critical
// payloads before it.
Status check_outer_payloads(const Message& message);

}  // namespace ikemesh::wire
