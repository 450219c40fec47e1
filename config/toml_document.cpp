// The one translation unit that includes toml++.
//
// toml++ is used header-only and without exceptions here, whatever the system package's shared
// library was built with: parse failures come back as values (nothing to catch at the layer edge),
// and the sanitizer and libFuzzer builds instrument the TOML parser too, so the fuzzer explores
// TOML syntax instead of treating the parser as a black box. The CMake target of the package
// defines TOML_SHARED_LIB/TOML_HEADER_ONLY=0 for its consumers; they are overridden for this file.
#undef TOML_SHARED_LIB
#undef TOML_HEADER_ONLY
#undef TOML_EXCEPTIONS
#define TOML_SHARED_LIB 0
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#include <optional>
#include <sstream>

#include "config/document.hpp"

namespace ikemesh::config {
namespace {

uint32_t line_of(const toml::source_region& r) {
    return static_cast<uint32_t>(r.begin.line);
}

template <typename T>
std::string stream_text(const T& v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

Node convert(const toml::node& n) {
    Node out;
    out.line = line_of(n.source());
    switch (n.type()) {
        case toml::node_type::table: {
            out.type = Node::Type::table;
            const auto& t = *n.as_table();
            out.members.reserve(t.size());
            for (const auto& [key, value] : t) {
                out.members.push_back(
                    Member{std::string(key.str()), line_of(key.source()), convert(value)});
            }
            break;
        }
        case toml::node_type::array: {
            out.type = Node::Type::array;
            const auto& a = *n.as_array();
            out.items.reserve(a.size());
            for (const auto& item : a)
                out.items.push_back(convert(item));
            break;
        }
        case toml::node_type::string:
            out.type = Node::Type::string;
            out.text = n.as_string()->get();
            break;
        case toml::node_type::integer:
            out.type = Node::Type::integer;
            out.integer = n.as_integer()->get();
            break;
        case toml::node_type::floating_point:
            out.type = Node::Type::floating;
            out.floating = n.as_floating_point()->get();
            break;
        case toml::node_type::boolean:
            out.type = Node::Type::boolean;
            out.boolean = n.as_boolean()->get();
            break;
        case toml::node_type::date:
            out.type = Node::Type::datetime;
            out.text = stream_text(n.as_date()->get());
            break;
        case toml::node_type::time:
            out.type = Node::Type::datetime;
            out.text = stream_text(n.as_time()->get());
            break;
        case toml::node_type::date_time:
            out.type = Node::Type::datetime;
            out.text = stream_text(n.as_date_time()->get());
            break;
        case toml::node_type::none:
            break;
    }
    return out;
}

// toml++ 3.3.0 (Debian 12) asks is_non_ascii_horizontal_whitespace() about characters outside
// strings, and that function reaches __builtin_unreachable() for most code points it was not
// generated for (U+00A1..U+0499 among them): undefined behaviour, found by fuzz/config_parse.
// TOML 1.0 allows non-ASCII text only inside strings and comments, so such input is invalid
// anyway; it is refused here before toml++ sees it. Returns the line of the first offending
// byte. The scan follows TOML's string and comment syntax; it only has to agree with toml++ up
// to toml++'s first syntax error, since toml++ stops there.
std::optional<uint32_t> non_ascii_outside_strings(std::string_view text) {
    enum class State { normal, comment, basic, literal, ml_basic, ml_literal };
    State state = State::normal;
    uint32_t line = 1;
    size_t i = 0;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // a UTF-8 byte order mark
    auto at = [&](size_t k) -> unsigned char {
        return k < text.size() ? static_cast<unsigned char>(text[k]) : 0;
    };
    auto triple = [&](char q) { return at(i) == q && at(i + 1) == q && at(i + 2) == q; };
    for (; i < text.size(); ++i) {
        unsigned char c = at(i);
        if (c == '\n') {
            ++line;
            if (state == State::comment || state == State::basic || state == State::literal) {
                state = State::normal;  // single-line strings cannot span lines (toml++ errors)
            }
            continue;
        }
        switch (state) {
            case State::normal:
                if (c >= 0x80) return line;
                if (c == '#') {
                    state = State::comment;
                } else if (c == '"' || c == '\'') {
                    bool ml = triple(static_cast<char>(c));
                    state = c == '"' ? (ml ? State::ml_basic : State::basic)
                                     : (ml ? State::ml_literal : State::literal);
                    if (ml) i += 2;
                }
                break;
            case State::comment:
                break;
            case State::basic:
            case State::ml_basic:
                if (c == '\\') {
                    unsigned char next = at(i + 1);
                    if (next >= 0x80) return line;  // toml++ tests it for whitespace
                    if (state == State::ml_basic &&
                        (next == ' ' || next == '\t' || next == '\r' || next == '\n')) {
                        // A line-ending backslash: toml++ skips whitespace and tests the first
                        // character after it.
                        size_t k = i + 1;
                        while (k < text.size() &&
                               (at(k) == ' ' || at(k) == '\t' || at(k) == '\r' || at(k) == '\n')) {
                            if (at(k) == '\n') ++line;
                            ++k;
                        }
                        if (at(k) >= 0x80) return line;
                        i = k - 1;
                    } else {
                        if (next == '\n') ++line;
                        ++i;  // the escaped character
                    }
                } else if (state == State::basic && c == '"') {
                    state = State::normal;
                } else if (state == State::ml_basic && triple('"')) {
                    i += 2;
                    while (at(i + 1) == '"')
                        ++i;  // up to two quotes may end the content
                    state = State::normal;
                }
                break;
            case State::literal:
                if (c == '\'') state = State::normal;
                break;
            case State::ml_literal:
                if (triple('\'')) {
                    i += 2;
                    while (at(i + 1) == '\'')
                        ++i;
                    state = State::normal;
                }
                break;
        }
    }
    return std::nullopt;
}

}  // namespace

const Member* Node::find(std::string_view key) const {
    for (const auto& m : members) {
        if (m.key == key) return &m;
    }
    return nullptr;
}

std::string_view type_phrase(Node::Type type) {
    switch (type) {
        case Node::Type::string:
            return "a string";
        case Node::Type::integer:
            return "an integer";
        case Node::Type::floating:
            return "a float";
        case Node::Type::boolean:
            return "a boolean";
        case Node::Type::datetime:
            return "a date-time";
        case Node::Type::array:
            return "an array";
        case Node::Type::table:
            return "a table";
    }
    return "a value";
}

TomlDocument parse_toml(std::string_view text, std::string_view source_name) {
    TomlDocument doc;
    if (auto line = non_ascii_outside_strings(text)) {
        doc.error_line = *line;
        doc.error = "non-ASCII character outside a string or comment";
        return doc;
    }
    toml::parse_result result = toml::parse(text, source_name);
    if (!result) {
        const auto& err = result.error();
        doc.error_line = line_of(err.source());
        doc.error = std::string(err.description());
        return doc;
    }
    doc.root = convert(result.table());
    doc.root->line = 1;
    return doc;
}

}  // namespace ikemesh::config
