// ikemeshd: the ikemesh IKEv2 daemon.
// `ikemeshd [--config DIR] [--socket PATH] [--check] [--foreground]`.
//
// Capabilities (daemon/capabilities.hpp): before touching the kernel it checks that it may have
// what the configuration needs and drops everything else; once its sockets are open it keeps only
// CAP_NET_ADMIN (none with kernel = "fake"), whether systemd or root by hand started it.
//
// Exit status: 0 after a clean stop (SIGTERM/SIGINT) or a successful --check; 1 when the daemon
// cannot start or stops on an error; 78 (EX_CONFIG) when the configuration is invalid, which the
// systemd unit lists in RestartPreventExitStatus so a broken config does not restart in a loop.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "config/config.hpp"
#include "config/diagnostics.hpp"
#include "crypto/random.hpp"
#include "crypto/self_test.hpp"
#include "daemon/capabilities.hpp"
#include "daemon/config_adapter.hpp"
#include "daemon/logging.hpp"
#include "daemon/options.hpp"
#include "daemon/runner.hpp"
#include "kernel/fake_kernel.hpp"
#include "kernel/kernel.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

namespace {

constexpr int kExitConfig = 78;  // EX_CONFIG from sysexits.h

// --check: every error and warning on stderr, a summary on stdout, nothing else touched.
int check_config(const std::string& dir) {
    config::Diagnostics diagnostics;
    auto loaded = config::load_config(dir, &diagnostics);
    std::string report = diagnostics.to_string();
    if (!loaded && diagnostics.empty()) report = loaded.error().message() + "\n";
    std::fputs(report.c_str(), stderr);
    if (!loaded) {
        size_t n = diagnostics.error_count();
        std::fprintf(stderr, "%s: configuration invalid (%zu error%s)\n", dir.c_str(), n,
                     n == 1 ? "" : "s");
        return kExitConfig;
    }
    std::printf("%s: configuration OK, %zu peers\n", dir.c_str(), loaded->peers.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string dir = kDefaultConfigDir;
    bool check = false;
    bool foreground = false;
    std::string socket;
    CLI::App app{"ikemeshd: IKEv2 key-management daemon for full-mesh IPsec", "ikemeshd"};
    app.add_option("-c,--config", dir, "configuration directory (ikemesh.conf, peers.d/)")
        ->capture_default_str();
    app.add_option("-s,--socket", socket,
                   "control socket path, overriding control_socket (the template unit's "
                   "instances use it)");
    app.add_flag("--check", check, "validate the configuration and exit (no kernel, no sockets)");
    app.add_flag("-f,--foreground", foreground,
                 "log to stderr even when started by systemd (the daemon never forks)");
    app.set_version_flag("--version", std::string("ikemeshd ") + IKEMESH_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    if (check) return check_config(dir);

    std::signal(SIGPIPE, SIG_IGN);
    bool journal = !foreground && running_under_systemd(std::getenv("JOURNAL_STREAM"),
                                                        std::getenv("INVOCATION_ID"));
    init_logging(journal ? LogTarget::journal : LogTarget::stderr_text);

    // Known answers for every primitive before any key is negotiated (crypto/self_test.hpp): a
    // broken OpenSSL build must stop the daemon, not produce SAs that interoperate with nothing.
    if (Status st = crypto::run_self_test(); !st) {
        log(Subsystem::daemon).critical("crypto self-test failed: {}", st.error().message());
        return 1;
    }

    try {
        auto config = load_runtime_config(dir);
        if (!config) {
            log(Subsystem::config).critical("cannot load {}: {}", dir, config.error().message());
            return kExitConfig;
        }
        if (!socket.empty()) config->daemon.control_socket = socket;
        auto kind = kernel::parse_kernel_kind(config->daemon.kernel);
        if (!kind) {
            log(Subsystem::kernel).critical("unknown kernel backend '{}'", config->daemon.kernel);
            return kExitConfig;
        }
        // Checked before anything needs them, so a missing one is named instead of surfacing as
        // EPERM from whatever would fail first.
        auto plan = plan_capabilities(config->daemon, read_process_facts(config->daemon));
        if (auto ok = check_capabilities(plan.startup); !ok) {
            log(Subsystem::daemon).critical("cannot start: {}", ok.error().detail);
            return 1;
        }
        if (auto ok = limit_capabilities(plan.startup); !ok) {
            log(Subsystem::daemon).critical("cannot drop capabilities: {}", ok.error().message());
            return 1;
        }
        std::unique_ptr<kernel::Kernel> backend;
        if (*kind == kernel::KernelKind::fake) {
            // Real kernels pick SPIs at random; two fake-kernel daemons on one host (tests) must
            // not hand out the same SPI sequence either.
            crypto::SystemRandom rng;
            backend = std::make_unique<kernel::FakeKernel>(rng.next_u32());
        } else {
            auto opened = kernel::open_kernel(*kind);
            if (!opened) {
                log(Subsystem::kernel)
                    .critical("cannot open the {} kernel interface: {}", config->daemon.kernel,
                              opened.error().message());
                return 1;
            }
            backend = std::move(*opened);
        }
        Runner runner(dir, std::move(*config), std::move(backend));
        if (auto ok = runner.start(); !ok) {
            log(Subsystem::daemon).critical("cannot start: {}", ok.error().message());
            return 1;
        }
        if (auto ok = limit_capabilities(plan.running); !ok) {
            log(Subsystem::daemon).critical("cannot drop capabilities: {}", ok.error().message());
            return 1;
        }
        log(Subsystem::daemon).info("capabilities: {}", describe(plan.running));
        int rc = runner.run();
        log(Subsystem::daemon).info("stopped");
        return rc;
    } catch (const std::exception& e) {
        // The edge of the process: a library that threw (Asio, allocation) ends up here.
        log(Subsystem::daemon).critical("fatal: {}", e.what());
        return 1;
    }
}
