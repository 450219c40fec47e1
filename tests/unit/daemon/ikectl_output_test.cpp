#include "daemon/ikectl_output.hpp"

#include <catch2/catch.hpp>

#include "daemon/status_json.hpp"
#include "sample_status.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

TEST_CASE("Table aligns columns and leaves no trailing blanks") {
    Table t({"A", "LONGER", "C"});
    t.add({"x", "y", ""});
    t.add({"wide cell", "", "z"});
    CHECK(t.render() ==
          "A          LONGER  C\n"
          "x          y\n"
          "wide cell          z\n");
}

TEST_CASE("format_bytes uses binary units") {
    CHECK(format_bytes(0) == "0 B");
    CHECK(format_bytes(1023) == "1023 B");
    CHECK(format_bytes(1024) == "1.0 KiB");
    CHECK(format_bytes(1536) == "1.5 KiB");
    CHECK(format_bytes(3u << 20) == "3.0 MiB");
    CHECK(format_bytes(5ull << 40) == "5.0 TiB");
    CHECK(format_bytes(UINT64_MAX) == "16.0 EiB");
}

TEST_CASE("format_duration is compact") {
    CHECK(format_duration(-1) == "-");
    CHECK(format_duration(0) == "0s");
    CHECK(format_duration(45) == "45s");
    CHECK(format_duration(723) == "12m03s");
    CHECK(format_duration(3 * 3600 + 5 * 60 + 9) == "3h05m");
    CHECK(format_duration(2 * 86400 + 4 * 3600) == "2d04h");
}

TEST_CASE("status table (golden)") {
    std::string out = render_status(status_json(test::sample_status()));
    CHECK(out ==
          "PEER   ADDRESS      LOCAL     STATE        IKE SA (I/R)                       "
          "CHILD SA (IN/OUT)  BYTES (IN/OUT)   REASON\n"
          "node2  10.0.0.2     10.0.0.1  established  0123456789abcdef/fedcba9876543210  "
          "c0000001/0000abcd  1.5 KiB/3.0 MiB\n"
          "node3  2001:db8::3  -         connecting   1111111111111111/0000000000000000  "
          "-                  -\n"
          "node4  10.0.0.4     10.0.0.1  down         -                                  "
          "-                  -                peer not responding\n"
          "3 peers: 1 established, 1 connecting, 1 down\n");
}

TEST_CASE("status table shows extra SAs on continuation lines and CHILD failures") {
    auto st = test::sample_status();
    auto& p = st.peers[0];
    auto second = p.ike_sas[0];
    second.spi_i = IkeSpi{0xaaaaaaaaaaaaaaaaull};
    second.spi_r = IkeSpi{0xbbbbbbbbbbbbbbbbull};
    p.ike_sas.push_back(second);
    p.child_error = "NO_PROPOSAL_CHOSEN";
    st.peers.resize(1);
    std::string out = render_status(status_json(st));
    CHECK(out ==
          "PEER   ADDRESS   LOCAL     STATE        IKE SA (I/R)                       "
          "CHILD SA (IN/OUT)  BYTES (IN/OUT)   REASON\n"
          "node2  10.0.0.2  10.0.0.1  established  0123456789abcdef/fedcba9876543210  "
          "c0000001/0000abcd  1.5 KiB/3.0 MiB  CHILD SA: NO_PROPOSAL_CHOSEN\n"
          "                                        aaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbb\n"
          "1 peer: 1 established, 0 connecting, 0 down\n");
}

TEST_CASE("list-peers table (golden)") {
    std::string out = render_list_peers(list_peers_json(test::sample_status()));
    CHECK(out ==
          "PEER   ADDRESS      ID                 START   STATE        IKE  CHILD  REASON\n"
          "node2  10.0.0.2     node2.example.net  always  established  1    1\n"
          "node3  2001:db8::3  node3.example.net  always  connecting   1    0\n"
          "node4  10.0.0.4     node4.example.net  always  down         0    0      peer not "
          "responding\n");
}

TEST_CASE("list-sas tables (golden)") {
    std::string out = render_list_sas(list_sas_json(test::sample_status()));
    CHECK(out ==
          "IKE SAs:\n"
          "PEER   SPI_I             SPI_R             ROLE       STATE        PROPOSAL           "
          "           REMOTE        AGE    REKEY  HEARD\n"
          "node2  0123456789abcdef  fedcba9876543210  initiator  established  "
          "aes128gcm16-prfsha256-x25519  10.0.0.2:500  2m05s  1h00m  3s\n"
          "node3  1111111111111111  0000000000000000  initiator  connecting   -                "
          "             -             0s     -      -\n"
          "\n"
          "CHILD SAs:\n"
          "PEER   SPI_IN    SPI_OUT   MODE       STATE      PROPOSAL     BYTES_IN  BYTES_OUT  "
          "PACKETS_IN  PACKETS_OUT  AGE    REKEY\n"
          "node2  c0000001  0000abcd  transport  installed  aes128gcm16  1.5 KiB   3.0 MiB    12 "
          "         2048         2m00s  50m00s\n");
}

TEST_CASE("small results render as one line") {
    CHECK(render_peer_action(json{{"peer", "node2"}, {"action", "initiate"}}) ==
          "initiate node2: ok\n");
    CHECK(render_peer_action(json{{"peer", "node2"}, {"action", "rekey"}, {"ike", true}}) ==
          "rekey (IKE SA) node2: ok\n");
    CHECK(render_reload(json{{"applied", true},
                             {"peers", 12},
                             {"added", json::array()},
                             {"unchanged", 12},
                             {"restart_required", json::array()}}) ==
          "configuration reloaded: 12 peers (0 added, 0 removed, 0 changed, 12 unchanged)\n");
    CHECK(render_reload(json{{"applied", true},
                             {"peers", 3},
                             {"added", {"node5"}},
                             {"removed", {"node7", "node8"}},
                             {"changed", {"node2"}},
                             {"unchanged", 1},
                             {"restart_required", {"daemon.listen", "daemon.port"}}}) ==
          "configuration reloaded: 3 peers (1 added, 2 removed, 1 changed, 1 unchanged)\n"
          "added: node5\nremoved: node7 node8\nchanged: node2\n"
          "not applied until ikemeshd restarts: daemon.listen daemon.port\n");
    CHECK(render_check_config(json{{"valid", true}, {"peers", 3}, {"unchanged", 3}}) ==
          "configuration is valid: 3 peers; against the running daemon: 0 added, 0 removed, 0 "
          "changed, 3 unchanged\n");
    CHECK(render_version(json{{"daemon", "ikemeshd"}, {"version", "0.1.0"}}, "0.1.0") ==
          "ikectl 0.1.0\nikemeshd 0.1.0\n");
}

TEST_CASE("monitor events render as one human line") {
    json ev{{"event", "peer_dead"},
            {"time", "2026-01-02T03:04:05.678Z"},
            {"peer", "node4"},
            {"spi_i", "0123456789abcdef"},
            {"spi_r", "fedcba9876543210"},
            {"reason", "peer not responding"}};
    CHECK(render_event(ev) ==
          "2026-01-02T03:04:05.678Z  peer_dead  node4  0123456789abcdef/fedcba9876543210  (peer "
          "not responding)");
    ev["spi_in"] = "c0000001";
    ev["spi_out"] = "0000abcd";
    ev.erase("reason");
    ev["event"] = "child_up";
    CHECK(render_event(ev) ==
          "2026-01-02T03:04:05.678Z  child_up  node4  0123456789abcdef/fedcba9876543210  "
          "c0000001/0000abcd");
}

TEST_CASE("rendering survives results of the wrong shape") {
    const json inputs[] = {json(),
                           json(5),
                           json("text"),
                           json::array(),
                           json{{"peers", 3}},
                           json{{"peers", {1, "x", nullptr}}},
                           json{{"peers", {{{"name", 1}, {"ike_sas", {{{"spi_i", 2}}}}}}}},
                           json{{"ike_sas", {{{"initiator", "yes"}}}}, {"child_sas", "no"}}};
    for (const auto& in : inputs) {
        for (auto c : kAllCommands)
            CHECK_NOTHROW(render_result(c, in, "0.1.0"));
        CHECK_NOTHROW(render_event(in));
        CHECK_NOTHROW(status_exit_code(in));
    }
    // A mistyped field shows as "-".
    std::string out = render_status(json{{"peers", {{{"name", 1}, {"state", "down"}}}}});
    CHECK(out.find("\n-     -        -      down") != std::string::npos);
}

TEST_CASE("status exit code: 4 only when an always-on peer is down") {
    CHECK(status_exit_code(status_json(test::sample_status())) == kExitPeerDown);
    auto st = test::sample_status();
    st.peers[2].start = "on-demand";  // idle on-demand peers are down by design
    CHECK(status_exit_code(status_json(st)) == kExitOk);
    st.peers[2].start = "always";
    st.peers[2].state = "connecting";
    CHECK(status_exit_code(status_json(st)) == kExitOk);
    CHECK(status_exit_code(status_json(ike::EngineStatus{})) == kExitOk);
}
