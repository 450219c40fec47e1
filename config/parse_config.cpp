// parse_config: the file texts in, one validated Config (or every problem) out.
#include <algorithm>
#include <array>

#include "config/build.hpp"
#include "config/config.hpp"
#include "config/document.hpp"
#include "config/values.hpp"

namespace ikemesh::config {
namespace {

constexpr std::array<std::string_view, 6> kMainSections{"daemon", "local",   "defaults",
                                                        "tuning", "metrics", "peer"};

// TOML's own messages sometimes quote a fragment of the text ("'abc' could not be interpreted as
// a value"). In a file that may hold a PSK such a fragment could be part of it, so fragments are
// withheld there, except single syntax characters that help the reader ("expected '='").
std::string syntax_message(std::string_view description, bool may_hold_secret) {
    std::string out = "TOML syntax error: ";
    if (!may_hold_secret) return out + std::string(description);
    constexpr std::string_view kSyntaxChars = "=[]{},.\"'#";
    size_t pos = 0;
    while (pos < description.size()) {
        size_t open = description.find('\'', pos);
        size_t close = open == std::string_view::npos ? open : description.find('\'', open + 1);
        if (close == std::string_view::npos) {
            out += description.substr(pos);
            break;
        }
        std::string_view fragment = description.substr(open + 1, close - open - 1);
        out += description.substr(pos, open - pos + 1);
        bool keep =
            fragment.size() == 1 && kSyntaxChars.find(fragment[0]) != std::string_view::npos;
        out += keep ? std::string(fragment) : std::string("...");
        out += '\'';
        pos = close + 1;
    }
    return out;
}

const Node& empty_table() {
    static const Node node;  // Node() is an empty table at line 0
    return node;
}

// The [peer.NAME] tables of one file.
void add_peers(const Node& root, const SourceFile& file, bool is_main, PeerBuilder& peers,
               Diagnostics& diag) {
    for (const auto& m : root.members) {
        if (m.key != "peer") {
            if (!is_main) {
                diag.error(file.name, m.line, m.key,
                           "only [peer.NAME] tables belong in peers.d files");
            }
            continue;
        }
        if (!m.value.is_table()) {
            diag.error(file.name, m.line, "peer",
                       "expected tables [peer.NAME], got " + describe_value(m.value, true));
            continue;
        }
        for (const auto& p : m.value.members) {
            if (!p.value.is_table()) {
                diag.error(
                    file.name, p.line, "peer." + p.key,
                    "expected a table [peer." + p.key + "], got " + describe_value(p.value, true));
                continue;
            }
            Section section(p.value, "peer." + p.key, file.name, diag);
            peers.add_peer(section, p.key, file.readable_by_others);
        }
    }
}

}  // namespace

const ike::PeerConfig* Config::find_peer(std::string_view name) const {
    auto it =
        std::lower_bound(peers.begin(), peers.end(), name,
                         [](const ike::PeerConfig& p, std::string_view n) { return p.name < n; });
    return it != peers.end() && it->name == name ? &*it : nullptr;
}

Result<Config> parse_config(const SourceFile& main, std::span<const SourceFile> peer_files,
                            const ParseOptions& options, Diagnostics* diagnostics) {
    Diagnostics diag;
    Config config;

    auto parse = [&](const SourceFile& file) {
        TomlDocument doc = parse_toml(file.text, file.name);
        if (!doc.root) {
            bool may_hold_secret = file.text.find("psk") != std::string::npos;
            diag.error(file.name, doc.error_line, "", syntax_message(doc.error, may_hold_secret));
        }
        return doc;
    };

    TomlDocument main_doc = parse(main);
    const Node& root = main_doc.root ? *main_doc.root : empty_table();
    Section top(root, "", main.name, diag);
    auto section = [&](std::string_view name) -> const Node& {
        const Member* m = top.get(name);
        if (!m) return empty_table();
        if (!m->value.is_table()) {
            top.error(name, "expected a table [" + std::string(name) + "], got " +
                                describe_value(m->value, true));
            return empty_table();
        }
        return m->value;
    };
    // With a syntax error in the main file every key would look missing and every peer would
    // lack its defaults; then only syntax errors are reported (for every file).
    bool main_ok = main_doc.root.has_value();
    Diagnostics ignored;
    Diagnostics& main_diag = main_ok ? diag : ignored;
    {
        Section s(section("daemon"), "daemon", main.name, main_diag);
        build_daemon(s, config.daemon);
    }
    {
        Section s(section("local"), "local", main.name, main_diag);
        build_local(s, options, config.daemon, config.local);
    }
    {
        Section s(section("tuning"), "tuning", main.name, main_diag);
        build_tuning(s, config.engine);
    }
    {
        Section s(section("metrics"), "metrics", main.name, main_diag);
        build_metrics(s, config.metrics);
    }
    PeerBuilder peers(options, main_diag, config.daemon, config.local);
    {
        Section s(section("defaults"), "defaults", main.name, main_diag);
        peers.set_defaults(s, main.readable_by_others);
    }
    top.finish(kMainSections);
    add_peers(root, main, true, peers, main_diag);

    if (peer_files.size() > kMaxPeers) {
        diag.error("", 0, "", "more than " + std::to_string(kMaxPeers) + " peer files");
    } else {
        for (const auto& file : peer_files) {
            TomlDocument doc = parse(file);
            if (doc.root) add_peers(*doc.root, file, false, peers, main_diag);
        }
    }
    config.peers = peers.finish();

    std::vector<std::string> order{main.name};
    for (const auto& f : peer_files)
        order.push_back(f.name);
    diag.sort(order);
    if (diagnostics) diagnostics->append(diag);
    if (diag.has_errors()) {
        std::string detail;
        for (const auto& d : diag.items()) {
            if (d.severity != Severity::error) continue;
            if (!detail.empty()) detail += '\n';
            detail += d.to_string();
        }
        return Error{Errc::config_invalid, std::move(detail)};
    }
    return config;
}

}  // namespace ikemesh::config
