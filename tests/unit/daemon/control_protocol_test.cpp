#include "daemon/control_protocol.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace ikemesh;
using namespace ikemesh::daemon;

TEST_CASE("every command has a unique wire name that maps back to it") {
    std::set<std::string> names;
    for (auto c : kAllCommands) {
        std::string name = command_name(c);
        CHECK(name != "unknown");
        CHECK(names.insert(name).second);
        auto back = command_from_name(name);
        REQUIRE(back);
        CHECK(*back == c);
    }
    CHECK(names.count("list-sas"));
    CHECK(names.count("check-config"));
    CHECK_FALSE(command_from_name("list_sas"));
    CHECK_FALSE(command_from_name(""));
}

TEST_CASE("valid requests parse into commands and arguments") {
    auto status = parse_request(R"({"command":"status"})");
    REQUIRE(status);
    CHECK(status->command == Command::status);
    CHECK(status->peer.empty());

    auto init = parse_request("{\"command\":\"initiate\",\"peer\":\"node2\"}\n");
    REQUIRE(init);
    CHECK(init->command == Command::initiate);
    CHECK(init->peer == "node2");

    auto rekey = parse_request("{\"peer\":\"node2\",\"ike\":true,\"command\":\"rekey\"}\r\n");
    REQUIRE(rekey);
    CHECK(rekey->command == Command::rekey);
    CHECK(rekey->ike);

    auto child_rekey = parse_request(R"({"command":"rekey","peer":"n","ike":false})");
    REQUIRE(child_rekey);
    CHECK_FALSE(child_rekey->ike);
}

TEST_CASE("request_line round-trips through parse_request") {
    for (auto c : kAllCommands) {
        Request r;
        r.command = c;
        if (c == Command::initiate || c == Command::terminate || c == Command::rekey) {
            r.peer = "peer-" + std::string(command_name(c));
        }
        r.ike = c == Command::rekey;
        std::string line = request_line(r);
        CHECK(line.back() == '\n');
        auto back = parse_request(line);
        REQUIRE(back);
        CHECK(*back == r);
    }
}

namespace {

void check_rejected(std::string_view line, Errc code, const std::string& fragment) {
    auto r = parse_request(line);
    INFO(std::string(line.substr(0, 80)));
    REQUIRE_FALSE(r);
    CHECK(r.error().is(code));
    INFO(r.error().message());
    CHECK(r.error().message().find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("malformed requests get a typed error saying what is wrong") {
    check_rejected("", Errc::control_bad_request, "empty");
    check_rejected("\n", Errc::control_bad_request, "empty");
    check_rejected("status", Errc::control_bad_request, "not valid JSON");
    check_rejected("{\"command\":\"status\"", Errc::control_bad_request, "not valid JSON");
    check_rejected("{\"command\":\"st\xff\"}", Errc::control_bad_request, "not valid JSON");
    check_rejected("[\"status\"]", Errc::control_bad_request, "JSON object");
    check_rejected("\"status\"", Errc::control_bad_request, "JSON object");
    check_rejected("{}", Errc::control_bad_request, "no \"command\"");
    check_rejected(R"({"command":5})", Errc::control_bad_request, "must be a string");
    check_rejected(R"({"command":"initiate"})", Errc::control_bad_request, "needs \"peer\"");
    check_rejected(R"({"command":"initiate","peer":""})", Errc::control_bad_request, "empty");
    check_rejected(R"({"command":"initiate","peer":7})", Errc::control_bad_request, "string");
    check_rejected(R"({"command":"rekey","peer":"a","ike":"yes"})", Errc::control_bad_request,
                   "true or false");
    check_rejected(R"({"command":"status","peer":"a"})", Errc::control_bad_request,
                   "unknown argument 'peer'");
    check_rejected(R"({"command":"initiate","peer":"a","ike":true})", Errc::control_bad_request,
                   "unknown argument 'ike'");
    check_rejected(R"({"command":"status","verbose":true})", Errc::control_bad_request,
                   "unknown argument 'verbose'");
    std::string long_peer(kMaxPeerNameBytes + 1, 'p');
    check_rejected(R"({"command":"terminate","peer":")" + long_peer + "\"}",
                   Errc::control_bad_request, "longer than");
}

TEST_CASE("an unknown command is its own error code") {
    check_rejected(R"({"command":"shutdown"})", Errc::control_unknown_command,
                   "unknown command 'shutdown'");
    // The name is quoted back shortened, so a huge bogus name does not make a huge reply.
    std::string big(10000, 'x');
    auto r = parse_request(R"({"command":")" + big + "\"}");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(Errc::control_unknown_command));
    CHECK(r.error().message().size() < 200);
}

TEST_CASE("oversized and deeply nested requests are refused before parsing") {
    std::string big = R"({"command":"status","pad":")" + std::string(kMaxRequestBytes, 'a') + "\"}";
    check_rejected(big, Errc::control_bad_request, "exceeds");

    std::string deep(kMaxRequestDepth + 1, '[');
    deep += std::string(kMaxRequestDepth + 1, ']');
    check_rejected(deep, Errc::control_bad_request, "nested deeper");
    // Brackets inside strings do not count as nesting.
    auto ok = parse_request(R"({"command":"initiate","peer":"[[[[[[[[[[[[[[[[[[[[[[[[["})");
    REQUIRE(ok);
    CHECK(ok->peer == "[[[[[[[[[[[[[[[[[[[[[[[[[");
    // Nor do escaped quotes end a string early.
    auto esc = parse_request(R"({"command":"initiate","peer":"a\"[[[[[[[[[[[[[[[[[["})");
    REQUIRE(esc);
    CHECK(esc->peer == "a\"[[[[[[[[[[[[[[[[[[");
}

TEST_CASE("responses are single lines with ok, result or error and code") {
    std::string ok = ok_response(json{{"peers", json::array()}});
    CHECK(ok == "{\"ok\":true,\"result\":{\"peers\":[]}}\n");
    auto parsed = parse_response(ok);
    REQUIRE(parsed);
    CHECK(parsed->ok);
    CHECK(parsed->result["peers"].is_array());

    std::string err = error_response(Error{Errc::unknown_peer, "node9"});
    CHECK(err.find('\n') == err.size() - 1);
    auto perr = parse_response(err);
    REQUIRE(perr);
    CHECK_FALSE(perr->ok);
    CHECK(perr->code == "unknown_peer");
    CHECK(perr->error == "unknown peer: node9");

    // A system error (not an ikemesh code) still has a code.
    auto sys = parse_response(error_response(Error{std::make_error_code(std::errc::io_error)}));
    REQUIRE(sys);
    CHECK(sys->code == "system_error");
}

TEST_CASE("responses with invalid UTF-8 are repaired, not thrown") {
    std::string bad = "peer\xff\xfe";
    std::string line;
    REQUIRE_NOTHROW(line = ok_response(json{{"name", bad}}));
    auto parsed = parse_response(line);
    REQUIRE(parsed);
    CHECK(parsed->result["name"].get<std::string>().rfind("peer", 0) == 0);
    REQUIRE_NOTHROW(line = error_response(Error{Errc::unknown_peer, bad}));
    CHECK(parse_response(line));
}

TEST_CASE("parse_response rejects lines that are not responses") {
    CHECK_FALSE(parse_response(""));
    CHECK_FALSE(parse_response("garbage"));
    CHECK_FALSE(parse_response("[]"));
    CHECK_FALSE(parse_response("{\"result\":1}"));
    CHECK_FALSE(parse_response("{\"ok\":\"yes\"}"));
    auto minimal = parse_response("{\"ok\":false}");
    REQUIRE(minimal);
    CHECK(minimal->error == "error");
}
