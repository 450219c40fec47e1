#include "daemon/status_json.hpp"

#include <catch2/catch.hpp>

#include "sample_status.hpp"

using namespace ikemesh;
using namespace ikemesh::daemon;

TEST_CASE("status JSON has the interface-contract shape") {
    json j = status_json(test::sample_status());
    REQUIRE(j.is_object());
    REQUIRE(j["peers"].is_array());
    REQUIRE(j["peers"].size() == 3);

    const json& p = j["peers"][0];
    CHECK(p["name"] == "node2");
    CHECK(p["address"] == "10.0.0.2");
    CHECK(p["local_address"] == "10.0.0.1");
    CHECK(p["state"] == "established");
    CHECK(p["last_error"] == "");
    REQUIRE(p["ike_sas"].is_array());
    REQUIRE(p["ike_sas"].size() == 1);
    const json& sa = p["ike_sas"][0];
    CHECK(sa["spi_i"] == "0123456789abcdef");
    CHECK(sa["spi_r"] == "fedcba9876543210");
    CHECK(sa["initiator"] == true);
    CHECK(sa["state"] == "established");
    CHECK(sa["proposal"] == "aes128gcm16-prfsha256-x25519");
    CHECK(sa["local"] == "10.0.0.1:500");
    CHECK(sa["remote"] == "10.0.0.2:500");
    CHECK(sa["rekey_in_seconds"] == 3600);

    REQUIRE(p["child_sas"].size() == 1);
    const json& c = p["child_sas"][0];
    CHECK(c["spi_in"] == "c0000001");
    CHECK(c["spi_out"] == "0000abcd");  // fixed width, leading zeros kept
    CHECK(c["mode"] == "transport");
    CHECK(c["bytes_in"] == 1536);
    CHECK(c["bytes_out"] == 3 * 1024 * 1024);
    CHECK(c["packets_in"] == 12);
    CHECK(c["packets_out"] == 2048);
    CHECK(c["reqid"] == 7);
    // Counters are JSON numbers, not strings, so jq and python can add them up.
    CHECK(c["bytes_in"].is_number_unsigned());

    CHECK(j["peers"][1]["address"] == "2001:db8::3");
    // No route to it: no local address, an empty string (the key is always there).
    CHECK(j["peers"][1]["local_address"] == "");
    CHECK(j["peers"][1]["ike_sas"][0]["spi_r"] == "0000000000000000");
    CHECK(j["peers"][1]["ike_sas"][0]["local"] == "");
    CHECK(j["peers"][2]["state"] == "down");
    CHECK(j["peers"][2]["last_error"] == "peer not responding");
    CHECK(j["peers"][2]["ike_sas"].is_array());
    CHECK(j["peers"][2]["ike_sas"].empty());
    CHECK(j["peers"][2]["child_sas"].empty());

    CHECK(j["summary"]["peers"] == 3);
    CHECK(j["summary"]["established"] == 1);
    CHECK(j["summary"]["connecting"] == 1);
    CHECK(j["summary"]["down"] == 1);
    CHECK(j["half_open"] == 1);
}

TEST_CASE("SPIs are lowercase hex without a prefix") {
    json j = status_json(test::sample_status());
    for (const auto& peer : j["peers"]) {
        for (const auto& sa : peer["ike_sas"]) {
            for (const char* key : {"spi_i", "spi_r"}) {
                std::string s = sa[key];
                CHECK(s.size() == 16);
                CHECK(s.find_first_not_of("0123456789abcdef") == std::string::npos);
            }
        }
    }
}

TEST_CASE("an empty engine gives an empty peers array, not null") {
    json j = status_json(ike::EngineStatus{});
    CHECK(j["peers"].is_array());
    CHECK(j["peers"].empty());
    CHECK(j["summary"]["peers"] == 0);
}

TEST_CASE("list-peers has counts instead of SA details") {
    json j = list_peers_json(test::sample_status());
    REQUIRE(j["peers"].size() == 3);
    CHECK(j["peers"][0]["ike_sas"] == 1);
    CHECK(j["peers"][0]["child_sas"] == 1);
    CHECK(j["peers"][0]["id"] == "node2.example.net");
    CHECK(j["peers"][0]["start"] == "always");
    CHECK(j["peers"][2]["ike_sas"] == 0);
}

TEST_CASE("list-sas is flat and names each SA's peer") {
    json j = list_sas_json(test::sample_status());
    REQUIRE(j["ike_sas"].size() == 2);
    REQUIRE(j["child_sas"].size() == 1);
    CHECK(j["ike_sas"][0]["peer"] == "node2");
    CHECK(j["ike_sas"][1]["peer"] == "node3");
    CHECK(j["child_sas"][0]["peer"] == "node2");
    CHECK(j["child_sas"][0]["spi_in"] == "c0000001");
}

TEST_CASE("monitor event names are the documented ones") {
    // docs/ikectl.md lists these names for scripts: a rename in the engine must fail here.
    const char* expected[] = {"ike_up",     "ike_down",      "ike_rekeyed",  "child_up",
                              "child_down", "child_rekeyed", "child_failed", "peer_dead"};
    REQUIRE(std::size(kAllEventKinds) == std::size(expected));
    for (size_t i = 0; i < std::size(expected); ++i) {
        ike::SaEvent ev;
        ev.kind = kAllEventKinds[i];
        CHECK(event_json(ev, {})["event"] == expected[i]);
    }
}

TEST_CASE("event JSON carries kind, time, peer, SPIs and reason") {
    ike::SaEvent ev;
    ev.kind = ike::SaEvent::Kind::child_failed;
    ev.peer = "node2";
    ev.spi_i = IkeSpi{1};
    ev.spi_r = IkeSpi{2};
    ev.spi_in = EspSpi{0xc1};
    ev.spi_out = EspSpi{0};
    ev.reason = "NO_PROPOSAL_CHOSEN";
    auto when = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
    json j = event_json(ev, when);
    CHECK(j["event"] == "child_failed");
    CHECK(j["time"] == "2023-11-14T22:13:20.123Z");
    CHECK(j["peer"] == "node2");
    CHECK(j["spi_i"] == "0000000000000001");
    CHECK(j["spi_r"] == "0000000000000002");
    CHECK(j["spi_in"] == "000000c1");
    CHECK(j["spi_out"] == "00000000");
    CHECK(j["reason"] == "NO_PROPOSAL_CHOSEN");

    ev.kind = ike::SaEvent::Kind::ike_up;
    ev.spi_in = EspSpi{0};
    ev.reason.clear();
    json up = event_json(ev, when);
    CHECK(up["event"] == "ike_up");
    CHECK_FALSE(up.contains("spi_in"));
    CHECK_FALSE(up.contains("reason"));
}

TEST_CASE("format_utc prints UTC with milliseconds") {
    using namespace std::chrono;
    CHECK(format_utc(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
    CHECK(format_utc(system_clock::time_point(milliseconds(86400000 + 999))) ==
          "1970-01-02T00:00:00.999Z");
}
