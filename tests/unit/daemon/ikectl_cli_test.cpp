#include "daemon/ikectl_cli.hpp"

#include <catch2/catch.hpp>
#include <vector>

#include "daemon/ikectl_output.hpp"
#include "daemon/status_json.hpp"
#include "sample_status.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

namespace {

IkectlParse parse(std::vector<const char*> argv) {
    argv.insert(argv.begin(), "ikectl");
    return parse_ikectl_args(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("ikectl parses verbs, arguments and options in either position") {
    auto st = parse({"status"});
    REQUIRE(st.run);
    CHECK(st.args.request.command == Command::status);
    CHECK(st.args.socket == "/run/ikemesh/ikemesh.sock");
    CHECK_FALSE(st.args.json);

    auto js = parse({"status", "--json"});
    REQUIRE(js.run);
    CHECK(js.args.json);
    auto js2 = parse({"--json", "--socket", "/tmp/s.sock", "list-sas"});
    REQUIRE(js2.run);
    CHECK(js2.args.json);
    CHECK(js2.args.socket == "/tmp/s.sock");
    CHECK(js2.args.request.command == Command::list_sas);

    auto rk = parse({"rekey", "node2", "--ike"});
    REQUIRE(rk.run);
    CHECK(rk.args.request.command == Command::rekey);
    CHECK(rk.args.request.peer == "node2");
    CHECK(rk.args.request.ike);

    auto cc = parse({"check-config"});
    REQUIRE(cc.run);
    CHECK(cc.args.request.command == Command::check_config);

    for (auto c : kAllCommands) {
        std::vector<const char*> argv{command_name(c)};
        if (c == Command::initiate || c == Command::terminate || c == Command::rekey) {
            argv.push_back("peer1");
        }
        auto p = parse(argv);
        REQUIRE(p.run);
        CHECK(p.args.request.command == c);
    }
}

TEST_CASE("usage errors exit 2, help exits 0") {
    for (std::vector<const char*> argv :
         std::vector<std::vector<const char*>>{{},
                                               {"bogus"},
                                               {"initiate"},
                                               {"status", "extra"},
                                               {"--frobnicate", "status"},
                                               {"status", "--ike"},
                                               {"rekey", "a", "b"}}) {
        auto p = parse(argv);
        CHECK_FALSE(p.run);
        CHECK(p.exit_code == kExitUsage);
        CHECK_FALSE(p.err.empty());
    }
    auto typo = parse({"--json", "stauts"});
    CHECK(typo.exit_code == kExitUsage);
    CHECK(typo.err.find("unknown command 'stauts'") != std::string::npos);
    auto sock = parse({"--socket", "status", "status"});  // a socket file named "status"
    REQUIRE(sock.run);
    CHECK(sock.args.socket == "status");
    auto help = parse({"--help"});
    CHECK_FALSE(help.run);
    CHECK(help.exit_code == kExitOk);
    CHECK(help.out.find("list-sas") != std::string::npos);
}

TEST_CASE("answers map to output and exit codes") {
    IkectlArgs args;
    args.request.command = Command::status;

    Response ok;
    ok.ok = true;
    ok.result = status_json(test::sample_status());
    auto table = present_response(args, ok, "0.1.0");
    CHECK(table.exit_code == kExitPeerDown);  // node4 is down
    CHECK(table.out.find("node4") != std::string::npos);
    CHECK(table.err.empty());

    args.json = true;
    auto raw = present_response(args, ok, "0.1.0");
    CHECK(raw.exit_code == kExitPeerDown);
    CHECK(json::parse(raw.out) == ok.result);

    Response failed;
    failed.ok = false;
    failed.error = "unknown peer: x";
    failed.code = "unknown_peer";
    args.request.command = Command::initiate;
    auto f = present_response(args, failed, "0.1.0");
    CHECK(f.exit_code == kExitCommandFailed);
    CHECK(f.out.empty());
    CHECK(f.err == "ikectl: unknown peer: x\n");

    auto gone =
        present_response(args, Error{Errc::io_error, "the daemon closed the connection"}, "0.1.0");
    CHECK(gone.exit_code == kExitNoDaemon);

    args.request.command = Command::metrics;
    args.json = false;
    Response m;
    m.ok = true;
    m.result = "up 1\n";
    CHECK(present_response(args, m, "0.1.0").out == "up 1\n");
}

TEST_CASE("monitor lines print raw with --json and as text otherwise") {
    IkectlArgs args;
    args.request.command = Command::monitor;
    std::string line = R"({"event":"ike_up","time":"t","peer":"n","spi_i":"1","spi_r":"2"})";
    CHECK(present_event_line(args, line) == "t  ike_up  n  1/2\n");
    args.json = true;
    CHECK(json::parse(present_event_line(args, line)) == json::parse(line));
    CHECK(present_event_line(args, "garbage").empty());
    CHECK(present_event_line(args, R"({"ok":true})").empty());
}
