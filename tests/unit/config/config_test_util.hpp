// Helpers shared by the config unit tests: parse texts in memory and look at diagnostics.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostics.hpp"

namespace ikemesh::config::test {

// 44 characters of base64 text: a 32-byte key, the minimum accepted.
inline const std::string kPsk = "0sq83vEhqGXhd0dE1cZ9H2dkuy+0NnL/bvD8mNvxIsYR4=";
// Another valid key (hex, 32 bytes).
inline const std::string kPsk2 =
    "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// A valid main file for PSK meshes; tests append sections or override keys in front of it.
inline std::string main_file(const std::string& extra = "") {
    return "[local]\nid = \"node1.mesh.example\"\n" + extra;
}

inline std::string peer(const std::string& name, const std::string& address,
                        const std::string& extra = "") {
    return "[peer." + name + "]\naddress = \"" + address + "\"\npsk = \"" + kPsk + "\"\n" + extra;
}

struct Parsed {
    Result<Config> result;
    Diagnostics diagnostics;

    bool ok() const { return result.ok(); }
    const Config& config() const { return *result; }
    // Every diagnostic as text, one per line.
    std::string text() const { return diagnostics.to_string(); }
    bool has(const std::string& line) const {
        const auto& items = diagnostics.items();
        return std::any_of(items.begin(), items.end(),
                           [&](const Diagnostic& d) { return d.to_string() == line; });
    }
    bool mentions(const std::string& part) const { return text().find(part) != std::string::npos; }
};

inline Parsed parse(const std::string& main, const std::vector<SourceFile>& peers = {},
                    const FileAccess* files = nullptr, bool main_exposed = false) {
    SourceFile m{"ikemesh.conf", main, main_exposed};
    ParseOptions options;
    options.base_dir = "/etc/ikemesh";
    options.files = files;
    Diagnostics d;
    auto r = parse_config(m, peers, options, &d);
    return Parsed{std::move(r), std::move(d)};
}

inline SourceFile peer_file(const std::string& name, const std::string& text,
                            bool exposed = false) {
    return SourceFile{"peers.d/" + name, text, exposed};
}

}  // namespace ikemesh::config::test
