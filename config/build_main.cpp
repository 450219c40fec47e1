// Builders for the main file's node-wide sections: [daemon], [metrics], [tuning], [local].
#include <algorithm>
#include <array>
#include <set>

#include "config/build.hpp"
#include "config/values.hpp"
#include "crypto/certificate.hpp"
#include "crypto/signature.hpp"

namespace ikemesh::config {
namespace {

constexpr std::array<std::string_view, 8> kDaemonKeys{"control_socket", "control_group", "kernel",
                                                      "log_level",      "log_levels",    "listen",
                                                      "port",           "port_natt"};
constexpr std::array<std::string_view, 3> kKernelNames{"xfrm", "pfkey", "fake"};
constexpr std::array<std::string_view, 8> kLevelNames{"trace", "debug",    "info", "warn",
                                                      "error", "critical", "off",  "warning"};

// sun_path is 108 bytes including the terminating NUL (unix(7)).
constexpr size_t kMaxSocketPath = 107;

LogLevel level_from_index(size_t i) {
    return i == 7 ? LogLevel::warn : static_cast<LogLevel>(i);  // "warning" is spdlog's alias
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

}  // namespace

std::string_view to_string(KernelKind kind) {
    return kKernelNames[static_cast<size_t>(kind)];
}
std::string_view to_string(LogLevel level) {
    return kLevelNames[static_cast<size_t>(level)];
}

void build_daemon(Section& s, DaemonConfig& out) {
    if (auto v = s.string("control_socket")) {
        if (v->empty() || (*v)[0] != '/') {
            s.error("control_socket", "expected an absolute path, got " + quote(*v));
        } else if (v->size() > kMaxSocketPath) {
            s.error("control_socket", "path longer than " + std::to_string(kMaxSocketPath) +
                                          " bytes cannot be a unix socket");
        } else {
            out.control_socket = *v;
        }
    }
    if (auto v = s.string("control_group")) {
        if (v->empty() || v->size() > 32 || !std::all_of(v->begin(), v->end(), is_name_char)) {
            s.error("control_group", "expected a group name, got " + quote(*v));
        } else {
            out.control_group = *v;
        }
    }
    if (auto i = s.choice("kernel", kKernelNames)) out.kernel = static_cast<KernelKind>(*i);
    if (auto i = s.choice("log_level", kLevelNames)) out.log_level = level_from_index(*i);
    if (const Node* levels = s.table("log_levels")) {
        Section sub(*levels, s.key_path("log_levels"), s.file(), s.diagnostics());
        for (auto name : kLogSubsystems) {
            if (auto i = sub.choice(name, kLevelNames)) {
                out.log_levels[std::string(name)] = level_from_index(*i);
            }
        }
        sub.finish(kLogSubsystems);
    }
    out.listen = {*IpAddress::parse("0.0.0.0"), *IpAddress::parse("::")};
    if (auto listen = s.addresses("listen", " (the default is both wildcards)")) {
        out.listen = std::move(*listen);
    }
    if (auto p = s.port("port")) out.port = *p;
    if (auto p = s.port("port_natt")) out.port_natt = *p;
    if (out.port == out.port_natt) {
        s.error(s.has("port_natt") ? "port_natt" : "port",
                "port and port_natt must differ (both are " + std::to_string(out.port) + ")");
    }
    s.finish(kDaemonKeys);
}

void build_metrics(Section& s, MetricsConfig& out) {
    static constexpr std::array<std::string_view, 1> kKeys{"listen"};
    if (auto v = s.string("listen")) {
        // "127.0.0.1:9810" or "[::1]:9810"
        std::string_view text = *v;
        std::optional<IpAddress> address;
        std::string_view port_text;
        if (!text.empty() && text.front() == '[') {
            size_t close = text.find("]:");
            if (close != std::string_view::npos) {
                address = IpAddress::parse(text.substr(1, close - 1));
                if (address && !address->is_v6()) address.reset();
                port_text = text.substr(close + 2);
            }
        } else {
            size_t colon = text.rfind(':');
            if (colon != std::string_view::npos) {
                address = IpAddress::parse(text.substr(0, colon));
                if (address && !address->is_v4()) address.reset();
                port_text = text.substr(colon + 1);
            }
        }
        uint32_t port = 0;
        bool port_ok = !port_text.empty() && port_text.size() <= 5 &&
                       std::all_of(port_text.begin(), port_text.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
        if (port_ok) port = static_cast<uint32_t>(std::stoul(std::string(port_text)));
        if (!address || !port_ok || port == 0 || port > 65535) {
            s.error("listen",
                    "expected ADDRESS:PORT such as \"127.0.0.1:9810\" or \"[::1]:9810\", "
                    "got " +
                        quote(text));
        } else {
            out.listen = Endpoint{*address, static_cast<uint16_t>(port)};
        }
    }
    s.finish(kKeys);
}

void build_tuning(Section& s, ike::EngineSettings& out) {
    static constexpr std::array<std::string_view, 10> kKeys{
        "retransmit_timeout", "retransmit_base",        "retransmit_tries", "retransmit_limit",
        "cookie_threshold",   "cookie_secret_lifetime", "fragment_size",    "reinitiate_base",
        "reinitiate_max",     "half_open_timeout"};
    using std::chrono::milliseconds;
    auto positive_ms = [&](std::string_view key, milliseconds& field) {
        if (auto d = s.duration(key)) {
            if (d->count() == 0) {
                s.error(key, "must be greater than zero");
            } else {
                field = *d;
            }
        }
    };
    auto positive_s = [&](std::string_view key, std::chrono::seconds& field) {
        if (auto d = s.seconds(key)) {
            if (d->count() == 0) {
                s.error(key, "must be greater than zero");
            } else {
                field = *d;
            }
        }
    };
    positive_ms("retransmit_timeout", out.retransmit_timeout);
    positive_ms("retransmit_limit", out.retransmit_limit);
    // A base below 1 would shrink the timeout; above 10 the schedule is pointless.
    if (auto v = s.number("retransmit_base", 1.0, 10.0)) out.retransmit_base = *v;
    if (auto v = s.integer("retransmit_tries", 0, 100)) {
        out.retransmit_tries = static_cast<uint32_t>(*v);
    }
    if (auto v = s.integer("cookie_threshold", 0, 10'000'000)) {
        out.cookie_threshold = static_cast<uint32_t>(*v);
    }
    positive_s("cookie_secret_lifetime", out.cookie_secret_lifetime);
    // RFC 7383 2.5.1: fragments must fit the smallest MTU; 576 is the IPv4 minimum datagram.
    if (auto v = s.integer("fragment_size", 576, 65535)) {
        out.fragment_size = static_cast<uint32_t>(*v);
    }
    positive_s("reinitiate_base", out.reinitiate_base);
    positive_s("reinitiate_max", out.reinitiate_max);
    positive_s("half_open_timeout", out.half_open_timeout);
    if (out.retransmit_limit < out.retransmit_timeout) {
        s.error(s.has("retransmit_limit") ? "retransmit_limit" : "retransmit_timeout",
                "retransmit_limit must not be smaller than retransmit_timeout");
    }
    if (out.reinitiate_max < out.reinitiate_base) {
        s.error(s.has("reinitiate_max") ? "reinitiate_max" : "reinitiate_base",
                "reinitiate_max must not be smaller than reinitiate_base");
    }
    s.finish(kKeys);
}

std::filesystem::path resolve_path(const ParseOptions& options, const std::string& path) {
    std::filesystem::path p(path);
    if (p.is_absolute() || options.base_dir.empty()) return p;
    return options.base_dir / p;
}

std::string file_error_message(const std::filesystem::path& path, const Error& error) {
    if (error.is(Errc::key_file_insecure)) {
        return path.string() + " is readable by group or others; make it private (chmod 600)";
    }
    std::string msg = "cannot use " + path.string() + ": " + error.message();
    return msg;
}

namespace {

// Our certificate must carry our private key's public half, or no peer can verify us; and it
// should name our identity, or peers that check identities against certificates (strongSwan
// does) will refuse us.
void check_key_and_identity(Section& s, const ike::LocalConfig& local) {
    auto cert_key = local.cert->public_key();
    if (!cert_key || !(*cert_key == local.key->public_key())) {
        s.error("key", "this private key does not belong to the certificate in cert");
    }
    bool named = false;
    switch (local.id.kind) {
        case ike::IdKind::der_asn1_dn:
            named = same_dn(local.id.data, local.cert->subject_der());
            break;
        case ike::IdKind::fqdn:
        case ike::IdKind::rfc822:
        case ike::IdKind::ipv4:
        case ike::IdKind::ipv6: {
            auto want = local.id.kind == ike::IdKind::fqdn     ? crypto::SubjectAltName::Kind::dns
                        : local.id.kind == ike::IdKind::rfc822 ? crypto::SubjectAltName::Kind::email
                                                               : crypto::SubjectAltName::Kind::ip;
            for (const auto& san : local.cert->subject_alt_names()) {
                if (san.kind == want && san.raw == local.id.data) named = true;
            }
            break;
        }
        case ike::IdKind::key_id:
            named = true;  // not carried in certificates
            break;
    }
    if (!named) {
        s.warning("id",
                  "the certificate in cert does not name this identity (subject or "
                  "subjectAltName); peers that check it will refuse us");
    }
}

}  // namespace

void build_local(Section& s, const ParseOptions& options, const DaemonConfig& daemon,
                 ike::LocalConfig& out) {
    static constexpr std::array<std::string_view, 5> kKeys{"id", "auth", "cert", "key", "ca"};
    static constexpr std::array<std::string_view, 2> kAuth{"psk", "cert"};
    if (auto v = s.string("id")) {
        auto id = parse_identity(*v);
        if (!id) {
            s.error("id", "expected an identity (IP address, host name, user@host or DN), got " +
                              quote(*v) + ": " + id.error().detail);
        } else {
            out.id = std::move(*id);
        }
    } else if (!s.has("id")) {
        s.error("",
                "id is required: the identity this node authenticates as, e.g. "
                "id = \"node1.mesh.example\"");
    }
    if (auto i = s.choice("auth", kAuth)) out.auth = static_cast<ike::AuthMethod>(*i);

    auto cert = s.string("cert");
    auto key = s.string("key");
    auto ca = s.strings("ca");
    if (out.auth == ike::AuthMethod::cert) {
        for (auto [name, present] :
             {std::pair{"cert", s.has("cert")}, std::pair{"key", s.has("key")},
              std::pair{"ca", s.has("ca")}}) {
            if (!present) s.error("", std::string(name) + " is required with auth = \"cert\"");
        }
        if (ca && ca->empty()) s.error("ca", "expected at least one trust anchor file");
        auto report = [&](std::string_view k, const std::filesystem::path& p, const Error& e) {
            s.error(k, file_error_message(p, e));
        };
        if (!options.files && (cert || key || (ca && !ca->empty()))) {
            s.error("", "certificate files cannot be read here (no file access)");
        } else if (options.files) {
            if (cert) {
                auto p = resolve_path(options, *cert);
                auto r = options.files->load_certificate(p);
                if (r)
                    out.cert = std::move(*r);
                else
                    report("cert", p, r.error());
            }
            if (key) {
                auto p = resolve_path(options, *key);
                auto r = options.files->load_private_key(p);
                if (r)
                    out.key = std::move(*r);
                else
                    report("key", p, r.error());
            }
            if (ca && !ca->empty()) {
                std::vector<std::filesystem::path> paths;
                for (const auto& [text, line] : *ca)
                    paths.push_back(resolve_path(options, text));
                auto r = options.files->load_trust_anchors(paths);
                if (r) {
                    out.ca = std::move(r->store);
                    out.ca_certificates = std::move(r->certificates);
                } else {
                    s.error("ca", "cannot load trust anchors: " + r.error().message());
                }
            }
        }
        if (out.cert && out.key) check_key_and_identity(s, out);
    } else {
        for (auto k : {"cert", "key", "ca"}) {
            if (s.has(k)) s.warning(k, "ignored with auth = \"psk\"");
        }
    }
    // Bound addresses are the ones we use; wildcards mean "any".
    out.addresses.clear();
    for (const auto& a : daemon.listen) {
        bool wildcard =
            std::all_of(a.bytes().begin(), a.bytes().end(), [](uint8_t b) { return b == 0; });
        if (!wildcard) out.addresses.push_back(a);
    }
    s.finish(kKeys);
}

}  // namespace ikemesh::config
