// IKE_SA_INIT (RFC 7296 1.2, 2.6, 2.7, 2.23), both roles.
//
//   HDR, [N(COOKIE),] SAi1, KEi, Ni, N(NAT_DETECTION_*), N(FRAG), N(SIG_HASH), N(CHILDLESS) -->
//                         <-- HDR, SAr1, KEr, Nr, [CERTREQ,] N(NAT_DETECTION_*), N(FRAG), ...
// or, statelessly:        <-- HDR, N(COOKIE) | N(INVALID_KE_PAYLOAD) | N(NO_PROPOSAL_CHOSEN)
#include <spdlog/spdlog.h>

#include "crypto/hash.hpp"
#include "crypto/signature.hpp"
#include "ike/auth.hpp"
#include "ike/engine_impl.hpp"
#include "ike/timer_policy.hpp"
#include "ike/wire/rules.hpp"

namespace ikemesh::ike {

using wire::NotifyType;

namespace {

// NAT_DETECTION_*_IP data: SHA-1(SPIi | SPIr | IP | Port) with the SPIs of the message header
// (RFC 7296 2.23).
crypto::Sha1Digest nat_hash(IkeSpi spi_i, IkeSpi spi_r, const Endpoint& ep) {
    auto i = wire_bytes(spi_i);
    auto r = wire_bytes(spi_r);
    const uint8_t port[2] = {static_cast<uint8_t>(ep.port >> 8), static_cast<uint8_t>(ep.port)};
    return crypto::sha1({i, r, ep.address.bytes(), port});
}

// Our SIGNATURE_HASH_ALGORITHMS data (RFC 7427 4): 16-bit hash algorithm identifiers.
Bytes signature_hash_data() {
    Bytes out;
    ByteWriter w(out);
    for (crypto::SignatureHash h : crypto::announced_signature_hashes()) {
        w.u16(static_cast<uint16_t>(h));
    }
    return out;
}

std::vector<uint16_t> parse_hash_list(ByteView data) {
    std::vector<uint16_t> out;
    ByteReader r(data);
    while (r.remaining() >= 2)
        out.push_back(r.u16());
    return out;
}

// Records what the peer's IKE_SA_INIT tells about NATs, fragmentation and signature hashes.
// `local`/`remote` are the addresses the message actually travelled between.
void learn_from_init(IkeSa& sa, const wire::Message& msg, const Endpoint& local,
                     const Endpoint& remote) {
    const wire::Header& h = msg.header;
    bool local_natted = false, remote_natted = false, any = false;
    if (auto* dst = wire::find_notify(msg.payloads, NotifyType::nat_detection_destination_ip)) {
        any = true;
        auto expect = nat_hash(h.spi_i, h.spi_r, local);
        local_natted = !crypto::equal_consttime(expect, dst->data);
    }
    auto sources = wire::notifies(msg.payloads);
    bool source_seen = false, source_match = false;
    auto expect_src = nat_hash(h.spi_i, h.spi_r, remote);
    for (const wire::NotifyPayload* n : sources) {
        if (n->type != NotifyType::nat_detection_source_ip) continue;
        source_seen = true;
        source_match = source_match || crypto::equal_consttime(expect_src, n->data);
    }
    if (source_seen) {
        any = true;
        remote_natted = !source_match;
    }
    sa.nat_detected = any && (local_natted || remote_natted);
    sa.behind_nat = sa.nat_detected && local_natted;
    sa.peer_behind_nat = sa.nat_detected && remote_natted;
    sa.peer_fragmentation =
        wire::has_notify(msg.payloads, NotifyType::ikev2_fragmentation_supported);
    if (auto* sig = wire::find_notify(msg.payloads, NotifyType::signature_hash_algorithms)) {
        sa.setup->peer_sig_hashes = parse_hash_list(sig->data);
    }
}

Bytes copy(ByteView v) {
    return Bytes(v.begin(), v.end());
}

}  // namespace

// --- initiator ---------------------------------------------------------------------------------

void Engine::Impl::initiate_ike_sa(Peer& peer, TimePoint now) {
    initiate_on(peer, first_usable(peer, 0), now);
}

void Engine::Impl::initiate_on(Peer& peer, size_t index, TimePoint now) {
    if (index == kNoAddress) {
        // No retry of our own: on_addresses_changed starts the peer once a route appears.
        peer.last_error = no_local_address_reason(peer);
        return;
    }
    use_address(peer, index, now, false);
    IkeSa& sa = create_sa(true, &peer, Endpoint{peer.local_address, cfg.port},
                          Endpoint{peer.remote, peer.cfg.port}, now);
    ++counters.handshakes_started;
    auto ke = deps.kex.create(preferred_dh(peer.cfg.ike));
    if (!ke) {
        delete_ike_sa(sa, ke.take_error(), now);
        return;
    }
    sa.setup->ke = std::move(*ke);
    sa.setup->ni = random_bytes(kNonceSize);
    log->info("{}initiating IKE SA to {}", prefix(sa), sa.remote.to_string());
    send_init_request(sa, now);
}

void Engine::Impl::send_init_request(IkeSa& sa, TimePoint now) {
    Setup& s = *sa.setup;
    wire::Header h{.spi_i = sa.spi_i, .exchange = wire::ExchangeType::ike_sa_init};
    h.set(wire::HeaderFlag::initiator);
    wire::MessageBuilder b(h);
    if (!s.cookie.empty()) b.add(wire::NotifyPayload{.type = NotifyType::cookie, .data = s.cookie});
    b.add(ike_sa_payload(sa.peer->cfg.ike, {}));
    b.add(wire::KePayload{.group = s.ke->group(), .data = s.ke->public_key()});
    b.add(wire::NoncePayload{.data = s.ni});
    auto src = nat_hash(sa.spi_i, IkeSpi{}, sa.local);
    auto dst = nat_hash(sa.spi_i, IkeSpi{}, sa.remote);
    b.add(wire::NotifyPayload{.type = NotifyType::nat_detection_source_ip, .data = src});
    b.add(wire::NotifyPayload{.type = NotifyType::nat_detection_destination_ip, .data = dst});
    b.add(wire::NotifyPayload{.type = NotifyType::ikev2_fragmentation_supported});
    Bytes hashes = signature_hash_data();
    b.add(wire::NotifyPayload{.type = NotifyType::signature_hash_algorithms, .data = hashes});
    b.add(wire::NotifyPayload{.type = NotifyType::childless_ikev2_supported});
    auto bytes = b.finish();
    if (!bytes) {
        delete_ike_sa(sa, bytes.take_error(), now);
        return;
    }
    s.init_request = *bytes;
    Request req{.task = Task::ike_sa_init, .id = MessageId{0}};
    req.datagrams.push_back(std::move(*bytes));
    sa.next_out = 1;
    transmit_request(sa, std::move(req), now);
}

void Engine::Impl::on_init_response(IkeSa& sa, ByteView datagram, const wire::Message& msg,
                                    const Endpoint& local, const Endpoint& remote, TimePoint now) {
    // Unauthenticated: anything unusable is dropped and the retransmission timer keeps running,
    // so a forged answer cannot tear the attempt down (RFC 7296 2.21).
    if (!wire::check_payload_rules(wire::ExchangeType::ike_sa_init, true, msg.payloads)) {
        ++counters.messages_dropped;
        return;
    }
    Setup& s = *sa.setup;
    Peer& peer = *sa.peer;
    if (auto* cookie = wire::find_notify(msg.payloads, NotifyType::cookie)) {
        // RFC 7296 2.6: retry with the cookie as the first payload, all else unchanged.
        if (s.init_retries++ >= kMaxInitRetries || cookie->data.empty()) {
            delete_ike_sa(sa, Error{Errc::cookie_required, "responder keeps asking for cookies"},
                          now);
            return;
        }
        s.cookie = copy(cookie->data);
        sa.inflight.reset();
        send_init_request(sa, now);
        return;
    }
    if (auto* invalid = wire::find_notify(msg.payloads, NotifyType::invalid_ke_payload)) {
        // RFC 7296 1.2: retry with the group the responder asks for, if we offer it.
        ByteReader r(invalid->data);
        auto group = static_cast<crypto::DhGroup>(r.u16());
        if (!r.ok() || !offers_dh(peer.cfg.ike, group) || group == s.ke->group() ||
            s.init_retries++ >= kMaxInitRetries) {
            ++counters.messages_dropped;
            delete_ike_sa(sa,
                          Error{Errc::invalid_ke_payload,
                                "responder wants group " + std::to_string(static_cast<int>(group))},
                          now);
            return;
        }
        auto ke = deps.kex.create(group);
        if (!ke) {
            delete_ike_sa(sa, ke.take_error(), now);
            return;
        }
        log->info("{}responder asks for {}, retrying", prefix(sa), crypto::name(group));
        s.ke = std::move(*ke);
        sa.inflight.reset();
        send_init_request(sa, now);
        return;
    }
    if (auto* error = wire::first_error_notify(msg.payloads)) {
        std::string what(wire::name(error->type));
        if (what.empty()) what = "error " + std::to_string(static_cast<int>(error->type));
        Errc code = error->type == NotifyType::no_proposal_chosen ? Errc::no_proposal_chosen
                                                                  : Errc::state_error;
        delete_ike_sa(sa, Error{code, "peer answered " + what}, now);
        return;
    }
    if (msg.header.spi_r.is_zero()) {
        ++counters.messages_dropped;
        return;
    }
    auto choice = check_ike_response(must<wire::SaPayload>(msg.payloads), peer.cfg.ike);
    if (!choice) {
        delete_ike_sa(sa, choice.take_error(), now);
        return;
    }
    const auto& ke = must<wire::KePayload>(msg.payloads);
    if (ke.group != choice->suite.dh || ke.group != s.ke->group()) {
        delete_ike_sa(sa, Error{Errc::invalid_ke_payload, "KE group differs from the proposal"},
                      now);
        return;
    }
    auto shared = s.ke->shared_secret(ke.data);
    if (!shared) {
        delete_ike_sa(sa, shared.take_error(), now);
        return;
    }
    sa.spi_r = msg.header.spi_r;
    sa.suite = choice->suite;
    s.nr = copy(must<wire::NoncePayload>(msg.payloads).data);
    s.init_response = copy(datagram);
    if (Status st = derive_ike_sa_keys(sa, shared->view()); !st) {
        delete_ike_sa(sa, st.take_error(), now);
        return;
    }
    s.ke.reset();
    learn_from_init(sa, msg, local, remote);
    sa.inflight.reset();
    if (sa.nat_detected) {
        // RFC 7296 2.23: float to the NAT-T port for everything after IKE_SA_INIT.
        sa.natt = true;
        sa.local.port = cfg.port_natt;
        sa.remote.port = 4500;
    }
    send_auth_request(sa, now);
}

// --- responder ---------------------------------------------------------------------------------

void Engine::Impl::respond_stateless(const wire::Header& request, const Endpoint& local,
                                     const Endpoint& remote, NotifyType type, ByteView data) {
    wire::Header h{
        .spi_i = request.spi_i, .exchange = request.exchange, .message_id = request.message_id};
    h.set(wire::HeaderFlag::response);
    auto bytes =
        wire::MessageBuilder(h).add(wire::NotifyPayload{.type = type, .data = data}).finish();
    if (bytes) send_raw(local, remote, std::move(*bytes));
}

void Engine::Impl::rotate_cookie_secret(TimePoint now) {
    if (!cookie_current.secret.empty() && cookie_current.expires > now) return;
    cookie_previous = std::move(cookie_current);
    cookie_current.version = static_cast<uint8_t>(cookie_previous.version + 1);
    cookie_current.secret = random_bytes(32);
    cookie_current.expires = now + cfg.settings.cookie_secret_lifetime;
}

Bytes Engine::Impl::make_cookie(const wire::Header& h, ByteView ni, const Endpoint& remote,
                                uint8_t version) const {
    const CookieSecret& secret =
        version == cookie_current.version ? cookie_current : cookie_previous;
    // Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>) (RFC 7296 2.6), the hash
    // being HMAC-SHA-256 keyed with the secret.
    auto spi = wire_bytes(h.spi_i);
    const uint8_t port[2] = {static_cast<uint8_t>(remote.port >> 8),
                             static_cast<uint8_t>(remote.port)};
    Bytes out(1 + 32);
    out[0] = secret.version;
    crypto::Prf prf(crypto::PrfAlg::hmac_sha2_256);
    if (!prf.compute(secret.secret, {ni, remote.address.bytes(), port, spi},
                     std::span<uint8_t>(out).subspan(1))) {
        out.clear();
    }
    return out;
}

bool Engine::Impl::cookie_valid(const wire::Header& h, ByteView ni, const Endpoint& remote,
                                ByteView cookie) const {
    if (cookie.size() != 33 || cookie_current.secret.empty()) return false;
    const uint8_t version = cookie[0];
    if (version != cookie_current.version &&
        (version != cookie_previous.version || cookie_previous.secret.empty())) {
        return false;
    }
    Bytes expect = make_cookie(h, ni, remote, version);
    return crypto::equal_consttime(expect, cookie);
}

Status Engine::Impl::derive_ike_sa_keys(IkeSa& sa, ByteView shared_secret) {
    crypto::Prf prf(sa.suite.prf);
    auto encr_size = crypto::encr_key_size(sa.suite.encr);
    if (!encr_size) return Error{Errc::unsupported_algorithm, crypto::name(sa.suite.encr)};
    crypto::IkeKeySizes sizes{*encr_size, crypto::integ_key_size(sa.suite.integ)};
    auto keys = crypto::derive_ike_keys(prf, shared_secret, sa.setup->ni, sa.setup->nr, sa.spi_i,
                                        sa.spi_r, sizes);
    if (!keys) return keys.take_error();
    auto outbound = crypto::SkCipher::create(sa.suite.encr, sa.suite.integ,
                                             std::move(sa.initiator ? keys->sk_ei : keys->sk_er),
                                             std::move(sa.initiator ? keys->sk_ai : keys->sk_ar));
    auto inbound = crypto::SkCipher::create(sa.suite.encr, sa.suite.integ,
                                            std::move(sa.initiator ? keys->sk_er : keys->sk_ei),
                                            std::move(sa.initiator ? keys->sk_ar : keys->sk_ai));
    if (!outbound) return outbound.take_error();
    if (!inbound) return inbound.take_error();
    sa.seal.emplace(std::move(*outbound));
    sa.open.emplace(std::move(*inbound));
    sa.sk_d = std::move(keys->sk_d);
    sa.setup->sk_pi = std::move(keys->sk_pi);
    sa.setup->sk_pr = std::move(keys->sk_pr);
    return {};
}

void Engine::Impl::on_init_request(ByteView datagram, const wire::Message& msg,
                                   const Endpoint& local, const Endpoint& remote, TimePoint now) {
    const wire::Header& h = msg.header;
    // A retransmitted request is answered from the half-open SA's cache.
    if (auto it = half_open.find({h.spi_i.value, remote}); it != half_open.end()) {
        IkeSa* sa = find_sa(it->second);
        if (sa && sa->setup && sa->setup->init_request.size() == datagram.size() &&
            std::equal(datagram.begin(), datagram.end(), sa->setup->init_request.begin())) {
            for (const Bytes& d : sa->cached_response)
                send_raw(local, remote, d);
            ++counters.retransmissions;
        } else {
            ++counters.messages_dropped;
        }
        return;
    }
    if (!wire::check_payload_rules(wire::ExchangeType::ike_sa_init, false, msg.payloads)) {
        ++counters.messages_dropped;
        return;
    }
    if (shutting_down) return;
    const auto& sa_offer = must<wire::SaPayload>(msg.payloads);
    const auto& ke = must<wire::KePayload>(msg.payloads);
    const auto& ni = must<wire::NoncePayload>(msg.payloads);
    Peer* peer = peer_by_address(remote.address);
    const std::vector<IkeProposal>& proposals = peer ? peer->cfg.ike : all_ike_proposals;
    if (proposals.empty()) {
        ++counters.messages_dropped;
        return;
    }

    // RFC 7296 2.6: above the half-open threshold, demand proof of return routability first.
    if (half_open.size() >= cfg.settings.cookie_threshold) {
        rotate_cookie_secret(now);
        auto* cookie = wire::find_notify(msg.payloads, NotifyType::cookie);
        if (!cookie || !cookie_valid(h, ni.data, remote, cookie->data)) {
            ++counters.cookies_sent;
            Bytes c = make_cookie(h, ni.data, remote, cookie_current.version);
            respond_stateless(h, local, remote, NotifyType::cookie, c);
            return;
        }
    }
    auto choice = select_ike(sa_offer, proposals, ke.group);
    if (!choice) {
        ++counters.handshakes_failed[errc_name(Errc::no_proposal_chosen)];
        log->warn("IKE_SA_INIT from {}: {}", remote.to_string(), choice.error().message());
        respond_stateless(h, local, remote, NotifyType::no_proposal_chosen, {});
        return;
    }
    if (ke.group != choice->suite.dh) {
        respond_stateless(h, local, remote, NotifyType::invalid_ke_payload,
                          wire_bytes(choice->suite.dh));
        return;
    }
    auto our_ke = deps.kex.create(choice->suite.dh);
    if (!our_ke) return;
    auto shared = (*our_ke)->shared_secret(ke.data);
    if (!shared) {
        // RFC 6989 / RFC 7296 3.4: an invalid public value ends the attempt.
        ++counters.messages_dropped;
        log->warn("IKE_SA_INIT from {}: {}", remote.to_string(), shared.error().message());
        return;
    }

    IkeSa& sa = create_sa(false, nullptr, local, remote, now);
    ++counters.handshakes_started;
    sa.spi_i = h.spi_i;
    sa.suite = choice->suite;
    Setup& s = *sa.setup;
    s.ni = copy(ni.data);
    s.nr = random_bytes(kNonceSize);
    s.init_request = copy(datagram);
    if (Status st = derive_ike_sa_keys(sa, shared->view()); !st) {
        log->error("{}key derivation failed: {}", prefix(sa), st.error().message());
        forget_sa(sa.id);
        return;
    }
    learn_from_init(sa, msg, local, remote);
    if (local.port == cfg.port_natt) sa.natt = true;
    half_open[{h.spi_i.value, remote}] = sa.id;

    wire::Header rh{
        .spi_i = sa.spi_i, .spi_r = sa.spi_r, .exchange = h.exchange, .message_id = h.message_id};
    rh.set(wire::HeaderFlag::response);
    wire::MessageBuilder b(rh);
    b.add(ike_sa_response(*choice, {}));
    b.add(wire::KePayload{.group = (*our_ke)->group(), .data = (*our_ke)->public_key()});
    b.add(wire::NoncePayload{.data = s.nr});
    auto src = nat_hash(sa.spi_i, sa.spi_r, local);
    auto dst = nat_hash(sa.spi_i, sa.spi_r, remote);
    b.add(wire::NotifyPayload{.type = NotifyType::nat_detection_source_ip, .data = src});
    b.add(wire::NotifyPayload{.type = NotifyType::nat_detection_destination_ip, .data = dst});
    if (sa.peer_fragmentation) {
        b.add(wire::NotifyPayload{.type = NotifyType::ikev2_fragmentation_supported});
    }
    Bytes hashes = signature_hash_data();
    b.add(wire::NotifyPayload{.type = NotifyType::signature_hash_algorithms, .data = hashes});
    Bytes certreq;
    if (cfg.local.auth == AuthMethod::cert) {
        certreq = certreq_data(cfg.local);
        if (!certreq.empty()) {
            b.add(wire::CertReqPayload{.encoding = wire::CertEncoding::x509_signature,
                                       .data = certreq});
        }
    }
    if (wire::has_notify(msg.payloads, NotifyType::childless_ikev2_supported)) {
        b.add(wire::NotifyPayload{.type = NotifyType::childless_ikev2_supported});
    }
    auto bytes = b.finish();
    if (!bytes) {
        forget_sa(sa.id);
        return;
    }
    s.init_response = *bytes;
    sa.cached_id = MessageId{0};
    sa.cached_response.assign(1, std::move(*bytes));
    sa.next_in = 1;
    send(sa, sa.cached_response.front());
    sa.expire_at = now + cfg.settings.half_open_timeout;
    arm(sa);
}

}  // namespace ikemesh::ike
