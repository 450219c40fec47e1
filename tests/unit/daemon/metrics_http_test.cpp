#include "daemon/metrics_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "io_harness.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

namespace {

// One HTTP exchange over a fresh TCP connection; returns everything the server sent.
std::string http_exchange(uint16_t port, const std::string& request) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size()));
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
        out.append(buf, static_cast<size_t>(n));
    close(fd);
    return out;
}

struct Server {
    Server()
        : http(io.io, [this] {
              ++renders;
              return std::string("# HELP up Up.\n# TYPE up gauge\nup 1\n");
          }) {}
    ~Server() {
        io.call([this] {
            http.close();
            return 0;
        });
    }
    test::IoThread io;
    int renders = 0;
    MetricsHttpServer http;
};

}  // namespace

TEST_CASE("GET /metrics answers with the exposition format") {
    Server s;
    REQUIRE(s.http.open(Endpoint{*IpAddress::parse("127.0.0.1"), 0}));
    uint16_t port = s.http.port();
    REQUIRE(port != 0);
    s.io.start();
    std::string r =
        http_exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
          std::string::npos);
    CHECK(r.find("\r\n\r\n# HELP up Up.\n# TYPE up gauge\nup 1\n") != std::string::npos);

    // A query string is ignored; HEAD gets headers only.
    std::string q = http_exchange(port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n");
    CHECK(q.rfind("HTTP/1.0 200 OK", 0) == 0);
    std::string head = http_exchange(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
    CHECK(head.rfind("HTTP/1.0 200 OK", 0) == 0);
    CHECK(head.find("up 1") == std::string::npos);
    CHECK(s.io.call([&] { return s.renders; }) == 3);
}

TEST_CASE("other paths, methods, bodies and huge headers are refused") {
    Server s;
    REQUIRE(s.http.open(Endpoint{*IpAddress::parse("127.0.0.1"), 0}));
    uint16_t port = s.http.port();
    s.io.start();
    CHECK(http_exchange(port, "GET / HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404", 0) == 0);
    std::string post = http_exchange(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    CHECK(post.rfind("HTTP/1.0 405", 0) == 0);
    CHECK(post.find("Allow: GET, HEAD") != std::string::npos);
    // A body is never accepted: the connection is dropped without an answer.
    CHECK(http_exchange(port, "GET /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello").empty());
    std::string huge = "GET /metrics HTTP/1.0\r\nX-Pad: " + std::string(20000, 'a') + "\r\n\r\n";
    CHECK(http_exchange(port, huge).find("200 OK") == std::string::npos);
    CHECK(http_exchange(port, "garbage\r\n\r\n").find("200 OK") == std::string::npos);
    CHECK(s.io.call([&] { return s.renders; }) == 0);
}

TEST_CASE("keep-alive serves several requests on one connection") {
    Server s;
    REQUIRE(s.http.open(Endpoint{*IpAddress::parse("127.0.0.1"), 0}));
    uint16_t port = s.http.port();
    s.io.start();
    std::string two =
        "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    std::string r = http_exchange(port, two);
    size_t first = r.find("HTTP/1.1 200 OK");
    REQUIRE(first != std::string::npos);
    CHECK(r.find("HTTP/1.1 200 OK", first + 1) != std::string::npos);
}
