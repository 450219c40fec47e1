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
