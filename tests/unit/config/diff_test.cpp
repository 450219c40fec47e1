// diff(old, new): which peers a reload adds, removes, re-establishes or leaves alone.
#include "config/diff.hpp"

#include <catch2/catch.hpp>

#include "config_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::config;
using namespace ikemesh::config::test;

namespace {

Config load(const std::string& main, const std::vector<SourceFile>& peers = {}) {
    auto p = parse(main, peers);
    INFO(p.text());
    REQUIRE(p.ok());
    return *std::move(p.result);
}

using Names = std::vector<std::string>;

// A mesh of n peers in one drop-in per peer, as an operator would lay it out.
std::vector<SourceFile> mesh(int n, int changed = -1, const std::string& change = "") {
    std::vector<SourceFile> files;
    files.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        std::string name = "node" + std::to_string(10000 + i);
        std::string address = "10." + std::to_string(i / 65536) + "." +
                              std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
        std::string extra = "id = \"" + name + ".mesh.example\"\n";
        if (i == changed) extra += change;
        files.push_back(peer_file(name + ".conf", peer(name, address, extra)));
    }
    return files;
}

}  // namespace

TEST_CASE("identical configurations: everything unchanged") {
    auto files = mesh(3);
    Config a = load(main_file(), files);
    Config b = load(main_file(), files);  // parsed again: new objects, equal values
    ConfigDiff d = diff(a, b);
    CHECK(d.empty());
    CHECK(d.unchanged == Names{"node10000", "node10001", "node10002"});
    CHECK(d.added.empty());
    CHECK(d.removed.empty());
    CHECK(d.changed.empty());
}

TEST_CASE("added, removed, changed and unchanged peers") {
    Config a =
        load(main_file(), {peer_file("a.conf", peer("a", "10.0.0.1") + peer("b", "10.0.0.2") +
                                                   peer("c", "10.0.0.3"))});
    Config b =
        load(main_file(), {peer_file("a.conf", peer("b", "10.0.0.2") + peer("c", "10.0.0.33") +
                                                   peer("d", "10.0.0.4"))});
    ConfigDiff d = diff(a, b);
    CHECK(d.added == Names{"d"});
    CHECK(d.removed == Names{"a"});
    CHECK(d.changed == Names{"c"});
    CHECK(d.unchanged == Names{"b"});
    CHECK_FALSE(d.local_changed);
    CHECK(d.restart_required.empty());
    CHECK_FALSE(d.empty());
}

TEST_CASE("a changed PSK changes the peer, compared by content") {
    Config a = load(main_file(), {peer_file("a.conf", peer("a", "10.0.0.1"))});
    Config b =
        load(main_file(),
             {peer_file("a.conf", "[peer.a]\naddress = \"10.0.0.1\"\npsk = \"" + kPsk2 + "\"\n")});
    CHECK(diff(a, b).changed == Names{"a"});
    // The same key written in another notation is the same key.
    std::string same_as_kpsk2 = "0sAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    Config c = load(main_file(), {peer_file("a.conf", "[peer.a]\naddress = \"10.0.0.1\"\npsk = \"" +
                                                          same_as_kpsk2 + "\"\n")});
    CHECK(diff(b, c).unchanged == Names{"a"});
}

TEST_CASE("a change in [defaults] changes exactly the peers it reaches") {
    std::string peers = peer("a", "10.0.0.1") + peer("b", "10.0.0.2", "dpd_delay = \"5s\"\n");
    Config a = load(main_file("[defaults]\ndpd_delay = \"10s\"\n"), {peer_file("p.conf", peers)});
    Config b = load(main_file("[defaults]\ndpd_delay = \"20s\"\n"), {peer_file("p.conf", peers)});
    ConfigDiff d = diff(a, b);
    CHECK(d.changed == Names{"a"});
    CHECK(d.unchanged == Names{"b"});  // it overrides dpd_delay itself
    // Proposal defaults too.
    Config c = load(main_file("[defaults]\ndpd_delay = \"10s\"\nike = "
                              "\"aes256gcm16-prfsha256-x25519\"\n"),
                    {peer_file("p.conf", peers)});
    CHECK(diff(a, c).changed == Names{"a", "b"});
}

TEST_CASE("a change in [local] changes every kept peer") {
    auto files = mesh(3);
    Config a = load(main_file(), files);
    Config b = load("[local]\nid = \"node1.other.example\"\n", files);
    ConfigDiff d = diff(a, b);
    CHECK(d.local_changed);
    CHECK(d.changed == Names{"node10000", "node10001", "node10002"});
    CHECK(d.unchanged.empty());
}

TEST_CASE("node-wide settings: live ones and those that need a restart") {
    auto files = mesh(2);
    Config a = load(main_file(), files);
    Config b = load(
        "[daemon]\nlog_level = \"debug\"\n[tuning]\nretransmit_tries = 3\n" + main_file(), files);
    ConfigDiff d = diff(a, b);
    CHECK(d.logging_changed);
    CHECK(d.settings_changed);
    CHECK(d.restart_required.empty());
    CHECK(d.unchanged.size() == 2);  // neither touches a peer

    Config c = load(
        "[daemon]\nlisten = \"10.0.0.1\"\nkernel = \"fake\"\ncontrol_socket = "
        "\"/run/a.sock\"\ncontrol_group = \"adm\"\nport_natt = 4501\n"
        "[metrics]\nlisten = \"127.0.0.1:9810\"\n" +
            main_file(),
        files);
    ConfigDiff e = diff(a, c);
    CHECK(e.restart_required == Names{"daemon.control_socket", "daemon.control_group",
                                      "daemon.kernel", "daemon.listen", "daemon.port_natt",
                                      "metrics.listen"});
    CHECK_FALSE(e.logging_changed);
    // A new listen address is a new local address of the engine: [local] changed.
    CHECK(e.local_changed);

    Config f = load("[daemon]\nport = 600\n" + main_file(), files);
    ConfigDiff g = diff(a, f);
    CHECK(g.restart_required == Names{"daemon.port"});
    CHECK(g.changed.size() == 2);  // the peers' default port follows daemon.port
}

TEST_CASE("a 1,000-peer mesh parses, and a one-peer edit diffs to one changed peer") {
    auto before = mesh(1000);
    auto after = mesh(1000, 417, "dpd_delay = \"11s\"\n");
    Config a = load(main_file(), before);
    Config b = load(main_file(), after);
    REQUIRE(a.peers.size() == 1000);
    REQUIRE(b.peers.size() == 1000);
    CHECK(a.find_peer("node10999")->address.to_string() == "10.0.3.231");
    CHECK(a.find_peer("node10417")->dpd_delay == std::chrono::seconds(30));
    CHECK(b.find_peer("node10417")->dpd_delay == std::chrono::seconds(11));
    ConfigDiff d = diff(a, b);
    CHECK(d.changed == Names{"node10417"});
    CHECK(d.unchanged.size() == 999);
    CHECK(d.added.empty());
    CHECK(d.removed.empty());

    // Remove one, add one.
    auto third = mesh(1001);
    third.erase(third.begin() + 5);
    Config c = load(main_file(), third);
    ConfigDiff e = diff(a, c);
    CHECK(e.removed == Names{"node10005"});
    CHECK(e.added == Names{"node11000"});
    CHECK(e.unchanged.size() == 999);
}
