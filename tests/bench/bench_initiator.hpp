// A minimal, fast IKEv2 initiator for load generation: it opens childless IKE SAs (PSK, X25519,
// AES-GCM-16) one after another and checks every answer, so that a responder's handshake rate
// can be measured. It is not the engine: no retransmission policy, no rekeys, no state beyond
// what a handshake needs. One X25519 key pair serves every handshake, which halves the
// initiator's cost and leaves the responder as the side under load (the responder still draws a
// fresh key pair per IKE SA). Used by bench_handshake (UDP, any responder) and bench_engine
// (in-process, the engine alone).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "crypto/ike_kdf.hpp"
#include "crypto/key_exchange.hpp"
#include "crypto/prf.hpp"
#include "crypto/random.hpp"
#include "crypto/sk_cipher.hpp"
#include "ike/wire/build.hpp"
#include "ike/wire/encrypted.hpp"
#include "ike/wire/parse.hpp"

namespace ikemesh::bench {

struct InitiatorIdentity {
    std::string local_fqdn;   // our IDi
    std::string remote_fqdn;  // the responder's IDr, also checked in its answer
    Bytes psk;
};

class BenchInitiator {
  public:
    explicit BenchInitiator(InitiatorIdentity id) : id_(std::move(id)) {
        auto ke = crypto::generate_key_exchange(crypto::DhGroup::curve25519);
        if (!ke) std::abort();
        ke_ = std::move(*ke);
    }

    // Starts handshake number `n`: returns its IKE_SA_INIT request.
    Bytes start(uint64_t n);
    // Feeds an answer. Returns the next request to send (IKE_AUTH) or nothing. Sets `done` when
    // the IKE SA is established, `failed` with a reason when the responder refused.
    struct Step {
        std::optional<Bytes> send;
        bool done = false;
        std::string failed;
        uint64_t n = 0;
    };
    Step on_datagram(ByteView datagram);
    // The request to retransmit for a handshake still in flight.
    const Bytes* pending(uint64_t n) const;
    size_t in_flight() const { return by_spi_.size(); }

  private:
    struct Handshake {
        uint64_t n = 0;
        IkeSpi spi_i, spi_r;
        Bytes ni, nr;
        Bytes init_request, init_response, auth_request;
        std::optional<crypto::SkCipher> seal, open;
        crypto::SecretBytes sk_pr;
        bool auth_sent = false;
    };

    Step on_init_response(Handshake& h, const wire::Message& msg, ByteView datagram);
    Step on_auth_response(Handshake& h, const wire::Message& msg, ByteView datagram);

    InitiatorIdentity id_;
    crypto::SystemRandom rng_;
    std::unique_ptr<crypto::KeyExchange> ke_;
    crypto::Prf prf_{crypto::PrfAlg::hmac_sha2_256};
    std::unordered_map<uint64_t, Handshake> by_spi_;
    Bytes plaintext_;
};

// --- implementation (header-only: each bench binary is one .cpp) ------------------------------

inline Bytes BenchInitiator::start(uint64_t n) {
    Handshake h;
    h.n = n;
    do {
        h.spi_i = IkeSpi{rng_.next_u64()};
    } while (h.spi_i.is_zero() || by_spi_.contains(h.spi_i.value));
    h.ni.resize(32);
    rng_.fill(h.ni);
    wire::Header hdr{.spi_i = h.spi_i, .exchange = wire::ExchangeType::ike_sa_init};
    hdr.set(wire::HeaderFlag::initiator);
    wire::SaPayload sa;
    wire::Proposal p{.number = 1, .protocol = wire::ProtocolId::ike};
    p.transforms.push_back({.type = wire::TransformType::encr,
                            .id = static_cast<uint16_t>(crypto::EncrAlg::aes_gcm_16),
                            .key_length = 128});
    p.transforms.push_back({.type = wire::TransformType::prf,
                            .id = static_cast<uint16_t>(crypto::PrfAlg::hmac_sha2_256)});
    p.transforms.push_back({.type = wire::TransformType::ke,
                            .id = static_cast<uint16_t>(crypto::DhGroup::curve25519)});
    sa.proposals.push_back(std::move(p));
    auto bytes =
        wire::MessageBuilder(hdr)
            .add(sa)
            .add(wire::KePayload{.group = crypto::DhGroup::curve25519, .data = ke_->public_key()})
            .add(wire::NoncePayload{.data = h.ni})
            .finish();
    h.init_request = *bytes;
    uint64_t key = h.spi_i.value;
    auto& stored = by_spi_.emplace(key, std::move(h)).first->second;
    return stored.init_request;
}

inline const Bytes* BenchInitiator::pending(uint64_t n) const {
    for (const auto& [spi, h] : by_spi_) {
        if (h.n == n) return h.auth_sent ? &h.auth_request : &h.init_request;
    }
    return nullptr;
}

inline BenchInitiator::Step BenchInitiator::on_datagram(ByteView datagram) {
    auto msg = wire::parse_message(datagram);
    if (!msg || !msg->header.is_response()) return {};
    auto it = by_spi_.find(msg->header.spi_i.value);
    if (it == by_spi_.end()) return {};
    Handshake& h = it->second;
    Step s = msg->header.exchange == wire::ExchangeType::ike_sa_init
                 ? (h.auth_sent ? Step{} : on_init_response(h, *msg, datagram))
                 : on_auth_response(h, *msg, datagram);
    s.n = h.n;
    if (s.done || !s.failed.empty()) by_spi_.erase(it);
    return s;
}

inline BenchInitiator::Step BenchInitiator::on_init_response(Handshake& h, const wire::Message& msg,
                                                             ByteView datagram) {
    Step s;
    if (const auto* err = wire::first_error_notify(msg.payloads)) {
        s.failed = std::string("IKE_SA_INIT refused: ") + std::string(wire::name(err->type));
        return s;
    }
    const auto* ke = wire::find_first<wire::KePayload>(msg.payloads);
    const auto* nr = wire::find_first<wire::NoncePayload>(msg.payloads);
    if (!ke || !nr) {
        s.failed = "IKE_SA_INIT answer without KE or Nr";
        return s;
    }
    auto shared = ke_->shared_secret(ke->data);
    if (!shared) {
        s.failed = shared.error().message();
        return s;
    }
    h.spi_r = msg.header.spi_r;
    h.nr.assign(nr->data.begin(), nr->data.end());
    h.init_response.assign(datagram.begin(), datagram.end());
    auto keys =
        crypto::derive_ike_keys(prf_, shared->view(), h.ni, h.nr, h.spi_i, h.spi_r, {20, 0});
    if (!keys) {
        s.failed = keys.error().message();
        return s;
    }
    crypto::EncrSpec gcm{crypto::EncrAlg::aes_gcm_16, 128};
    h.seal.emplace(
        *crypto::SkCipher::create(gcm, crypto::IntegAlg::none, std::move(keys->sk_ei), {}));
    h.open.emplace(
        *crypto::SkCipher::create(gcm, crypto::IntegAlg::none, std::move(keys->sk_er), {}));
    h.sk_pr = std::move(keys->sk_pr);
    // HDR, SK {IDi, IDr, AUTH} -->   (childless, RFC 6023)
    ByteView local(reinterpret_cast<const uint8_t*>(id_.local_fqdn.data()), id_.local_fqdn.size());
    ByteView remote(reinterpret_cast<const uint8_t*>(id_.remote_fqdn.data()),
                    id_.remote_fqdn.size());
    Bytes idi_body = wire::id_body(wire::IdType::fqdn, local);
    auto maced = crypto::maced_id(prf_, keys->sk_pi.view(), idi_body);
    auto auth = crypto::psk_auth(prf_, id_.psk, h.init_request, h.nr, maced->view());
    wire::ChainBuilder chain;
    chain.add(wire::IdiPayload{.type = wire::IdType::fqdn, .data = local});
    chain.add(wire::IdrPayload{.type = wire::IdType::fqdn, .data = remote});
    chain.add(wire::AuthPayload{.method = wire::AuthMethod::shared_key_mic, .data = auth->view()});
    const auto first = chain.first_type();
    auto inner = chain.finish();
    wire::Header hdr{.spi_i = h.spi_i,
                     .spi_r = h.spi_r,
                     .exchange = wire::ExchangeType::ike_auth,
                     .message_id = MessageId{1}};
    hdr.set(wire::HeaderFlag::initiator);
    if (!wire::seal_sk(hdr, first, *inner, *h.seal, rng_, h.auth_request)) {
        s.failed = "cannot seal IKE_AUTH";
        return s;
    }
    h.auth_sent = true;
    s.send = h.auth_request;
    return s;
}

inline BenchInitiator::Step BenchInitiator::on_auth_response(Handshake& h, const wire::Message& msg,
                                                             ByteView datagram) {
    Step s;
    if (!h.auth_sent) return s;
    auto chain = wire::open_sk(datagram, msg, *h.open, plaintext_);
    if (!chain) return s;  // not authentic: ignore, as a real initiator would
    auto inner = wire::parse_payloads(chain->first, chain->chain);
    if (!inner) {
        s.failed = inner.error().message();
        return s;
    }
    const auto* idr = wire::find_first<wire::IdrPayload>(*inner);
    const auto* auth = wire::find_first<wire::AuthPayload>(*inner);
    if (!idr || !auth) {
        const auto* err = wire::first_error_notify(*inner);
        s.failed = std::string("IKE_AUTH refused: ") +
                   (err ? std::string(wire::name(err->type)) : "no AUTH");
        return s;
    }
    // Check the responder's AUTH as any initiator must (RFC 7296 2.15).
    auto maced = crypto::maced_id(prf_, h.sk_pr.view(), idr->body);
    auto expect = crypto::psk_auth(prf_, id_.psk, h.init_response, h.ni, maced->view());
    if (!expect || !std::equal(auth->data.begin(), auth->data.end(), expect->view().begin(),
                               expect->view().end())) {
        s.failed = "responder AUTH does not verify";
        return s;
    }
    s.done = true;
    return s;
}

}  // namespace ikemesh::bench
