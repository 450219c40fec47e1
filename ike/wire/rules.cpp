#include "ike/wire/rules.hpp"

#include <array>
#include <string>

namespace ikemesh::wire {
namespace {

using P = PayloadType;

// HDR, SAi1, KEi, Ni, [N+], [V+] -->                                          (RFC 7296 1.2)
constexpr PayloadRule kIkeSaInitRequest[] = {
    {P::sa, 1, 1}, {P::ke, 1, 1}, {P::nonce, 1, 1}, {P::notify, 0, kAny}, {P::vendor_id, 0, kAny},
};
// <-- HDR, SAr1, KEr, Nr, [CERTREQ], [N+], [V+]                                (RFC 7296 1.2)
constexpr PayloadRule kIkeSaInitResponse[] = {
    {P::sa, 1, 1},         {P::ke, 1, 1},        {P::nonce, 1, 1},
    {P::certreq, 0, kAny}, {P::notify, 0, kAny}, {P::vendor_id, 0, kAny},
};
// HDR, SK {IDi, [CERT+], [N(INITIAL_CONTACT)], [[N(HTTP_CERT_LOOKUP_SUPPORTED)], CERTREQ+],
//          [IDr], AUTH, [CP(CFG_REQUEST)], [N(IPCOMP_SUPPORTED)+], [N(USE_TRANSPORT_MODE)],
//          [N(ESP_TFC_PADDING_NOT_SUPPORTED)], [N(NON_FIRST_FRAGMENTS_ALSO)],
//          [SAi2, TSi, TSr], [V+]} -->                            (RFC 7296 1.2, 1.3; RFC 6023)
// EAP is listed so that it parses and reaches the engine, which refuses it.
constexpr PayloadRule kIkeAuthRequest[] = {
    {P::idi, 1, 1},  {P::cert, 0, kAny}, {P::certreq, 0, kAny},   {P::idr, 0, 1},
    {P::auth, 1, 1}, {P::cp, 0, 1},      {P::notify, 0, kAny},    {P::sa, 0, 1},
    {P::tsi, 0, 1},  {P::tsr, 0, 1},     {P::vendor_id, 0, kAny}, {P::eap, 0, 1},
};
// <-- HDR, SK {IDr, [CERT+], AUTH, [CP(CFG_REPLY)], [N(IPCOMP_SUPPORTED)],
//              [N(USE_TRANSPORT_MODE)], [N(ESP_TFC_PADDING_NOT_SUPPORTED)],
//              [N(NON_FIRST_FRAGMENTS_ALSO)], [SAr2, TSi, TSr], [N(ADDITIONAL_TS_POSSIBLE)], [V+]}
//                                                                  (RFC 7296 1.2, 1.3; RFC 6023)
constexpr PayloadRule kIkeAuthResponse[] = {
    {P::idr, 1, 1},          {P::cert, 0, kAny}, {P::auth, 1, 1}, {P::cp, 0, 1},
    {P::notify, 0, kAny},    {P::sa, 0, 1},      {P::tsi, 0, 1},  {P::tsr, 0, 1},
    {P::vendor_id, 0, kAny}, {P::eap, 0, 1},
};
// HDR, SK {[N(REKEY_SA)], [N(IPCOMP_SUPPORTED)+], [N(USE_TRANSPORT_MODE)], SA, Ni, [KEi],
//          [TSi, TSr]} -->                         (RFC 7296 1.3.1 child, 1.3.2 IKE rekey, 1.3.3)
constexpr PayloadRule kCreateChildSaRequest[] = {
    {P::sa, 1, 1},  {P::nonce, 1, 1},     {P::ke, 0, 1},           {P::tsi, 0, 1},
    {P::tsr, 0, 1}, {P::notify, 0, kAny}, {P::vendor_id, 0, kAny},
};
// <-- HDR, SK {SA, Nr, [KEr], [TSi, TSr]}                            (RFC 7296 1.3.1, 1.3.2)
constexpr PayloadRule kCreateChildSaResponse[] = {
    {P::sa, 1, 1},  {P::nonce, 1, 1},     {P::ke, 0, 1},           {P::tsi, 0, 1},
    {P::tsr, 0, 1}, {P::notify, 0, kAny}, {P::vendor_id, 0, kAny},
};
// HDR, SK {[N+], [D+], [CP+]} -->  and  <-- HDR, SK {[N+], [D+], [CP+]}    (RFC 7296 1.4)
constexpr PayloadRule kInformational[] = {
    {P::notify, 0, kAny},
    {P::del, 0, kAny},
    {P::cp, 0, kAny},
    {P::vendor_id, 0, kAny},
};

constexpr ExchangeRule kRules[] = {
    {ExchangeType::ike_sa_init, false, "HDR, SAi1, KEi, Ni, [N+], [V+] -->", kIkeSaInitRequest},
    {ExchangeType::ike_sa_init, true, "<-- HDR, SAr1, KEr, Nr, [CERTREQ], [N+], [V+]",
     kIkeSaInitResponse},
    {ExchangeType::ike_auth, false,
     "HDR, SK {IDi, [CERT+], [CERTREQ+], [IDr], AUTH, [SAi2, TSi, TSr]} -->", kIkeAuthRequest,
     RowConstraint::child_sa_all_or_none},
    {ExchangeType::ike_auth, true, "<-- HDR, SK {IDr, [CERT+], AUTH, [SAr2, TSi, TSr]}",
     kIkeAuthResponse, RowConstraint::child_sa_all_or_none},
    {ExchangeType::create_child_sa, false, "HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], [TSi, TSr]} -->",
     kCreateChildSaRequest, RowConstraint::ts_pair_or_ike_rekey},
    {ExchangeType::create_child_sa, true, "<-- HDR, SK {SA, Nr, [KEr], [TSi, TSr]}",
     kCreateChildSaResponse, RowConstraint::ts_pair_or_ike_rekey},
    {ExchangeType::informational, false, "HDR, SK {[N+], [D+], [CP+]} -->", kInformational},
    {ExchangeType::informational, true, "<-- HDR, SK {[N+], [D+], [CP+]}", kInformational},
};

std::string where(ExchangeType exchange, bool is_response) {
    return name_or_number(exchange, "exchange") + (is_response ? " response" : " request");
}

// A response made of notifies (and Vendor IDs or unknown payloads) of which one reports an error,
// or an IKE_SA_INIT response asking for a cookie (RFC 7296 2.6).
bool is_refusal(ExchangeType exchange, const PayloadList& payloads) {
    bool refusal = false;
    for (const Payload& p : payloads) {
        if (const auto* n = std::get_if<NotifyPayload>(&p)) {
            if (is_error(n->type) ||
                (exchange == ExchangeType::ike_sa_init && n->type == NotifyType::cookie)) {
                refusal = true;
            }
        } else if (!std::holds_alternative<VendorIdPayload>(p) &&
                   !std::holds_alternative<UnknownPayload>(p)) {
            return false;
        }
    }
    return refusal;
}

}  // namespace

std::span<const ExchangeRule> exchange_rules() {
    return kRules;
}

Status check_payload_rules(ExchangeType exchange, bool is_response, const PayloadList& payloads) {
    const ExchangeRule* row = nullptr;
    for (const ExchangeRule& r : kRules) {
        if (r.exchange == exchange && r.response == is_response) row = &r;
    }
    if (!row)
        return Error{Errc::invalid_syntax, "no payload rules for " + where(exchange, is_response)};
    if (is_response && is_refusal(exchange, payloads)) return {};

    std::array<uint16_t, 256> counts{};
    for (const Payload& p : payloads) {
        if (std::holds_alternative<UnknownPayload>(p)) continue;  // skipped (RFC 7296 2.5)
        ++counts[static_cast<uint8_t>(payload_type(p))];
    }
    for (size_t t = 0; t < counts.size(); ++t) {
        if (counts[t] == 0) continue;
        auto type = static_cast<PayloadType>(t);
        const PayloadRule* rule = nullptr;
        for (const PayloadRule& pr : row->payloads) {
            if (pr.type == type) rule = &pr;
        }
        if (!rule) {
            return Error{Errc::payload_not_allowed,
                         name_or_number(type, "payload") + " in " + where(exchange, is_response)};
        }
        if (rule->max != kAny && counts[t] > rule->max) {
            return Error{Errc::payload_not_allowed,
                         std::to_string(counts[t]) + " " + name_or_number(type, "payload") +
                             " payloads in " + where(exchange, is_response)};
        }
    }
    for (const PayloadRule& pr : row->payloads) {
        if (counts[static_cast<uint8_t>(pr.type)] < pr.min) {
            return Error{Errc::payload_missing, name_or_number(pr.type, "payload") + " in " +
                                                    where(exchange, is_response)};
        }
    }

    auto has = [&](PayloadType t) { return counts[static_cast<uint8_t>(t)] != 0; };
    switch (row->constraint) {
        case RowConstraint::none:
            break;
        case RowConstraint::child_sa_all_or_none: {
            int present = has(P::sa) + has(P::tsi) + has(P::tsr);
            if (present != 0 && present != 3) {
                return Error{Errc::payload_missing, "SA, TSi and TSr must come together in " +
                                                        where(exchange, is_response)};
            }
            break;
        }
        case RowConstraint::ts_pair_or_ike_rekey:
            if (has(P::tsi) != has(P::tsr)) {
                return Error{Errc::payload_missing,
                             "TSi and TSr must come together in " + where(exchange, is_response)};
            }
            if (!has(P::tsi) && !has(P::ke)) {
                return Error{Errc::payload_missing,
                             "KE (IKE SA rekey without TS) in " + where(exchange, is_response)};
            }
            break;
    }
    return {};
}

Status check_outer_payloads(const Message& message) {
    const ExchangeType exchange = message.header.exchange;
    size_t encrypted = 0;
    for (const Payload& p : message.payloads) {
        if (std::holds_alternative<SkPayload>(p) || std::holds_alternative<SkfPayload>(p)) {
            ++encrypted;
        } else if (exchange != ExchangeType::ike_sa_init &&
                   !std::holds_alternative<UnknownPayload>(p)) {
            return Error{Errc::payload_not_allowed,
                         "unprotected " + name_or_number(payload_type(p), "payload") + " in " +
                             where(exchange, message.header.is_response())};
        }
    }
    if (exchange == ExchangeType::ike_sa_init) {
        if (encrypted != 0) {
            return Error{Errc::payload_not_allowed, "SK/SKF in IKE_SA_INIT"};
        }
        return {};
    }
    if (encrypted == 0) {
        return Error{Errc::payload_missing,
                     "SK in " + where(exchange, message.header.is_response())};
    }
    return {};
}

}  // namespace ikemesh::wire
