// Diagnostics: the list of problems found while loading a configuration, each with its place.
//
// Every error or warning names the file (relative to the config directory, as the operator sees
// it), the line, the dotted key ("peer.node2.dpd_delay") and what was expected. The loader
// collects all of them instead of stopping at the first, so `ikemeshd --check` and `ikectl
// check-config` show everything at once. Messages never contain secret values: code that reports a
// problem with a PSK says what is wrong with it, never what it is.
// This unit only records and formats; deciding what is wrong is the loader's job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ikemesh::config {

enum class Severity : uint8_t { error, warning };

struct Diagnostic {
    Severity severity = Severity::error;
    std::string file;   // "ikemesh.conf", "peers.d/node2.conf"; empty when not tied to a file
    uint32_t line = 0;  // 1-based; 0 when not tied to a line
    std::string key;    // "peer.node2.dpd_delay"; empty for file-level problems
    std::string message;

    // "peers.d/node2.conf:4: peer.node2.dpd_delay: expected a duration like \"30s\", got 12.5"
    // Warnings carry "warning: " before the key.
    std::string to_string() const;
    bool operator==(const Diagnostic&) const = default;
};

class Diagnostics {
  public:
    void error(std::string file, uint32_t line, std::string key, std::string message);
    void warning(std::string file, uint32_t line, std::string key, std::string message);
    void add(Diagnostic d) { items_.push_back(std::move(d)); }
    void append(const Diagnostics& other);

    const std::vector<Diagnostic>& items() const { return items_; }
    size_t error_count() const;
    size_t warning_count() const;
    bool has_errors() const { return error_count() > 0; }
    bool empty() const { return items_.empty(); }

    // Stable order for printing: by file (the main file first, then peer files in load order),
    // then line; problems not tied to a file come last.
    void sort(const std::vector<std::string>& file_order);
    // One diagnostic per line, each ending in '\n'.
    std::string to_string() const;

  private:
    std::vector<Diagnostic> items_;
};

}  // namespace ikemesh::config
