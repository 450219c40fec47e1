// The running daemon: one Asio io_context on one thread driving one ike::Engine.
//
// The runner owns the IKE sockets (port and NAT-T port per listen address), the engine's single
// deadline timer, the kernel's event descriptor, the signals (SIGTERM/SIGINT stop, SIGHUP
// reloads), the control socket, the optional metrics listener and the systemd notifications.
// After every call into the engine it drains the engine's outputs: datagrams go out of the socket
// they name, SA events go to the log, to `monitor` subscribers and to metrics, and the timer is
// re-armed to engine.next_timer(). It is the ControlHandler behind the control socket. It makes
// no protocol decision of its own: everything about SAs is the engine's.
#pragma once

#include <filesystem>
#include <memory>

#include "common/result.hpp"
#include "daemon/options.hpp"

namespace ikemesh::kernel {
class Kernel;
}

namespace ikemesh::daemon {

class Runner {
  public:
    // `config` has been loaded from `config_dir`; `kernel` is the opened backend it names.
    Runner(std::filesystem::path config_dir, RuntimeConfig config,
           std::unique_ptr<kernel::Kernel> kernel);
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    // Opens sockets, the control socket and the metrics listener, starts the engine, then tells
    // systemd READY=1. An error leaves nothing running.
    Status start();
    // Runs until SIGTERM/SIGINT (or a fatal error); returns the process exit status.
    int run();

    class Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ikemesh::daemon
