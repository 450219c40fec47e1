#include "kernel/rtnl_routes.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>

#include "kernel/rtnl_messages.hpp"

namespace ikemesh::kernel {
namespace {

// An answer is one small message; notifications come in datagrams of up to a page or so.
constexpr size_t kBufferBytes = 32 * 1024;
// Datagrams read per read_changes call: a burst (a whole routing table replaced) must not
// starve the daemon's loop; the descriptor stays readable and the loop comes back.
constexpr int kDatagramsPerRead = 256;

Error os_error(int err, std::string_view what) {
    return xfrm::netlink_error(err, what, {});
}

}  // namespace

RtnlRoutes::~RtnlRoutes() {
    if (request_) mnl_socket_close(request_);
    if (events_) mnl_socket_close(events_);
}

Result<std::unique_ptr<RtnlRoutes>> RtnlRoutes::open(const RtnlOptions& options) {
    std::unique_ptr<RtnlRoutes> r(new RtnlRoutes());
    if (auto s = r->init(options); !s) return s.take_error();
    return r;
}

Status RtnlRoutes::init(const RtnlOptions& options) {
    buf_.resize(kBufferBytes);
    request_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!request_) return os_error(errno, "open rtnetlink socket");
    if (mnl_socket_bind(request_, 0, MNL_SOCKET_AUTOPID) < 0) {
        return os_error(errno, "bind rtnetlink socket");
    }
    port_id_ = mnl_socket_get_portid(request_);
    int one = 1;
    mnl_socket_setsockopt(request_, NETLINK_CAP_ACK, &one, sizeof one);
    timeval tv{options.reply_timeout_ms / 1000, (options.reply_timeout_ms % 1000) * 1000};
    setsockopt(mnl_socket_get_fd(request_), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (!options.watch_changes) return {};
    events_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!events_) return os_error(errno, "open rtnetlink notification socket");
    if (mnl_socket_bind(events_, rtnl::change_groups(), MNL_SOCKET_AUTOPID) < 0) {
        return os_error(errno, "join the rtnetlink address and route groups");
    }
    return {};
}

int RtnlRoutes::change_fd() const {
    return events_ ? mnl_socket_get_fd(events_) : -1;
}

Result<std::optional<IpAddress>> RtnlRoutes::source_for(const IpAddress& remote) {
    if (remote.empty()) return Error{Errc::kernel_invalid_request, "route lookup: no address"};
    const uint32_t seq = ++seq_;
    Bytes req;
    rtnl::build_get_route(req, remote, seq);
    const std::string what = "route lookup " + remote.to_string();
    if (mnl_socket_sendto(request_, req.data(), req.size()) < 0) return os_error(errno, what);
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(request_, buf_.data(), buf_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return Error{Errc::kernel_failure, what + ": no answer from the kernel"};
            }
            return os_error(errno, what);
        }
        auto msgs = xfrm::split_messages(ByteView(buf_.data(), static_cast<size_t>(n)));
        if (!msgs) return msgs.take_error();
        for (const auto& m : *msgs) {
            // An answer to an earlier lookup that timed out is skipped.
            if (m.seq != seq) continue;
            return rtnl::parse_route_answer(m, remote.family());
        }
    }
}

bool RtnlRoutes::read_changes() {
    if (!events_) return false;
    bool changed = false;
    for (int i = 0; i < kDatagramsPerRead; ++i) {
        const ssize_t n = mnl_socket_recvfrom(events_, buf_.data(), buf_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            // ENOBUFS: notifications were lost, one of them may have been a change.
            if (errno == ENOBUFS) {
                changed = true;
                continue;
            }
            break;  // EAGAIN: drained
        }
        auto msgs = xfrm::split_messages(ByteView(buf_.data(), static_cast<size_t>(n)));
        if (!msgs) {
            changed = true;  // unreadable: assume the worst, a lookup costs little
            continue;
        }
        for (const auto& m : *msgs)
            changed = changed || rtnl::is_change(m.type);
    }
    return changed;
}

}  // namespace ikemesh::kernel
