// The client end of the control socket, as ikectl uses it: connect, send a request line, read
// response lines. Plain blocking POSIX calls (ikectl does one thing at a time), with a receive
// timeout so a wedged daemon cannot hang a script forever, and a cap on line length so a broken
// daemon cannot make ikectl allocate without bound.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace ikemesh::daemon {

// A `status` of a 1,000-peer mesh is about 1 MB of JSON; this leaves room for far larger meshes.
inline constexpr size_t kMaxResponseBytes = 256u << 20;

class ControlClient {
  public:
    // io_error with the reason (no such file, permission denied, connection refused).
    static Result<ControlClient> connect(const std::string& path);
    ControlClient(ControlClient&& other) noexcept;
    ControlClient& operator=(ControlClient&& other) noexcept;
    ~ControlClient();

    // 0 disables the timeout (monitor).
    void set_receive_timeout(std::chrono::milliseconds timeout);
    Status send(std::string_view data);
    // The next line without its newline. io_error when the daemon closed the connection first
    // or the timeout expired.
    Result<std::string> read_line(size_t max_bytes = kMaxResponseBytes);

  private:
    explicit ControlClient(int fd) : fd_(fd) {}
    int fd_ = -1;
    std::string pending_;  // bytes read past the last returned line
};

}  // namespace ikemesh::daemon
