// A parsed TOML document as a plain tree of values with line numbers.
//
// This is the only shape of TOML the rest of config/ sees: the TOML library is confined to
// toml_document.cpp, which converts its tree into this one. A Node is a value of one of TOML's
// types; tables keep their members with the line of each key, so validation can point at the
// key an operator wrote. This unit knows nothing about ikemesh's keys or their meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ikemesh::config {

struct Member;

struct Node {
    enum class Type : uint8_t { string, integer, floating, boolean, datetime, array, table };

    Type type = Type::table;
    uint32_t line = 0;  // 1-based line where the value (or a table's header) starts
    std::string text;   // string: the value; datetime: its TOML spelling
    int64_t integer = 0;
    double floating = 0;
    bool boolean = false;
    std::vector<Node> items;      // array elements
    std::vector<Member> members;  // table members in key order

    bool is_table() const { return type == Type::table; }
    bool is_array() const { return type == Type::array; }
    bool is_string() const { return type == Type::string; }
    // The member called `key` of a table, or nullptr.
    const Member* find(std::string_view key) const;
};

struct Member {
    std::string key;
    uint32_t line = 0;  // line of the key itself
    Node value;
};

// "a string", "an integer", ... for messages such as "expected a string, got an integer".
std::string_view type_phrase(Node::Type type);

struct TomlDocument {
    std::optional<Node> root;  // the top-level table; empty when the text is not valid TOML
    uint32_t error_line = 0;   // where the syntax error is
    std::string error;         // the TOML parser's description of it
};

// Parses TOML text. Never throws; invalid input yields an empty root and an error. The nesting
// depth and therefore the recursion of the conversion are bounded by the TOML parser's limit.
TomlDocument parse_toml(std::string_view text, std::string_view source_name);

}  // namespace ikemesh::config
