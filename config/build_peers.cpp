// [defaults] and [peer.NAME]: the per-peer settings, their merge, PSKs, and cross-peer checks.
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <set>

#include "config/build.hpp"
#include "config/proposals.hpp"
#include "config/values.hpp"

namespace ikemesh::config {
namespace {

using std::chrono::seconds;

// Keys that [defaults] and [peer.NAME] share; a peer may override every one of them.
constexpr std::array<std::string_view, 18> kSharedKeys{"ike",
                                                       "esp",
                                                       "start",
                                                       "dpd_delay",
                                                       "natt_keepalive",
                                                       "ike_lifetime",
                                                       "child_lifetime",
                                                       "rekey_margin",
                                                       "rekey_jitter",
                                                       "child_lifetime_bytes",
                                                       "child_lifetime_packets",
                                                       "replay_window",
                                                       "bypass",
                                                       "traffic",
                                                       "childless",
                                                       "port",
                                                       "psk",
                                                       "psk_file"};
constexpr std::array<std::string_view, 3> kStartNames{"always", "on-demand", "passive"};

std::vector<std::string_view> peer_keys() {
    std::vector<std::string_view> keys(kSharedKeys.begin(), kSharedKeys.end());
    keys.push_back("address");
    keys.push_back("id");
    return keys;
}

// Bounds on list lengths: far above real use, low enough that a hostile file cannot make the
// engine build absurd SA payloads or policy sets.
constexpr size_t kMaxProposals = 32;
constexpr size_t kMaxTrafficSpecs = 64;
// XFRM accepts a replay bitmap of at most XFRMA_REPLAY_ESN_MAX / 4 / 8 = 128 32-bit words
// (net/xfrm/xfrm_user.c), i.e. a window of 4096 packets.
constexpr int64_t kMaxReplayWindow = 4096;
constexpr size_t kMaxPeerName = 64;

const std::vector<ike::IkeProposal>& builtin_ike() {
    static const std::vector<ike::IkeProposal> v{
        *parse_ike_proposal("aes128gcm16-prfsha256-x25519"),
        *parse_ike_proposal("aes256-sha256-modp3072")};
    return v;
}

const std::vector<ike::EspProposal>& builtin_esp() {
    static const std::vector<ike::EspProposal> v{*parse_esp_proposal("aes128gcm16")};
    return v;
}

// With kernel = "pfkey": what Linux's PF_KEY can install (kernel/README.md, "PF_KEY"). AES-GCM
// and ChaCha20-Poly1305 have no usable PF_KEY number there, hmac(sha256) is truncated to 96 bits
// (not RFC 4868's 128), ESN cannot be set and the replay window stops at 32 packets.
const std::vector<ike::EspProposal>& builtin_esp_pfkey() {
    static const std::vector<ike::EspProposal> v{*parse_esp_proposal("aes128-sha384")};
    return v;
}
constexpr uint32_t kPfkeyReplayWindow = 32;

std::string pfkey_limit(const ike::EspProposal& proposal) {
    for (const auto& e : proposal.encr) {
        if (e.alg != crypto::EncrAlg::aes_cbc) return crypto::name(e);
    }
    for (auto i : proposal.integ) {
        if (i == crypto::IntegAlg::hmac_sha2_256_128) return std::string(crypto::name(i));
    }
    if (proposal.esn) return "esn";
    return {};
}

bool valid_peer_name(std::string_view name) {
    return !name.empty() && name.size() <= kMaxPeerName &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.';
           });
}

template <typename T, typename Parse>
std::optional<std::vector<T>> read_list(Section& s, std::string_view key, size_t max,
                                        std::string_view what, bool allow_empty, Parse parse) {
    auto items = s.strings(key);
    if (!items) return std::nullopt;
    std::vector<T> out;
    bool ok = true;
    for (const auto& [text, line] : *items) {
        auto v = parse(text);
        if (!v) {
            s.diagnostics().error(
                s.file(), line, s.key_path(key),
                "expected " + std::string(what) + ", got " + quote(text) + ": " + v.error().detail);
            ok = false;
            continue;
        }
        if (std::find(out.begin(), out.end(), *v) == out.end()) out.push_back(std::move(*v));
    }
    if (!ok) return std::nullopt;
    if (out.empty() && !allow_empty) {
        s.error(key, "expected at least one entry");
        return std::nullopt;
    }
    if (out.size() > max) {
        s.error(key, "at most " + std::to_string(max) + " entries are supported");
        return std::nullopt;
    }
    return out;
}

std::string origin_text(const Origin& o) {
    return o.file + ":" + std::to_string(o.line);
}

// Whether two traffic classes can match the same packet (protocol or port 0 = any).
bool overlap(const ike::TrafficSpec& a, const ike::TrafficSpec& b) {
    const bool protocol = a.protocol == 0 || b.protocol == 0 || a.protocol == b.protocol;
    const bool port = a.port == 0 || b.port == 0 || a.port == b.port;
    return protocol && port;
}

// Why peers `a` and `b`, which share an address (nodes behind one NAT), cannot both be
// configured; empty when they can. Transport-mode policies only see addresses and ports, so the
// two peers' `traffic` must tell their packets apart; and an initiator to address:port reaches
// whichever node the NAT forwards that port to, so only one peer per port may initiate.
std::string shared_address_conflict(const ike::PeerConfig& a, const ike::PeerConfig& b,
                                    const IpAddress& shared) {
    if (a.id == b.id) return "peers sharing an address must have different identities (id)";
    if (a.traffic.empty() || b.traffic.empty()) {
        return "peers sharing an address (nodes behind one NAT) each need a `traffic` list with "
               "ports, e.g. traffic = [\"tcp/5001\"], so their policies do not collide";
    }
    for (const auto& x : a.traffic) {
        for (const auto& y : b.traffic) {
            if (overlap(x, y)) {
                return "traffic \"" + to_string(y) + "\" overlaps \"" + to_string(x) +
                       "\" of peer " + a.name + "; peers sharing an address need disjoint traffic";
            }
        }
    }
    if (a.port == b.port && a.start != ike::StartAction::passive &&
        b.start != ike::StartAction::passive) {
        return "only one of the peers sharing " + shared.to_string() + " port " +
               std::to_string(a.port) +
               " may initiate (the NAT forwards a port to one node): set start = \"passive\" "
               "or a different port";
    }
    return {};
}

}  // namespace

PeerBuilder::PeerBuilder(const ParseOptions& options, Diagnostics& diagnostics,
                         const DaemonConfig& daemon, const ike::LocalConfig& local)
    : options_(options), diag_(diagnostics), daemon_(daemon), local_(local) {}

void PeerBuilder::read_settings(Section& s, PeerSettings& out, bool exposed) {
    out.ike = read_list<ike::IkeProposal>(s, "ike", kMaxProposals,
                                          "an IKE proposal like \"aes128gcm16-prfsha256-x25519\"",
                                          false, parse_ike_proposal);
    out.esp = read_list<ike::EspProposal>(
        s, "esp", kMaxProposals, "an ESP proposal like \"aes128gcm16\"", false, parse_esp_proposal);
    if (auto i = s.choice("start", kStartNames)) out.start = static_cast<ike::StartAction>(*i);
    out.dpd_delay = s.seconds("dpd_delay");            // 0 turns liveness checks off
    out.natt_keepalive = s.seconds("natt_keepalive");  // 0 turns NAT-keepalives off
    auto positive = [&](std::string_view key, std::optional<seconds>& field) {
        field = s.seconds(key);
        if (field && field->count() == 0) {
            s.error(key, "must be greater than zero");
            field.reset();
        }
    };
    positive("ike_lifetime", out.ike_lifetime);
    positive("child_lifetime", out.child_lifetime);
    out.rekey_margin = s.seconds("rekey_margin");
    out.rekey_jitter = s.seconds("rekey_jitter");
    out.child_lifetime_bytes = s.byte_size("child_lifetime_bytes");
    if (auto v = s.integer("child_lifetime_packets", 0, INT64_MAX)) {
        out.child_lifetime_packets = static_cast<uint64_t>(*v);
    }
    if (auto v = s.integer("replay_window", 0, kMaxReplayWindow)) {
        out.replay_window = static_cast<uint32_t>(*v);
    }
    out.bypass = read_list<ike::TrafficSpec>(s, "bypass", kMaxTrafficSpecs,
                                             "a traffic class like \"tcp/22\" or \"icmp\"", true,
                                             parse_traffic_spec);
    out.traffic =
        read_list<ike::TrafficSpec>(s, "traffic", kMaxTrafficSpecs,
                                    "a traffic class like \"tcp/8140\"", true, parse_traffic_spec);
    out.childless = s.boolean("childless");
    out.port = s.port("port");
    read_psk(s, out, exposed);
}

void PeerBuilder::read_psk(Section& s, PeerSettings& out, bool exposed) {
    bool has_inline = s.has("psk");
    bool has_file = s.has("psk_file");
    if (has_inline && has_file) {
        s.error("psk_file", "set either psk or psk_file, not both");
        out.psk_kind = PeerSettings::PskKind::inline_value;
        out.psk_origin = s.origin("psk");
        out.psk_broken = true;
        return;
    }
    if (has_inline) {
        out.psk_kind = PeerSettings::PskKind::inline_value;
        out.psk_origin = s.origin("psk");
        auto text = s.string("psk", /*secret=*/true);
        if (!text) {
            out.psk_broken = true;
            return;
        }
        if (exposed) {
            s.error("psk", s.file() +
                               " is readable by group or others; a file holding a psk must be "
                               "private (chmod 600), or use psk_file");
            out.psk_broken = true;
            return;
        }
        auto secret = decode_psk(*text);
        OPENSSL_cleanse(text->data(), text->size());
        if (!secret) {
            s.error("psk", "expected a PSK as text, 0x followed by hex or 0s followed by base64: " +
                               secret.error().detail);
            out.psk_broken = true;
            return;
        }
        if (!check_psk_strength(*secret, out.psk_origin)) {
            out.psk_broken = true;
            return;
        }
        out.psk_value = std::make_shared<const crypto::SecretBytes>(std::move(*secret));
    } else if (has_file) {
        out.psk_kind = PeerSettings::PskKind::file;
        out.psk_origin = s.origin("psk_file");
        auto path = s.string("psk_file");
        if (!path || path->empty()) {
            if (path) s.error("psk_file", "expected a file name, got \"\"");
            out.psk_broken = true;
            return;
        }
        out.psk_path = resolve_path(options_, *path);
    }
}

bool PeerBuilder::check_psk_strength(const crypto::SecretBytes& psk, const Origin& where) {
    if (psk.size() >= kMinPskBytes) return true;
    diag_.error(where.file, where.line, where.key,
                "PSK too short: " + std::to_string(psk.size()) + " bytes, at least " +
                    std::to_string(kMinPskBytes) +
                    " needed (RFC 7296 2.15: as unpredictable as the strongest key negotiated; "
                    "generate one with: openssl rand -base64 32)");
    return false;
}

std::shared_ptr<const crypto::SecretBytes> PeerBuilder::load_psk_file(const PeerSettings& s) {
    auto it = psk_files_.find(s.psk_path);
    if (it != psk_files_.end()) return it->second.secret;
    FileSecret& entry = psk_files_[s.psk_path];
    const Origin& at = s.psk_origin;
    if (!options_.files) {
        diag_.error(at.file, at.line, at.key, "PSK files cannot be read here (no file access)");
        return nullptr;
    }
    auto content = options_.files->read_secret(s.psk_path);
    if (!content) {
        diag_.error(at.file, at.line, at.key, file_error_message(s.psk_path, content.error()));
        return nullptr;
    }
    // The file holds the key in psk notation; a trailing newline from `echo` or an editor is
    // not part of it.
    auto bytes = content->view();
    size_t len = bytes.size();
    while (len > 0 && (bytes[len - 1] == '\n' || bytes[len - 1] == '\r' || bytes[len - 1] == ' ' ||
                       bytes[len - 1] == '\t')) {
        --len;
    }
    auto secret = decode_psk(bytes.first(len));
    if (!secret) {
        diag_.error(at.file, at.line, at.key,
                    "the content of " + s.psk_path.string() +
                        " is not a PSK (text, 0x followed by hex or 0s followed by base64): " +
                        secret.error().detail);
        return nullptr;
    }
    if (!check_psk_strength(*secret, at)) return nullptr;
    entry.secret = std::make_shared<const crypto::SecretBytes>(std::move(*secret));
    return entry.secret;
}

std::shared_ptr<const crypto::SecretBytes> PeerBuilder::resolve_psk(Section& s,
                                                                    const PeerSettings& own) {
    const PeerSettings& chosen = own.psk_kind != PeerSettings::PskKind::none ? own : defaults_;
    switch (chosen.psk_kind) {
        case PeerSettings::PskKind::none:
            s.error("",
                    "no PSK for this peer: set psk or psk_file here, or psk_file in "
                    "[defaults] (auth = \"psk\")");
            return nullptr;
        case PeerSettings::PskKind::inline_value:
            return chosen.psk_broken ? nullptr : chosen.psk_value;
        case PeerSettings::PskKind::file:
            return chosen.psk_broken ? nullptr : load_psk_file(chosen);
    }
    return nullptr;
}

void PeerBuilder::check_lifetimes(Section& s, const PeerSettings& own, const ike::PeerConfig& p,
                                  bool is_defaults) {
    bool sets_any = own.ike_lifetime || own.child_lifetime || own.rekey_margin || own.rekey_jitter;
    // Problems that come from [defaults] alone are reported there once, not for every peer.
    if (!is_defaults && !sets_any) return;
    auto where = [&](std::string_view lifetime_key) -> std::string_view {
        if (own.rekey_margin) return "rekey_margin";
        if (own.rekey_jitter) return "rekey_jitter";
        if (s.has(lifetime_key)) return lifetime_key;
        return "";
    };
    auto check = [&](std::string_view lifetime_key, seconds lifetime) {
        if (p.rekey_margin + p.rekey_jitter < lifetime) return;
        s.error(where(lifetime_key), "rekey_margin (" + format_duration(p.rekey_margin) +
                                         ") + rekey_jitter (" + format_duration(p.rekey_jitter) +
                                         ") must be less than " + std::string(lifetime_key) + " (" +
                                         format_duration(lifetime) +
                                         "), or the SA would be rekeyed before it is used");
    };
    check("ike_lifetime", p.ike_lifetime);
    check("child_lifetime", p.child_lifetime);
}

void PeerBuilder::set_defaults(Section& s, bool exposed) {
    read_settings(s, defaults_, exposed);
    if (defaults_.psk_kind == PeerSettings::PskKind::file && !defaults_.psk_broken &&
        local_.auth == ike::AuthMethod::psk) {
        // Read the shared file once now, so its errors point at [defaults] even with no peers.
        (void)load_psk_file(defaults_);
    }
    ike::PeerConfig effective;
    effective.rekey_margin = defaults_.rekey_margin.value_or(effective.rekey_margin);
    effective.rekey_jitter = defaults_.rekey_jitter.value_or(effective.rekey_jitter);
    effective.ike_lifetime = defaults_.ike_lifetime.value_or(effective.ike_lifetime);
    effective.child_lifetime = defaults_.child_lifetime.value_or(effective.child_lifetime);
    check_lifetimes(s, defaults_, effective, true);
    s.finish(kSharedKeys);
}

void PeerBuilder::add_peer(Section& s, std::string_view name, bool exposed) {
    static const std::vector<std::string_view> kPeerKeys = peer_keys();
    Placed placed;
    placed.where = Origin{s.file(), s.line(), s.path()};
    if (!valid_peer_name(name)) {
        s.error("", "a peer name must be 1 to " + std::to_string(kMaxPeerName) +
                        " letters, digits, '-', '_' or '.'");
    }
    if (auto it = by_name_.find(name); it != by_name_.end()) {
        const Origin& first = peers_[it->second].where;
        s.error("", "peer " + std::string(name) + " is defined twice (first at " +
                        origin_text(first) + ")");
    }

    PeerSettings own;
    read_settings(s, own, exposed);
    ike::PeerConfig& p = placed.peer;
    p.name = std::string(name);
    if (auto addresses = s.addresses("address")) {
        // One address or a list in preference order (the initiator tries them in turn).
        p.address = addresses->front();
        p.addresses = std::move(*addresses);
        placed.address_at = s.origin("address");
    } else if (!s.has("address")) {
        s.error("",
                "address is required: where this peer is reached, e.g. address = "
                "\"10.0.0.2\"");
    }
    if (auto text = s.string("id")) {
        auto id = parse_identity(*text);
        if (!id) {
            s.error("id", "expected an identity (IP address, host name, user@host or DN), got " +
                              quote(*text) + ": " + id.error().detail);
        } else {
            p.id = std::move(*id);
        }
    } else if (!p.address.empty()) {
        p.id = identity_of(p.address);
    }

    const PeerSettings& d = defaults_;
    p.port = own.port.value_or(d.port.value_or(daemon_.port));
    p.auth = local_.auth;
    p.ike = own.ike.value_or(d.ike.value_or(builtin_ike()));
    const bool pfkey = daemon_.kernel == KernelKind::pfkey;
    p.esp = own.esp.value_or(d.esp.value_or(pfkey ? builtin_esp_pfkey() : builtin_esp()));
    p.start = own.start.value_or(d.start.value_or(p.start));
    p.dpd_delay = own.dpd_delay.value_or(d.dpd_delay.value_or(p.dpd_delay));
    p.natt_keepalive = own.natt_keepalive.value_or(d.natt_keepalive.value_or(p.natt_keepalive));
    p.ike_lifetime = own.ike_lifetime.value_or(d.ike_lifetime.value_or(p.ike_lifetime));
    p.child_lifetime = own.child_lifetime.value_or(d.child_lifetime.value_or(p.child_lifetime));
    p.rekey_margin = own.rekey_margin.value_or(d.rekey_margin.value_or(p.rekey_margin));
    p.rekey_jitter = own.rekey_jitter.value_or(d.rekey_jitter.value_or(p.rekey_jitter));
    p.child_limits.bytes = own.child_lifetime_bytes.value_or(d.child_lifetime_bytes.value_or(0));
    p.child_limits.packets =
        own.child_lifetime_packets.value_or(d.child_lifetime_packets.value_or(0));
    p.replay_window = own.replay_window.value_or(
        d.replay_window.value_or(pfkey ? kPfkeyReplayWindow : p.replay_window));
    if (pfkey) {
        for (const auto& proposal : p.esp) {
            if (auto what = pfkey_limit(proposal); !what.empty()) {
                s.error("esp", "\"" + what + "\" (in \"" + to_string(proposal) +
                                   "\") cannot be installed with kernel = \"pfkey\"; it takes "
                                   "AES-CBC with sha1, sha384 or sha512 and no esn (or use "
                                   "kernel = \"xfrm\")");
                break;
            }
        }
        if (p.replay_window > kPfkeyReplayWindow) {
            s.error("replay_window", std::to_string(p.replay_window) +
                                         " is above what kernel = \"pfkey\" can install (32)");
        }
    }
    p.bypass = own.bypass.value_or(d.bypass.value_or(p.bypass));
    p.traffic = own.traffic.value_or(d.traffic.value_or(p.traffic));
    p.childless = own.childless.value_or(d.childless.value_or(p.childless));
    check_lifetimes(s, own, p, false);

    if (local_.auth == ike::AuthMethod::psk) {
        p.psk = resolve_psk(s, own);
    } else if (own.psk_kind != PeerSettings::PskKind::none) {
        s.warning(own.psk_kind == PeerSettings::PskKind::file ? "psk_file" : "psk",
                  "ignored with auth = \"cert\"");
    }
    s.finish(kPeerKeys);
    by_name_.emplace(p.name, peers_.size());
    peers_.push_back(std::move(placed));
}

std::vector<ike::PeerConfig> PeerBuilder::finish() {
    std::map<IpAddress, std::vector<size_t>> by_address;
    std::map<std::pair<ike::IdKind, Bytes>, size_t> by_id;
    for (size_t i = 0; i < peers_.size(); ++i) {
        const Placed& pl = peers_[i];
        const ike::PeerConfig& p = pl.peer;
        // Several nodes behind one NAT share its public address (docs/config.md); each of a
        // peer's addresses counts.
        const std::vector<IpAddress> addresses = p.addresses.empty() && !p.address.empty()
                                                     ? std::vector<IpAddress>{p.address}
                                                     : p.addresses;
        bool conflict = false;
        for (const IpAddress& address : addresses) {
            auto& sharing = by_address[address];
            for (size_t j : sharing) {
                const Placed& first = peers_[j];
                if (auto why = shared_address_conflict(first.peer, p, address); !why.empty()) {
                    diag_.error(pl.address_at.file, pl.address_at.line, pl.address_at.key,
                                address.to_string() + " is also the address of peer " +
                                    first.peer.name + " (" + origin_text(first.address_at) +
                                    "): " + why);
                    conflict = true;
                    break;
                }
            }
            sharing.push_back(i);
            if (conflict) break;
        }
        if (conflict) continue;  // its default identity would repeat the same complaint
        if (!p.id.data.empty()) {
            auto [it, fresh] = by_id.emplace(std::pair{p.id.kind, p.id.data}, i);
            if (!fresh) {
                const Placed& first = peers_[it->second];
                diag_.warning(pl.where.file, pl.where.line, pl.where.key,
                              "same identity as peer " + first.peer.name + " (" +
                                  origin_text(first.where) +
                                  "); an incoming IKE SA cannot be told apart by identity");
            }
        }
    }
    if (peers_.size() > kMaxPeers) {
        diag_.error("", 0, "", "more than " + std::to_string(kMaxPeers) + " peers");
    }
    std::vector<ike::PeerConfig> out;
    out.reserve(peers_.size());
    for (auto& pl : peers_)
        out.push_back(std::move(pl.peer));
    std::sort(out.begin(), out.end(),
              [](const ike::PeerConfig& a, const ike::PeerConfig& b) { return a.name < b.name; });
    return out;
}

}  // namespace ikemesh::config
