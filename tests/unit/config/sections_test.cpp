// [daemon], [local], [tuning], [metrics]: every key, its default, and its errors.
#include <catch2/catch.hpp>

#include "config_test_util.hpp"

using namespace ikemesh;
using namespace ikemesh::config;
using namespace ikemesh::config::test;
using namespace std::chrono_literals;

TEST_CASE("a minimal main file gets every default") {
    auto p = parse(main_file());
    INFO(p.text());
    REQUIRE(p.ok());
    CHECK(p.diagnostics.empty());
    const Config& c = p.config();
    CHECK(c.daemon.control_socket == "/run/ikemesh/ikemesh.sock");
    CHECK(c.daemon.control_group.empty());
    CHECK(c.daemon.kernel == KernelKind::xfrm);
    CHECK(c.daemon.log_level == LogLevel::info);
    CHECK(c.daemon.log_levels.empty());
    REQUIRE(c.daemon.listen.size() == 2);
    CHECK(c.daemon.listen[0].to_string() == "0.0.0.0");
    CHECK(c.daemon.listen[1].to_string() == "::");
    CHECK(c.daemon.port == 500);
    CHECK(c.daemon.port_natt == 4500);
    CHECK_FALSE(c.metrics.listen);
    CHECK(c.local.auth == ike::AuthMethod::psk);
    CHECK(c.local.id.kind == ike::IdKind::fqdn);
    CHECK(c.local.addresses.empty());
    CHECK(c.engine == ike::EngineSettings{});
    CHECK(c.peers.empty());
}

TEST_CASE("[daemon]: every key") {
    auto p = parse(R"(
[daemon]
control_socket = "/run/x/ctl.sock"
control_group = "ikemesh"
kernel = "fake"
log_level = "debug"
listen = ["192.0.2.1", "2001:db8::1"]
port = 5000
port_natt = 5001

[daemon.log_levels]
ike = "trace"
kernel = "warning"
config = "off"
)" + main_file());
    INFO(p.text());
    REQUIRE(p.ok());
    const DaemonConfig& d = p.config().daemon;
    CHECK(d.control_socket == "/run/x/ctl.sock");
    CHECK(d.control_group == "ikemesh");
    CHECK(d.kernel == KernelKind::fake);
    CHECK(d.log_level == LogLevel::debug);
    CHECK(d.log_levels == std::map<std::string, LogLevel>{{"ike", LogLevel::trace},
                                                          {"kernel", LogLevel::warn},
                                                          {"config", LogLevel::off}});
    REQUIRE(d.listen.size() == 2);
    CHECK(d.listen[1].to_string() == "2001:db8::1");
    CHECK(d.port == 5000);
    CHECK(d.port_natt == 5001);
    // Specific listen addresses are the local addresses the engine uses.
    CHECK(p.config().local.addresses == d.listen);
}

TEST_CASE("[daemon]: kernel kinds and a single listen address") {
    for (auto [text, kind] :
         {std::pair{"xfrm", KernelKind::xfrm}, std::pair{"pfkey", KernelKind::pfkey},
          std::pair{"fake", KernelKind::fake}}) {
        auto p = parse("[daemon]\nkernel = \"" + std::string(text) + "\"\n" + main_file());
        REQUIRE(p.ok());
        CHECK(p.config().daemon.kernel == kind);
        CHECK(to_string(kind) == text);
    }
    auto p = parse("[daemon]\nlisten = \"0.0.0.0\"\n" + main_file());
    REQUIRE(p.ok());
    CHECK(p.config().daemon.listen.size() == 1);
    CHECK(p.config().local.addresses.empty());  // a wildcard is not a local address
}

TEST_CASE("[daemon]: errors name file, line and key") {
    auto p = parse(R"([daemon]
control_socket = "relative.sock"
kernel = "netlink"
log_level = 3
listen = ["10.0.0.1", "10.0.0.1", "nope"]
port = 70000
port_natt = "4500"
control_group = "bad:group"
logfile = "/var/log/x"

[daemon.log_levels]
ikee = "debug"
ike = "loud"
)" + main_file());
    REQUIRE_FALSE(p.ok());
    INFO(p.text());
    CHECK(
        p.has("ikemesh.conf:2: daemon.control_socket: expected an absolute path, got "
              "\"relative.sock\""));
    CHECK(
        p.has("ikemesh.conf:3: daemon.kernel: expected one of \"xfrm\", \"pfkey\" or "
              "\"fake\", got \"netlink\""));
    CHECK(
        p.has("ikemesh.conf:4: daemon.log_level: expected one of \"trace\", \"debug\", "
              "\"info\", \"warn\", \"error\", \"critical\", \"off\" or \"warning\", got 3"));
    CHECK(p.has("ikemesh.conf:5: daemon.listen: 10.0.0.1 is listed twice"));
    CHECK(p.has("ikemesh.conf:5: daemon.listen: expected an IPv4 or IPv6 address, got \"nope\""));
    CHECK(p.has("ikemesh.conf:6: daemon.port: expected an integer from 1 to 65535, got 70000"));
    CHECK(p.has(
        "ikemesh.conf:7: daemon.port_natt: expected an integer from 1 to 65535, got \"4500\""));
    CHECK(
        p.has("ikemesh.conf:8: daemon.control_group: expected a group name, got "
              "\"bad:group\""));
    CHECK(
        p.mentions("ikemesh.conf:9: daemon.logfile: unknown key; allowed keys: "
                   "control_socket, control_group, kernel, log_level, log_levels, listen, "
                   "port, port_natt"));
    CHECK(p.has("ikemesh.conf:12: daemon.log_levels.ikee: unknown key; did you mean \"ike\"?"));
    CHECK(p.mentions("ikemesh.conf:13: daemon.log_levels.ike: expected one of"));
    CHECK(p.diagnostics.error_count() == 11);
}

TEST_CASE("[daemon]: port and port_natt must differ; listen must not be empty") {
    auto p = parse("[daemon]\nport = 4500\nlisten = []\n" + main_file());
    REQUIRE_FALSE(p.ok());
    CHECK(p.has("ikemesh.conf:2: daemon.port: port and port_natt must differ (both are 4500)"));
    CHECK(
        p.has("ikemesh.conf:3: daemon.listen: expected at least one address (the default is "
              "both wildcards)"));
    auto q = parse("[daemon]\ncontrol_socket = \"/" + std::string(120, 'x') + "\"\n" + main_file());
    CHECK(
        q.has("ikemesh.conf:2: daemon.control_socket: path longer than 107 bytes cannot be a "
              "unix socket"));
}

TEST_CASE("[local]: id is required and parsed") {
    auto p = parse("[local]\nauth = \"psk\"\n");
    REQUIRE_FALSE(p.ok());
    CHECK(
        p.has("ikemesh.conf:1: local: id is required: the identity this node authenticates "
              "as, e.g. id = \"node1.mesh.example\""));
    auto q = parse("");
    CHECK(q.mentions("ikemesh.conf: local: id is required"));
    auto r = parse("[local]\nid = \"node 1\"\n");
    CHECK(
        r.mentions("ikemesh.conf:2: local.id: expected an identity (IP address, host name, "
                   "user@host or DN), got \"node 1\": not an IP address"));
    auto s = parse("[local]\nid = \"CN=node1,O=Example\"\n");
    REQUIRE(s.ok());
    CHECK(s.config().local.id.kind == ike::IdKind::der_asn1_dn);
    CHECK(s.config().local.id.text == "CN=node1,O=Example");
}

TEST_CASE("[local]: auth and the certificate keys") {
    auto p = parse("[local]\nid = \"a\"\nauth = \"rsa\"\n");
    CHECK(p.has("ikemesh.conf:3: local.auth: expected one of \"psk\" or \"cert\", got \"rsa\""));
    auto q = parse("[local]\nid = \"a\"\nauth = \"cert\"\n");
    REQUIRE_FALSE(q.ok());
    CHECK(q.has("ikemesh.conf:1: local: cert is required with auth = \"cert\""));
    CHECK(q.has("ikemesh.conf:1: local: key is required with auth = \"cert\""));
    CHECK(q.has("ikemesh.conf:1: local: ca is required with auth = \"cert\""));
    // With PSK authentication certificate keys are accepted but ignored, with a warning.
    auto r = parse("[local]\nid = \"a\"\ncert = \"c.pem\"\n");
    REQUIRE(r.ok());
    CHECK(r.has("ikemesh.conf:3: warning: local.cert: ignored with auth = \"psk\""));
    // Without file access (the fuzzer's setting) certificate files cannot be read.
    auto s = parse(
        "[local]\nid = \"a\"\nauth = \"cert\"\ncert = \"c.pem\"\nkey = \"k.pem\"\n"
        "ca = [\"ca.pem\"]\n");
    CHECK(
        s.has("ikemesh.conf:1: local: certificate files cannot be read here (no file "
              "access)"));
}

TEST_CASE("[tuning]: every key") {
    auto p = parse(main_file(R"(
[tuning]
retransmit_timeout = "500ms"
retransmit_base = 2
retransmit_tries = 7
retransmit_limit = "1m"
cookie_threshold = 50
cookie_secret_lifetime = "5m"
fragment_size = 1400
reinitiate_base = "5s"
reinitiate_max = "10m"
half_open_timeout = 20
)"));
    INFO(p.text());
    REQUIRE(p.ok());
    const ike::EngineSettings& e = p.config().engine;
    CHECK(e.retransmit_timeout == 500ms);
    CHECK(e.retransmit_base == 2.0);
    CHECK(e.retransmit_tries == 7);
    CHECK(e.retransmit_limit == 60s);
    CHECK(e.cookie_threshold == 50);
    CHECK(e.cookie_secret_lifetime == 300s);
    CHECK(e.fragment_size == 1400);
    CHECK(e.reinitiate_base == 5s);
    CHECK(e.reinitiate_max == 600s);
    CHECK(e.half_open_timeout == 20s);
    auto q = parse(main_file("[tuning]\nretransmit_base = 1.5\n"));
    REQUIRE(q.ok());
    CHECK(q.config().engine.retransmit_base == 1.5);
}

TEST_CASE("[tuning]: errors") {
    auto p = parse(main_file(R"([tuning]
retransmit_timeout = 12.5
retransmit_base = 0.5
retransmit_tries = -1
fragment_size = 100
half_open_timeout = "1500ms"
reinitiate_base = "0s"
cookie_threshold = true
)"));
    REQUIRE_FALSE(p.ok());
    INFO(p.text());
    CHECK(
        p.has("ikemesh.conf:4: tuning.retransmit_timeout: expected a duration like \"30s\", "
              "got 12.5"));
    CHECK(
        p.has("ikemesh.conf:5: tuning.retransmit_base: expected a number from 1 to 10, got "
              "0.5"));
    CHECK(
        p.has("ikemesh.conf:6: tuning.retransmit_tries: expected an integer from 0 to 100, got "
              "-1"));
    CHECK(
        p.has("ikemesh.conf:7: tuning.fragment_size: expected an integer from 576 to 65535, "
              "got 100"));
    CHECK(
        p.has("ikemesh.conf:8: tuning.half_open_timeout: expected a duration in whole seconds "
              "like \"30s\", got \"1500ms\""));
    CHECK(p.has("ikemesh.conf:9: tuning.reinitiate_base: must be greater than zero"));
    CHECK(
        p.has("ikemesh.conf:10: tuning.cookie_threshold: expected an integer from 0 to "
              "10000000, got true"));
    auto q = parse(main_file("[tuning]\nretransmit_timeout = \"40s\"\nreinitiate_max = \"1s\"\n"));
    CHECK(
        q.has("ikemesh.conf:4: tuning.retransmit_timeout: retransmit_limit must not be smaller "
              "than retransmit_timeout"));
    CHECK(
        q.has("ikemesh.conf:5: tuning.reinitiate_max: reinitiate_max must not be smaller than "
              "reinitiate_base"));
}

TEST_CASE("[metrics]: listen") {
    auto p = parse(main_file("[metrics]\nlisten = \"127.0.0.1:9810\"\n"));
    REQUIRE(p.ok());
    REQUIRE(p.config().metrics.listen);
    CHECK(p.config().metrics.listen->to_string() == "127.0.0.1:9810");
    auto q = parse(main_file("[metrics]\nlisten = \"[::1]:9100\"\n"));
    REQUIRE(q.ok());
    CHECK(q.config().metrics.listen->to_string() == "[::1]:9100");
    for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "::1:9100",
                            "[127.0.0.1]:80", "localhost:80", ":80", "[::1]:"}) {
        auto r = parse(main_file(std::string("[metrics]\nlisten = \"") + bad + "\"\n"));
        INFO(bad);
        CHECK(
            r.mentions("ikemesh.conf:4: metrics.listen: expected ADDRESS:PORT such as "
                       "\"127.0.0.1:9810\" or \"[::1]:9810\", got"));
    }
    auto s = parse(main_file("[metrics]\nport = 80\n"));
    CHECK(s.has("ikemesh.conf:4: metrics.port: unknown key; allowed keys: listen"));
}

TEST_CASE("the main file: unknown sections, wrong shapes, TOML syntax errors") {
    auto p = parse(main_file("[defualts]\nike = \"x\"\n[tuning.sub]\n"));
    REQUIRE_FALSE(p.ok());
    CHECK(p.has("ikemesh.conf:3: defualts: unknown key; did you mean \"defaults\"?"));
    CHECK(
        p.has("ikemesh.conf:5: tuning.sub: unknown key; allowed keys: retransmit_timeout, "
              "retransmit_base, retransmit_tries, retransmit_limit, cookie_threshold, "
              "cookie_secret_lifetime, fragment_size, reinitiate_base, reinitiate_max, "
              "half_open_timeout"));
    auto q = parse("daemon = 5\n" + main_file());
    CHECK(q.has("ikemesh.conf:1: daemon: expected a table [daemon], got an integer"));
    auto r = parse("[daemon\nport = 1\n");
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.diagnostics.items().size() == 1);  // only the syntax error, nothing derived from it
    CHECK(r.diagnostics.items()[0].line == 1);
    CHECK(r.diagnostics.items()[0].file == "ikemesh.conf");
    CHECK(r.diagnostics.items()[0].message.rfind("TOML syntax error: ", 0) == 0);
}

TEST_CASE("all errors are collected and the Error lists every one") {
    auto p = parse("[daemon]\nport = 0\nkernel = 1\n[local]\nid = \"\"\n");
    REQUIRE_FALSE(p.ok());
    CHECK(p.diagnostics.error_count() == 3);
    const Error& e = p.result.error();
    CHECK(e.is(Errc::config_invalid));
    CHECK(e.detail ==
          "ikemesh.conf:2: daemon.port: expected an integer from 1 to 65535, got 0\n"
          "ikemesh.conf:3: daemon.kernel: expected one of \"xfrm\", \"pfkey\" or \"fake\", got 1\n"
          "ikemesh.conf:5: local.id: expected an identity (IP address, host name, user@host or "
          "DN), got \"\": empty");
}
