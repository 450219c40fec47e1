#include "common/bytes.hpp"

#include <catch2/catch.hpp>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "common/types.hpp"

using namespace ikemesh;

TEST_CASE("ByteReader reads big-endian fields and fails without reading past the end") {
    const Bytes data{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    ByteReader r(data);
    CHECK(r.u8() == 0x01);
    CHECK(r.u16() == 0x0203);
    CHECK(r.u32() == 0x04050607u);
    CHECK(r.ok());
    CHECK(r.empty());
    CHECK(r.u8() == 0);
    CHECK_FALSE(r.ok());
    CHECK(r.remaining() == 0);
}

TEST_CASE("ByteReader::bytes refuses a length larger than what remains") {
    const Bytes data{1, 2, 3};
    ByteReader r(data);
    CHECK(r.bytes(4).empty());
    CHECK_FALSE(r.ok());
}

TEST_CASE("ByteWriter writes big-endian and patches placeholders") {
    Bytes out;
    ByteWriter w(out);
    w.u8(0xaa);
    size_t at = w.placeholder_u16();
    w.u32(0x01020304);
    w.u64(0x1112131415161718ull);
    w.patch_u16(at, 0xbeef);
    CHECK(to_hex(out) == "aabeef010203041112131415161718");
}

TEST_CASE("hex round trip and rejection of bad input") {
    auto b = from_hex("00 ff:10Ab");
    REQUIRE(b);
    CHECK(to_hex(*b) == "00ff10ab");
    CHECK_FALSE(from_hex("abc"));
    CHECK_FALSE(from_hex("zz"));
    CHECK_FALSE(from_hex("a b"));
}

TEST_CASE("IpAddress parses and prints v4 and v6") {
    auto a = IpAddress::parse("192.0.2.7");
    REQUIRE(a);
    CHECK(a->is_v4());
    CHECK(a->to_string() == "192.0.2.7");
    auto b = IpAddress::parse("2001:db8::1");
    REQUIRE(b);
    CHECK(b->is_v6());
    CHECK(b->bytes().size() == 16);
    CHECK(Endpoint{*b, 500}.to_string() == "[2001:db8::1]:500");
    CHECK_FALSE(IpAddress::parse("300.1.1.1"));
    CHECK_FALSE(IpAddress::parse(""));
    CHECK_FALSE(IpAddress::from_bytes(Bytes{1, 2, 3}));
}

TEST_CASE("Result carries a value or an error with its detail") {
    Result<int> good = 5;
    CHECK(good.ok());
    CHECK(*good == 5);
    Result<int> bad = Error{Errc::truncated, "SA payload"};
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().is(Errc::truncated));
    CHECK(bad.error().message() == "message truncated: SA payload");
    Status s = Errc::bad_length;
    CHECK_FALSE(s.ok());
}

TEST_CASE("every error code has a name and a message") {
    for (int v : {0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  100, 101, 102, 103,
                  104, 105, 106, 107, 108, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209,
                  210, 211, 212, 213, 300, 301, 302, 303, 304, 305, 306, 400, 401, 402}) {
        auto e = static_cast<Errc>(v);
        CHECK(std::string(errc_name(e)) != "unknown");
        CHECK(make_error_code(e).message().rfind("unknown error", 0) != 0);
    }
}

TEST_CASE("SPIs print as fixed-width lowercase hex") {
    CHECK(to_hex(IkeSpi{0x00ab}) == "00000000000000ab");
    CHECK(to_hex(EspSpi{0xc0ffee}) == "00c0ffee");
}
