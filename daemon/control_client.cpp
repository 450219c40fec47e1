#include "daemon/control_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ikemesh::daemon {

Result<ControlClient> ControlClient::connect(const std::string& path) {
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        return Error{Errc::io_error, "control socket path '" + path + "' is invalid"};
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{std::error_code(errno, std::generic_category()), "socket"};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        ::close(fd);
        return Error{std::error_code(err, std::generic_category()), path};
    }
    return ControlClient(fd);
}

ControlClient::ControlClient(ControlClient&& other) noexcept
    : fd_(other.fd_), pending_(std::move(other.pending_)) {
    other.fd_ = -1;
}

ControlClient& ControlClient::operator=(ControlClient&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        pending_ = std::move(other.pending_);
        other.fd_ = -1;
    }
    return *this;
}

ControlClient::~ControlClient() {
    if (fd_ >= 0) ::close(fd_);
}

void ControlClient::set_receive_timeout(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

Status ControlClient::send(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error{std::error_code(errno, std::generic_category()), "send"};
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Result<std::string> ControlClient::read_line(size_t max_bytes) {
    size_t scanned = 0;
    for (;;) {
        size_t eol = pending_.find('\n', scanned);
        if (eol != std::string::npos) {
            std::string line = pending_.substr(0, eol);
            pending_.erase(0, eol + 1);
            return line;
        }
        scanned = pending_.size();
        if (pending_.size() > max_bytes) {
            return Error{Errc::io_error,
                         "response longer than " + std::to_string(max_bytes) + " bytes"};
        }
        char buf[65536];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return Error{Errc::io_error, "timed out waiting for the daemon"};
            }
            return Error{std::error_code(errno, std::generic_category()), "receive"};
        }
        if (n == 0) return Error{Errc::io_error, "the daemon closed the connection"};
        pending_.append(buf, static_cast<size_t>(n));
    }
}

}  // namespace ikemesh::daemon
