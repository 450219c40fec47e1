#include "daemon/udp_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>
#include <cstring>

#include "daemon/logging.hpp"
#include "daemon/natt.hpp"

namespace ikemesh::daemon {
namespace {

namespace asio = boost::asio;

// Large enough for any UDP payload; a datagram this size is truncated and dropped.
constexpr size_t kReceiveBuffer = 65536;
// Datagrams read per readiness notification before yielding to other work (timers, control).
constexpr int kReceiveBatch = 64;
// A whole mesh booting at once sends hundreds of IKE_SA_INITs in a burst.
constexpr int kSocketBufferBytes = 4 << 20;

socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof ss);
    if (ep.address.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(ep.port);
        std::memcpy(&sin->sin_addr, ep.address.bytes().data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(ep.port);
    std::memcpy(&sin6->sin6_addr, ep.address.bytes().data(), 16);
    return sizeof(sockaddr_in6);
}

Endpoint from_sockaddr(const sockaddr_storage& ss) {
    Endpoint ep;
    if (ss.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
        std::array<uint8_t, 4> b;
        std::memcpy(b.data(), &sin->sin_addr, 4);
        ep.address = IpAddress::v4(b);
        ep.port = ntohs(sin->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        std::array<uint8_t, 16> b;
        std::memcpy(b.data(), &sin6->sin6_addr, 16);
        ep.address = IpAddress::v6(b);
        ep.port = ntohs(sin6->sin6_port);
    }
    return ep;
}

bool is_wildcard(const IpAddress& a) {
    for (uint8_t b : a.bytes()) {
        if (b != 0) return false;
    }
    return true;
}

Error sys_error(const char* what) {
    return Error{std::error_code(errno, std::generic_category()), what};
}

// Asio's errors here are errno values; as generic std::error_codes they compare equal to
// std::errc (the runner tells "no IPv6 on this host" apart from real failures that way).
Error asio_error(const boost::system::error_code& ec, const char* what) {
    return Error{std::error_code(ec.value(), std::generic_category()), what};
}

// Room for either pktinfo control message.
constexpr size_t kControlSpace = CMSG_SPACE(sizeof(in6_pktinfo)) > CMSG_SPACE(sizeof(in_pktinfo))
                                     ? CMSG_SPACE(sizeof(in6_pktinfo))
                                     : CMSG_SPACE(sizeof(in_pktinfo));

}  // namespace

IkeSocket::IkeSocket(asio::io_context& io, bool natt, DaemonCounters& counters)
    : socket_(io), natt_(natt), counters_(counters), alive_(std::make_shared<bool>(true)) {}

IkeSocket::~IkeSocket() {
    *alive_ = false;
    close();
}

Result<std::unique_ptr<IkeSocket>> IkeSocket::open(asio::io_context& io, const IpAddress& address,
                                                   uint16_t port, bool natt,
                                                   DaemonCounters& counters) {
    if (address.empty()) return Error{Errc::config_invalid, "listen address is empty"};
    std::unique_ptr<IkeSocket> s(new IkeSocket(io, natt, counters));
    boost::system::error_code ec;
    s->socket_.open(address.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
    if (ec) return asio_error(ec, "socket");
    int fd = s->socket_.native_handle();
    int one = 1;
    if (address.is_v4()) {
        if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) {
            return sys_error("setsockopt IP_PKTINFO");
        }
    } else {
        s->socket_.set_option(asio::ip::v6_only(true), ec);
        if (ec) return asio_error(ec, "setsockopt IPV6_V6ONLY");
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0) {
            return sys_error("setsockopt IPV6_RECVPKTINFO");
        }
    }
    // Best effort: the kernel caps these at rmem_max / wmem_max.
    int bufsize = kSocketBufferBytes;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    s->socket_.non_blocking(true, ec);
    if (ec) return asio_error(ec, "non-blocking");

    sockaddr_storage ss;
    socklen_t len = to_sockaddr(Endpoint{address, port}, ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        return Error{std::error_code(errno, std::generic_category()),
                     "bind " + Endpoint{address, port}.to_string()};
    }
    sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
        return sys_error("getsockname");
    }
    s->address_ = address;
    s->port_ = from_sockaddr(bound).port;
    s->buffer_.resize(kReceiveBuffer);
    return s;
}

int IkeSocket::native_handle() {
    return socket_.native_handle();
}

void IkeSocket::start(Handler handler) {
    handler_ = std::move(handler);
    arm();
}

void IkeSocket::close() {
    boost::system::error_code ec;
    if (socket_.is_open()) socket_.close(ec);
}

void IkeSocket::arm() {
    if (!socket_.is_open()) return;
    socket_.async_wait(asio::ip::udp::socket::wait_read,
                       [this, alive = alive_](const boost::system::error_code& ec) {
                           if (!*alive || ec == asio::error::operation_aborted) return;
                           if (ec) {
                               log(Subsystem::daemon).error("UDP wait failed: {}", ec.message());
                               return;
                           }
                           drain();
                           if (*alive) arm();
                       });
}

void IkeSocket::drain() {
    int fd = socket_.native_handle();
    for (int i = 0; i < kReceiveBatch && socket_.is_open(); ++i) {
        sockaddr_storage from;
        alignas(cmsghdr) uint8_t control[kControlSpace];
        iovec iov{buffer_.data(), buffer_.size()};
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log(Subsystem::daemon).debug("recvmsg: {}", std::strerror(errno));
            }
            return;
        }
        ++counters_.datagrams_received;
        if (static_cast<size_t>(n) > buffer_.size() || (msg.msg_flags & MSG_TRUNC)) {
            ++counters_.datagrams_dropped;
            continue;
        }
        Endpoint remote = from_sockaddr(from);
        Endpoint local{address_, port_};
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                in_pktinfo pi;
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                std::array<uint8_t, 4> b;
                std::memcpy(b.data(), &pi.ipi_addr, 4);
                local.address = IpAddress::v4(b);
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                in6_pktinfo pi;
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                std::array<uint8_t, 16> b;
                std::memcpy(b.data(), &pi.ipi6_addr, 16);
                local.address = IpAddress::v6(b);
            }
        }
        ByteView data(buffer_.data(), static_cast<size_t>(n));
        if (natt_) {
            auto framed = classify_natt(data);
            if (framed.kind == NattKind::keepalive) {
                ++counters_.natt_keepalives;
                continue;
            }
            if (framed.kind != NattKind::ike) {
                ++counters_.datagrams_dropped;
                continue;
            }
            data = framed.ike;
        }
        if (handler_) handler_(data, local, remote);
    }
}

Status IkeSocket::send(ByteView ike, const Endpoint& local, const Endpoint& remote, bool raw) {
    if (remote.address.family() != address_.family()) {
        ++counters_.datagrams_dropped;
        return Error{Errc::invalid_syntax, "address family does not match the socket"};
    }
    sockaddr_storage to;
    socklen_t to_len = to_sockaddr(remote, to);
    iovec iov[2];
    size_t iovcnt = 0;
    if (natt_ && !raw) {
        iov[iovcnt++] = {const_cast<uint8_t*>(kNonEspMarker.data()), kNonEspMarker.size()};
    }
    iov[iovcnt++] = {const_cast<uint8_t*>(ike.data()), ike.size()};

    alignas(cmsghdr) uint8_t control[kControlSpace];
    std::memset(control, 0, sizeof control);
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = to_len;
    msg.msg_iov = iov;
    msg.msg_iovlen = iovcnt;
    // Choose the source address only where the socket does not pin it already.
    if (is_wildcard(address_) && !local.address.empty() && !is_wildcard(local.address) &&
        local.address.family() == address_.family()) {
        msg.msg_control = control;
        cmsghdr* c = nullptr;
        if (address_.is_v4()) {
            msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
            c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
            in_pktinfo pi{};
            std::memcpy(&pi.ipi_spec_dst, local.address.bytes().data(), 4);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        } else {
            msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
            c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
            in6_pktinfo pi{};
            std::memcpy(&pi.ipi6_addr, local.address.bytes().data(), 16);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
    }
    ssize_t n;
    do {
        n = ::sendmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        ++counters_.datagrams_dropped;
        return Error{std::error_code(errno, std::generic_category()),
                     "send to " + remote.to_string()};
    }
    ++counters_.datagrams_sent;
    return {};
}

}  // namespace ikemesh::daemon
