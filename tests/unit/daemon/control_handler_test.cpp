#include "daemon/control_handler.hpp"

#include <catch2/catch.hpp>

#include "scripted_handler.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

namespace {

Response exchange(ControlHandler& h, std::string_view line) {
    std::string reply = handle_request_line(h, line);
    REQUIRE(!reply.empty());
    REQUIRE(reply.back() == '\n');
    REQUIRE(reply.find('\n') == reply.size() - 1);  // exactly one line
    auto r = parse_response(reply);
    REQUIRE(r);
    return *r;
}

}  // namespace

TEST_CASE("status, list-sas and list-peers render the handler's snapshot") {
    test::ScriptedHandler h;
    auto status = exchange(h, R"({"command":"status"})");
    REQUIRE(status.ok);
    CHECK(status.result["peers"].size() == 3);
    CHECK(status.result["peers"][0]["ike_sas"][0]["spi_i"] == "0123456789abcdef");

    auto sas = exchange(h, R"({"command":"list-sas"})");
    REQUIRE(sas.ok);
    CHECK(sas.result["child_sas"].size() == 1);

    auto peers = exchange(h, R"({"command":"list-peers"})");
    REQUIRE(peers.ok);
    CHECK(peers.result["peers"][2]["last_error"] == "peer not responding");
    CHECK(h.calls == std::vector<std::string>{"status", "status", "status"});
}

TEST_CASE("peer verbs reach the handler with their arguments") {
    test::ScriptedHandler h;
    auto init = exchange(h, R"({"command":"initiate","peer":"node2"})");
    REQUIRE(init.ok);
    CHECK(init.result["peer"] == "node2");
    CHECK(init.result["action"] == "initiate");
    CHECK(exchange(h, R"({"command":"terminate","peer":"node3"})").ok);
    auto rk = exchange(h, R"({"command":"rekey","peer":"node4","ike":true})");
    REQUIRE(rk.ok);
    CHECK(rk.result["ike"] == true);
    CHECK(h.calls ==
          std::vector<std::string>{"initiate node2", "terminate node3", "rekey-ike node4"});
}

TEST_CASE("handler errors become error responses with their code") {
    test::ScriptedHandler h;
    auto r = exchange(h, R"({"command":"initiate","peer":"nope"})");
    CHECK_FALSE(r.ok);
    CHECK(r.code == "unknown_peer");
    CHECK(r.error == "unknown peer: nope");

    h.reload_error = "peers.d/x.conf:4: psk is shorter than 16 bytes";
    auto rl = exchange(h, R"({"command":"reload"})");
    CHECK_FALSE(rl.ok);
    CHECK(rl.code == "config_invalid");
    CHECK(rl.error.find("peers.d/x.conf:4") != std::string::npos);
}

TEST_CASE("bad requests are answered without reaching the handler") {
    test::ScriptedHandler h;
    for (const char* line : {"not json", "[1,2]", R"({"command":"frobnicate"})", "{}"}) {
        auto r = exchange(h, line);
        CHECK_FALSE(r.ok);
        CHECK((r.code == "control_bad_request" || r.code == "control_unknown_command"));
    }
    CHECK(exchange(h, R"({"command":"frobnicate"})").code == "control_unknown_command");
    CHECK(h.calls.empty());
}

TEST_CASE("an exception in a handler becomes an error response") {
    test::ScriptedHandler h;
    h.throw_on_status = true;
    auto r = exchange(h, R"({"command":"status"})");
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("boom") != std::string::npos);
}

TEST_CASE("metrics, version, reload and check-config results pass through") {
    test::ScriptedHandler h;
    auto m = exchange(h, R"({"command":"metrics"})");
    REQUIRE(m.ok);
    CHECK(m.result.is_string());
    CHECK(m.result.get<std::string>().find("# TYPE x gauge") != std::string::npos);
    CHECK(exchange(h, R"({"command":"version"})").result["version"] == "0.1.0");
    CHECK(exchange(h, R"({"command":"reload"})").result["applied"] == true);
    CHECK(exchange(h, R"({"command":"check-config"})").result["valid"] == true);
}

TEST_CASE("monitor is not dispatched: the server owns that connection") {
    test::ScriptedHandler h;
    Request req;
    req.command = Command::monitor;
    auto r = dispatch(h, req);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(Errc::state_error));
}
