// PSKs: encodings, files, the RFC 7296 2.15 length rule, file permissions, and that no secret
// ever appears in a message or in the printed configuration.
#include <catch2/catch.hpp>

#include "config/file_access.hpp"
#include "config_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::config;
using namespace ikemesh::config::test;

namespace {

std::string key_hex(const ike::PeerConfig& p) {
    REQUIRE(p.psk);
    return to_hex(p.psk->view());
}

}  // namespace

TEST_CASE("inline PSKs in all three notations") {
    const std::string text(40, 'k');
    auto p = parse(
        main_file(),
        {peer_file("a.conf", peer("a", "10.0.0.2") + "[peer.b]\naddress = \"10.0.0.3\"\npsk = \"" +
                                 kPsk2 + "\"\n[peer.c]\naddress = \"10.0.0.4\"\npsk = \"" + text +
                                 "\"\n")});
    INFO(p.text());
    REQUIRE(p.ok());
    // kPsk's base64 decoded by Python's base64 module.
    CHECK(key_hex(p.config().peers[0]) ==
          "abcdef121a865e1774744d5c67d1f6764bb2fb43672ff6ef0fc98dbf122c611e");
    CHECK(key_hex(p.config().peers[1]) ==
          "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    CHECK(key_hex(p.config().peers[2]) == to_hex(Bytes(text.begin(), text.end())));
}

TEST_CASE("PSKs shorter than 32 bytes are refused without showing them") {
    const std::string weak = "0x00112233445566778899aabbccddeeff";  // 16 bytes
    auto p =
        parse(main_file(),
              {peer_file("a.conf", "[peer.a]\naddress = \"10.0.0.2\"\npsk = \"" + weak + "\"\n")});
    REQUIRE_FALSE(p.ok());
    CHECK(
        p.has("peers.d/a.conf:3: peer.a.psk: PSK too short: 16 bytes, at least 32 needed (RFC "
              "7296 2.15: as unpredictable as the strongest key negotiated; generate one with: "
              "openssl rand -base64 32)"));
    CHECK_FALSE(p.mentions("00112233"));
    auto q = parse(main_file(), {peer_file("a.conf",
                                           "[peer.a]\naddress = \"10.0.0.2\"\npsk = "
                                           "\"correct horse battery\"\n")});
    CHECK(q.mentions("PSK too short: 21 bytes"));
    CHECK_FALSE(q.mentions("horse"));
}

TEST_CASE("malformed PSK notation is an error that does not quote the key") {
    auto p = parse(main_file(), {peer_file("a.conf",
                                           "[peer.a]\naddress = \"10.0.0.2\"\npsk = "
                                           "\"0xSECRETSECRET\"\n[peer.b]\naddress = "
                                           "\"10.0.0.3\"\npsk = 12345678\n")});
    REQUIRE_FALSE(p.ok());
    CHECK(
        p.has("peers.d/a.conf:3: peer.a.psk: expected a PSK as text, 0x followed by hex or 0s "
              "followed by base64: a character after \"0x\" is not a hex digit"));
    CHECK(p.has("peers.d/a.conf:6: peer.b.psk: expected a string, got an integer"));
    CHECK_FALSE(p.mentions("SECRET"));
    CHECK_FALSE(p.mentions("12345678"));
}

TEST_CASE("psk and psk_file together are an error") {
    auto p =
        parse(main_file(), {peer_file("a.conf", peer("a", "10.0.0.2", "psk_file = \"x.psk\"\n"))});
    REQUIRE_FALSE(p.ok());
    CHECK(p.has("peers.d/a.conf:4: peer.a.psk_file: set either psk or psk_file, not both"));
}

TEST_CASE("a peer without any PSK is an error at its table") {
    auto p = parse(main_file(), {peer_file("a.conf", "\n[peer.a]\naddress = \"10.0.0.2\"\n")});
    REQUIRE_FALSE(p.ok());
    CHECK(
        p.has("peers.d/a.conf:2: peer.a: no PSK for this peer: set psk or psk_file here, or "
              "psk_file in [defaults] (auth = \"psk\")"));
}

TEST_CASE("psk_file: notation, trailing newline, relative paths, read once for all peers") {
    MemoryFileAccess files;
    files.add("/etc/ikemesh/mesh.psk", kPsk2 + "\n");
    files.add("/srv/keys/other.psk", std::string(32, 'z') + "\r\n");
    std::string peers;
    for (int i = 0; i < 50; ++i) {
        peers += "[peer.n" + std::to_string(i) + "]\naddress = \"10.1.0." + std::to_string(i + 1) +
                 "\"\n";
    }
    peers += "[peer.other]\naddress = \"10.2.0.1\"\npsk_file = \"/srv/keys/other.psk\"\n";
    auto p = parse(main_file("[defaults]\npsk_file = \"mesh.psk\"\n"),
                   {peer_file("all.conf", peers)}, &files);
    INFO(p.text());
    REQUIRE(p.ok());
    CHECK(files.secret_reads() == 2);
    const auto& list = p.config().peers;
    REQUIRE(list.size() == 51);
    CHECK(key_hex(list[0]) == "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    for (const auto& n : list) {
        if (n.name == "other") {
            CHECK(key_hex(n) == to_hex(Bytes(32, 'z')));
        } else {
            CHECK(n.psk == list[0].psk);  // one shared key object, not fifty copies
        }
    }
}

TEST_CASE("psk_file problems are reported at the key that names the file, once") {
    MemoryFileAccess files;
    files.add("/etc/ikemesh/open.psk", kPsk, /*insecure=*/true);
    files.add("/etc/ikemesh/short.psk", "0x0011223344\n");
    files.add("/etc/ikemesh/bad.psk", "0xZZZZ");
    auto p = parse(main_file("[defaults]\npsk_file = \"open.psk\"\n"),
                   {peer_file("a.conf",
                              "[peer.a]\naddress = \"10.0.0.2\"\n"
                              "[peer.b]\naddress = \"10.0.0.3\"\n"
                              "[peer.c]\naddress = \"10.0.0.4\"\npsk_file = "
                              "\"short.psk\"\n"
                              "[peer.d]\naddress = \"10.0.0.5\"\npsk_file = "
                              "\"missing.psk\"\n"
                              "[peer.e]\naddress = \"10.0.0.6\"\npsk_file = "
                              "\"bad.psk\"\n")},
                   &files);
    REQUIRE_FALSE(p.ok());
    INFO(p.text());
    CHECK(
        p.has("ikemesh.conf:4: defaults.psk_file: /etc/ikemesh/open.psk is readable by group "
              "or others; make it private (chmod 600)"));
    CHECK(p.mentions("peers.d/a.conf:7: peer.c.psk_file: PSK too short: 5 bytes"));
    CHECK(
        p.mentions("peers.d/a.conf:10: peer.d.psk_file: cannot use /etc/ikemesh/missing.psk: "
                   "I/O error"));
    CHECK(
        p.has("peers.d/a.conf:13: peer.e.psk_file: the content of /etc/ikemesh/bad.psk is not "
              "a PSK (text, 0x followed by hex or 0s followed by base64): a character after "
              "\"0x\" is not a hex digit"));
    CHECK(p.diagnostics.error_count() == 4);  // open.psk once, not once per peer using it
}

TEST_CASE("without file access psk_file cannot be used") {
    auto p = parse(main_file(), {peer_file("a.conf",
                                           "[peer.a]\naddress = \"10.0.0.2\"\n"
                                           "psk_file = \"a.psk\"\n")});
    CHECK(
        p.has("peers.d/a.conf:3: peer.a.psk_file: PSK files cannot be read here (no file "
              "access)"));
}

TEST_CASE("an inline psk in [defaults] applies to every peer") {
    auto p = parse(main_file("[defaults]\npsk = \"" + kPsk2 + "\"\n"),
                   {peer_file("a.conf", "[peer.a]\naddress = \"10.0.0.2\"\n")});
    REQUIRE(p.ok());
    CHECK(key_hex(p.config().peers[0]).substr(0, 8) == "00010203");
}

TEST_CASE("a file that holds an inline psk must not be readable by group or others") {
    auto p = parse(main_file(), {peer_file("a.conf", peer("a", "10.0.0.2"), /*exposed=*/true)});
    REQUIRE_FALSE(p.ok());
    CHECK(
        p.has("peers.d/a.conf:3: peer.a.psk: peers.d/a.conf is readable by group or others; a "
              "file holding a psk must be private (chmod 600), or use psk_file"));
    // The same in the main file's [defaults].
    auto q = parse(main_file("[defaults]\npsk = \"" + kPsk + "\"\n"), {}, nullptr,
                   /*main_exposed=*/true);
    CHECK(q.mentions("ikemesh.conf:4: defaults.psk: ikemesh.conf is readable by group or others"));
    // Naming a psk_file in a world-readable file is fine.
    MemoryFileAccess files;
    files.add("/etc/ikemesh/a.psk", kPsk);
    auto r = parse(
        main_file(),
        {peer_file("a.conf", "[peer.a]\naddress = \"10.0.0.2\"\npsk_file = \"a.psk\"\n", true)},
        &files);
    CHECK(r.ok());
}

TEST_CASE("with auth = cert a psk is ignored with a warning") {
    auto p = parse("[local]\nid = \"a\"\nauth = \"cert\"\n",
                   {peer_file("a.conf", peer("a", "10.0.0.2"))});
    CHECK(p.has("peers.d/a.conf:3: warning: peer.a.psk: ignored with auth = \"cert\""));
}

TEST_CASE("no secret appears in any message or printout") {
    const std::string marker = "SeCrEtMaRkEr";
    const std::string secret = marker + std::string(30, 'q');
    std::vector<std::string> broken_peer_files{
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = \"" + marker + "\"\n",     // too short
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = \"0x" + marker + "\"\n",   // bad hex
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = \"0s" + marker + "!\"\n",  // bad base64
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = " + marker + "\n",         // TOML syntax
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = '" + marker + "\n",        // unterminated
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = \"\"\"" + marker + "\n",   // unterminated
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = [\"" + secret + "\"]\n",   // wrong type
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = \"" + secret + "\"\npsk_file = \"x\"\n",
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = \"" + secret + "\"\nbogus = 1\n",
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = 1" + marker + "\n",   // bad number
        "[peer.a]\naddress = \"10.0.0.2\"\npsk = 0x" + marker + "\n",  // bad hex int
    };
    for (const auto& text : broken_peer_files) {
        INFO(text);
        auto p = parse(main_file(), {peer_file("a.conf", text)});
        CHECK_FALSE(p.ok());
        CHECK_FALSE(p.mentions(marker));
        CHECK_FALSE(p.mentions("SeCr"));
        CHECK(p.result.error().message().find(marker) == std::string::npos);
    }
    auto good = parse(
        main_file(),
        {peer_file("a.conf", "[peer.a]\naddress = \"10.0.0.2\"\npsk = \"" + secret + "\"\n")});
    REQUIRE(good.ok());
    CHECK(to_string(good.config()).find(marker) == std::string::npos);
    CHECK(to_string(good.config()).find("psk = \"<secret>\"") != std::string::npos);
    CHECK(describe(good.config().peers[0]) ==
          "a 10.0.0.2 id=ipv4:10.0.0.2 psk=<secret> start=always");
}
