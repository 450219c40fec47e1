#include "ike/auth.hpp"

#include <algorithm>
#include <cctype>

#include "crypto/certificate.hpp"
#include "crypto/hash.hpp"
#include "crypto/ike_kdf.hpp"
#include "crypto/signature.hpp"

namespace ikemesh::ike {
namespace {

Result<Bytes> signed_octets(const crypto::Prf& prf, const AuthOctets& in) {
    auto maced = crypto::maced_id(prf, in.sk_p, in.id_body);
    if (!maced) return maced.take_error();
    Bytes octets;
    octets.reserve(in.real_message.size() + in.nonce.size() + maced->size());
    octets.insert(octets.end(), in.real_message.begin(), in.real_message.end());
    octets.insert(octets.end(), in.nonce.begin(), in.nonce.end());
    octets.insert(octets.end(), maced->view().begin(), maced->view().end());
    return octets;
}

Result<crypto::SecretBytes> psk_mac(const crypto::Prf& prf, const AuthOctets& in,
                                    const crypto::SecretBytes& psk) {
    auto maced = crypto::maced_id(prf, in.sk_p, in.id_body);
    if (!maced) return maced.take_error();
    return crypto::psk_auth(prf, psk.view(), in.real_message, in.nonce, maced->view());
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// RFC 7296 3.5 / RFC 4945 3.1: the identity must be bound to the certificate, by subject for a
// DN, by a subjectAltName of the matching kind otherwise.
Status identity_in_certificate(const Identity& id, const crypto::Certificate& cert) {
    using Kind = crypto::SubjectAltName::Kind;
    auto has_san = [&](Kind kind, auto&& match) {
        auto sans = cert.subject_alt_names();
        return std::any_of(sans.begin(), sans.end(), [&](const crypto::SubjectAltName& s) {
            return s.kind == kind && match(s);
        });
    };
    std::string_view text(reinterpret_cast<const char*>(id.data.data()), id.data.size());
    bool ok = false;
    switch (id.kind) {
        case IdKind::der_asn1_dn:
            ok = cert.subject_der() == id.data;
            break;
        case IdKind::fqdn:
            ok = has_san(Kind::dns, [&](const auto& s) { return iequals(s.text, text); });
            break;
        case IdKind::rfc822:
            ok = has_san(Kind::email, [&](const auto& s) { return iequals(s.text, text); });
            break;
        case IdKind::ipv4:
        case IdKind::ipv6:
            ok = has_san(Kind::ip, [&](const auto& s) { return s.raw == id.data; });
            break;
        case IdKind::key_id:
            ok = false;
            break;
    }
    if (!ok) {
        return Error{Errc::identity_mismatch, "certificate \"" + cert.subject_text() +
                                                  "\" does not carry identity " + id.text};
    }
    return {};
}

}  // namespace

Result<AuthData> make_auth(const crypto::Prf& prf, const AuthOctets& in,
                           const crypto::SecretBytes* psk, const LocalConfig& local,
                           std::span<const uint16_t> peer_hashes) {
    if (psk) {
        auto mac = psk_mac(prf, in, *psk);
        if (!mac) return mac.take_error();
        return AuthData{wire::AuthMethod::shared_key_mic,
                        Bytes(mac->view().begin(), mac->view().end())};
    }
    if (!local.key) return Error{Errc::authentication_failed, "no private key configured"};
    auto hash = crypto::choose_signature_hash(local.key->type(), peer_hashes);
    if (!hash) return hash.take_error();
    auto octets = signed_octets(prf, in);
    if (!octets) return octets.take_error();
    auto sig = crypto::sign_auth(*local.key, *hash, *octets);
    if (!sig) return sig.take_error();
    return AuthData{wire::AuthMethod::digital_signature, std::move(*sig)};
}

Status verify_auth(const crypto::Prf& prf, const AuthOctets& in, const wire::AuthPayload& auth,
                   const PeerConfig& peer, const LocalConfig& local,
                   std::span<const wire::CertPayload* const> certs,
                   std::chrono::system_clock::time_point now) {
    if (peer.auth == AuthMethod::psk) {
        if (auth.method != wire::AuthMethod::shared_key_mic) {
            return Error{Errc::authentication_failed, "peer did not authenticate with the PSK"};
        }
        if (!peer.psk) return Error{Errc::authentication_failed, "no PSK configured for peer"};
        auto mac = psk_mac(prf, in, *peer.psk);
        if (!mac) return mac.take_error();
        if (!crypto::equal_consttime(mac->view(), auth.data)) {
            return Error{Errc::authentication_failed, "PSK AUTH value does not match"};
        }
        return {};
    }
    if (auth.method != wire::AuthMethod::digital_signature) {
        return Error{Errc::authentication_failed,
                     "peer used auth method " + std::to_string(static_cast<int>(auth.method)) +
                         ", expected RFC 7427 digital signature"};
    }
    if (certs.empty() || certs.front()->encoding != wire::CertEncoding::x509_signature) {
        return Error{Errc::authentication_failed, "peer sent no X.509 certificate"};
    }
    if (!local.ca) return Error{Errc::authentication_failed, "no CA configured"};
    auto leaf = crypto::Certificate::from_der(certs.front()->data);
    if (!leaf) return Error{Errc::authentication_failed, leaf.error().message()};
    std::vector<crypto::Certificate> chain;
    for (size_t i = 1; i < certs.size(); ++i) {
        if (certs[i]->encoding != wire::CertEncoding::x509_signature) continue;
        if (auto c = crypto::Certificate::from_der(certs[i]->data)) chain.push_back(std::move(*c));
    }
    if (Status st = local.ca->verify(*leaf, chain, now); !st) {
        return Error{Errc::authentication_failed, st.error().message()};
    }
    if (Status st = identity_in_certificate(peer.id, *leaf); !st) return st;
    auto key = leaf->public_key();
    if (!key) return Error{Errc::authentication_failed, key.error().message()};
    auto octets = signed_octets(prf, in);
    if (!octets) return octets.take_error();
    if (Status st = crypto::verify_auth(*key, auth.data, *octets); !st) {
        return Error{Errc::authentication_failed, st.error().message()};
    }
    return {};
}

Bytes certreq_data(const LocalConfig& local) {
    Bytes out;
    if (!local.ca) return out;
    for (const crypto::Certificate& anchor : local.ca->anchors()) {
        auto key = anchor.public_key();
        if (!key) continue;
        Bytes spki = key->der();
        auto digest = crypto::sha1({spki});
        out.insert(out.end(), digest.begin(), digest.end());
    }
    return out;
}

}  // namespace ikemesh::ike
