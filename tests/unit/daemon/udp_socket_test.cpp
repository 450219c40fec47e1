// IKE sockets on loopback: the local address a datagram arrived on is learned (IP_PKTINFO) and
// replies leave from it; the NAT-T socket strips and adds the non-ESP marker and drops keepalives.
#include "daemon/udp_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>

using namespace ikemesh;
using namespace ikemesh::daemon;
using namespace std::chrono_literals;

namespace {

struct Received {
    Bytes data;
    Endpoint local, remote;
};

// A plain client socket standing in for a peer.
class Peer {
  public:
    explicit Peer(bool v6 = false) : v6_(v6) {
        fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
        timeval tv{2, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (v6) {
            sockaddr_in6 a{};
            a.sin6_family = AF_INET6;
            a.sin6_addr = in6addr_loopback;
            bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        } else {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        }
    }
    ~Peer() { close(fd_); }

    uint16_t port() const {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
        return v6_ ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    void send_to(const std::string& addr, uint16_t port, const Bytes& data) {
        if (v6_) {
            sockaddr_in6 a{};
            a.sin6_family = AF_INET6;
            a.sin6_port = htons(port);
            inet_pton(AF_INET6, addr.c_str(), &a.sin6_addr);
            REQUIRE(sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a),
                           sizeof a) == static_cast<ssize_t>(data.size()));
        } else {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(port);
            inet_pton(AF_INET, addr.c_str(), &a.sin_addr);
            REQUIRE(sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a),
                           sizeof a) == static_cast<ssize_t>(data.size()));
        }
    }
    // Returns the datagram and the address it came from.
    std::pair<Bytes, std::string> receive() {
        Bytes buf(65536);
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        ssize_t n =
            recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) return {};
        buf.resize(static_cast<size_t>(n));
        char text[INET6_ADDRSTRLEN] = {};
        if (from.ss_family == AF_INET) {
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&from)->sin_addr, text, sizeof text);
        } else {
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr, text,
                      sizeof text);
        }
        return {buf, text};
    }

  private:
    bool v6_;
    int fd_;
};

// Runs the io_context until `n` datagrams arrived or two seconds passed.
void run_until(boost::asio::io_context& io, const std::vector<Received>& got, size_t n) {
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
        io.run_for(10ms);
    }
}

}  // namespace

TEST_CASE("a wildcard IPv4 socket learns the local address and replies from it") {
    boost::asio::io_context io;
    DaemonCounters counters;
    auto sock = IkeSocket::open(io, *IpAddress::parse("0.0.0.0"), 0, false, counters);
    REQUIRE(sock);
    auto& s = **sock;
    CHECK(s.port() != 0);
    std::vector<Received> got;
    s.start([&](ByteView data, const Endpoint& local, const Endpoint& remote) {
        got.push_back({Bytes(data.begin(), data.end()), local, remote});
    });

    // 127.0.0.2 is a local address too: the socket must report which one was used.
    Peer peer;
    peer.send_to("127.0.0.2", s.port(), Bytes{1, 2, 3});
    run_until(io, got, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == Bytes{1, 2, 3});
    CHECK(got[0].local.to_string() == "127.0.0.2:" + std::to_string(s.port()));
    CHECK(got[0].remote.to_string() == "127.0.0.1:" + std::to_string(peer.port()));
    CHECK(counters.datagrams_received == 1);

    REQUIRE(s.send(Bytes{9, 8}, got[0].local, got[0].remote));
    auto [reply, from] = peer.receive();
    CHECK(reply == Bytes{9, 8});
    CHECK(from == "127.0.0.2");  // the address the peer talked to, not the primary one
    CHECK(counters.datagrams_sent == 1);

    // Without a local address the kernel picks the source.
    REQUIRE(s.send(Bytes{7}, Endpoint{}, got[0].remote));
    auto [reply2, from2] = peer.receive();
    CHECK(reply2 == Bytes{7});
}

TEST_CASE("the NAT-T socket strips the marker, drops keepalives and ESP, adds the marker") {
    boost::asio::io_context io;
    DaemonCounters counters;
    auto sock = IkeSocket::open(io, *IpAddress::parse("127.0.0.1"), 0, true, counters);
    REQUIRE(sock);
    auto& s = **sock;
    CHECK(s.natt());
    std::vector<Received> got;
    s.start([&](ByteView data, const Endpoint& local, const Endpoint& remote) {
        got.push_back({Bytes(data.begin(), data.end()), local, remote});
    });

    Peer peer;
    peer.send_to("127.0.0.1", s.port(), Bytes{0xff});                       // keepalive
    peer.send_to("127.0.0.1", s.port(), Bytes{0xc0, 0, 0, 1, 0, 0, 0, 1});  // ESP
    peer.send_to("127.0.0.1", s.port(), Bytes{0, 0});                       // runt
    peer.send_to("127.0.0.1", s.port(), Bytes{0, 0, 0, 0, 0x11, 0x22});     // IKE
    run_until(io, got, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == Bytes{0x11, 0x22});
    CHECK(counters.natt_keepalives == 1);
    CHECK(counters.datagrams_dropped == 2);
    CHECK(counters.datagrams_received == 4);

    REQUIRE(s.send(Bytes{0x33, 0x44}, got[0].local, got[0].remote));
    auto [reply, from] = peer.receive();
    CHECK(reply == Bytes{0, 0, 0, 0, 0x33, 0x44});
}

TEST_CASE("the plain IKE port passes datagrams untouched") {
    boost::asio::io_context io;
    DaemonCounters counters;
    auto sock = IkeSocket::open(io, *IpAddress::parse("127.0.0.1"), 0, false, counters);
    REQUIRE(sock);
    std::vector<Received> got;
    (*sock)->start([&](ByteView data, const Endpoint&, const Endpoint&) {
        got.push_back({Bytes(data.begin(), data.end()), {}, {}});
    });
    Peer peer;
    peer.send_to("127.0.0.1", (*sock)->port(), Bytes{0, 0, 0, 0, 5});
    run_until(io, got, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == Bytes{0, 0, 0, 0, 5});
}

TEST_CASE("IPv6 sockets are v6-only and learn the local address") {
    boost::asio::io_context io;
    DaemonCounters counters;
    auto v6 = IkeSocket::open(io, *IpAddress::parse("::"), 0, false, counters);
    REQUIRE(v6);
    uint16_t port = (*v6)->port();
    // IPV6_V6ONLY: an IPv4 socket can share the port.
    auto v4 = IkeSocket::open(io, *IpAddress::parse("0.0.0.0"), port, false, counters);
    REQUIRE(v4);
    std::vector<Received> got;
    (*v6)->start([&](ByteView data, const Endpoint& local, const Endpoint& remote) {
        got.push_back({Bytes(data.begin(), data.end()), local, remote});
    });
    Peer peer(true);
    peer.send_to("::1", port, Bytes{6});
    run_until(io, got, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].local.address.to_string() == "::1");
    CHECK(got[0].remote.address.to_string() == "::1");
    REQUIRE((*v6)->send(Bytes{7}, got[0].local, got[0].remote));
    CHECK(peer.receive().first == Bytes{7});

    // Sending to the other family is refused and counted, not attempted.
    auto r = (*v6)->send(Bytes{1}, got[0].local, Endpoint{*IpAddress::parse("127.0.0.1"), 500});
    CHECK_FALSE(r);
}

TEST_CASE("binding a port in use is an error naming the address") {
    boost::asio::io_context io;
    DaemonCounters counters;
    auto first = IkeSocket::open(io, *IpAddress::parse("127.0.0.1"), 0, false, counters);
    REQUIRE(first);
    auto second =
        IkeSocket::open(io, *IpAddress::parse("127.0.0.1"), (*first)->port(), false, counters);
    REQUIRE_FALSE(second);
    CHECK(second.error().message().find("127.0.0.1") != std::string::npos);
}

TEST_CASE("socket errors are generic error codes that compare with std::errc") {
    boost::asio::io_context io;
    DaemonCounters counters;
    auto first = IkeSocket::open(io, *IpAddress::parse("127.0.0.1"), 0, false, counters);
    REQUIRE(first);
    auto clash =
        IkeSocket::open(io, *IpAddress::parse("127.0.0.1"), (*first)->port(), false, counters);
    REQUIRE_FALSE(clash);
    CHECK(clash.error().code == std::errc::address_in_use);
}
