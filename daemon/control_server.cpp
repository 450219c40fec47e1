#include "daemon/control_server.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <deque>
#include <filesystem>
#include <set>
#include <vector>

#include "daemon/logging.hpp"

namespace ikemesh::daemon {
namespace {

namespace asio = boost::asio;
using asio::local::stream_protocol;

Error sys_error(int err, std::string what) {
    return Error{std::error_code(err, std::generic_category()), std::move(what)};
}

// True if something accepts connections on `path` (another daemon is running).
bool socket_in_use(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    bool in_use = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return in_use;
}

bool mutating(const Result<Request>& req) {
    if (!req) return false;
    switch (req->command) {
        case Command::initiate:
        case Command::terminate:
        case Command::rekey:
        case Command::reload:
            return true;
        default:
            return false;
    }
}

}  // namespace

class Session;

class ControlServer::Impl : public std::enable_shared_from_this<ControlServer::Impl> {
  public:
    Impl(asio::io_context& io, ControlHandler& handler, DaemonCounters& counters,
         ControlServerLimits limits)
        : io_(io), handler_(handler), counters_(counters), limits_(limits), acceptor_(io) {}

    Status open(const std::string& path, const std::string& group);
    void accept();
    void broadcast(const nlohmann::json& event);
    void close();
    void remove(const std::shared_ptr<Session>& s) { sessions_.erase(s); }

    asio::io_context& io_;
    ControlHandler& handler_;
    DaemonCounters& counters_;
    ControlServerLimits limits_;
    stream_protocol::acceptor acceptor_;
    std::string path_;
    std::set<std::shared_ptr<Session>> sessions_;
    bool closed_ = false;
};

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(ControlServer::Impl* server, stream_protocol::socket socket)
        : server_(server),
          socket_(std::move(socket)),
          buffer_(kMaxRequestBytes + 2),  // the line, "\r\n"
          idle_(socket_.get_executor()) {}

    void start() {
        ucred cred{};
        socklen_t len = sizeof cred;
        if (getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
            peer_ = "uid " + std::to_string(cred.uid) + " pid " + std::to_string(cred.pid);
        } else {
            peer_ = "unknown peer";
        }
        read();
    }

    void refuse(const Error& error) {
        close_after_write_ = true;
        enqueue(error_response(error));
    }

    bool subscriber() const { return subscriber_; }

    // Queues an event line; drops the subscriber if it cannot keep up.
    void push_event(const std::string& line) {
        if (closed_) return;
        if (out_.size() >= server_->limits_.max_monitor_backlog) {
            log(Subsystem::control).warn("monitor client ({}) too slow, disconnecting", peer_);
            close();
            return;
        }
        enqueue(line);
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        boost::system::error_code ec;
        idle_.cancel();
        socket_.shutdown(stream_protocol::socket::shutdown_both, ec);
        socket_.close(ec);
        if (server_) {
            auto self = shared_from_this();
            server_->remove(self);
            server_ = nullptr;
        }
    }

  private:
    void arm_idle_timer() {
        if (subscriber_) return;
        idle_.expires_after(server_->limits_.idle_timeout);
        idle_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->closed_ || self->subscriber_) return;
            self->close();
        });
    }

    void read() {
        if (closed_) return;
        arm_idle_timer();
        asio::async_read_until(socket_, buffer_, '\n',
                               [self = shared_from_this()](const boost::system::error_code& ec,
                                                           size_t n) { self->on_read(ec, n); });
    }

    void on_read(const boost::system::error_code& ec, size_t n) {
        if (closed_) return;
        if (ec == asio::error::not_found) {
            ++server_->counters_.control_requests;
            ++server_->counters_.control_errors;
            log(Subsystem::control)
                .warn("request from {} exceeds {} bytes, closing", peer_, kMaxRequestBytes);
            refuse(Error{
                Errc::control_bad_request,
                "request exceeds the limit of " + std::to_string(kMaxRequestBytes) + " bytes"});
            return;
        }
        if (ec) {  // EOF or reset: the client is gone
            close();
            return;
        }
        auto data = buffer_.data();
        std::string line(asio::buffers_begin(data), asio::buffers_begin(data) + n);
        buffer_.consume(n);
        if (subscriber_) {  // input on a monitor connection is ignored
            read();
            return;
        }
        handle(line);
        read();
    }

    void handle(const std::string& line) {
        auto& counters = server_->counters_;
        ++counters.control_requests;
        auto request = parse_request(line);
        if (request && request->command == Command::monitor) {
            subscriber_ = true;
            idle_.cancel();
            log(Subsystem::control).info("monitor subscriber connected ({})", peer_);
            enqueue(ok_response(nlohmann::json{{"monitoring", true}}));
            return;
        }
        if (mutating(request)) {
            log(Subsystem::control)
                .info("{} requested {}{}", peer_, command_name(request->command),
                      request->peer.empty() ? "" : " " + request->peer);
        }
        auto reply = respond(server_->handler_, request);
        if (!reply.ok) {
            ++counters.control_errors;
            log(Subsystem::control)
                .debug("error reply to {}: {}", peer_,
                       std::string_view(reply.line).substr(0, reply.line.size() - 1));
        }
        enqueue(std::move(reply.line));
    }

    void enqueue(std::string line) {
        out_.push_back(std::move(line));
        if (!writing_) write();
    }

    void write() {
        if (closed_) return;
        if (out_.empty()) {
            writing_ = false;
            if (close_after_write_) close();
            return;
        }
        writing_ = true;
        asio::async_write(socket_, asio::buffer(out_.front()),
                          [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                              if (self->closed_) return;
                              if (ec) {
                                  self->close();
                                  return;
                              }
                              self->out_.pop_front();
                              self->write();
                          });
    }

    ControlServer::Impl* server_;
    stream_protocol::socket socket_;
    asio::streambuf buffer_;
    asio::steady_timer idle_;
    std::deque<std::string> out_;
    std::string peer_;
    bool writing_ = false;
    bool subscriber_ = false;
    bool close_after_write_ = false;
    bool closed_ = false;
};

Result<int> lookup_group(const std::string& name) {
    std::vector<char> buf(16384);
    group grp{};
    group* found = nullptr;
    int rc = getgrnam_r(name.c_str(), &grp, buf.data(), buf.size(), &found);
    if (rc != 0 || found == nullptr) {
        return Error{Errc::config_invalid, "control_group '" + name + "' does not exist"};
    }
    return static_cast<int>(found->gr_gid);
}

Status prepare_socket_directory(const std::string& dir, int gid) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) return sys_error(errno, "stat " + dir);
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) return Error{ec, "create " + dir};
        if (::chmod(dir.c_str(), 0750) != 0) return sys_error(errno, "chmod " + dir);
        if (gid != -1 && ::chown(dir.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(gid))) {
            return sys_error(errno, "chown " + dir);
        }
        return {};
    }
    if (!S_ISDIR(st.st_mode)) return Error{Errc::io_error, dir + " is not a directory"};
    // A directory others cannot enter (our RuntimeDirectory, 0750) is ours to share with the
    // control group; shared directories such as /run or /tmp are never touched.
    if (gid != -1 && (st.st_mode & 0007) == 0 && st.st_uid == ::geteuid() &&
        st.st_gid != static_cast<gid_t>(gid)) {
        if (::chown(dir.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(gid)) != 0) {
            return sys_error(errno, "chown " + dir);
        }
    }
    return {};
}

Status ControlServer::Impl::open(const std::string& path, const std::string& group) {
    if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path)) {
        return Error{Errc::config_invalid,
                     "control socket path '" + path + "' is empty or longer than 107 bytes"};
    }
    int gid = -1;
    if (!group.empty()) {
        auto g = lookup_group(group);
        if (!g) return g.take_error();
        gid = *g;
    }
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    if (auto ok = prepare_socket_directory(dir, gid); !ok) return ok;

    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            return Error{Errc::io_error, path + " exists and is not a socket"};
        }
        if (socket_in_use(path)) {
            return Error{Errc::io_error, "another daemon is listening on " + path};
        }
        ::unlink(path.c_str());  // stale, from a daemon that did not exit cleanly
    }

    boost::system::error_code ec;
    acceptor_.open(stream_protocol(), ec);
    if (ec) return Error{ec, "control socket"};
    // bind() creates the file with mode 0777 & ~umask: 0600 here, then widened to exactly 0660,
    // so the socket is never reachable by others, not even between bind and chmod.
    mode_t old_mask = ::umask(0177);
    acceptor_.bind(stream_protocol::endpoint(path), ec);
    ::umask(old_mask);
    if (ec) return Error{ec, "bind " + path};
    path_ = path;
    if (::chmod(path.c_str(), 0660) != 0) return sys_error(errno, "chmod " + path);
    if (gid != -1 && ::chown(path.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(gid)) != 0) {
        return sys_error(errno, "chown " + path);
    }
    acceptor_.listen(16, ec);
    if (ec) return Error{ec, "listen " + path};
    accept();
    return {};
}

void ControlServer::Impl::accept() {
    acceptor_.async_accept([self = shared_from_this()](const boost::system::error_code& ec,
                                                       stream_protocol::socket socket) {
        if (self->closed_ || ec == asio::error::operation_aborted) return;
        if (ec) {
            log(Subsystem::control).warn("accept failed: {}", ec.message());
        } else {
            auto session = std::make_shared<Session>(self.get(), std::move(socket));
            self->sessions_.insert(session);
            if (self->sessions_.size() > self->limits_.max_connections) {
                session->refuse(
                    Error{Errc::control_bad_request, "too many control connections, try again"});
            } else {
                session->start();
            }
        }
        self->accept();
    });
}

void ControlServer::Impl::broadcast(const nlohmann::json& event) {
    std::string line;
    // Copy: push_event may close a session, which removes it from the set.
    std::vector<std::shared_ptr<Session>> targets;
    for (const auto& s : sessions_) {
        if (s->subscriber()) targets.push_back(s);
    }
    if (targets.empty()) return;
    line = event_line(event);
    for (const auto& s : targets)
        s->push_event(line);
}

void ControlServer::Impl::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    auto sessions = sessions_;
    for (const auto& s : sessions)
        s->close();
    sessions_.clear();
    if (!path_.empty()) ::unlink(path_.c_str());
}

ControlServer::ControlServer(asio::io_context& io, ControlHandler& handler,
                             DaemonCounters& counters, ControlServerLimits limits)
    : impl_(std::make_shared<Impl>(io, handler, counters, limits)) {}

ControlServer::~ControlServer() {
    impl_->close();
}

Status ControlServer::open(const std::string& path, const std::string& group) {
    return impl_->open(path, group);
}

void ControlServer::broadcast(const nlohmann::json& event) {
    impl_->broadcast(event);
}

void ControlServer::close() {
    impl_->close();
}

size_t ControlServer::connections() const {
    return impl_->sessions_.size();
}

size_t ControlServer::subscribers() const {
    size_t n = 0;
    for (const auto& s : impl_->sessions_)
        n += s->subscriber() ? 1 : 0;
    return n;
}

}  // namespace ikemesh::daemon
