// ikectl: the operator's command line client of ikemeshd's control socket (docs/ikectl.md).
#include <chrono>
#include <cstdio>
#include <string>

#include "daemon/control_client.hpp"
#include "daemon/ikectl_cli.hpp"
#include "daemon/ikectl_output.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

namespace {

// Long enough for a reload of a large configuration on a busy node; a daemon that takes longer
// is wedged and the operator should hear about it.
constexpr std::chrono::seconds kAnswerTimeout{120};

void print(const std::string& out, const std::string& err) {
    if (!out.empty()) std::fwrite(out.data(), 1, out.size(), stdout);
    if (!err.empty()) std::fwrite(err.data(), 1, err.size(), stderr);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse_ikectl_args(argc, argv);
    if (!parsed.run) {
        print(parsed.out, parsed.err);
        return parsed.exit_code;
    }
    const IkectlArgs& args = parsed.args;

    auto client = ControlClient::connect(args.socket);
    if (!client) {
        print("", "ikectl: cannot connect to ikemeshd at " + args.socket + ": " +
                      client.error().code.message() + "\n");
        return kExitNoDaemon;
    }
    client->set_receive_timeout(kAnswerTimeout);
    if (auto sent = client->send(request_line(args.request)); !sent) {
        print("", "ikectl: cannot send the request: " + sent.error().message() + "\n");
        return kExitNoDaemon;
    }
    Result<Response> response = Errc::io_error;
    if (auto line = client->read_line()) {
        response = parse_response(*line);
    } else {
        response = line.take_error();
    }
    auto outcome = present_response(args, response, IKEMESH_VERSION);
    if (args.request.command != Command::monitor || outcome.exit_code != kExitOk) {
        print(outcome.out, outcome.err);
        return outcome.exit_code;
    }

    // monitor: events until the daemon goes away or the user interrupts us.
    client->set_receive_timeout(std::chrono::milliseconds(0));
    for (;;) {
        auto line = client->read_line();
        if (!line) {
            print("", "ikectl: monitor ended: " + line.error().message() + "\n");
            return kExitNoDaemon;
        }
        print(present_event_line(args, *line), "");
    }
}
