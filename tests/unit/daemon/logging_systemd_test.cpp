#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <set>

#include "daemon/logging.hpp"
#include "daemon/systemd_notify.hpp"
#include "io_harness.hpp"
#include "sample_status.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

TEST_CASE("every subsystem has a distinct logger name") {
    std::set<std::string> names;
    for (auto s : kAllSubsystems)
        CHECK(names.insert(subsystem_name(s)).second);
    CHECK(names == std::set<std::string>{"daemon", "ike", "kernel", "config", "control"});
}

TEST_CASE("log levels parse from their names") {
    CHECK(*parse_log_level("trace") == spdlog::level::trace);
    CHECK(*parse_log_level("warning") == spdlog::level::warn);
    CHECK(*parse_log_level("error") == spdlog::level::err);
    CHECK(*parse_log_level("off") == spdlog::level::off);
    auto bad = parse_log_level("loud");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().is(Errc::config_invalid));
    CHECK(bad.error().message().find("'loud'") != std::string::npos);
}

TEST_CASE("per-subsystem levels apply, and a bad table changes nothing") {
    init_logging(LogTarget::stderr_text);
    LogOptions opts;
    opts.level = "warn";
    opts.subsystems["ike"] = "debug";
    REQUIRE(apply_log_options(opts));
    CHECK(log(Subsystem::daemon).level() == spdlog::level::warn);
    CHECK(log(Subsystem::ike).level() == spdlog::level::debug);
    CHECK(spdlog::get("kernel")->level() == spdlog::level::warn);  // registered by name

    LogOptions bad = opts;
    bad.subsystems["ike"] = "info";
    bad.subsystems["crypto"] = "debug";  // no such subsystem
    auto r = apply_log_options(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("'crypto'") != std::string::npos);
    CHECK(log(Subsystem::ike).level() == spdlog::level::debug);  // unchanged
    bad.subsystems.erase("crypto");
    bad.subsystems["config"] = "chatty";
    CHECK_FALSE(validate_log_options(bad));
    CHECK(log(Subsystem::config).level() == spdlog::level::warn);
    REQUIRE(apply_log_options(LogOptions{}));
}

TEST_CASE("systemd is detected from JOURNAL_STREAM or INVOCATION_ID") {
    CHECK_FALSE(running_under_systemd(nullptr, nullptr));
    CHECK_FALSE(running_under_systemd("", ""));
    CHECK(running_under_systemd("8:12345", nullptr));
    CHECK(running_under_systemd(nullptr, "0123456789abcdef0123456789abcdef"));
}

TEST_CASE("the STATUS line counts peers by state") {
    CHECK(status_line(test::sample_status()) == "3 peers, 1 established, 1 connecting, 1 down");
    ike::EngineStatus one;
    one.peers.resize(1);
    one.peers[0].state = "established";
    CHECK(status_line(one) == "1 peer, 1 established, 0 connecting, 0 down");
}

TEST_CASE("the watchdog is pinged at half its interval") {
    using std::chrono::microseconds;
    CHECK(watchdog_ping_interval(30'000'000) == microseconds(15'000'000));
    CHECK(watchdog_ping_interval(10) == microseconds(1000));  // never a busy loop
}

TEST_CASE("sd_notify messages reach NOTIFY_SOCKET") {
    test::TempDir tmp;
    std::string path = tmp.path + "/notify";
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto next = [&] {
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    };

    setenv("NOTIFY_SOCKET", path.c_str(), 1);
    setenv("WATCHDOG_USEC", "4000000", 1);
    setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    SystemdNotifier n;
    n.ready();
    CHECK(next() == "READY=1");
    n.reloading();
    CHECK(next() == "RELOADING=1");
    n.status("3 peers\nINJECTED=1");
    CHECK(next() == "STATUS=3 peers INJECTED=1");  // no second assignment sneaks in
    n.watchdog();
    CHECK(next() == "WATCHDOG=1");
    n.stopping();
    CHECK(next() == "STOPPING=1");
    auto interval = n.watchdog_interval();
    REQUIRE(interval);
    CHECK(*interval == std::chrono::microseconds(2'000'000));
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    CHECK_FALSE(n.watchdog_interval());
    n.ready();  // without NOTIFY_SOCKET: nothing is sent, nothing fails
    close(fd);
}

TEST_CASE("journal fields: the subsystem always, the peer and SPIs from the engine's SA prefix") {
    using F = JournalFields;
    CHECK(journal_fields("daemon", "ready") == F{{"IKEMESH_SUBSYSTEM", "daemon"}});
    CHECK(journal_fields("ike",
                         "node2[9a8ef293372d99fa:f04e8bd4c2bcdcb1] child_up c8094fdf/cc3775a9") ==
          F{{"IKEMESH_SUBSYSTEM", "ike"},
            {"IKEMESH_PEER", "node2"},
            {"IKEMESH_IKE_SPI_I", "9a8ef293372d99fa"},
            {"IKEMESH_IKE_SPI_R", "f04e8bd4c2bcdcb1"},
            {"IKEMESH_EVENT", "child_up"},
            {"IKEMESH_CHILD_SPI_IN", "c8094fdf"},
            {"IKEMESH_CHILD_SPI_OUT", "cc3775a9"}});
    // An event with a reason, an IKE SA event, and a line that only has the prefix.
    auto down = journal_fields(
        "ike", "node3[0000000000000001:0000000000000002] child_down 00000003/00000004: deleted");
    REQUIRE(down.size() == 7);
    CHECK(down[4] == std::pair<std::string, std::string>{"IKEMESH_EVENT", "child_down"});
    CHECK(journal_fields("ike", "node3[0000000000000001:0000000000000002] ike_up").size() == 4);
    auto other = journal_fields(
        "ike", "10.0.0.9[0000000000000001:0000000000000000] malformed INFORMATIONAL 1/2: bad");
    REQUIRE(other.size() == 4);
    CHECK(other[1].second == "10.0.0.9");
    // Lines that merely contain brackets get no peer fields.
    CHECK(journal_fields("config", "reload refused, nothing changed: [peer.x] bad").size() == 1);
    CHECK(journal_fields("ike", "[0000000000000001:0000000000000002] x").size() == 1);
    CHECK(journal_fields("ike", "node2[00000000000000zz:0000000000000002] x").size() == 1);
    CHECK(journal_fields("ike", "node2[0000000000000001:0000000000000002]").size() == 1);
}
