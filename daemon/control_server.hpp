// The control socket: a unix stream socket on which ikectl sends one JSON request per line and
// reads one JSON response per line (control_protocol.hpp; docs/ikectl.md is the reference).
//
// Access control is the file system: the socket is created mode 0660 (never world-accessible,
// not even for an instant: it is bound under a restrictive umask), owned by the daemon's user and
// by `control_group` if one is configured; its directory is created 0750. A directory that others
// cannot enter is given to the control group too, so its members can reach the socket. A stale
// socket left by a crashed daemon is replaced; a live one (another daemon answering) is an error.
//
// Each connection may send several requests. A request line over kMaxRequestBytes gets an error
// and the connection is closed (the stream cannot be resynchronised); any other bad request gets
// an error and the connection carries on. `monitor` turns the connection into a subscriber that
// receives every broadcast event; a subscriber that falls too far behind is disconnected, so a
// stuck client cannot make the daemon buffer without bound. Connections are capped in number and
// idle request connections time out.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.hpp"
#include "daemon/control_handler.hpp"
#include "daemon/metrics.hpp"

namespace ikemesh::daemon {

struct ControlServerLimits {
    size_t max_connections = 64;
    size_t max_monitor_backlog = 4096;  // queued event lines per subscriber
    std::chrono::milliseconds idle_timeout{60000};
};

class ControlServer {
  public:
    ControlServer(boost::asio::io_context& io, ControlHandler& handler, DaemonCounters& counters,
                  ControlServerLimits limits = {});
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Creates the directory and the socket at `path` and starts accepting. `group` may be empty.
    Status open(const std::string& path, const std::string& group);
    // Sends one event line to every `monitor` subscriber.
    void broadcast(const nlohmann::json& event);
    // Stops accepting, closes every connection and removes the socket file.
    void close();

    size_t connections() const;
    size_t subscribers() const;

    class Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

// Prepares the socket's directory: created 0750 if missing; given to `gid` (if not -1) when
// others cannot enter it. Exposed for tests.
Status prepare_socket_directory(const std::string& dir, int gid);
// Resolves a group name; config_invalid if it does not exist.
Result<int> lookup_group(const std::string& name);

}  // namespace ikemesh::daemon
