// load_config on a real directory: file discovery and order, file modes, read errors.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::config;
using namespace ikemesh::config::test;
namespace fs = std::filesystem;

namespace {

// A private temporary config directory, removed at the end of the test.
class TempDir {
  public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "ikemesh-config-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

    void write(const std::string& name, const std::string& text, mode_t mode = 0600) {
        fs::path p = path_ / name;
        fs::create_directories(p.parent_path());
        {
            std::ofstream out(p, std::ios::binary | std::ios::trunc);
            out << text;
        }
        REQUIRE(::chmod(p.c_str(), mode) == 0);
    }

  private:
    fs::path path_;
};

}  // namespace

TEST_CASE("load_config reads ikemesh.conf and peers.d/*.conf in lexical order") {
    TempDir dir;
    dir.write("ikemesh.conf", main_file(), 0644);
    dir.write("peers.d/20-b.conf", peer("b", "10.0.0.2"));
    dir.write("peers.d/10-a.conf", peer("a", "10.0.0.1"));
    // Ignored: other suffixes, hidden files (editor locks), directories.
    dir.write("peers.d/c.conf.bak", peer("c", "10.0.0.3"));
    dir.write("peers.d/.#d.conf", peer("d", "10.0.0.4"));
    dir.write("peers.d/README", "not toml at all [");
    fs::create_directories(dir.path() / "peers.d" / "sub.conf");
    // A duplicate shows which file came first: 10-a.conf is read before 20-b.conf.
    dir.write("peers.d/30-dup.conf", peer("a", "10.0.0.9"));

    Diagnostics diag;
    auto r = load_config(dir.path(), &diag);
    REQUIRE_FALSE(r.ok());
    CHECK(diag.to_string() ==
          "peers.d/30-dup.conf:1: peer.a: peer a is defined twice (first at "
          "peers.d/10-a.conf:1)\n");

    fs::remove(dir.path() / "peers.d" / "30-dup.conf");
    Diagnostics ok_diag;
    auto c = load_config(dir.path(), &ok_diag);
    INFO(ok_diag.to_string());
    REQUIRE(c.ok());
    REQUIRE(c->peers.size() == 2);
    CHECK(c->peers[0].name == "a");
    CHECK(c->peers[1].name == "b");
}

TEST_CASE("load_config: a missing main file is an I/O error; a missing peers.d is fine") {
    TempDir dir;
    auto r = load_config(dir.path());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is(Errc::io_error));
    CHECK(r.error().detail.find("ikemesh.conf") != std::string::npos);

    dir.write("ikemesh.conf", main_file(), 0644);
    auto c = load_config(dir.path());
    REQUIRE(c.ok());
    CHECK(c->peers.empty());
}

TEST_CASE("load_config refuses an inline psk in a file readable by group or others") {
    // The rule looks at the mode bits, so it holds for root (which can read anything) too.
    TempDir dir;
    dir.write("ikemesh.conf", main_file(), 0644);
    dir.write("peers.d/a.conf", peer("a", "10.0.0.1"), 0640);
    dir.write("peers.d/b.conf", peer("b", "10.0.0.2"), 0604);
    dir.write("peers.d/c.conf", peer("c", "10.0.0.3"), 0600);
    Diagnostics diag;
    auto r = load_config(dir.path(), &diag);
    REQUIRE_FALSE(r.ok());
    CHECK(diag.error_count() == 2);
    CHECK(diag.to_string().find("peers.d/a.conf:3: peer.a.psk: peers.d/a.conf is readable by "
                                "group or others") != std::string::npos);
    CHECK(diag.to_string().find("peers.d/b.conf:3: peer.b.psk:") != std::string::npos);

    REQUIRE(::chmod((dir.path() / "peers.d/a.conf").c_str(), 0600) == 0);
    REQUIRE(::chmod((dir.path() / "peers.d/b.conf").c_str(), 0400) == 0);
    CHECK(load_config(dir.path()).ok());
}

TEST_CASE("load_config: unreadable or oversized files are reported and nothing is returned") {
    TempDir dir;
    dir.write("ikemesh.conf", main_file(), 0644);
    dir.write("peers.d/big.conf", std::string(kMaxConfigFileBytes + 1, '#'));
    Diagnostics diag;
    auto r = load_config(dir.path(), &diag);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is(Errc::config_invalid));
    CHECK(diag.to_string().find("peers.d/big.conf: ") != std::string::npos);
    CHECK(diag.to_string().find("is larger than 4194304 bytes") != std::string::npos);
    // A dangling symlink named *.conf is skipped like any non-file.
    fs::remove(dir.path() / "peers.d/big.conf");
    fs::create_symlink(dir.path() / "nowhere", dir.path() / "peers.d/x.conf");
    CHECK(load_config(dir.path()).ok());
}

TEST_CASE("load_config resolves relative psk_file paths against the config directory") {
    TempDir dir;
    dir.write("ikemesh.conf", main_file("[defaults]\npsk_file = \"keys/mesh.psk\"\n"), 0644);
    dir.write("peers.d/a.conf", "[peer.a]\naddress = \"10.0.0.1\"\n", 0644);
    MemoryFileAccess files;
    files.add(dir.path() / "keys/mesh.psk", kPsk + "\n");
    auto c = load_config(dir.path(), files);
    REQUIRE(c.ok());
    REQUIRE(c->peers.at(0).psk);
    CHECK(c->peers.at(0).psk->size() == 32);
}
