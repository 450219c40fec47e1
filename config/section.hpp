// Internal to config/: typed, position-aware access to one TOML table while building a Config.
//
// A Section wraps a table of the parsed document together with its dotted path ("peer.node2")
// and the file it came from. Every getter looks a key up, checks its type and syntax, and on any
// problem records a Diagnostic naming file, line and key with what was expected, then returns
// nothing so the caller carries on and more errors can be collected. finish() reports every key
// the caller never asked about as unknown, with a suggestion when one is close.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.hpp"
#include "config/diagnostics.hpp"
#include "config/document.hpp"

namespace ikemesh::config {

// Where a value was written, for messages about it.
struct Origin {
    std::string file;
    uint32_t line = 0;
    std::string key;  // full dotted key
};

class Section {
  public:
    Section(const Node& table, std::string path, std::string file, Diagnostics& diagnostics);

    const std::string& path() const { return path_; }
    const std::string& file() const { return file_; }
    uint32_t line() const { return table_.line; }
    std::string key_path(std::string_view key) const;
    Origin origin(std::string_view key) const;  // the key's own line if present, else the table's

    // The member, or nullptr.
    const Member* get(std::string_view key);
    bool has(std::string_view key) const { return table_.find(key) != nullptr; }

    // Typed getters. `secret` keys never have their value quoted in a message.
    std::optional<std::string> string(std::string_view key, bool secret = false);
    // A string or an array of strings; empty arrays are allowed (the caller decides).
    std::optional<std::vector<std::pair<std::string, uint32_t>>> strings(std::string_view key);
    std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
    std::optional<double> number(std::string_view key, double min, double max);
    std::optional<bool> boolean(std::string_view key);
    std::optional<std::chrono::milliseconds> duration(std::string_view key);
    // A duration that must be whole seconds (most lifetimes and delays).
    std::optional<std::chrono::seconds> seconds(std::string_view key);
    std::optional<uint64_t> byte_size(std::string_view key);
    std::optional<uint16_t> port(std::string_view key);
    std::optional<IpAddress> address(std::string_view key);
    // One address or an array of distinct ones, in order. Each bad or repeated entry is reported
    // on its own line, an empty array as "expected at least one address" + `empty_hint`; nullopt
    // when the key is absent or anything was reported.
    std::optional<std::vector<IpAddress>> addresses(std::string_view key,
                                                    std::string_view empty_hint = {});
    // One of `choices`; the index into it.
    std::optional<size_t> choice(std::string_view key, std::span<const std::string_view> choices);
    // A sub-table (e.g. [daemon.log_levels]).
    const Node* table(std::string_view key);

    // Records an error or warning about `key` (at its line, or the table's when absent).
    void error(std::string_view key, std::string message);
    void warning(std::string_view key, std::string message);
    void error_at(const Origin& where, std::string message);

    // Reports every member not in `allowed` as an unknown key.
    void finish(std::span<const std::string_view> allowed);

    Diagnostics& diagnostics() { return diag_; }

  private:
    void expected(const Member& m, std::string_view what, bool secret = false,
                  std::string_view reason = {});

    const Node& table_;
    std::string path_;
    std::string file_;
    Diagnostics& diag_;
};

// "got 12.5", "got \"3x\"", "got an array": how a value is shown in "expected ..., got ...".
std::string describe_value(const Node& value, bool secret);

// Quoted and shortened text for messages ("\"abc\"", control characters escaped).
std::string quote(std::string_view text);

}  // namespace ikemesh::config
