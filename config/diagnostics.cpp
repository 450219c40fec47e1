#include "config/diagnostics.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace ikemesh::config {

std::string Diagnostic::to_string() const {
    std::string out;
    if (!file.empty()) {
        out += file;
        if (line > 0) out += ":" + std::to_string(line);
        out += ": ";
    }
    if (severity == Severity::warning) out += "warning: ";
    if (!key.empty()) out += key + ": ";
    out += message;
    return out;
}

void Diagnostics::error(std::string file, uint32_t line, std::string key, std::string message) {
    items_.push_back({Severity::error, std::move(file), line, std::move(key), std::move(message)});
}

void Diagnostics::warning(std::string file, uint32_t line, std::string key, std::string message) {
    items_.push_back(
        {Severity::warning, std::move(file), line, std::move(key), std::move(message)});
}

void Diagnostics::append(const Diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

size_t Diagnostics::error_count() const {
    return static_cast<size_t>(std::count_if(
        items_.begin(), items_.end(), [](const auto& d) { return d.severity == Severity::error; }));
}

size_t Diagnostics::warning_count() const {
    return items_.size() - error_count();
}

void Diagnostics::sort(const std::vector<std::string>& file_order) {
    std::unordered_map<std::string_view, size_t> ranks;
    for (size_t i = 0; i < file_order.size(); ++i)
        ranks.emplace(file_order[i], i);
    auto rank = [&](const std::string& file) {
        auto it = ranks.find(file);
        return it == ranks.end() ? file_order.size() : it->second;  // unknown files last
    };
    std::stable_sort(items_.begin(), items_.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        if (a.file.empty() != b.file.empty()) return b.file.empty();
        size_t ra = rank(a.file), rb = rank(b.file);
        if (ra != rb) return ra < rb;
        if (a.file != b.file) return a.file < b.file;
        return a.line < b.line;
    });
}

std::string Diagnostics::to_string() const {
    std::string out;
    for (const auto& d : items_)
        out += d.to_string() + "\n";
    return out;
}

}  // namespace ikemesh::config
