#include "daemon/ikectl_cli.hpp"

#include <CLI/CLI.hpp>
#include <sstream>

#include "daemon/ikectl_output.hpp"
#include "daemon/options.hpp"

namespace ikemesh::daemon {

IkectlParse parse_ikectl_args(int argc, const char* const* argv) {
    IkectlParse parsed;
    IkectlArgs& args = parsed.args;
    args.socket = kDefaultControlSocket;

    CLI::App app{"ikectl: query and control the ikemesh IKEv2 daemon (ikemeshd)", "ikectl"};
    app.fallthrough();  // --json and --socket are accepted after the command too
    app.require_subcommand(1);
    app.add_option("-s,--socket", args.socket, "control socket of ikemeshd")
        ->envname("IKEMESH_SOCKET")
        ->capture_default_str();
    app.add_flag("-j,--json", args.json, "print the daemon's JSON result instead of a table");

    std::string peer;
    bool ike = false;
    struct Verb {
        Command command;
        const char* help;
    };
    const Verb verbs[] = {
        {Command::status,
         "peers, their state, SAs and counters; exit 4 if an always-on peer is "
         "down"},
        {Command::list_sas, "every IKE SA and CHILD SA"},
        {Command::list_peers, "configured peers and their state"},
        {Command::initiate, "bring up the SAs with a peer"},
        {Command::terminate, "delete the SAs with a peer"},
        {Command::rekey, "rekey a peer's CHILD SAs (or its IKE SA with --ike)"},
        {Command::reload, "re-read the configuration and apply it"},
        {Command::metrics, "Prometheus metrics"},
        {Command::monitor, "stream SA events until interrupted"},
        {Command::version, "ikectl's and ikemeshd's versions"},
        {Command::check_config, "validate the configuration on disk without applying it"},
    };
    std::vector<std::pair<CLI::App*, Command>> subs;
    for (const auto& verb : verbs) {
        CLI::App* sub = app.add_subcommand(command_name(verb.command), verb.help);
        if (verb.command == Command::initiate || verb.command == Command::terminate ||
            verb.command == Command::rekey) {
            sub->add_option("peer", peer, "peer name (as in [peer.NAME])")->required();
        }
        if (verb.command == Command::rekey) {
            sub->add_flag("--ike", ike, "rekey the IKE SA instead of the CHILD SAs");
        }
        subs.emplace_back(sub, verb.command);
    }

    // CLI11 reports a misspelt command as "A subcommand is required"; name it instead.
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-s" || a == "--socket") {
            ++i;  // its value
            continue;
        }
        if (a.empty() || a.front() == '-') continue;
        if (!command_from_name(a)) {
            parsed.exit_code = kExitUsage;
            parsed.err = "ikectl: unknown command '" + std::string(a) + "'\n" +
                         "Run with --help for the list of commands.\n";
            return parsed;
        }
        break;
    }

    std::ostringstream out, err;
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e, out, err);
        parsed.exit_code = rc == 0 ? kExitOk : kExitUsage;
        parsed.out = out.str();
        parsed.err = err.str();
        return parsed;
    }
    for (const auto& [sub, command] : subs) {
        if (sub->parsed()) args.request.command = command;
    }
    args.request.peer = peer;
    args.request.ike = ike;
    parsed.run = true;
    return parsed;
}

IkectlOutcome present_response(const IkectlArgs& args, const Result<Response>& response,
                               const std::string& ikectl_version) {
    IkectlOutcome o;
    if (!response) {
        o.exit_code = kExitNoDaemon;
        o.err = "ikectl: no usable answer from the daemon: " + response.error().message() + "\n";
        return o;
    }
    if (!response->ok) {
        o.exit_code = kExitCommandFailed;
        o.err = "ikectl: " + response->error + "\n";
        return o;
    }
    const json& result = response->result;
    if (args.request.command == Command::monitor) return o;  // events follow on the connection
    if (args.json) {
        o.out = dump_json(result, 2) + "\n";
    } else {
        o.out = render_result(args.request.command, result, ikectl_version);
    }
    o.exit_code = args.request.command == Command::status ? status_exit_code(result) : kExitOk;
    return o;
}

std::string present_event_line(const IkectlArgs& args, const std::string& line) {
    json event = json::parse(line, nullptr, false);
    if (event.is_discarded() || !event.is_object() || !event.contains("event")) return {};
    if (args.json) return dump_json(event) + "\n";
    return render_event(event) + "\n";
}

}  // namespace ikemesh::daemon
