// libFuzzer harness for the configuration parser: arbitrary bytes -> parse_config.
// The input is split at the first line "%%" into the main file and one drop-in. A few files the
// config may refer to exist in memory, so psk_file paths are exercised too. On success the
// result is printed and diffed against itself, which must be empty.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/diff.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ikemesh::config;
    static const MemoryFileAccess* files = [] {
        auto* f = new MemoryFileAccess;
        f->add("/etc/ikemesh/mesh.psk",
               "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
        f->add("/etc/ikemesh/open.psk", "0123456789abcdef0123456789abcdef", true);
        f->add("/etc/ikemesh/short.psk", "short");
        return f;
    }();
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t split = input.find("\n%%\n");
    SourceFile main{"ikemesh.conf", std::string(input.substr(0, split)), false};
    std::vector<SourceFile> peers;
    if (split != std::string_view::npos) {
        peers.push_back({"peers.d/fuzz.conf", std::string(input.substr(split + 4)), false});
    }
    ParseOptions options;
    options.base_dir = "/etc/ikemesh";
    options.files = files;
    Diagnostics diagnostics;
    auto config = parse_config(main, peers, options, &diagnostics);
    (void)diagnostics.to_string();
    if (config.ok()) {
        (void)to_string(*config);
        if (!diff(*config, *config).empty()) std::abort();
    } else if (diagnostics.error_count() == 0) {
        std::abort();  // a failure must always come with a reason
    }
    return 0;
}
