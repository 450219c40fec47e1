#include "crypto/secret_file.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "helpers.hpp"

using namespace ikemesh;
using namespace ikemesh::crypto;

namespace {
std::string write(const test::TempDir& dir, const std::string& name, std::string_view content,
                  mode_t mode) {
    const std::string path = dir.path() / name;
    std::ofstream(path, std::ios::binary) << content;
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    return path;
}
std::string str(const SecretBytes& s) {
    return std::string(reinterpret_cast<const char*>(s.view().data()), s.size());
}
}  // namespace

TEST_CASE("read_secret_file trims exactly one trailing newline") {
    test::TempDir dir;
    CHECK(str(*read_secret_file(write(dir, "a", "secret\n", 0600))) == "secret");
    CHECK(str(*read_secret_file(write(dir, "b", "secret\r\n", 0600))) == "secret");
    CHECK(str(*read_secret_file(write(dir, "c", "secret\n\n", 0600))) == "secret\n");
    CHECK(str(*read_secret_file(write(dir, "d", "  spaced secret ", 0400))) == "  spaced secret ");
    CHECK(read_secret_file(write(dir, "e", "", 0600))->empty());
    CHECK(str(*read_secret_file_raw(write(dir, "f", "raw\n", 0600))) == "raw\n");
}

TEST_CASE("secret files readable or writable by group or others are refused") {
    test::TempDir dir;
    for (mode_t mode : {0640, 0604, 0620, 0602, 0644, 0666}) {
        INFO(std::oct << mode);
        auto r = read_secret_file(write(dir, "psk", "secret", mode));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().is(Errc::key_file_insecure));
    }
    // Execute bits carry no read or write access and are tolerated.
    CHECK(read_secret_file(write(dir, "x", "secret", 0711)).ok());
}

TEST_CASE("missing files, directories and huge files are I/O errors") {
    test::TempDir dir;
    CHECK(read_secret_file(dir.path() / "missing").error().is(Errc::io_error));
    ::chmod(dir.path().c_str(), 0700);
    CHECK(read_secret_file(dir.path()).error().is(Errc::io_error));
    const std::string big = write(dir, "big", std::string(kMaxSecretFileSize + 1, 'x'), 0600);
    CHECK(read_secret_file(big).error().is(Errc::io_error));
}
