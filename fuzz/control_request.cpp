// Fuzzes both ends of the control socket protocol with one input:
//  - the daemon's side: parse_request, then the whole request-to-response path through dispatch
//    with a fixed handler; a parsed request must survive request_line -> parse_request unchanged;
//  - ikectl's side: parse_response and every renderer on whatever result it carries, and a
//    monitor event line.
// Nothing may crash, read out of bounds or throw; a broken round trip traps.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/control_handler.hpp"
#include "daemon/control_protocol.hpp"
#include "daemon/ikectl_output.hpp"

namespace {

using namespace ikemesh;
using namespace ikemesh::daemon;

// Answers every verb with fixed values: the fuzzer explores parsing and rendering, not the engine.
class FixedHandler final : public ControlHandler {
  public:
    ike::EngineStatus status() override {
        ike::EngineStatus st;
        ike::PeerStatus p;
        p.name = "node2";
        p.state = "established";
        p.ike_sas.resize(1);
        p.child_sas.resize(1);
        st.peers.push_back(p);
        return st;
    }
    std::string metrics() override { return "x 1\n"; }
    Status initiate(std::string_view peer) override { return check(peer); }
    Status terminate(std::string_view peer) override { return check(peer); }
    Status rekey(std::string_view peer, bool) override { return check(peer); }
    Result<json> reload() override { return Error{Errc::config_invalid, "fixed"}; }
    Result<json> check_config() override { return json{{"valid", true}}; }
    json version() override { return json{{"version", "0"}}; }

  private:
    static Status check(std::string_view peer) {
        if (peer == "node2") return {};
        return Error{Errc::unknown_peer, std::string(peer)};
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    auto request = parse_request(text);
    if (request) {
        auto again = parse_request(request_line(*request));
        if (!again || !(*again == *request)) __builtin_trap();
    }
    static FixedHandler handler;
    std::string reply = handle_request_line(handler, text);
    if (reply.empty() || reply.back() != '\n' || !parse_response(reply)) __builtin_trap();

    auto response = parse_response(text);
    if (response && response->ok) {
        for (auto c : kAllCommands)
            (void)render_result(c, response->result, "0");
        (void)status_exit_code(response->result);
    }
    json event = json::parse(text, nullptr, false);
    if (!event.is_discarded()) (void)render_event(event);
    return 0;
}
