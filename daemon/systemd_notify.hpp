// The sd_notify protocol as ikemeshd uses it (Type=notify): READY=1 once the sockets and the
// engine run, RELOADING=1 / READY=1 around a reload, STOPPING=1 on shutdown, STATUS= lines that
// `systemctl status` shows, and WATCHDOG=1 pings at half the interval systemd asks for.
//
// Without NOTIFY_SOCKET (started by hand or in tests) every call does nothing. The text of the
// STATUS line and the ping interval are pure functions, tested on their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ike/status.hpp"

namespace ikemesh::daemon {

class SystemdNotifier {
  public:
    void ready() const;
    void reloading() const;
    void stopping() const;
    void status(std::string_view text) const;
    void watchdog() const;
    // Whether systemd listens (NOTIFY_SOCKET is set): without it there is no point in building
    // STATUS lines.
    bool active() const;
    // How often to send WATCHDOG=1, if systemd enabled the watchdog for this process.
    std::optional<std::chrono::microseconds> watchdog_interval() const;
};

// "12 peers, 11 established, 1 connecting, 0 down"
std::string status_line(const ike::EngineStatus& status);
// Half the watchdog timeout (sd_watchdog_enabled(3) recommends pinging at half the interval),
// at least 1 ms.
std::chrono::microseconds watchdog_ping_interval(uint64_t watchdog_usec);

}  // namespace ikemesh::daemon
