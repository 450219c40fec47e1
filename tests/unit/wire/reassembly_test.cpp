// FragmentReassembler (RFC 7383 2.6): ordering, duplicates, numbering checks, a larger total
// replacing the set, message id changes and the memory bounds.
#include "ike/wire/reassembly.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "wire_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::wire;
using ikemesh::wire::test::view;

namespace {

OpenedFragment frag(uint16_t number, uint16_t total, std::string_view data,
                    PayloadType first = PayloadType::none) {
    return OpenedFragment{number, total, first, view(data)};
}

std::string text(ByteView v) {
    return std::string(v.begin(), v.end());
}

const MessageId kMid{1};

}  // namespace

TEST_CASE("fragments in order complete the chain with fragment 1's first payload type") {
    FragmentReassembler r;
    auto a = r.add(kMid, frag(1, 3, "aaa", PayloadType::idi));
    REQUIRE_FALSE(a);
    CHECK(a.error().is(Errc::fragment_incomplete));
    CHECK(r.collecting());
    CHECK(r.received() == 1);
    CHECK(r.add(kMid, frag(2, 3, "bb")).error().is(Errc::fragment_incomplete));
    auto done = r.add(kMid, frag(3, 3, "c"));
    REQUIRE(done);
    CHECK(done->first == PayloadType::idi);
    CHECK(text(done->chain) == "aaabbc");
    CHECK_FALSE(r.collecting());
}

TEST_CASE("fragments out of order, with duplicates, reassemble in number order") {
    FragmentReassembler r;
    CHECK(r.add(kMid, frag(3, 3, "c")).error().is(Errc::fragment_incomplete));
    CHECK(r.add(kMid, frag(3, 3, "X")).error().is(Errc::fragment_incomplete));  // duplicate
    CHECK(r.received() == 1);
    CHECK(r.add(kMid, frag(1, 3, "aaa", PayloadType::sa)).error().is(Errc::fragment_incomplete));
    auto done = r.add(kMid, frag(2, 3, "bb"));
    REQUIRE(done);
    CHECK(text(done->chain) == "aaabbc");  // the first copy of fragment 3 was kept
    CHECK(done->first == PayloadType::sa);
}

TEST_CASE("a single fragment is a complete message") {
    FragmentReassembler r;
    auto done = r.add(kMid, frag(1, 1, "whole", PayloadType::notify));
    REQUIRE(done);
    CHECK(text(done->chain) == "whole");
    CHECK(done->first == PayloadType::notify);
}

TEST_CASE("invalid numbering is refused without disturbing the set") {
    FragmentReassembler r;
    REQUIRE(r.add(kMid, frag(1, 2, "a")).error().is(Errc::fragment_incomplete));
    CHECK(r.add(kMid, frag(0, 2, "x")).error().is(Errc::fragment_invalid));
    CHECK(r.add(kMid, frag(3, 2, "x")).error().is(Errc::fragment_invalid));
    CHECK(r.add(kMid, frag(1, 0, "x")).error().is(Errc::fragment_invalid));
    CHECK(r.received() == 1);
    REQUIRE(r.add(kMid, frag(2, 2, "b")));
}

TEST_CASE("a larger Total Fragments replaces the set, a smaller one is refused (RFC 7383 2.6)") {
    FragmentReassembler r;
    REQUIRE(r.add(kMid, frag(1, 2, "old1")).error().is(Errc::fragment_incomplete));
    // The sender re-fragmented into smaller pieces after PMTU trouble.
    REQUIRE(r.add(kMid, frag(1, 3, "n1")).error().is(Errc::fragment_incomplete));
    CHECK(r.total() == 3);
    CHECK(r.received() == 1);
    // A late fragment of the older attempt.
    CHECK(r.add(kMid, frag(2, 2, "old2")).error().is(Errc::fragment_invalid));
    CHECK(r.add(kMid, frag(2, 3, "n2")).error().is(Errc::fragment_incomplete));
    auto done = r.add(kMid, frag(3, 3, "n3"));
    REQUIRE(done);
    CHECK(text(done->chain) == "n1n2n3");
}

TEST_CASE("a fragment of another message id starts a new set") {
    FragmentReassembler r;
    REQUIRE(r.add(MessageId{1}, frag(1, 2, "a")).error().is(Errc::fragment_incomplete));
    REQUIRE(r.add(MessageId{2}, frag(2, 2, "y")).error().is(Errc::fragment_incomplete));
    CHECK(r.message_id() == MessageId{2});
    CHECK(r.received() == 1);
    auto done = r.add(MessageId{2}, frag(1, 2, "x"));
    REQUIRE(done);
    CHECK(text(done->chain) == "xy");
}

TEST_CASE("memory is bounded by the fragment count and the byte budget") {
    FragmentReassembler r(ReassemblyLimits{4, 10});
    CHECK(r.add(kMid, frag(1, 5, "a")).error().is(Errc::fragment_invalid));
    CHECK_FALSE(r.collecting());
    REQUIRE(r.add(kMid, frag(1, 3, "123456")).error().is(Errc::fragment_incomplete));
    auto over = r.add(kMid, frag(2, 3, "7890x"));
    REQUIRE_FALSE(over);
    CHECK(over.error().is(Errc::fragment_invalid));
    CHECK_FALSE(r.collecting());  // the whole set is discarded
    // Within the budget the same limits work.
    REQUIRE(r.add(kMid, frag(1, 2, "12345")).error().is(Errc::fragment_incomplete));
    auto done = r.add(kMid, frag(2, 2, "67890"));
    REQUIRE(done);
    CHECK(text(done->chain) == "1234567890");
}

TEST_CASE("the default limits accept a 64-fragment message and refuse 65") {
    FragmentReassembler r;
    for (uint16_t i = 1; i < 64; ++i) {
        REQUIRE(r.add(kMid, frag(i, 64, "z")).error().is(Errc::fragment_incomplete));
    }
    auto done = r.add(kMid, frag(64, 64, "z"));
    REQUIRE(done);
    CHECK(done->chain.size() == 64);
    CHECK(r.add(kMid, frag(1, 65, "z")).error().is(Errc::fragment_invalid));
}

TEST_CASE("reset forgets the set") {
    FragmentReassembler r;
    REQUIRE(r.add(kMid, frag(1, 2, "a")).error().is(Errc::fragment_incomplete));
    r.reset();
    CHECK_FALSE(r.collecting());
    CHECK(r.add(kMid, frag(2, 2, "b")).error().is(Errc::fragment_incomplete));
    CHECK(r.received() == 1);
}
