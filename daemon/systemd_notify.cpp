#include "daemon/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>

namespace ikemesh::daemon {

void SystemdNotifier::ready() const {
    sd_notify(0, "READY=1");
}

void SystemdNotifier::reloading() const {
    sd_notify(0, "RELOADING=1");
}

void SystemdNotifier::stopping() const {
    sd_notify(0, "STOPPING=1");
}

bool SystemdNotifier::active() const {
    return std::getenv("NOTIFY_SOCKET") != nullptr;
}

void SystemdNotifier::status(std::string_view text) const {
    std::string msg = "STATUS=";
    // A newline would start a new assignment in the notify datagram.
    for (char c : text)
        msg += c == '\n' ? ' ' : c;
    sd_notify(0, msg.c_str());
}

void SystemdNotifier::watchdog() const {
    sd_notify(0, "WATCHDOG=1");
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_interval() const {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return watchdog_ping_interval(usec);
}

std::string status_line(const ike::EngineStatus& status) {
    const auto [established, connecting, down] = ike::count_peer_states(status);
    size_t n = status.peers.size();
    return std::to_string(n) + (n == 1 ? " peer, " : " peers, ") + std::to_string(established) +
           " established, " + std::to_string(connecting) + " connecting, " + std::to_string(down) +
           " down";
}

std::chrono::microseconds watchdog_ping_interval(uint64_t watchdog_usec) {
    return std::chrono::microseconds(std::max<uint64_t>(watchdog_usec / 2, 1000));
}

}  // namespace ikemesh::daemon
