#include "daemon/reload.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace ikemesh;
using namespace ikemesh::daemon;

namespace {

RuntimeConfig config_with_peers(size_t n) {
    RuntimeConfig c;
    for (size_t i = 0; i < n; ++i) {
        ike::PeerConfig p;
        p.name = "node" + std::to_string(i);
        c.engine.peers.push_back(p);
    }
    return c;
}

// Records every step; load() returns what the test scripted.
class ScriptedSteps : public ReloadSteps {
  public:
    explicit ScriptedSteps(Result<RuntimeConfig> next) : next_(std::move(next)) {}

    void begin() override { calls.push_back("begin"); }
    Result<RuntimeConfig> load() override {
        calls.push_back("load");
        return next_;
    }
    json apply(RuntimeConfig config) override {
        calls.push_back("apply");
        applied.push_back(std::move(config));
        return json{{"added", {"node9"}}, {"unchanged", 2}};
    }
    void end(const Result<json>& outcome) override {
        calls.push_back(outcome ? "end ok" : "end error");
    }

    std::vector<std::string> calls;
    std::vector<RuntimeConfig> applied;

  private:
    Result<RuntimeConfig> next_;
};

}  // namespace

TEST_CASE("a broken configuration changes nothing and the error is reported") {
    ScriptedSteps steps(Error{Errc::config_invalid, "peers.d/b.conf:3: unknown key 'adress'"});
    auto r = perform_reload(steps);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(Errc::config_invalid));
    CHECK(r.error().message().find("peers.d/b.conf:3") != std::string::npos);
    CHECK(steps.applied.empty());
    CHECK(steps.calls == std::vector<std::string>{"begin", "load", "end error"});
}

TEST_CASE("a load failure of another kind is still reported as an invalid configuration") {
    ScriptedSteps steps(Error{Errc::io_error, "/etc/ikemesh/ikemesh.conf"});
    auto r = perform_reload(steps);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(Errc::config_invalid));
    CHECK(r.error().message().find("/etc/ikemesh/ikemesh.conf") != std::string::npos);
    CHECK(steps.applied.empty());
}

TEST_CASE("a valid configuration is applied once, between begin and end") {
    ScriptedSteps steps(config_with_peers(3));
    auto r = perform_reload(steps);
    REQUIRE(r);
    CHECK(steps.calls == std::vector<std::string>{"begin", "load", "apply", "end ok"});
    REQUIRE(steps.applied.size() == 1);
    CHECK(steps.applied[0].engine.peers.size() == 3);
    CHECK((*r)["applied"] == true);
    CHECK((*r)["peers"] == 3);
    // What apply reported is part of the reply.
    CHECK((*r)["added"] == json::array({"node9"}));
    CHECK((*r)["unchanged"] == 2);
}

TEST_CASE("the engine keeps the ports of the sockets that are open") {
    DaemonOptions running;
    ike::EngineConfig next;
    next.port = 1500;
    next.port_natt = 14500;
    pin_running_ports(running, next);
    CHECK(next.port == 500);
    CHECK(next.port_natt == 4500);
}
