// ikectl's command line and its mapping of daemon answers to output and exit codes, kept apart
// from the socket so both are unit-tested: `ikectl [--socket PATH] [--json] COMMAND [ARGS]`
// (options may also follow the command). ikectl_main.cpp only connects, sends and loops.
#pragma once

#include <string>

#include "common/result.hpp"
#include "daemon/control_protocol.hpp"

namespace ikemesh::daemon {

struct IkectlArgs {
    std::string socket;
    bool json = false;
    Request request;
};

struct IkectlParse {
    bool run = false;  // false: print `out`/`err` and exit with `exit_code` (help, usage error)
    IkectlArgs args;
    int exit_code = 0;
    std::string out, err;
};

// argv[0] is the program name. Usage errors give kExitUsage with a message in `err`.
IkectlParse parse_ikectl_args(int argc, const char* const* argv);

struct IkectlOutcome {
    int exit_code = 0;
    std::string out, err;
};

// What ikectl prints and returns for the daemon's answer (or for the failure to get one).
IkectlOutcome present_response(const IkectlArgs& args, const Result<Response>& response,
                               const std::string& ikectl_version);

// One streamed monitor line: the raw JSON with --json, else a human line. Empty for lines that
// are not events.
std::string present_event_line(const IkectlArgs& args, const std::string& line);

}  // namespace ikemesh::daemon
