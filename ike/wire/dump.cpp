#include "ike/wire/dump.hpp"

#include <string_view>

namespace ikemesh::wire {
namespace {

constexpr size_t kMaxHexShown = 32;  // longer blobs print as a length only

std::string hex_or_length(ByteView data) {
    if (data.size() <= kMaxHexShown) return to_hex(data);
    return std::to_string(data.size()) + " bytes";
}

std::string transform_text(const Transform& t) {
    std::string out;
    std::string_view n = transform_id_name(t.type, t.id);
    if (t.type == TransformType::ke) {
        out = "DH " + std::to_string(t.id);  // groups read best as their numbers: "DH 31"
    } else if (!n.empty()) {
        out = std::string(n);
    } else {
        out = name_or_number(t.type, "TRANSFORM") + "(" + std::to_string(t.id) + ")";
    }
    if (t.key_length) out += "(" + std::to_string(*t.key_length) + ")";
    if (t.unknown_attribute) out += "+attr";
    return out;
}

std::string id_text(IdType type, ByteView data) {
    std::string out = name_or_number(type, "ID") + " ";
    switch (type) {
        case IdType::fqdn:
        case IdType::rfc822_addr: {
            bool printable = true;
            for (uint8_t c : data)
                printable = printable && c >= 0x20 && c < 0x7f;
            if (printable) return out + std::string(data.begin(), data.end());
            break;
        }
        case IdType::ipv4_addr:
        case IdType::ipv6_addr:
            if (auto a = IpAddress::from_bytes(data)) return out + a->to_string();
            break;
        default:
            break;
    }
    return out + hex_or_length(data);
}

std::string selectors_text(const SmallVector<TrafficSelector, 2>& selectors) {
    std::string out;
    for (const TrafficSelector& ts : selectors) {
        if (!out.empty()) out += "; ";
        if (ts.type != TsType::ipv4_addr_range && ts.type != TsType::ipv6_addr_range) {
            out += name_or_number(ts.type, "TS") + " " + hex_or_length(ts.raw);
            continue;
        }
        out += ts.start_address.to_string() + "-" + ts.end_address.to_string();
        out +=
            " proto " + (ts.ip_protocol == 0 ? std::string("any") : std::to_string(ts.ip_protocol));
        out += " ports " + std::to_string(ts.start_port) + "-" + std::to_string(ts.end_port);
    }
    return out;
}

struct Describer {
    std::string operator()(const SaPayload& sa) const {
        std::string out = "SA:";
        for (size_t i = 0; i < sa.proposals.size(); ++i) {
            const Proposal& p = sa.proposals[i];
            out += i == 0 ? " " : "; ";
            out +=
                "proposal " + std::to_string(p.number) + " " + name_or_number(p.protocol, "PROTO");
            if (!p.spi.empty()) out += " spi=" + to_hex(p.spi);
            for (const Transform& t : p.transforms)
                out += " " + transform_text(t);
        }
        return out;
    }
    std::string operator()(const KePayload& ke) const {
        return "KE: DH " + std::to_string(static_cast<unsigned>(ke.group)) + ", " +
               std::to_string(ke.data.size()) + " bytes";
    }
    std::string operator()(const IdiPayload& id) const {
        return "IDi: " + id_text(id.type, id.data);
    }
    std::string operator()(const IdrPayload& id) const {
        return "IDr: " + id_text(id.type, id.data);
    }
    std::string operator()(const CertPayload& c) const {
        return "CERT: " + name_or_number(c.encoding, "ENCODING") + ", " +
               std::to_string(c.data.size()) + " bytes";
    }
    std::string operator()(const CertReqPayload& c) const {
        return "CERTREQ: " + name_or_number(c.encoding, "ENCODING") + ", " +
               std::to_string(c.data.size()) + " bytes";
    }
    std::string operator()(const AuthPayload& a) const {
        return "AUTH: " + name_or_number(a.method, "METHOD") + ", " +
               std::to_string(a.data.size()) + " bytes";
    }
    std::string operator()(const NoncePayload& n) const {
        return "Nonce: " + std::to_string(n.data.size()) + " bytes";
    }
    std::string operator()(const NotifyPayload& n) const {
        std::string out = "N(" + name_or_number(n.type, "NOTIFY") + ")";
        if (n.protocol != ProtocolId::none) out += " " + name_or_number(n.protocol, "PROTO");
        if (!n.spi.empty()) out += " spi=" + to_hex(n.spi);
        if (!n.data.empty()) out += " data=" + hex_or_length(n.data);
        return out;
    }
    std::string operator()(const DeletePayload& d) const {
        std::string out = "D: " + name_or_number(d.protocol, "PROTO");
        if (d.count == 0) return out;
        out += " " + std::to_string(d.count) + " SPI" + (d.count == 1 ? "" : "s");
        for (size_t i = 0; i < d.count && i < 8; ++i)
            out += " " + to_hex(d.spi_at(i));
        if (d.count > 8) out += " ...";
        return out;
    }
    std::string operator()(const VendorIdPayload& v) const { return "V: " + hex_or_length(v.data); }
    std::string operator()(const TsiPayload& ts) const {
        return "TSi: " + selectors_text(ts.selectors);
    }
    std::string operator()(const TsrPayload& ts) const {
        return "TSr: " + selectors_text(ts.selectors);
    }
    std::string operator()(const ConfigPayload& cp) const {
        std::string out = "CP: " + name_or_number(cp.type, "CFG");
        for (const CfgAttribute& a : cp.attributes) {
            out += " " + name_or_number(static_cast<CfgAttr>(a.type), "ATTR");
            if (!a.value.empty()) out += "=" + hex_or_length(a.value);
        }
        return out;
    }
    std::string operator()(const EapPayload& e) const {
        std::string out =
            "EAP: " + name_or_number(e.code, "CODE") + " id " + std::to_string(e.identifier);
        if (e.type) out += " type " + std::to_string(*e.type);
        return out + ", " + std::to_string(e.data.size()) + " bytes";
    }
    std::string operator()(const SkPayload& sk) const {
        return "SK: first " + name_or_number(sk.inner_first, "payload") + ", " +
               std::to_string(sk.body.size()) + " bytes";
    }
    std::string operator()(const SkfPayload& f) const {
        return "SKF: fragment " + std::to_string(f.fragment_number) + "/" +
               std::to_string(f.total_fragments) + ", first " +
               name_or_number(f.inner_first, "payload") + ", " + std::to_string(f.body.size()) +
               " bytes";
    }
    std::string operator()(const UnknownPayload& u) const {
        return name_or_number(u.type, "payload") + ": unknown, " + std::to_string(u.body.size()) +
               " bytes" + (u.critical ? ", critical" : "");
    }
};

}  // namespace

std::string describe(const Header& h) {
    std::string flags;
    if (h.is_initiator()) flags += "I";
    if (h.has(HeaderFlag::version)) flags += "V";
    if (h.is_response()) flags += "R";
    if (flags.empty()) flags = "-";
    return name_or_number(h.exchange, "EXCHANGE") + (h.is_response() ? " response" : " request") +
           " mid=" + std::to_string(h.message_id.value) + " spi_i=" + to_hex(h.spi_i) +
           " spi_r=" + to_hex(h.spi_r) + " flags=" + flags + " len=" + std::to_string(h.length);
}

std::string describe(const Payload& payload) {
    return std::visit(Describer{}, payload);
}

std::string describe(const PayloadList& payloads) {
    std::string out;
    for (const Payload& p : payloads)
        out += describe(p) + "\n";
    return out;
}

std::string describe(const Message& message) {
    return describe(message.header) + "\n" + describe(message.payloads);
}

}  // namespace ikemesh::wire
