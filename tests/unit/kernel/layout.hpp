// Test helper: writes expected netlink bytes field by field at explicit offsets, so golden
// messages in the tests are spelled out from the struct layouts of linux/xfrm.h (x86_64) rather
// than produced by the code under test. Netlink integers are host order (little-endian here);
// addresses, SPIs and ports are network order.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/bytes.hpp"
#include "common/ip.hpp"

namespace ikemesh::kernel::test {

class Layout {
  public:
    explicit Layout(size_t size) : b_(size, 0) {}

    Layout& u8(size_t off, uint8_t v) {
        b_.at(off) = v;
        return *this;
    }
    Layout& u16(size_t off, uint16_t v) {
        for (size_t i = 0; i < 2; ++i)
            b_.at(off + i) = static_cast<uint8_t>(v >> (8 * i));
        return *this;
    }
    Layout& u32(size_t off, uint32_t v) {
        for (size_t i = 0; i < 4; ++i)
            b_.at(off + i) = static_cast<uint8_t>(v >> (8 * i));
        return *this;
    }
    Layout& u64(size_t off, uint64_t v) {
        for (size_t i = 0; i < 8; ++i)
            b_.at(off + i) = static_cast<uint8_t>(v >> (8 * i));
        return *this;
    }
    Layout& be16(size_t off, uint16_t v) {
        b_.at(off) = static_cast<uint8_t>(v >> 8);
        b_.at(off + 1) = static_cast<uint8_t>(v);
        return *this;
    }
    Layout& be32(size_t off, uint32_t v) {
        for (size_t i = 0; i < 4; ++i)
            b_.at(off + i) = static_cast<uint8_t>(v >> (24 - 8 * i));
        return *this;
    }
    Layout& bytes(size_t off, ByteView v) {
        for (size_t i = 0; i < v.size(); ++i)
            b_.at(off + i) = v[i];
        return *this;
    }
    Layout& text(size_t off, std::string_view s) {
        for (size_t i = 0; i < s.size(); ++i)
            b_.at(off + i) = static_cast<uint8_t>(s[i]);
        return *this;
    }
    Layout& addr(size_t off, const IpAddress& a) { return bytes(off, a.bytes()); }
    // struct nlmsghdr at 0.
    Layout& header(uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid) {
        return u32(0, static_cast<uint32_t>(b_.size()))
            .u16(4, type)
            .u16(6, flags)
            .u32(8, seq)
            .u32(12, pid);
    }
    // struct nlattr header.
    Layout& attr(size_t off, uint16_t len, uint16_t type) {
        return u16(off, len).u16(off + 2, type);
    }

    const Bytes& get() const { return b_; }

  private:
    Bytes b_;
};

inline IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

}  // namespace ikemesh::kernel::test
