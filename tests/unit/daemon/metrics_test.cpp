#include "daemon/metrics.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "sample_status.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

namespace {

// Checks the text exposition format rules that Prometheus enforces when it scrapes, and returns
// the samples as "name{labels}" -> value text.
std::map<std::string, std::string> validate_exposition(const std::string& text) {
    static const std::regex help(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$)");
    static const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$)");
    static const std::regex sample(
        R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$)re");
    REQUIRE(!text.empty());
    REQUIRE(text.back() == '\n');

    std::map<std::string, std::string> samples;
    std::set<std::string> helped, typed, finished;
    std::map<std::string, std::string> types;
    std::string current;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        INFO(line);
        std::smatch m;
        if (std::regex_match(line, m, help)) {
            CHECK(helped.insert(m[1]).second);  // one HELP per family
            if (!current.empty() && current != m[1]) finished.insert(current);
            current = m[1];
            CHECK_FALSE(finished.count(current));
        } else if (std::regex_match(line, m, type)) {
            CHECK(m[1] == current);  // TYPE right after its HELP
            CHECK(typed.insert(m[1]).second);
            types[m[1]] = m[2];
        } else if (std::regex_match(line, m, sample)) {
            std::string name = m[1];
            CHECK(name == current);  // samples follow their family's HELP/TYPE, together
            if (types[name] == "counter") CHECK(name.size() > 6);
            if (types[name] == "counter") CHECK(name.substr(name.size() - 6) == "_total");
            std::string key = line.substr(0, line.rfind(' '));
            CHECK(samples.emplace(key, line.substr(line.rfind(' ') + 1)).second);  // no dupes
        } else {
            FAIL("line does not follow the text format");
        }
    }
    return samples;
}

struct Fixture {
    ike::EngineStatus status = test::sample_status();
    ike::EngineCounters counters;
    std::map<std::string, EspCounters> esp;
    DaemonCounters daemon;
    std::optional<std::vector<std::pair<std::string, uint64_t>>> xfrm;

    std::string render() {
        MetricsInput in{status, counters, esp, daemon, xfrm, "0.1.0", 12.5};
        return render_metrics(in);
    }
};

}  // namespace

TEST_CASE("label values and HELP text are escaped per the text format") {
    CHECK(escape_label_value(R"(a"b\c)") == R"(a\"b\\c)");
    CHECK(escape_label_value("line\nbreak") == "line\\nbreak");
    CHECK(escape_label_value("plain") == "plain");
    CHECK(escape_help("back\\slash\nnl \"quotes stay\"") == "back\\\\slash\\nnl \"quotes stay\"");
}

TEST_CASE("PromWriter declares a family once and formats samples") {
    PromWriter w;
    w.family("x_total", "counter", "An x.");
    w.family("x_total", "counter", "Ignored second declaration.");
    w.sample("x_total", {{"peer", "a\"b"}}, uint64_t{3});
    w.family("g", "gauge", "A g.");
    w.sample("g", {}, 1.5);
    w.sample("g", {{"k", "v"}, {"k2", "v2"}}, std::numeric_limits<double>::infinity());
    CHECK(w.take() ==
          "# HELP x_total An x.\n# TYPE x_total counter\nx_total{peer=\"a\\\"b\"} 3\n"
          "# HELP g A g.\n# TYPE g gauge\ng 1.5\ng{k=\"v\",k2=\"v2\"} +Inf\n");
}

TEST_CASE("rendered metrics follow the format and carry the engine's numbers") {
    Fixture f;
    f.counters.handshakes_started = 10;
    f.counters.handshakes_completed = 7;
    f.counters.handshakes_failed = {{"authentication_failed", 2}, {"peer_dead", 1}};
    f.counters.retransmissions = 5;
    f.counters.dpd_failures = 1;
    f.counters.ike_rekeys = 3;
    f.counters.child_rekeys = 4;
    f.esp["node2"] = EspCounters{100, 200, 3, 4};
    f.esp["we\"ird\\name"] = EspCounters{1, 2, 3, 4};
    f.daemon.natt_keepalives = 9;
    f.xfrm =
        std::vector<std::pair<std::string, uint64_t>>{{"XfrmInNoStates", 42}, {"XfrmInError", 0}};
    auto samples = validate_exposition(f.render());

    CHECK(samples.at("ikemesh_build_info{version=\"0.1.0\"}") == "1");
    CHECK(samples.at("ikemesh_uptime_seconds") == "12.5");
    CHECK(samples.at("ikemesh_peers{state=\"established\"}") == "1");
    CHECK(samples.at("ikemesh_peers{state=\"connecting\"}") == "1");
    CHECK(samples.at("ikemesh_peers{state=\"down\"}") == "1");
    CHECK(samples.at("ikemesh_peer_up{peer=\"node2\"}") == "1");
    CHECK(samples.at("ikemesh_peer_up{peer=\"node4\"}") == "0");
    CHECK(samples.at("ikemesh_ike_sas") == "2");
    CHECK(samples.at("ikemesh_child_sas") == "1");
    CHECK(samples.at("ikemesh_half_open_ike_sas") == "1");
    CHECK(samples.at("ikemesh_handshakes_started_total") == "10");
    CHECK(samples.at("ikemesh_handshakes_completed_total") == "7");
    CHECK(samples.at("ikemesh_handshakes_failed_total{reason=\"authentication_failed\"}") == "2");
    CHECK(samples.at("ikemesh_handshakes_failed_total{reason=\"peer_dead\"}") == "1");
    CHECK(samples.at("ikemesh_retransmissions_total") == "5");
    CHECK(samples.at("ikemesh_dpd_failures_total") == "1");
    CHECK(samples.at("ikemesh_rekeys_total{sa=\"ike\"}") == "3");
    CHECK(samples.at("ikemesh_rekeys_total{sa=\"child\"}") == "4");
    CHECK(samples.at("ikemesh_esp_bytes_total{peer=\"node2\",direction=\"in\"}") == "100");
    CHECK(samples.at("ikemesh_esp_bytes_total{peer=\"node2\",direction=\"out\"}") == "200");
    CHECK(samples.at("ikemesh_esp_packets_total{peer=\"node2\",direction=\"out\"}") == "4");
    CHECK(samples.at("ikemesh_esp_bytes_total{peer=\"we\\\"ird\\\\name\",direction=\"in\"}") ==
          "1");
    CHECK(samples.at("ikemesh_natt_keepalives_received_total") == "9");
    CHECK(samples.at("ikemesh_xfrm_errors_total{counter=\"XfrmInNoStates\"}") == "42");
    CHECK(samples.at("ikemesh_xfrm_errors_total{counter=\"XfrmInError\"}") == "0");
}

TEST_CASE("without /proc/net/xfrm_stat the kernel metrics are absent") {
    Fixture f;
    std::string text = f.render();
    validate_exposition(text);
    CHECK(text.find("xfrm") == std::string::npos);
    CHECK_FALSE(read_xfrm_stat("/nonexistent/xfrm_stat"));
}

TEST_CASE("xfrm_stat parsing takes name/value lines and skips the rest") {
    auto stats = parse_xfrm_stat(
        "XfrmInError             \t0\n"
        "XfrmInNoStates          \t17\n"
        "garbage line here\n"
        "XfrmOutBundleGenError   \t18446744073709551615\n"
        "XfrmBad   \t12x\n"
        "\n"
        "XfrmNoValue\n"
        "XfrmOverflow 99999999999999999999999\n"
        "XfrmLast 3");
    REQUIRE(stats.size() == 4);
    CHECK(stats[0] == std::pair<std::string, uint64_t>{"XfrmInError", 0});
    CHECK(stats[1] == std::pair<std::string, uint64_t>{"XfrmInNoStates", 17});
    CHECK(stats[2].second == UINT64_MAX);
    CHECK(stats[3] == std::pair<std::string, uint64_t>{"XfrmLast", 3});
}

TEST_CASE("read_xfrm_stat reads a file in the kernel's format") {
    char path[] = "/tmp/ikemesh-xfrm-stat-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    {
        std::ofstream out(path);
        out << "XfrmInError              \t3\nXfrmInNoStates           \t5\n";
    }
    auto stats = read_xfrm_stat(path);
    std::remove(path);
    REQUIRE(stats);
    REQUIRE(stats->size() == 2);
    CHECK((*stats)[1].second == 5);
}

TEST_CASE("EspTotals keep counting across a rekey and forget removed peers") {
    ike::EngineStatus st;
    ike::PeerStatus p;
    p.name = "node2";
    ike::ChildSaStatus old_sa;
    old_sa.spi_in = EspSpi{1};
    old_sa.bytes_in = 1000;
    old_sa.bytes_out = 500;
    old_sa.packets_in = 10;
    old_sa.packets_out = 5;
    p.child_sas = {old_sa};
    st.peers = {p};

    EspTotals totals;
    totals.update(st);
    CHECK(totals.totals().at("node2") == EspCounters{1000, 500, 10, 5});

    // Rekey: the new SA starts at zero next to the old one, then the old one goes away.
    ike::ChildSaStatus new_sa;
    new_sa.spi_in = EspSpi{2};
    new_sa.bytes_in = 10;
    old_sa.bytes_in = 1100;
    st.peers[0].child_sas = {old_sa, new_sa};
    totals.update(st);
    CHECK(totals.totals().at("node2").bytes_in == 1110);

    new_sa.bytes_in = 50;
    st.peers[0].child_sas = {new_sa};
    totals.update(st);
    CHECK(totals.totals().at("node2").bytes_in == 1150);  // never goes down
    CHECK(totals.totals().at("node2").bytes_out == 500);

    st.peers.clear();
    totals.update(st);
    CHECK(totals.totals().empty());
}
