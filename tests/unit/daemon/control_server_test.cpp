#include "daemon/control_server.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>

#include "daemon/control_client.hpp"
#include "io_harness.hpp"
#include "scripted_handler.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;
using namespace std::chrono_literals;

namespace {

struct Harness {
    explicit Harness(ControlServerLimits limits = {})
        : server(io.io, handler, counters, limits), path(tmp.path + "/run/ikemesh.sock") {}
    ~Harness() {
        io.call([this] {
            server.close();
            return 0;
        });
        io.stop();
    }

    Status open(const std::string& group = "") { return server.open(path, group); }
    ControlClient client() {
        auto c = ControlClient::connect(path);
        REQUIRE(c);
        c->set_receive_timeout(5s);
        return std::move(*c);
    }
    Response ask(ControlClient& c, const std::string& line) {
        REQUIRE(c.send(line));
        auto reply = c.read_line();
        REQUIRE(reply);
        auto r = parse_response(*reply);
        REQUIRE(r);
        return *r;
    }

    test::TempDir tmp;
    test::IoThread io;
    test::ScriptedHandler handler;
    DaemonCounters counters;
    ControlServer server;
    std::string path;
};

// A group other than ours if we can chown to one (root), else our own.
std::pair<std::string, gid_t> some_group() {
    if (geteuid() == 0) {
        if (group* g = getgrnam("nogroup")) return {g->gr_name, g->gr_gid};
    }
    group* g = getgrgid(getegid());
    REQUIRE(g);
    return {g->gr_name, g->gr_gid};
}

}  // namespace

TEST_CASE("the control socket is 0660 in a 0750 directory, never world-accessible") {
    Harness h;
    REQUIRE(h.open());
    h.io.start();
    struct stat st {};
    REQUIRE(stat(h.path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0660);
    CHECK((st.st_mode & S_IWOTH) == 0);
    CHECK((st.st_mode & S_IROTH) == 0);
    struct stat dir {};
    REQUIRE(stat((h.tmp.path + "/run").c_str(), &dir) == 0);
    CHECK((dir.st_mode & 0777) == 0750);
    auto c = h.client();
    CHECK(h.ask(c, "{\"command\":\"version\"}\n").ok);
}

TEST_CASE("control_group owns the socket and the private directory") {
    auto [name, gid] = some_group();
    Harness h;
    REQUIRE(h.open(name));
    struct stat st {};
    REQUIRE(stat(h.path.c_str(), &st) == 0);
    CHECK(st.st_gid == gid);
    CHECK((st.st_mode & 0777) == 0660);
    REQUIRE(stat((h.tmp.path + "/run").c_str(), &st) == 0);
    CHECK(st.st_gid == gid);
}

TEST_CASE("an unknown control_group is a configuration error") {
    Harness h;
    auto r = h.open("no-such-group-ikemesh-test");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(Errc::config_invalid));
}

TEST_CASE("a shared directory is never given to the control group") {
    auto [name, gid] = some_group();
    test::TempDir tmp;
    REQUIRE(chmod(tmp.path.c_str(), 0755) == 0);
    struct stat before {};
    REQUIRE(stat(tmp.path.c_str(), &before) == 0);
    REQUIRE(prepare_socket_directory(tmp.path, static_cast<int>(gid)));
    struct stat after {};
    REQUIRE(stat(tmp.path.c_str(), &after) == 0);
    CHECK(after.st_gid == before.st_gid);
    CHECK((after.st_mode & 0777) == 0755);
}

TEST_CASE("requests, errors and more requests on one connection") {
    Harness h;
    REQUIRE(h.open());
    h.io.start();
    auto c = h.client();

    auto status = h.ask(c, "{\"command\":\"status\"}\n");
    REQUIRE(status.ok);
    CHECK(status.result["peers"].size() == 3);

    auto garbage = h.ask(c, "this is not json\n");
    CHECK_FALSE(garbage.ok);
    CHECK(garbage.code == "control_bad_request");

    auto unknown = h.ask(c, "{\"command\":\"self-destruct\"}\n");
    CHECK_FALSE(unknown.ok);
    CHECK(unknown.code == "control_unknown_command");

    auto peer = h.ask(c, "{\"command\":\"terminate\",\"peer\":\"nobody\"}\n");
    CHECK_FALSE(peer.ok);
    CHECK(peer.code == "unknown_peer");

    // The daemon carries on: same connection, and a new one, still work.
    CHECK(h.ask(c, "{\"command\":\"initiate\",\"peer\":\"node2\"}\n").ok);
    auto c2 = h.client();
    CHECK(h.ask(c2, "{\"command\":\"list-peers\"}\n").ok);

    // Two requests in one write are answered in order.
    REQUIRE(c2.send("{\"command\":\"version\"}\n{\"command\":\"bogus\"}\n"));
    auto first = c2.read_line();
    auto second = c2.read_line();
    REQUIRE(first);
    REQUIRE(second);
    CHECK(parse_response(*first)->ok);
    CHECK_FALSE(parse_response(*second)->ok);

    auto counters = h.io.call([&] { return h.counters; });
    CHECK(counters.control_requests == 8);
    CHECK(counters.control_errors == 4);
}

TEST_CASE("an oversized request gets an error and its connection is closed") {
    Harness h;
    REQUIRE(h.open());
    h.io.start();
    auto c = h.client();
    std::string big(kMaxRequestBytes + 100, 'x');
    REQUIRE(c.send(big));
    auto reply = c.read_line();
    REQUIRE(reply);
    auto r = parse_response(*reply);
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->error.find("exceeds") != std::string::npos);
    CHECK_FALSE(c.read_line());  // closed
    auto c2 = h.client();
    CHECK(h.ask(c2, "{\"command\":\"status\"}\n").ok);
}

TEST_CASE("monitor subscribers receive broadcast events until they leave") {
    Harness h;
    REQUIRE(h.open());
    h.io.start();
    auto m1 = h.client();
    auto m2 = h.client();
    auto hello = h.ask(m1, "{\"command\":\"monitor\"}\n");
    REQUIRE(hello.ok);
    CHECK(hello.result["monitoring"] == true);
    REQUIRE(h.ask(m2, "{\"command\":\"monitor\"}\n").ok);
    CHECK(h.io.call([&] { return h.server.subscribers(); }) == 2);

    json ev{{"event", "ike_up"}, {"peer", "node2"}};
    h.io.call([&] {
        h.server.broadcast(ev);
        return 0;
    });
    for (auto* c : {&m1, &m2}) {
        auto line = c->read_line();
        REQUIRE(line);
        CHECK(json::parse(*line) == ev);
    }
    // Requests from a plain client are not broadcast to monitors.
    auto plain = h.client();
    CHECK(h.ask(plain, "{\"command\":\"status\"}\n").ok);

    { auto gone = std::move(m2); }  // closes the connection
    CHECK(test::eventually([&] { return h.io.call([&] { return h.server.subscribers(); }) == 1; }));
    h.io.call([&] {
        h.server.broadcast(json{{"event", "ike_down"}});
        return 0;
    });
    auto line = m1.read_line();
    REQUIRE(line);
    CHECK(json::parse(*line)["event"] == "ike_down");
}

TEST_CASE("a monitor client that stops reading is disconnected, not buffered forever") {
    ControlServerLimits limits;
    limits.max_monitor_backlog = 8;
    Harness h(limits);
    REQUIRE(h.open());
    h.io.start();
    auto m = h.client();
    REQUIRE(h.ask(m, "{\"command\":\"monitor\"}\n").ok);
    json ev{{"event", "child_up"}, {"pad", std::string(64 * 1024, 'p')}};
    // Far more than the socket buffers hold, while the client reads nothing.
    bool dropped = test::eventually([&] {
        return h.io.call([&] {
            for (int i = 0; i < 16; ++i)
                h.server.broadcast(ev);
            return h.server.subscribers() == 0;
        });
    });
    CHECK(dropped);
}

TEST_CASE("connections beyond the limit are refused with an error") {
    ControlServerLimits limits;
    limits.max_connections = 2;
    Harness h(limits);
    REQUIRE(h.open());
    h.io.start();
    auto a = h.client();
    auto b = h.client();
    CHECK(h.ask(a, "{\"command\":\"version\"}\n").ok);
    CHECK(h.ask(b, "{\"command\":\"version\"}\n").ok);
    auto c = h.client();
    auto reply = c.read_line();
    REQUIRE(reply);
    auto r = parse_response(*reply);
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->error.find("too many") != std::string::npos);
}

TEST_CASE("idle request connections time out; monitors do not") {
    ControlServerLimits limits;
    limits.idle_timeout = 100ms;
    Harness h(limits);
    REQUIRE(h.open());
    h.io.start();
    auto idle = h.client();
    auto mon = h.client();
    REQUIRE(h.ask(mon, "{\"command\":\"monitor\"}\n").ok);
    auto eof = idle.read_line();
    CHECK_FALSE(eof);  // closed by the daemon well before the 5 s client timeout
    std::this_thread::sleep_for(200ms);
    CHECK(h.io.call([&] { return h.server.subscribers(); }) == 1);
}

TEST_CASE("a stale socket is replaced, a live one is refused, a regular file is kept") {
    Harness h;
    std::filesystem::create_directories(h.tmp.path + "/run");
    {  // a socket file nobody listens on, as a crashed daemon leaves it
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, h.path.c_str());
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        close(fd);
    }
    REQUIRE(h.open());
    h.io.start();

    test::ScriptedHandler other;
    DaemonCounters counters;
    test::IoThread io2;
    ControlServer second(io2.io, other, counters);
    auto r = second.open(h.path, "");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("another daemon") != std::string::npos);
    auto c = h.client();
    CHECK(h.ask(c, "{\"command\":\"version\"}\n").ok);  // the first one is untouched

    std::string file = h.tmp.path + "/regular";
    std::ofstream(file) << "keep me";
    ControlServer third(io2.io, other, counters);
    auto rf = third.open(file, "");
    REQUIRE_FALSE(rf);
    CHECK(rf.error().message().find("not a socket") != std::string::npos);
    std::ifstream in(file);
    std::string content;
    std::getline(in, content);
    CHECK(content == "keep me");
}

TEST_CASE("close removes the socket file") {
    Harness h;
    REQUIRE(h.open());
    h.server.close();
    struct stat st {};
    CHECK(stat(h.path.c_str(), &st) != 0);
}
