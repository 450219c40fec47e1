#include "crypto/secret.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>
#include <type_traits>

#include "crypto/random.hpp"
#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

TEST_CASE("SecretBytes holds, slices, clones and compares its bytes") {
    const Bytes data = test::hex("00112233445566778899");
    SecretBytes s(data);
    CHECK(s.size() == 10);
    CHECK(Bytes(s.view().begin(), s.view().end()) == data);
    auto part = s.slice(2, 3);
    CHECK(to_hex(part.view()) == "223344");
    CHECK(s.slice(10, 0).empty());
    auto copy = s.clone();
    CHECK(copy.equals(s));
    copy.mutable_view()[9] ^= 1;
    CHECK_FALSE(copy.equals(s));
    CHECK_FALSE(s.equals(part));
    CHECK(SecretBytes().equals(SecretBytes()));
    CHECK(SecretBytes(4).equals(SecretBytes(test::hex("00000000"))));
    CHECK(to_hex(SecretBytes::from_string("ab").view()) == "6162");
}

TEST_CASE("a moved-from SecretBytes is empty and reassignment replaces the bytes") {
    SecretBytes a(test::hex("0102"));
    SecretBytes b(std::move(a));
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the contract is that it is empty
    CHECK(a.view().empty());
    CHECK(to_hex(b.view()) == "0102");
    SecretBytes c(test::hex("ffffff"));
    c = std::move(b);
    CHECK(to_hex(c.view()) == "0102");
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
}

namespace {
// Replays a fixed byte sequence, so uniform() can be checked exactly.
class ScriptedRandom final : public RandomSource {
  public:
    explicit ScriptedRandom(Bytes bytes) : bytes_(std::move(bytes)) {}
    void fill(std::span<uint8_t> out) override {
        for (auto& b : out)
            b = bytes_[pos_++ % bytes_.size()];
    }

  private:
    Bytes bytes_;
    size_t pos_ = 0;
};
}  // namespace

TEST_CASE("RandomSource draws big-endian integers and rejects biased values") {
    ScriptedRandom r(test::hex("0102030405060708"));
    CHECK(r.next_u32() == 0x01020304u);
    CHECK(r.next_u64() == 0x0506070801020304ull);
    // 2^64 mod 3 = 1, so only the value 0 is rejected: all-zero draws are skipped.
    ScriptedRandom zeros_then_five(test::hex("0000000000000000 0000000000000005"));
    CHECK(zeros_then_five.uniform(3) == 2);
    ScriptedRandom any(test::hex("ffffffffffffffff"));
    CHECK(any.uniform(1) == 0);
    CHECK(any.uniform(0) == 0);
    CHECK(any.uniform(10) == 0xffffffffffffffffull % 10);
}

TEST_CASE("SystemRandom fills buffers with varying bytes and stays in range") {
    SystemRandom r;
    Bytes a(32), b(32);
    r.fill(a);
    r.fill(b);
    CHECK(a != b);
    CHECK(a != Bytes(32, 0));
    for (int i = 0; i < 1000; ++i)
        CHECK(r.uniform(7) < 7);
    r.fill({});  // an empty request is fine
}

TEST_CASE("SystemRandom's block never serves the same octets twice, nor across a fork") {
    SystemRandom r;
    // Small draws across several refills of the 512-octet block, and large direct ones: no
    // 16-octet value may repeat (a repeat would mean served octets were handed out again).
    std::set<Bytes> seen;
    for (int i = 0; i < 200; ++i) {
        Bytes small(16), large(100);
        r.fill(small);
        r.fill(large);
        CHECK(seen.insert(small).second);
        CHECK(seen.insert(Bytes(large.begin(), large.begin() + 16)).second);
    }
    // A child must not draw what the parent draws next from the same block.
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        Bytes child(16);
        r.fill(child);
        _exit(write(pipefd[1], child.data(), child.size()) == 16 ? 0 : 1);
    }
    Bytes parent(16), child(16);
    r.fill(parent);
    close(pipefd[1]);
    REQUIRE(read(pipefd[0], child.data(), child.size()) == 16);
    close(pipefd[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(parent != child);
}
