// Bounds-checked big-endian reading and writing of byte buffers, and hex helpers.
//
// ByteReader never reads past its span: every read reports failure instead, and the reader stays
// failed, so a parser can read a whole fixed header and check once. ByteWriter appends to a
// caller-owned std::vector and can patch a length field written earlier. Neither allocates on its
// own beyond the vector's growth. This is the only place that knows the byte order of the wire.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ikemesh {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

class ByteReader {
  public:
    explicit ByteReader(ByteView data) : data_(data) {}

    bool ok() const { return ok_; }
    size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
    size_t position() const { return pos_; }
    bool empty() const { return remaining() == 0; }

    uint8_t u8() {
        if (!need(1)) return 0;
        return data_[pos_++];
    }
    uint16_t u16() {
        if (!need(2)) return 0;
        uint16_t v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    uint32_t u32() {
        if (!need(4)) return 0;
        uint32_t v = uint32_t{data_[pos_]} << 24 | uint32_t{data_[pos_ + 1]} << 16 |
                     uint32_t{data_[pos_ + 2]} << 8 | uint32_t{data_[pos_ + 3]};
        pos_ += 4;
        return v;
    }
    uint64_t u64() {
        uint64_t hi = u32();
        return hi << 32 | u32();
    }
    // A view of the next n bytes; empty (and the reader failed) if fewer remain.
    ByteView bytes(size_t n) {
        if (!need(n)) return {};
        ByteView v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    ByteView rest() { return bytes(remaining()); }
    void skip(size_t n) { (void)bytes(n); }

  private:
    bool need(size_t n) {
        if (!ok_ || data_.size() - pos_ < n) {
            ok_ = false;
            return false;
        }
        return true;
    }

    ByteView data_;
    size_t pos_ = 0;
    bool ok_ = true;
};

class ByteWriter {
  public:
    explicit ByteWriter(Bytes& out) : out_(out) {}

    size_t size() const { return out_.size(); }
    void u8(uint8_t v) { out_.push_back(v); }
    void u16(uint16_t v) {
        out_.push_back(static_cast<uint8_t>(v >> 8));
        out_.push_back(static_cast<uint8_t>(v));
    }
    void u32(uint32_t v) {
        u16(static_cast<uint16_t>(v >> 16));
        u16(static_cast<uint16_t>(v));
    }
    void u64(uint64_t v) {
        u32(static_cast<uint32_t>(v >> 32));
        u32(static_cast<uint32_t>(v));
    }
    void bytes(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }
    void zeros(size_t n) { out_.insert(out_.end(), n, 0); }

    // Reserve a 16-bit field now and fill it later with patch_u16(at, value).
    size_t placeholder_u16() {
        size_t at = out_.size();
        u16(0);
        return at;
    }
    void patch_u16(size_t at, uint16_t v) {
        out_[at] = static_cast<uint8_t>(v >> 8);
        out_[at + 1] = static_cast<uint8_t>(v);
    }
    void patch_u32(size_t at, uint32_t v) {
        patch_u16(at, static_cast<uint16_t>(v >> 16));
        patch_u16(at + 2, static_cast<uint16_t>(v));
    }
    void patch_u8(size_t at, uint8_t v) { out_[at] = v; }

  private:
    Bytes& out_;
};

inline uint16_t load_be16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void store_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// Lowercase hex without separators or prefix ("0a1b").
std::string to_hex(ByteView data);
// Accepts upper or lower case, optional whitespace and colons between bytes; nullopt on bad input.
std::optional<Bytes> from_hex(std::string_view text);

}  // namespace ikemesh
