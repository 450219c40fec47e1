#include "config/section.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "config/values.hpp"

namespace ikemesh::config {

std::string quote(std::string_view text) {
    constexpr size_t kMax = 60;
    std::string out = "\"";
    for (size_t i = 0; i < text.size() && i < kMax; ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (text.size() > kMax) out += "...";
    out += '"';
    return out;
}

std::string describe_value(const Node& value, bool secret) {
    if (secret) return std::string(type_phrase(value.type));
    switch (value.type) {
        case Node::Type::string:
            return quote(value.text);
        case Node::Type::integer:
            return std::to_string(value.integer);
        case Node::Type::floating: {
            char buf[64];
            auto r = std::to_chars(buf, buf + sizeof buf, value.floating);
            return std::string(buf, r.ptr);
        }
        case Node::Type::boolean:
            return value.boolean ? "true" : "false";
        case Node::Type::datetime:
            return value.text;
        case Node::Type::array:
        case Node::Type::table:
            break;
    }
    return std::string(type_phrase(value.type));
}

Section::Section(const Node& table, std::string path, std::string file, Diagnostics& diagnostics)
    : table_(table), path_(std::move(path)), file_(std::move(file)), diag_(diagnostics) {}

std::string Section::key_path(std::string_view key) const {
    if (path_.empty()) return std::string(key);
    return path_ + "." + std::string(key);
}

Origin Section::origin(std::string_view key) const {
    const Member* m = table_.find(key);
    return Origin{file_, m ? m->line : table_.line, m ? key_path(key) : path_};
}

const Member* Section::get(std::string_view key) {
    return table_.find(key);
}

void Section::error(std::string_view key, std::string message) {
    const Member* m = table_.find(key);
    diag_.error(file_, m ? m->line : table_.line, key.empty() ? path_ : key_path(key),
                std::move(message));
}

void Section::warning(std::string_view key, std::string message) {
    const Member* m = table_.find(key);
    diag_.warning(file_, m ? m->line : table_.line, key.empty() ? path_ : key_path(key),
                  std::move(message));
}

void Section::error_at(const Origin& where, std::string message) {
    diag_.error(where.file, where.line, where.key, std::move(message));
}

void Section::expected(const Member& m, std::string_view what, bool secret,
                       std::string_view reason) {
    std::string msg = "expected " + std::string(what) + ", got " + describe_value(m.value, secret);
    if (!reason.empty()) msg += ": " + std::string(reason);
    diag_.error(file_, m.line, key_path(m.key), std::move(msg));
}

std::optional<std::string> Section::string(std::string_view key, bool secret) {
    const Member* m = get(key);
    if (!m) return std::nullopt;
    if (!m->value.is_string()) {
        expected(*m, "a string", secret);
        return std::nullopt;
    }
    return m->value.text;
}

std::optional<std::vector<std::pair<std::string, uint32_t>>> Section::strings(
    std::string_view key) {
    const Member* m = get(key);
    if (!m) return std::nullopt;
    std::vector<std::pair<std::string, uint32_t>> out;
    if (m->value.is_string()) {
        out.emplace_back(m->value.text, m->line);
        return out;
    }
    if (!m->value.is_array()) {
        expected(*m, "a string or a list of strings");
        return std::nullopt;
    }
    bool ok = true;
    for (size_t i = 0; i < m->value.items.size(); ++i) {
        const Node& item = m->value.items[i];
        if (!item.is_string()) {
            diag_.error(file_, item.line, key_path(key) + "[" + std::to_string(i) + "]",
                        "expected a string, got " + describe_value(item, false));
            ok = false;
            continue;
        }
        out.emplace_back(item.text, item.line);
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<int64_t> Section::integer(std::string_view key, int64_t min, int64_t max) {
    const Member* m = get(key);
    if (!m) return std::nullopt;
    std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (m->value.type != Node::Type::integer) {
        expected(*m, range);
        return std::nullopt;
    }
    if (m->value.integer < min || m->value.integer > max) {
        expected(*m, range);
        return std::nullopt;
    }
    return m->value.integer;
}

std::optional<double> Section::number(std::string_view key, double min, double max) {
    const Member* m = get(key);
    if (!m) return std::nullopt;
    double v = 0;
    if (m->value.type == Node::Type::integer) {
        v = static_cast<double>(m->value.integer);
    } else if (m->value.type == Node::Type::floating) {
        v = m->value.floating;
    } else {
        expected(*m, "a number");
        return std::nullopt;
    }
    if (!std::isfinite(v) || v < min || v > max) {
        char lo[32], hi[32];
        auto a = std::to_chars(lo, lo + sizeof lo, min);
        auto b = std::to_chars(hi, hi + sizeof hi, max);
        expected(*m, "a number from " + std::string(lo, a.ptr) + " to " + std::string(hi, b.ptr));
        return std::nullopt;
    }
    return v;
}

std::optional<bool> Section::boolean(std::string_view key) {
    const Member* m = get(key);
    if (!m) return std::nullopt;
    if (m->value.type != Node::Type::boolean) {
        expected(*m, "true or false");
        return std::nullopt;
    }
    return m->value.boolean;
}

std::optional<std::chrono::milliseconds> Section::duration(std::string_view key) {
    const Member* m = get(key);
    if (!m) return std::nullopt;
    constexpr std::string_view kWhat = "a duration like \"30s\"";
    if (m->value.type == Node::Type::integer) {
        // A bare integer is seconds.
        int64_t v = m->value.integer;
        if (v < 0 || v > kMaxDuration.count() / 1000) {
            expected(*m, kWhat, false, v < 0 ? "negative" : "too large");
            return std::nullopt;
        }
        return std::chrono::seconds(v);
    }
    if (!m->value.is_string()) {
        expected(*m, kWhat);
        return std::nullopt;
    }
    auto d = parse_duration(m->value.text);
    if (!d) {
        expected(*m, kWhat, false, d.error().detail);
        return std::nullopt;
    }
    return *d;
}

std::optional<std::chrono::seconds> Section::seconds(std::string_view key) {
    auto d = duration(key);
    if (!d) return std::nullopt;
    if (d->count() % 1000 != 0) {
        expected(*get(key), "a duration in whole seconds like \"30s\"");
        return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

std::optional<uint64_t> Section::byte_size(std::string_view key) {
    const Member* m = get(key);
    if (!m) return std::nullopt;
    constexpr std::string_view kWhat = "a size like \"500M\" or a number of bytes";
    if (m->value.type == Node::Type::integer) {
        if (m->value.integer < 0) {
            expected(*m, kWhat, false, "negative");
            return std::nullopt;
        }
        return static_cast<uint64_t>(m->value.integer);
    }
    if (!m->value.is_string()) {
        expected(*m, kWhat);
        return std::nullopt;
    }
    auto v = parse_byte_size(m->value.text);
    if (!v) {
        expected(*m, kWhat, false, v.error().detail);
        return std::nullopt;
    }
    return *v;
}

std::optional<uint16_t> Section::port(std::string_view key) {
    auto v = integer(key, 1, 65535);
    if (!v) return std::nullopt;
    return static_cast<uint16_t>(*v);
}

std::optional<IpAddress> Section::address(std::string_view key) {
    const Member* m = get(key);
    if (!m) return std::nullopt;
    constexpr std::string_view kWhat = "an IPv4 or IPv6 address";
    if (!m->value.is_string()) {
        expected(*m, kWhat);
        return std::nullopt;
    }
    auto a = IpAddress::parse(m->value.text);
    if (!a) {
        expected(*m, kWhat);
        return std::nullopt;
    }
    return a;
}

std::optional<std::vector<IpAddress>> Section::addresses(std::string_view key,
                                                         std::string_view empty_hint) {
    auto list = strings(key);
    if (!list) return std::nullopt;
    std::vector<IpAddress> out;
    bool ok = true;
    for (const auto& [text, line] : *list) {
        auto a = IpAddress::parse(text);
        if (!a) {
            diagnostics().error(file(), line, key_path(key),
                                "expected an IPv4 or IPv6 address, got " + quote(text));
            ok = false;
        } else if (std::find(out.begin(), out.end(), *a) != out.end()) {
            diagnostics().error(file(), line, key_path(key), a->to_string() + " is listed twice");
            ok = false;
        } else {
            out.push_back(*a);
        }
    }
    if (!ok) return std::nullopt;
    if (out.empty()) {
        error(key, "expected at least one address" + std::string(empty_hint));
        return std::nullopt;
    }
    return out;
}

std::optional<size_t> Section::choice(std::string_view key,
                                      std::span<const std::string_view> choices) {
    const Member* m = get(key);
    if (!m) return std::nullopt;
    std::string what = "one of ";
    for (size_t i = 0; i < choices.size(); ++i) {
        if (i > 0) what += i + 1 == choices.size() ? " or " : ", ";
        what += "\"" + std::string(choices[i]) + "\"";
    }
    if (!m->value.is_string()) {
        expected(*m, what);
        return std::nullopt;
    }
    for (size_t i = 0; i < choices.size(); ++i) {
        if (choices[i] == m->value.text) return i;
    }
    expected(*m, what);
    return std::nullopt;
}

const Node* Section::table(std::string_view key) {
    const Member* m = get(key);
    if (!m) return nullptr;
    if (!m->value.is_table()) {
        expected(*m, "a table");
        return nullptr;
    }
    return &m->value;
}

void Section::finish(std::span<const std::string_view> allowed) {
    for (const auto& m : table_.members) {
        if (std::find(allowed.begin(), allowed.end(), m.key) != allowed.end()) continue;
        std::string msg = "unknown key";
        if (auto guess = closest_match(m.key, allowed)) {
            msg += "; did you mean \"" + std::string(*guess) + "\"?";
        } else {
            msg += "; allowed keys: ";
            for (size_t i = 0; i < allowed.size(); ++i) {
                if (i > 0) msg += ", ";
                msg += allowed[i];
            }
        }
        diag_.error(file_, m.line, key_path(m.key), std::move(msg));
    }
}

}  // namespace ikemesh::config
