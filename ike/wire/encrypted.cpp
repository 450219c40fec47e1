#include "ike/wire/encrypted.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>

#include "ike/wire/build.hpp"

namespace ikemesh::wire {
namespace {

constexpr size_t kMaxPayloadLength = std::numeric_limits<uint16_t>::max();

struct FragmentFields {
    uint16_t number;
    uint16_t total;
};

// Writes header | SK or SKF header | IV | E(chunk | padding | Pad Length) | ICV into `out`.
Status seal_one(const Header& header, PayloadType inner_first, std::optional<FragmentFields> frag,
                ByteView chunk, const crypto::SkCipher& cipher, crypto::RandomSource& rng,
                Bytes& out) {
    const size_t iv_size = cipher.iv_size();
    const size_t icv_size = cipher.icv_size();
    const size_t block = cipher.block_size() == 0 ? 1 : cipher.block_size();
    // RFC 7296 3.14: payloads | Padding | Pad Length must fill whole cipher blocks.
    const size_t plain_len = chunk.size() + 1;
    const size_t padded = (plain_len + block - 1) / block * block;
    const size_t pad = padded - plain_len;
    const size_t sk_header = frag ? kSkfHeaderSize : kGenericPayloadHeaderSize;
    const size_t payload_len = sk_header + iv_size + padded + icv_size;
    if (payload_len > kMaxPayloadLength) {
        return Error{Errc::bad_length, "encrypted payload longer than 65535"};
    }

    Header h = header;
    h.next_payload = frag ? PayloadType::skf : PayloadType::sk;
    h.length = static_cast<uint32_t>(kHeaderSize + payload_len);
    out.clear();
    out.reserve(h.length);
    ByteWriter w(out);
    write_header(h, w);
    w.u8(static_cast<uint8_t>(inner_first));
    w.u8(0);
    w.u16(static_cast<uint16_t>(payload_len));
    if (frag) {
        w.u16(frag->number);
        w.u16(frag->total);
    }
    const size_t aad_len = w.size();
    w.zeros(iv_size);
    w.bytes(chunk);
    w.zeros(pad);
    w.u8(static_cast<uint8_t>(pad));
    w.zeros(icv_size);

    std::span<uint8_t> all(out);
    std::span<uint8_t> iv = all.subspan(aad_len, iv_size);
    std::span<uint8_t> text = all.subspan(aad_len + iv_size, padded);
    std::span<uint8_t> icv = all.subspan(aad_len + iv_size + padded, icv_size);
    rng.fill(iv);
    // RFC 7296 3.14: "Padding MAY contain any value chosen by the sender".
    rng.fill(text.subspan(chunk.size(), pad));
    return cipher.seal(all.first(aad_len), iv, text, text, icv);
}

// True if `inner` lies within `outer` (compared as addresses, which is defined for any pointers
// through std::less).
bool within(ByteView outer, ByteView inner) {
    std::less<const uint8_t*> lt;
    const uint8_t* ob = outer.data();
    const uint8_t* oe = outer.data() + outer.size();
    return !lt(inner.data(), ob) && !lt(oe, inner.data() + inner.size()) &&
           !lt(inner.data() + inner.size(), inner.data());
}

// Verifies and decrypts `body` (IV | ciphertext | ICV) of a payload whose header ends where the
// body starts; returns the plaintext without padding.
Result<ByteView> open_body(ByteView datagram, ByteView body, const crypto::SkCipher& cipher,
                           Bytes& plaintext) {
    if (!within(datagram, body)) {
        return Error{Errc::invalid_syntax, "encrypted payload is not part of this datagram"};
    }
    const size_t iv_size = cipher.iv_size();
    const size_t icv_size = cipher.icv_size();
    const size_t block = cipher.block_size() == 0 ? 1 : cipher.block_size();
    if (body.size() < iv_size + icv_size + 1) {
        return Error{Errc::invalid_syntax, "encrypted payload shorter than IV + ICV"};
    }
    const size_t ct_len = body.size() - iv_size - icv_size;
    if (ct_len % block != 0) {
        return Error{Errc::invalid_syntax, "ciphertext is not a whole number of blocks"};
    }
    ByteView aad = datagram.first(static_cast<size_t>(body.data() - datagram.data()));
    ByteView iv = body.first(iv_size);
    ByteView ct = body.subspan(iv_size, ct_len);
    ByteView icv = body.subspan(iv_size + ct_len, icv_size);
    plaintext.resize(ct_len);
    Status s = cipher.open(aad, iv, ct, icv, plaintext);
    if (!s) return s.take_error();
    const size_t pad = plaintext.back();
    if (pad + 1 > ct_len) return Error{Errc::invalid_syntax, "Pad Length exceeds the plaintext"};
    return ByteView(plaintext).first(ct_len - pad - 1);
}

}  // namespace

Status seal_sk(const Header& header, PayloadType inner_first, ByteView inner,
               const crypto::SkCipher& cipher, crypto::RandomSource& rng, Bytes& out) {
    return seal_one(header, inner_first, std::nullopt, inner, cipher, rng, out);
}

Result<OpenedChain> open_sk(ByteView datagram, const Message& message,
                            const crypto::SkCipher& cipher, Bytes& plaintext) {
    const SkPayload* sk =
        message.payloads.empty() ? nullptr : std::get_if<SkPayload>(&message.payloads.back());
    if (!sk) return Error{Errc::invalid_syntax, "message does not end in an SK payload"};
    Result<ByteView> chain = open_body(datagram, sk->body, cipher, plaintext);
    if (!chain) return chain.take_error();
    return OpenedChain{sk->inner_first, *chain};
}

Status seal_skf(const Header& header, PayloadType inner_first, ByteView inner,
                const crypto::SkCipher& cipher, crypto::RandomSource& rng, size_t max_datagram_size,
                std::vector<Bytes>& fragments) {
    const size_t block = cipher.block_size() == 0 ? 1 : cipher.block_size();
    const size_t overhead = kHeaderSize + kSkfHeaderSize + cipher.iv_size() + cipher.icv_size();
    const size_t limit = std::min(max_datagram_size, kHeaderSize + kMaxPayloadLength);
    if (limit < overhead + block) {
        return Error{Errc::bad_length,
                     "no room for data in " + std::to_string(max_datagram_size) + " octets"};
    }
    // The largest whole number of blocks that fits, minus the Pad Length octet: a full chunk then
    // needs no padding.
    const size_t chunk_max = (limit - overhead) / block * block - 1;
    if (chunk_max == 0) {
        return Error{Errc::bad_length,
                     "no room for data in " + std::to_string(max_datagram_size) + " octets"};
    }
    const size_t count = inner.empty() ? 1 : (inner.size() + chunk_max - 1) / chunk_max;
    if (count > std::numeric_limits<uint16_t>::max()) {
        return Error{Errc::too_many_items, "more than 65535 fragments"};
    }
    fragments.resize(count);
    for (size_t i = 0; i < count; ++i) {
        ByteView chunk =
            inner.subspan(i * chunk_max, std::min(chunk_max, inner.size() - i * chunk_max));
        FragmentFields f{static_cast<uint16_t>(i + 1), static_cast<uint16_t>(count)};
        Status s = seal_one(header, i == 0 ? inner_first : PayloadType::none, f, chunk, cipher, rng,
                            fragments[i]);
        if (!s) return s;
    }
    return {};
}

Result<OpenedFragment> open_skf(ByteView datagram, const Message& message,
                                const crypto::SkCipher& cipher, Bytes& plaintext) {
    const SkfPayload* skf =
        message.payloads.empty() ? nullptr : std::get_if<SkfPayload>(&message.payloads.back());
    if (!skf) return Error{Errc::invalid_syntax, "message does not end in an SKF payload"};
    Result<ByteView> data = open_body(datagram, skf->body, cipher, plaintext);
    if (!data) return data.take_error();
    return OpenedFragment{skf->fragment_number, skf->total_fragments, skf->inner_first, *data};
}

}  // namespace ikemesh::wire
