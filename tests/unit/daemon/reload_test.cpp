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
    const DaemonOptions& running() const override { return running_opts; }
    void apply(RuntimeConfig config) override {
        calls.push_back("apply");
        applied.push_back(std::move(config));
    }
    void end(const Result<json>& outcome) override {
        calls.push_back(outcome ? "end ok" : "end error");
    }

    DaemonOptions running_opts;
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
    CHECK((*r)["restart_required"].empty());
}

TEST_CASE("socket-bound settings are reported as needing a restart and the ports stay put") {
    auto next = config_with_peers(1);
    next.daemon.port = 1500;
    next.daemon.port_natt = 14500;
    next.daemon.listen = {*IpAddress::parse("192.0.2.1")};
    next.daemon.metrics_listen = "127.0.0.1:9100";
    next.daemon.log.level = "debug";  // applies live, not a restart item
    next.engine.port = 1500;
    next.engine.port_natt = 14500;
    ScriptedSteps steps(next);
    auto r = perform_reload(steps);
    REQUIRE(r);
    CHECK((*r)["restart_required"] ==
          json::array({"listen", "port", "port_natt", "metrics.listen"}));
    REQUIRE(steps.applied.size() == 1);
    // The engine keeps naming the sockets that are actually open.
    CHECK(steps.applied[0].engine.port == 500);
    CHECK(steps.applied[0].engine.port_natt == 4500);
    CHECK(steps.applied[0].daemon.log.level == "debug");
}

TEST_CASE("restart_required lists each differing setting in a fixed order") {
    DaemonOptions a, b;
    CHECK(restart_required(a, b).empty());
    b.kernel = "fake";
    b.control_socket = "/tmp/x.sock";
    b.control_group = "ikemesh";
    b.log.subsystems["ike"] = "trace";
    CHECK(restart_required(a, b) ==
          std::vector<std::string>{"control_socket", "control_group", "kernel"});
}

TEST_CASE("check-config reports validity without applying") {
    DaemonOptions running;
    auto ok = check_config_result(running, config_with_peers(2));
    REQUIRE(ok);
    CHECK((*ok)["valid"] == true);
    CHECK((*ok)["peers"] == 2);
    auto bad = check_config_result(running, Error{Errc::config_invalid, "x.conf:1: bad"});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().is(Errc::config_invalid));
}
