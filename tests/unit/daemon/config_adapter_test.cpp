// The daemon's view of a configuration directory on disk, and the reload summary built from
// config::diff.
#include "daemon/config_adapter.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "io_harness.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

namespace {

// 32 random bytes in base64, the shortest PSK config/ accepts.
const std::string kPsk = "0sq83vEhqGXhd0dE1cZ9H2dkuy+0NnL/bvD8mNvxIsYR4=";

void write_private(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    REQUIRE(chmod(path.c_str(), 0600) == 0);
}

std::string peer(const std::string& name, const std::string& address,
                 const std::string& extra = "") {
    return "[peer." + name + "]\naddress = \"" + address + "\"\nid = \"" + name +
           ".mesh.example\"\npsk = \"" + kPsk + "\"\n" + extra;
}

}  // namespace

TEST_CASE("a configuration directory becomes the daemon's and the engine's slices") {
    test::TempDir tmp;
    write_private(
        tmp.path + "/ikemesh.conf",
        "[daemon]\ncontrol_socket = \"/tmp/x/ikemesh.sock\"\nkernel = \"fake\"\n"
        "log_level = \"debug\"\nlisten = [\"127.0.0.1\"]\nport = 1500\nport_natt = 14500\n"
        "[daemon.log_levels]\nike = \"trace\"\n"
        "[local]\nid = \"node1.mesh.example\"\n"
        "[metrics]\nlisten = \"127.0.0.1:9810\"\n");
    std::filesystem::create_directory(tmp.path + "/peers.d");
    write_private(tmp.path + "/peers.d/a.conf",
                  peer("node2", "10.0.0.2") + peer("node3", "10.0.0.3"));

    auto rc = load_runtime_config(tmp.path);
    INFO((rc ? std::string() : rc.error().message()));
    REQUIRE(rc);
    CHECK(rc->daemon.control_socket == "/tmp/x/ikemesh.sock");
    CHECK(rc->daemon.kernel == "fake");
    CHECK(rc->daemon.log.level == "debug");
    CHECK(rc->daemon.log.subsystems.at("ike") == "trace");
    REQUIRE(rc->daemon.listen.size() == 1);
    CHECK(rc->daemon.listen[0].to_string() == "127.0.0.1");
    CHECK(rc->daemon.port == 1500);
    CHECK(rc->daemon.port_natt == 14500);
    REQUIRE(rc->daemon.metrics_listen);
    CHECK(rc->daemon.metrics_listen->to_string() == "127.0.0.1:9810");
    CHECK(rc->engine.port == 1500);
    CHECK(rc->engine.port_natt == 14500);
    REQUIRE(rc->engine.peers.size() == 2);
    CHECK(rc->engine.peers[0].name == "node2");
    REQUIRE(rc->source);
    CHECK(rc->source->peers.size() == 2);
}

TEST_CASE("a broken directory reports every error with its place") {
    test::TempDir tmp;
    write_private(tmp.path + "/ikemesh.conf", "[local]\nid = \"node1.mesh.example\"\n");
    std::filesystem::create_directory(tmp.path + "/peers.d");
    write_private(tmp.path + "/peers.d/a.conf", peer("node2", "10.0.0.2", "adress = \"x\"\n"));
    write_private(tmp.path + "/peers.d/b.conf", peer("node3", "not-an-address"));
    auto rc = load_runtime_config(tmp.path);
    REQUIRE_FALSE(rc);
    CHECK(rc.error().is(Errc::config_invalid));
    std::string msg = rc.error().message();
    CHECK(msg.find("peers.d/a.conf") != std::string::npos);
    CHECK(msg.find("peers.d/b.conf") != std::string::npos);

    auto missing = load_runtime_config(tmp.path + "/nope");
    CHECK_FALSE(missing);
}

TEST_CASE("the change summary names added, removed and changed peers") {
    test::TempDir tmp;
    write_private(tmp.path + "/ikemesh.conf", "[local]\nid = \"node1.mesh.example\"\n");
    std::filesystem::create_directory(tmp.path + "/peers.d");
    write_private(
        tmp.path + "/peers.d/a.conf",
        peer("node2", "10.0.0.2") + peer("node3", "10.0.0.3") + peer("node4", "10.0.0.4"));
    auto before = load_runtime_config(tmp.path);
    REQUIRE(before);
    write_private(
        tmp.path + "/peers.d/a.conf",
        peer("node2", "10.0.0.2") + peer("node3", "10.0.0.33") + peer("node5", "10.0.0.5"));
    write_private(tmp.path + "/ikemesh.conf",
                  "[daemon]\ncontrol_socket = \"/tmp/elsewhere.sock\"\n"
                  "[local]\nid = \"node1.mesh.example\"\n");
    auto after = load_runtime_config(tmp.path);
    REQUIRE(after);
    json j = config_change_json(config::diff(*before->source, *after->source));
    CHECK(j["added"] == json::array({"node5"}));
    CHECK(j["removed"] == json::array({"node4"}));
    CHECK(j["changed"] == json::array({"node3"}));
    CHECK(j["unchanged"] == 1);
    CHECK(j["local_changed"] == false);
    CHECK(j["restart_required"] == json::array({"daemon.control_socket"}));
}
