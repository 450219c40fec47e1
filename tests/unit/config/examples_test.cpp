// The example configuration shipped in packaging/examples/ loads and means what it says.
#include <catch2/catch.hpp>

#include "config/diff.hpp"
#include "config/proposals.hpp"
#include "config_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::config;
using namespace ikemesh::config::test;
using namespace std::chrono_literals;

TEST_CASE("packaging/examples loads") {
    MemoryFileAccess files;
    files.add("/etc/ikemesh/mesh.psk", kPsk + "\n");
    files.add("/etc/ikemesh/node3.psk", kPsk2 + "\n");
    Diagnostics diag;
    auto c =
        load_config(std::filesystem::path(IKEMESH_SOURCE_DIR) / "packaging/examples", files, &diag);
    INFO(diag.to_string());
    REQUIRE(c.ok());
    CHECK(diag.empty());
    CHECK(c->daemon.control_group == "ikemesh");
    CHECK(c->daemon.log_levels.at("kernel") == LogLevel::warn);
    CHECK(c->local.id.text == "node1.mesh.example");
    REQUIRE(c->metrics.listen);
    CHECK(c->metrics.listen->port == 9810);
    REQUIRE(c->peers.size() == 2);
    const auto& node2 = c->peers[0];
    const auto& node3 = c->peers[1];
    CHECK(node2.name == "node2");
    CHECK(node2.id.kind == ike::IdKind::fqdn);
    CHECK(node2.bypass == std::vector<ike::TrafficSpec>{{6, 22}, {1, 0}});
    CHECK(node2.start == ike::StartAction::always);
    CHECK(node3.address.is_v6());
    CHECK(node3.dpd_delay == 10s);
    CHECK(node3.start == ike::StartAction::on_demand);
    CHECK(to_string(node3.esp.at(0)) == "aes256gcm16-x25519");
    CHECK(node3.traffic.size() == 2);
    CHECK_FALSE(node2.psk->equals(*node3.psk));
    CHECK(files.secret_reads() == 2);
    CHECK(diff(*c, *c).empty());
}
