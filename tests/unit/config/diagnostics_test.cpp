// Diagnostics formatting and order; names of the config enums.
#include "config/diagnostics.hpp"

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "config/section.hpp"

using namespace ikemesh::config;

TEST_CASE("a diagnostic prints as file:line: key: message") {
    Diagnostic d{Severity::error, "peers.d/node2.conf", 4, "peer.node2.dpd_delay",
                 "expected a duration like \"30s\", got 12.5"};
    CHECK(d.to_string() ==
          "peers.d/node2.conf:4: peer.node2.dpd_delay: expected a duration like \"30s\", got "
          "12.5");
    d.severity = Severity::warning;
    CHECK(d.to_string() ==
          "peers.d/node2.conf:4: warning: peer.node2.dpd_delay: expected a "
          "duration like \"30s\", got 12.5");
    CHECK(Diagnostic{Severity::error, "a.conf", 0, "", "unreadable"}.to_string() ==
          "a.conf: unreadable");
    CHECK(Diagnostic{Severity::error, "", 0, "", "too many"}.to_string() == "too many");
}

TEST_CASE("diagnostics sort by file order, then line; counts") {
    Diagnostics d;
    d.error("peers.d/b.conf", 2, "k", "x");
    d.warning("ikemesh.conf", 9, "k", "w");
    d.error("", 0, "", "global");
    d.error("peers.d/a.conf", 5, "k", "y");
    d.error("ikemesh.conf", 3, "k", "z");
    d.sort({"ikemesh.conf", "peers.d/a.conf", "peers.d/b.conf"});
    CHECK(d.to_string() ==
          "ikemesh.conf:3: k: z\n"
          "ikemesh.conf:9: warning: k: w\n"
          "peers.d/a.conf:5: k: y\n"
          "peers.d/b.conf:2: k: x\n"
          "global\n");
    CHECK(d.error_count() == 4);
    CHECK(d.warning_count() == 1);
    CHECK(d.has_errors());
    Diagnostics other;
    other.append(d);
    CHECK(other.items() == d.items());
}

TEST_CASE("quote() escapes and shortens values shown in messages") {
    CHECK(quote("abc") == "\"abc\"");
    CHECK(quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
    CHECK(quote(std::string("a\nb\x01", 4)) == "\"a\\x0ab\\x01\"");
    CHECK(quote(std::string(100, 'x')) == "\"" + std::string(60, 'x') + "...\"");
}

TEST_CASE("every config enumerator has a name") {
    for (auto k : {KernelKind::xfrm, KernelKind::pfkey, KernelKind::fake}) {
        CHECK_FALSE(to_string(k).empty());
    }
    CHECK(to_string(KernelKind::pfkey) == "pfkey");
    for (auto l : {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn,
                   LogLevel::error, LogLevel::critical, LogLevel::off}) {
        CHECK_FALSE(to_string(l).empty());
    }
    CHECK(to_string(LogLevel::warn) == "warn");
    CHECK(to_string(LogLevel::critical) == "critical");
}
