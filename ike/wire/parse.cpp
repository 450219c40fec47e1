#include "ike/wire/parse.hpp"

#include <string>

namespace ikemesh::wire {
namespace {

// Proposal and Transform "Last Substruc" values (RFC 7296 3.3.1, 3.3.2).
constexpr uint8_t kLastSubstruc = 0;
constexpr uint8_t kMoreProposals = 2;
constexpr uint8_t kMoreTransforms = 3;
constexpr uint8_t kCriticalBit = 0x80;  // RFC 7296 3.2
constexpr size_t kProposalHeaderSize = 8;
constexpr size_t kTransformHeaderSize = 8;
constexpr size_t kSelectorHeaderSize = 4;
constexpr size_t kV4SelectorSize = 16;  // RFC 7296 3.13.1
constexpr size_t kV6SelectorSize = 40;

std::string what(PayloadType t) {
    return name_or_number(t, "payload");
}

Error err(Errc e, PayloadType t, std::string_view detail) {
    return Error{e, what(t) + ": " + std::string(detail)};
}

Status parse_transform(ByteReader& p, size_t index, size_t count, Transform& t) {
    constexpr PayloadType sa = PayloadType::sa;
    if (p.remaining() < kTransformHeaderSize) return err(Errc::truncated, sa, "transform header");
    uint8_t last = p.u8();
    p.skip(1);
    uint16_t length = p.u16();
    if (length < kTransformHeaderSize) return err(Errc::bad_length, sa, "transform length");
    ByteView body = p.bytes(length - 4u);
    if (!p.ok()) return err(Errc::bad_length, sa, "transform exceeds its proposal");
    bool is_last = index + 1 == count;
    if (last != (is_last ? kLastSubstruc : kMoreTransforms)) {
        return err(Errc::invalid_syntax, sa, "transform Last Substruc does not match its position");
    }

    ByteReader r(body);
    t.type = static_cast<TransformType>(r.u8());
    r.skip(1);
    t.id = r.u16();
    while (!r.empty()) {
        if (r.remaining() < 4) return err(Errc::bad_length, sa, "transform attribute header");
        uint16_t af_type = r.u16();
        bool tv = (af_type & kAttrFormatTv) != 0;
        auto type = static_cast<TransformAttr>(af_type & ~kAttrFormatTv);
        uint16_t value_or_length = r.u16();
        if (!tv) {
            r.skip(value_or_length);
            if (!r.ok()) return err(Errc::bad_length, sa, "transform attribute length");
        }
        if (type == TransformAttr::key_length) {
            // RFC 7296 3.3.5: fixed-length attributes MUST use the TV format.
            if (!tv) return err(Errc::invalid_syntax, sa, "Key Length attribute not in TV format");
            if (t.key_length) return err(Errc::invalid_syntax, sa, "two Key Length attributes");
            t.key_length = value_or_length;
        } else {
            t.unknown_attribute = true;
        }
    }
    return {};
}

Status parse_body(ByteView body, SaPayload& sa) {
    constexpr PayloadType type = PayloadType::sa;
    ByteReader r(body);
    if (r.empty()) return err(Errc::invalid_syntax, type, "no proposal");
    while (!r.empty()) {
        if (sa.proposals.size() >= kMaxProposals) {
            return err(Errc::too_many_items, type,
                       "more than " + std::to_string(kMaxProposals) + " proposals");
        }
        if (r.remaining() < kProposalHeaderSize) return err(Errc::truncated, type, "proposal");
        uint8_t last = r.u8();
        r.skip(1);
        uint16_t length = r.u16();
        if (length < kProposalHeaderSize) return err(Errc::bad_length, type, "proposal length");
        ByteView pbody = r.bytes(length - 4u);
        if (!r.ok()) return err(Errc::bad_length, type, "proposal exceeds the payload");
        if (last != (r.empty() ? kLastSubstruc : kMoreProposals)) {
            return err(Errc::invalid_syntax, type,
                       "proposal Last Substruc does not match its position");
        }

        Proposal& prop = sa.proposals.emplace_back();
        ByteReader p(pbody);
        prop.number = p.u8();
        prop.protocol = static_cast<ProtocolId>(p.u8());
        uint8_t spi_size = p.u8();
        uint8_t count = p.u8();
        prop.spi = p.bytes(spi_size);
        if (!p.ok()) return err(Errc::bad_length, type, "proposal SPI exceeds the proposal");
        if (count > kMaxTransformsPerProposal) {
            return err(Errc::too_many_items, type,
                       "more than " + std::to_string(kMaxTransformsPerProposal) +
                           " transforms in a proposal");
        }
        for (size_t i = 0; i < count; ++i) {
            Status s = parse_transform(p, i, count, prop.transforms.emplace_back());
            if (!s) return s;
        }
        if (!p.empty()) {
            return err(Errc::bad_length, type, "octets after the last transform of a proposal");
        }
    }
    return {};
}

Status parse_body(ByteView body, KePayload& ke) {
    ByteReader r(body);
    if (r.remaining() < 4) return err(Errc::bad_length, PayloadType::ke, "shorter than 4 octets");
    ke.group = static_cast<crypto::DhGroup>(r.u16());
    r.skip(2);
    ke.data = r.rest();
    return {};
}

template <PayloadType K>
Status parse_body(ByteView body, BasicIdPayload<K>& id) {
    ByteReader r(body);
    if (r.remaining() < 4) return err(Errc::bad_length, K, "shorter than 4 octets");
    id.type = static_cast<IdType>(r.u8());
    r.skip(3);
    id.data = r.rest();
    id.body = body;
    return {};
}

template <typename T>  // CERT and CERTREQ share their layout (RFC 7296 3.6, 3.7)
Status parse_cert_body(ByteView body, T& c) {
    ByteReader r(body);
    if (r.empty()) return err(Errc::bad_length, T::kType, "no encoding octet");
    c.encoding = static_cast<CertEncoding>(r.u8());
    c.data = r.rest();
    return {};
}

Status parse_body(ByteView body, AuthPayload& a) {
    ByteReader r(body);
    if (r.remaining() < 4) return err(Errc::bad_length, PayloadType::auth, "shorter than 4 octets");
    a.method = static_cast<AuthMethod>(r.u8());
    r.skip(3);
    a.data = r.rest();
    return {};
}

Status parse_body(ByteView body, NoncePayload& n) {
    if (body.size() < kMinNonceSize || body.size() > kMaxNonceSize) {
        return err(Errc::invalid_syntax, PayloadType::nonce,
                   std::to_string(body.size()) + " octets, RFC 7296 3.9 allows 16 to 256");
    }
    n.data = body;
    return {};
}

Status parse_body(ByteView body, NotifyPayload& n) {
    ByteReader r(body);
    if (r.remaining() < 4) return err(Errc::bad_length, PayloadType::notify, "shorter than 4");
    n.protocol = static_cast<ProtocolId>(r.u8());
    uint8_t spi_size = r.u8();
    n.type = static_cast<NotifyType>(r.u16());
    n.spi = r.bytes(spi_size);
    if (!r.ok()) return err(Errc::bad_length, PayloadType::notify, "SPI exceeds the payload");
    n.data = r.rest();
    return {};
}

Status parse_body(ByteView body, DeletePayload& d) {
    ByteReader r(body);
    if (r.remaining() < 4) return err(Errc::bad_length, PayloadType::del, "shorter than 4 octets");
    d.protocol = static_cast<ProtocolId>(r.u8());
    d.spi_size = r.u8();
    d.count = r.u16();
    d.spis = r.rest();
    if (d.spis.size() != size_t{d.spi_size} * d.count) {
        return err(Errc::bad_length, PayloadType::del, "SPI count times size != payload length");
    }
    return {};
}

Status parse_selector(ByteReader& r, PayloadType type, TrafficSelector& ts) {
    if (r.remaining() < kSelectorHeaderSize) return err(Errc::bad_length, type, "selector header");
    ts.type = static_cast<TsType>(r.u8());
    ts.ip_protocol = r.u8();
    uint16_t length = r.u16();
    if (length < kSelectorHeaderSize) return err(Errc::bad_length, type, "selector length");
    ByteView body = r.bytes(length - kSelectorHeaderSize);
    if (!r.ok()) return err(Errc::bad_length, type, "selector exceeds the payload");

    size_t address_size = 0;
    if (ts.type == TsType::ipv4_addr_range) {
        if (length != kV4SelectorSize) return err(Errc::bad_length, type, "IPv4 selector length");
        address_size = 4;
    } else if (ts.type == TsType::ipv6_addr_range) {
        if (length != kV6SelectorSize) return err(Errc::bad_length, type, "IPv6 selector length");
        address_size = 16;
    } else {
        ts.raw = body;
        return {};
    }
    ByteReader s(body);
    ts.start_port = s.u16();
    ts.end_port = s.u16();
    // from_bytes() cannot fail here: the sizes were checked above.
    ts.start_address = IpAddress::from_bytes(s.bytes(address_size)).value_or(IpAddress{});
    ts.end_address = IpAddress::from_bytes(s.bytes(address_size)).value_or(IpAddress{});
    return {};
}

template <PayloadType K>
Status parse_body(ByteView body, BasicTsPayload<K>& ts) {
    ByteReader r(body);
    if (r.remaining() < 4) return err(Errc::bad_length, K, "shorter than 4 octets");
    uint8_t count = r.u8();
    r.skip(3);
    if (count > kMaxSelectors)
        return err(Errc::too_many_items, K,
                   "more than " + std::to_string(kMaxSelectors) + " selectors");
    for (size_t i = 0; i < count; ++i) {
        Status s = parse_selector(r, K, ts.selectors.emplace_back());
        if (!s) return s;
    }
    if (!r.empty()) return err(Errc::bad_length, K, "octets after the last selector");
    return {};
}

Status parse_body(ByteView body, ConfigPayload& cp) {
    constexpr PayloadType type = PayloadType::cp;
    ByteReader r(body);
    if (r.remaining() < 4) return err(Errc::bad_length, type, "shorter than 4 octets");
    cp.type = static_cast<CfgType>(r.u8());
    r.skip(3);
    while (!r.empty()) {
        if (cp.attributes.size() >= kMaxCfgAttributes) {
            return err(Errc::too_many_items, type,
                       "more than " + std::to_string(kMaxCfgAttributes) + " attributes");
        }
        if (r.remaining() < 4) return err(Errc::bad_length, type, "attribute header");
        CfgAttribute& a = cp.attributes.emplace_back();
        a.type = r.u16() & 0x7fff;  // the top bit is reserved and ignored (RFC 7296 3.15.1)
        uint16_t length = r.u16();
        a.value = r.bytes(length);
        if (!r.ok()) return err(Errc::bad_length, type, "attribute exceeds the payload");
    }
    return {};
}

Status parse_body(ByteView body, EapPayload& e) {
    constexpr PayloadType type = PayloadType::eap;
    ByteReader r(body);
    if (r.remaining() < 4) return err(Errc::bad_length, type, "shorter than the EAP header");
    e.code = static_cast<EapCode>(r.u8());
    e.identifier = r.u8();
    uint16_t length = r.u16();
    // RFC 3748 4: the EAP Length covers the whole EAP message, which is the payload body.
    if (length != body.size()) return err(Errc::bad_length, type, "EAP Length != payload body");
    if (e.code == EapCode::request || e.code == EapCode::response) {
        if (r.empty()) return err(Errc::bad_length, type, "request/response without Type");
        e.type = r.u8();
    }
    e.data = r.rest();
    return {};
}

Status parse_body(ByteView body, SkfPayload& f) {
    constexpr PayloadType type = PayloadType::skf;
    ByteReader r(body);
    if (r.remaining() < 4) return err(Errc::bad_length, type, "shorter than 4 octets");
    f.fragment_number = r.u16();
    f.total_fragments = r.u16();
    f.body = r.rest();
    // RFC 7383 2.5: neither may be zero and the number may not exceed the total.
    if (f.fragment_number == 0 || f.total_fragments == 0 || f.fragment_number > f.total_fragments) {
        return err(Errc::fragment_invalid, type,
                   "fragment " + std::to_string(f.fragment_number) + " of " +
                       std::to_string(f.total_fragments));
    }
    return {};
}

template <typename T>
T& add(PayloadList& out) {
    return std::get<T>(out.emplace_back(std::in_place_type<T>));
}

// Walks one chain. `outer` allows a final SK/SKF payload (whose Next Payload field names the first
// inner payload, not a following one); inner chains allow neither.
Status parse_chain(PayloadType first, ByteView chain, bool outer, PayloadList& out,
                   PayloadType* critical_type) {
    out.clear();
    ByteReader r(chain);
    PayloadType type = first;
    while (type != PayloadType::none) {
        if (out.size() >= kMaxPayloads) {
            return Error{Errc::too_many_items,
                         "more than " + std::to_string(kMaxPayloads) + " payloads"};
        }
        if (r.remaining() < kGenericPayloadHeaderSize) {
            return err(Errc::truncated, type, "generic payload header");
        }
        auto next = static_cast<PayloadType>(r.u8());
        bool critical = (r.u8() & kCriticalBit) != 0;
        uint16_t length = r.u16();
        if (length < kGenericPayloadHeaderSize) return err(Errc::bad_length, type, "length < 4");
        ByteView body = r.bytes(length - kGenericPayloadHeaderSize);
        if (!r.ok()) return err(Errc::truncated, type, "payload extends past the message");

        Status s;
        switch (type) {
            case PayloadType::sa:
                s = parse_body(body, add<SaPayload>(out));
                break;
            case PayloadType::ke:
                s = parse_body(body, add<KePayload>(out));
                break;
            case PayloadType::idi:
                s = parse_body(body, add<IdiPayload>(out));
                break;
            case PayloadType::idr:
                s = parse_body(body, add<IdrPayload>(out));
                break;
            case PayloadType::cert:
                s = parse_cert_body(body, add<CertPayload>(out));
                break;
            case PayloadType::certreq:
                s = parse_cert_body(body, add<CertReqPayload>(out));
                break;
            case PayloadType::auth:
                s = parse_body(body, add<AuthPayload>(out));
                break;
            case PayloadType::nonce:
                s = parse_body(body, add<NoncePayload>(out));
                break;
            case PayloadType::notify:
                s = parse_body(body, add<NotifyPayload>(out));
                break;
            case PayloadType::del:
                s = parse_body(body, add<DeletePayload>(out));
                break;
            case PayloadType::vendor_id:
                add<VendorIdPayload>(out).data = body;
                break;
            case PayloadType::tsi:
                s = parse_body(body, add<TsiPayload>(out));
                break;
            case PayloadType::tsr:
                s = parse_body(body, add<TsrPayload>(out));
                break;
            case PayloadType::cp:
                s = parse_body(body, add<ConfigPayload>(out));
                break;
            case PayloadType::eap:
                s = parse_body(body, add<EapPayload>(out));
                break;
            case PayloadType::sk:
            case PayloadType::skf:
                if (!outer) return err(Errc::invalid_syntax, type, "inside an encrypted payload");
                // RFC 7296 3.14, RFC 7383 2.5: it MUST be the last payload in the message.
                if (!r.empty()) return err(Errc::invalid_syntax, type, "not the last payload");
                if (type == PayloadType::sk) {
                    auto& sk = add<SkPayload>(out);
                    sk.inner_first = next;
                    sk.body = body;
                } else {
                    auto& skf = add<SkfPayload>(out);
                    skf.inner_first = next;
                    s = parse_body(body, skf);
                }
                return s;
            case PayloadType::none:  // loop condition
            case PayloadType::gspm:
            case PayloadType::ps:
            default:
                // RFC 7296 2.5: an unknown payload with the critical bit rejects the whole
                // message; without it the payload is skipped (kept here for logging).
                if (critical) {
                    if (critical_type) *critical_type = type;
                    return err(Errc::unsupported_critical, type, "critical bit set");
                }
                add<UnknownPayload>(out) = UnknownPayload{type, critical, body};
                break;
        }
        if (!s) return s;
        type = next;
    }
    if (!r.empty()) {
        return Error{Errc::bad_length,
                     std::to_string(r.remaining()) + " octets after the last payload"};
    }
    return {};
}

}  // namespace

Result<Header> parse_header(ByteView datagram) {
    ByteReader r(datagram);
    if (r.remaining() < kHeaderSize) return Error{Errc::truncated, "shorter than the IKE header"};
    Header h;
    h.spi_i = IkeSpi{r.u64()};
    h.spi_r = IkeSpi{r.u64()};
    h.next_payload = static_cast<PayloadType>(r.u8());
    uint8_t version = r.u8();
    h.major_version = version >> 4;
    h.minor_version = version & 0x0f;
    h.exchange = static_cast<ExchangeType>(r.u8());
    h.flags = r.u8();
    h.message_id = MessageId{r.u32()};
    h.length = r.u32();
    if (h.length > datagram.size()) {
        return Error{Errc::truncated, "header Length " + std::to_string(h.length) + " > datagram " +
                                          std::to_string(datagram.size())};
    }
    if (h.length < datagram.size()) {
        return Error{Errc::bad_length, "header Length " + std::to_string(h.length) +
                                           " < datagram " + std::to_string(datagram.size())};
    }
    return h;
}

Status parse_message(ByteView datagram, Message& out, PayloadType* critical_type) {
    out.payloads.clear();
    Result<Header> h = parse_header(datagram);
    if (!h) return h.take_error();
    if (h->major_version != kMajorVersion) {
        return Error{Errc::bad_version, "major version " + std::to_string(h->major_version)};
    }
    out.header = *h;
    return parse_chain(out.header.next_payload, datagram.subspan(kHeaderSize), true, out.payloads,
                       critical_type);
}

Result<Message> parse_message(ByteView datagram) {
    Message m;
    Status s = parse_message(datagram, m);
    if (!s) return s.take_error();
    return m;
}

Status parse_payloads(PayloadType first, ByteView chain, PayloadList& out,
                      PayloadType* critical_type) {
    return parse_chain(first, chain, false, out, critical_type);
}

Result<PayloadList> parse_payloads(PayloadType first, ByteView chain) {
    PayloadList list;
    Status s = parse_payloads(first, chain, list);
    if (!s) return s.take_error();
    return list;
}

}  // namespace ikemesh::wire
