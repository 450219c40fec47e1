// Small helpers shared by the crypto unit tests: hex literals, spans of text, vector files.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"

namespace ikemesh::test {

inline Bytes hex(std::string_view h) {
    auto b = from_hex(h);
    if (!b) std::abort();  // a typo in a test vector
    return *b;
}

inline std::span<const uint8_t> text(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string vector_path(std::string_view rel) {
    return std::string(IKEMESH_SOURCE_DIR) + "/tests/vectors/" + std::string(rel);
}

// A vector file: blocks separated by blank lines, each line "key = value"; lines starting with
// '#' are comments (where the source is written). Values are kept as text.
using VectorBlock = std::map<std::string, std::string>;
inline std::vector<VectorBlock> read_vectors(std::string_view rel) {
    std::ifstream in(vector_path(rel));
    if (!in) std::abort();
    std::vector<VectorBlock> blocks;
    VectorBlock cur;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
            if (!cur.empty()) blocks.push_back(std::move(cur));
            cur.clear();
            continue;
        }
        if (line[0] == '#') continue;
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        auto trim = [](std::string s) {
            while (!s.empty() && s.back() == ' ')
                s.pop_back();
            size_t i = 0;
            while (i < s.size() && s[i] == ' ')
                ++i;
            return s.substr(i);
        };
        cur[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    if (!cur.empty()) blocks.push_back(std::move(cur));
    return blocks;
}

// A private temporary directory removed at the end of the test.
class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "ikemesh-test-XXXXXX");
        if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace ikemesh::test
