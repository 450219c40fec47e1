// A ControlHandler for tests: answers from a fixed snapshot and records the commands it receives.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/control_handler.hpp"
#include "sample_status.hpp"

namespace ikemesh::daemon::test {

class ScriptedHandler : public ControlHandler {
  public:
    ike::EngineStatus status() override {
        calls.push_back("status");
        if (throw_on_status) throw std::runtime_error("boom");
        return snapshot;
    }
    std::string metrics() override {
        calls.push_back("metrics");
        return "# HELP x X.\n# TYPE x gauge\nx 1\n";
    }
    Status initiate(std::string_view peer) override { return peer_verb("initiate", peer); }
    Status terminate(std::string_view peer) override { return peer_verb("terminate", peer); }
    Status rekey(std::string_view peer, bool ike) override {
        return peer_verb(ike ? "rekey-ike" : "rekey", peer);
    }
    Result<json> reload() override {
        calls.push_back("reload");
        if (!reload_error.empty()) return Error{Errc::config_invalid, reload_error};
        return json{{"applied", true}, {"peers", 3}, {"restart_required", json::array()}};
    }
    Result<json> check_config() override {
        calls.push_back("check-config");
        return json{{"valid", true}, {"peers", 3}};
    }
    json version() override {
        calls.push_back("version");
        return json{{"daemon", "ikemeshd"}, {"version", "0.1.0"}};
    }

    ike::EngineStatus snapshot = sample_status();
    std::vector<std::string> calls;
    std::string reload_error;
    bool throw_on_status = false;

  private:
    Status peer_verb(const char* verb, std::string_view peer) {
        calls.push_back(std::string(verb) + " " + std::string(peer));
        for (const auto& p : snapshot.peers) {
            if (p.name == peer) return {};
        }
        return Error{Errc::unknown_peer, std::string(peer)};
    }
};

}  // namespace ikemesh::daemon::test
