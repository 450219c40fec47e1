#include "crypto/self_test.hpp"

#include <catch2/catch.hpp>

TEST_CASE("the start-up self-test passes on this OpenSSL") {
    const auto s = ikemesh::crypto::run_self_test();
    INFO((s ? std::string("ok") : s.error().message()));
    CHECK(s.ok());
}
