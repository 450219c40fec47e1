#include "daemon/natt.hpp"

#include <catch2/catch.hpp>

using namespace ikemesh;
using namespace ikemesh::daemon;

TEST_CASE("RFC 3948: a NAT-keepalive is one 0xFF octet") {
    const Bytes ka{0xff};
    CHECK(classify_natt(ka).kind == NattKind::keepalive);
    // 0xFF followed by anything is not a keepalive (and not long enough for an SPI or marker).
    CHECK(classify_natt(Bytes{0xff, 0x00}).kind == NattKind::invalid);
    CHECK(classify_natt(Bytes{0x00}).kind == NattKind::invalid);
    CHECK(classify_natt(Bytes{}).kind == NattKind::invalid);
}

TEST_CASE("RFC 3948 2.2: IKE behind the non-ESP marker is stripped of it") {
    const Bytes dgram{0, 0, 0, 0, 0xaa, 0xbb, 0xcc};
    auto c = classify_natt(dgram);
    REQUIRE(c.kind == NattKind::ike);
    CHECK(Bytes(c.ike.begin(), c.ike.end()) == Bytes{0xaa, 0xbb, 0xcc});
    CHECK(c.ike.data() == dgram.data() + 4);  // a view, no copy

    auto marker_only = classify_natt(Bytes{0, 0, 0, 0});
    CHECK(marker_only.kind == NattKind::ike);
    CHECK(marker_only.ike.empty());
}

TEST_CASE("a non-zero first word is an ESP SPI: not for the engine") {
    CHECK(classify_natt(Bytes{0, 0, 0, 1, 0xaa}).kind == NattKind::esp);
    CHECK(classify_natt(Bytes{0xc0, 0, 0, 0}).kind == NattKind::esp);
}

TEST_CASE("frame_ike prepends the marker only on the NAT-T port") {
    const Bytes ike{1, 2, 3};
    CHECK(frame_ike(ike, false) == ike);
    CHECK(frame_ike(ike, true) == Bytes{0, 0, 0, 0, 1, 2, 3});
    // Round trip through the receiver's classification.
    Bytes framed = frame_ike(ike, true);
    auto c = classify_natt(framed);
    REQUIRE(c.kind == NattKind::ike);
    CHECK(Bytes(c.ike.begin(), c.ike.end()) == ike);
}
