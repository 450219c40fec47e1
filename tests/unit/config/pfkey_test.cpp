// kernel = "pfkey": what Linux's PF_KEY cannot install is a config error, with pfkey defaults
// that it can (kernel/README.md, "PF_KEY").
#include <catch2/catch.hpp>

#include "config/proposals.hpp"
#include "config_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::config;
using namespace ikemesh::config::test;

namespace {

const std::string kPfkey = "[daemon]\nkernel = \"pfkey\"\n";

}  // namespace

TEST_CASE("kernel = pfkey: defaults PF_KEY can install") {
    auto p = parse(kPfkey + main_file(), {peer_file("a.conf", peer("node2", "10.0.0.2"))});
    INFO(p.text());
    REQUIRE(p.ok());
    const ike::PeerConfig& n = p.config().peers.at(0);
    REQUIRE(n.esp.size() == 1);
    CHECK(to_string(n.esp.at(0)) == "aes128-sha384");
    CHECK(n.replay_window == 32);

    // The XFRM defaults are unchanged.
    auto x = parse(main_file(), {peer_file("a.conf", peer("node2", "10.0.0.2"))});
    REQUIRE(x.ok());
    CHECK(to_string(x.config().peers.at(0).esp.at(0)) == "aes128gcm16");
    CHECK(x.config().peers.at(0).replay_window == 64);
}

TEST_CASE("kernel = pfkey: explicit values within PF_KEY's reach are kept") {
    auto p = parse(kPfkey + main_file(),
                   {peer_file("a.conf", peer("node2", "10.0.0.2",
                                             "esp = [\"aes256-sha512\", \"aes128-sha1\"]\n"
                                             "replay_window = 16\n"))});
    INFO(p.text());
    REQUIRE(p.ok());
    CHECK(p.config().peers.at(0).esp.size() == 2);
    CHECK(p.config().peers.at(0).replay_window == 16);
}

TEST_CASE("kernel = pfkey: what PF_KEY cannot install is an error naming the key") {
    auto esp = [](const std::string& proposal) {
        return parse(
            kPfkey + main_file(),
            {peer_file("a.conf", peer("node2", "10.0.0.2", "esp = [\"" + proposal + "\"]\n"))});
    };
    for (const char* bad :
         {"aes128gcm16", "chacha20poly1305", "aes128-sha256", "aes128-sha384-esn"}) {
        CAPTURE(bad);
        auto p = esp(bad);
        CHECK_FALSE(p.ok());
        CHECK(p.mentions("peer.node2.esp"));
        CHECK(p.mentions("kernel = \"pfkey\""));
    }
    auto w = parse(kPfkey + main_file("[defaults]\nreplay_window = 64\n"),
                   {peer_file("a.conf", peer("node2", "10.0.0.2"))});
    CHECK_FALSE(w.ok());
    CHECK(w.mentions("replay_window"));
    CHECK(w.mentions("above what kernel = \"pfkey\" can install (32)"));
}
