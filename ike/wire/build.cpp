#include "ike/wire/build.hpp"

#include <limits>
#include <string>

namespace ikemesh::wire {
namespace {

// RFC 7296 3.3.1, 3.3.2 Last Substruc values and 3.2 critical bit (same as the parser's).
constexpr uint8_t kLastSubstruc = 0;
constexpr uint8_t kMoreProposals = 2;
constexpr uint8_t kMoreTransforms = 3;
constexpr uint8_t kCriticalBit = 0x80;
constexpr size_t kMaxU16 = std::numeric_limits<uint16_t>::max();
constexpr size_t kNoSlot = std::numeric_limits<size_t>::max();

// Patches the 16-bit length at `at` to cover from `start` to the current end; false if too long.
bool patch_length(ByteWriter& w, size_t at, size_t start) {
    size_t length = w.size() - start;
    if (length > kMaxU16) return false;
    w.patch_u16(at, static_cast<uint16_t>(length));
    return true;
}

}  // namespace

void write_header(const Header& h, ByteWriter& w) {
    w.u64(h.spi_i.value);
    w.u64(h.spi_r.value);
    w.u8(static_cast<uint8_t>(h.next_payload));
    w.u8(static_cast<uint8_t>(h.major_version << 4 | (h.minor_version & 0x0f)));
    w.u8(static_cast<uint8_t>(h.exchange));
    w.u8(h.flags);
    w.u32(h.message_id.value);
    w.u32(h.length);
}

namespace detail {

ChainWriter::ChainWriter(Bytes buffer, size_t first_next_at)
    : buf_(std::move(buffer)), next_at_(first_next_at) {}

void ChainWriter::fail(Error e) {
    if (!error_) error_ = std::move(e);
}

template <typename BodyFn>
void ChainWriter::payload(PayloadType type, bool critical, PayloadType own_next, bool closes,
                          BodyFn&& body) {
    if (error_) return;
    if (closed_) {
        fail(Error{Errc::invalid_syntax, name_or_number(type, "payload") + " after SK/SKF"});
        return;
    }
    if (type == PayloadType::none) {  // 0 ends a chain (RFC 7296 3.2); it cannot name a payload
        fail(Error{Errc::invalid_syntax, "payload of type NONE"});
        return;
    }
    if (first_ == PayloadType::none) first_ = type;
    if (next_at_ != kNoSlot) buf_[next_at_] = static_cast<uint8_t>(type);
    ByteWriter w(buf_);
    size_t start = w.size();
    // The Next Payload octet of an ordinary payload is patched when the next one is added; SK and
    // SKF carry their inner type there instead (RFC 7296 3.14).
    w.u8(static_cast<uint8_t>(own_next));
    w.u8(critical ? kCriticalBit : 0);
    size_t length_at = w.placeholder_u16();
    body(w);
    if (error_) return;
    if (!patch_length(w, length_at, start)) {
        fail(Error{Errc::bad_length, name_or_number(type, "payload") + " longer than 65535"});
        return;
    }
    next_at_ = start;
    closed_ = closes;
}

void ChainWriter::add(const Payload& p) {
    std::visit([this](const auto& v) { add(v); }, p);
}

void ChainWriter::add(const SaPayload& sa) {
    payload(PayloadType::sa, false, PayloadType::none, false, [&](ByteWriter& w) {
        for (size_t i = 0; i < sa.proposals.size(); ++i) {
            const Proposal& prop = sa.proposals[i];
            if (prop.spi.size() > 255 || prop.transforms.size() > 255) {
                fail(Error{Errc::too_many_items, "proposal SPI or transform count over 255"});
                return;
            }
            size_t pstart = w.size();
            w.u8(i + 1 == sa.proposals.size() ? kLastSubstruc : kMoreProposals);
            w.u8(0);
            size_t plen_at = w.placeholder_u16();
            w.u8(prop.number);
            w.u8(static_cast<uint8_t>(prop.protocol));
            w.u8(static_cast<uint8_t>(prop.spi.size()));
            w.u8(static_cast<uint8_t>(prop.transforms.size()));
            w.bytes(prop.spi);
            for (size_t j = 0; j < prop.transforms.size(); ++j) {
                const Transform& t = prop.transforms[j];
                size_t tstart = w.size();
                w.u8(j + 1 == prop.transforms.size() ? kLastSubstruc : kMoreTransforms);
                w.u8(0);
                size_t tlen_at = w.placeholder_u16();
                w.u8(static_cast<uint8_t>(t.type));
                w.u8(0);
                w.u16(t.id);
                if (t.key_length) {
                    w.u16(kAttrFormatTv | static_cast<uint16_t>(TransformAttr::key_length));
                    w.u16(*t.key_length);
                }
                patch_length(w, tlen_at, tstart);  // at most 12 octets
            }
            if (!patch_length(w, plen_at, pstart)) {
                fail(Error{Errc::bad_length, "proposal longer than 65535"});
                return;
            }
        }
    });
}

void ChainWriter::add(const KePayload& ke) {
    payload(PayloadType::ke, false, PayloadType::none, false, [&](ByteWriter& w) {
        w.u16(static_cast<uint16_t>(ke.group));
        w.u16(0);
        w.bytes(ke.data);
    });
}

void ChainWriter::add(const IdiPayload& id) {
    payload(PayloadType::idi, false, PayloadType::none, false, [&](ByteWriter& w) {
        w.u8(static_cast<uint8_t>(id.type));
        w.zeros(3);
        w.bytes(id.data);
    });
}

void ChainWriter::add(const IdrPayload& id) {
    payload(PayloadType::idr, false, PayloadType::none, false, [&](ByteWriter& w) {
        w.u8(static_cast<uint8_t>(id.type));
        w.zeros(3);
        w.bytes(id.data);
    });
}

void ChainWriter::add(const CertPayload& c) {
    payload(PayloadType::cert, false, PayloadType::none, false, [&](ByteWriter& w) {
        w.u8(static_cast<uint8_t>(c.encoding));
        w.bytes(c.data);
    });
}

void ChainWriter::add(const CertReqPayload& c) {
    payload(PayloadType::certreq, false, PayloadType::none, false, [&](ByteWriter& w) {
        w.u8(static_cast<uint8_t>(c.encoding));
        w.bytes(c.data);
    });
}

void ChainWriter::add(const AuthPayload& a) {
    payload(PayloadType::auth, false, PayloadType::none, false, [&](ByteWriter& w) {
        w.u8(static_cast<uint8_t>(a.method));
        w.zeros(3);
        w.bytes(a.data);
    });
}

void ChainWriter::add(const NoncePayload& n) {
    payload(PayloadType::nonce, false, PayloadType::none, false,
            [&](ByteWriter& w) { w.bytes(n.data); });
}

void ChainWriter::add(const NotifyPayload& n) {
    payload(PayloadType::notify, false, PayloadType::none, false, [&](ByteWriter& w) {
        if (n.spi.size() > 255) {
            fail(Error{Errc::bad_length, "notify SPI longer than 255"});
            return;
        }
        w.u8(static_cast<uint8_t>(n.protocol));
        w.u8(static_cast<uint8_t>(n.spi.size()));
        w.u16(static_cast<uint16_t>(n.type));
        w.bytes(n.spi);
        w.bytes(n.data);
    });
}

void ChainWriter::add(const DeletePayload& d) {
    payload(PayloadType::del, false, PayloadType::none, false, [&](ByteWriter& w) {
        if (d.spis.size() != size_t{d.spi_size} * d.count) {
            fail(Error{Errc::bad_length, "delete: SPI octets != count * size"});
            return;
        }
        w.u8(static_cast<uint8_t>(d.protocol));
        w.u8(d.spi_size);
        w.u16(d.count);
        w.bytes(d.spis);
    });
}

void ChainWriter::add(const VendorIdPayload& v) {
    payload(PayloadType::vendor_id, false, PayloadType::none, false,
            [&](ByteWriter& w) { w.bytes(v.data); });
}

namespace {

// Returns an error text, or empty on success.
std::string write_selectors(ByteWriter& w, const SmallVector<TrafficSelector, 2>& selectors) {
    if (selectors.size() > 255) return "more than 255 selectors";
    w.u8(static_cast<uint8_t>(selectors.size()));
    w.zeros(3);
    for (const TrafficSelector& ts : selectors) {
        size_t start = w.size();
        w.u8(static_cast<uint8_t>(ts.type));
        w.u8(ts.ip_protocol);
        size_t len_at = w.placeholder_u16();
        if (ts.type == TsType::ipv4_addr_range || ts.type == TsType::ipv6_addr_range) {
            bool v4 = ts.type == TsType::ipv4_addr_range;
            auto family = v4 ? IpAddress::Family::v4 : IpAddress::Family::v6;
            if (ts.start_address.family() != family || ts.end_address.family() != family) {
                return "selector address family does not match its type";
            }
            w.u16(ts.start_port);
            w.u16(ts.end_port);
            w.bytes(ts.start_address.bytes());
            w.bytes(ts.end_address.bytes());
        } else {
            w.bytes(ts.raw);
        }
        if (!patch_length(w, len_at, start)) return "selector longer than 65535";
    }
    return {};
}

}  // namespace

void ChainWriter::add(const TsiPayload& ts) {
    payload(PayloadType::tsi, false, PayloadType::none, false, [&](ByteWriter& w) {
        std::string e = write_selectors(w, ts.selectors);
        if (!e.empty()) fail(Error{Errc::invalid_syntax, "TSi: " + e});
    });
}

void ChainWriter::add(const TsrPayload& ts) {
    payload(PayloadType::tsr, false, PayloadType::none, false, [&](ByteWriter& w) {
        std::string e = write_selectors(w, ts.selectors);
        if (!e.empty()) fail(Error{Errc::invalid_syntax, "TSr: " + e});
    });
}

void ChainWriter::add(const ConfigPayload& cp) {
    payload(PayloadType::cp, false, PayloadType::none, false, [&](ByteWriter& w) {
        w.u8(static_cast<uint8_t>(cp.type));
        w.zeros(3);
        for (const CfgAttribute& a : cp.attributes) {
            if (a.value.size() > kMaxU16) {
                fail(Error{Errc::bad_length, "CP attribute longer than 65535"});
                return;
            }
            w.u16(a.type & 0x7fff);
            w.u16(static_cast<uint16_t>(a.value.size()));
            w.bytes(a.value);
        }
    });
}

void ChainWriter::add(const EapPayload& e) {
    payload(PayloadType::eap, false, PayloadType::none, false, [&](ByteWriter& w) {
        size_t start = w.size();
        w.u8(static_cast<uint8_t>(e.code));
        w.u8(e.identifier);
        size_t len_at = w.placeholder_u16();
        if (e.type) w.u8(*e.type);
        w.bytes(e.data);
        if (!patch_length(w, len_at, start)) fail(Error{Errc::bad_length, "EAP too long"});
    });
}

void ChainWriter::add(const SkPayload& sk) {
    payload(PayloadType::sk, false, sk.inner_first, true, [&](ByteWriter& w) { w.bytes(sk.body); });
}

void ChainWriter::add(const SkfPayload& f) {
    payload(PayloadType::skf, false, f.inner_first, true, [&](ByteWriter& w) {
        w.u16(f.fragment_number);
        w.u16(f.total_fragments);
        w.bytes(f.body);
    });
}

void ChainWriter::add(const UnknownPayload& u) {
    payload(u.type, u.critical, PayloadType::none, false, [&](ByteWriter& w) { w.bytes(u.body); });
}

}  // namespace detail

MessageBuilder::MessageBuilder(const Header& header, Bytes buffer)
    : ChainWriter(std::move(buffer), 16 /* offset of the header's Next Payload */) {
    buf_.clear();
    ByteWriter w(buf_);
    Header h = header;
    h.next_payload = PayloadType::none;
    h.length = 0;
    write_header(h, w);
}

Result<Bytes> MessageBuilder::finish() {
    if (error_) return *error_;
    store_be32(buf_.data() + 24, static_cast<uint32_t>(buf_.size()));
    return std::move(buf_);
}

ChainBuilder::ChainBuilder(Bytes buffer) : ChainWriter(std::move(buffer), kNoSlot) {
    buf_.clear();
}

Result<Bytes> ChainBuilder::finish() {
    if (error_) return *error_;
    return std::move(buf_);
}

}  // namespace ikemesh::wire
