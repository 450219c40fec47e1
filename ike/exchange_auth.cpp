// IKE_AUTH (RFC 7296 1.2, 2.15, 2.16; RFC 7427; RFC 6023), both roles.
//
//   HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, [N(INITIAL_CONTACT),]
//            [N(USE_TRANSPORT_MODE), SAi2, TSi, TSr]} -->
//                      <-- HDR, SK {IDr, [CERT,] AUTH, [N(USE_TRANSPORT_MODE), SAr2, TSi, TSr]}
// or, when only the CHILD SA fails:
//                      <-- HDR, SK {IDr, [CERT,] AUTH, N(NO_PROPOSAL_CHOSEN | TS_UNACCEPTABLE)}
// or, when authentication fails:
//                      <-- HDR, SK {N(AUTHENTICATION_FAILED)}
#include <spdlog/spdlog.h>

#include "crypto/certificate.hpp"
#include "ike/auth.hpp"
#include "ike/engine_impl.hpp"
#include "ike/timer_policy.hpp"

namespace ikemesh::ike {

using wire::NotifyType;

namespace {

wire::IdType id_type(IdKind k) {
    return static_cast<wire::IdType>(k);
}

Identity identity_of(wire::IdType type, ByteView data) {
    Identity id{.kind = static_cast<IdKind>(type), .data = Bytes(data.begin(), data.end())};
    if (auto addr = IpAddress::from_bytes(data);
        addr && (type == wire::IdType::ipv4_addr || type == wire::IdType::ipv6_addr)) {
        id.text = addr->to_string();
    } else if (type == wire::IdType::fqdn || type == wire::IdType::rfc822_addr) {
        id.text.assign(data.begin(), data.end());
    } else {
        id.text = to_hex(data);
    }
    return id;
}

std::vector<const wire::CertPayload*> cert_payloads(const wire::PayloadList& list) {
    auto all = wire::all_of<wire::CertPayload>(list);
    return {all.begin(), all.end()};
}

// Adds our ID payload (IDi or IDr) and, for certificate authentication, our CERT; returns the ID
// payload body that AUTH covers (IDx', RFC 7296 2.15).
template <typename IdPayload>
Bytes add_identity(wire::ChainBuilder& chain, const LocalConfig& local) {
    chain.add(IdPayload{.type = id_type(local.id.kind), .data = local.id.data});
    if (local.auth == AuthMethod::cert && local.cert) {
        chain.add(wire::CertPayload{.encoding = wire::CertEncoding::x509_signature,
                                    .data = local.cert->der()});
    }
    return wire::id_body(id_type(local.id.kind), local.id.data);
}

}  // namespace

// --- initiator ---------------------------------------------------------------------------------

void Engine::Impl::send_auth_request(IkeSa& sa, TimePoint now) {
    Peer& peer = *sa.peer;
    Setup& s = *sa.setup;
    const LocalConfig& local = cfg.local;
    wire::ChainBuilder chain;
    Bytes idi_body = add_identity<wire::IdiPayload>(chain, local);
    Bytes certreq;
    if (peer.cfg.auth == AuthMethod::cert) {
        // strongSwan sends its certificate only when asked (send_cert = ifasked).
        certreq = certreq_data(local);
        if (!certreq.empty()) {
            chain.add(wire::CertReqPayload{.encoding = wire::CertEncoding::x509_signature,
                                           .data = certreq});
        }
    }
    chain.add(wire::IdrPayload{.type = id_type(peer.cfg.id.kind), .data = peer.cfg.id.data});
    crypto::Prf prf(sa.suite.prf);
    AuthOctets octets{s.init_request, s.nr, idi_body, s.sk_pi.view()};
    auto auth = make_auth(prf, octets, local.auth == AuthMethod::psk ? peer.cfg.psk.get() : nullptr,
                          local, s.peer_sig_hashes);
    if (!auth) {
        delete_ike_sa(sa, auth.take_error(), now);
        return;
    }
    chain.add(wire::AuthPayload{.method = auth->method, .data = auth->data});
    // RFC 7296 2.4: INITIAL_CONTACT when we hold no other IKE SA with this peer.
    bool other = std::any_of(peer.sas.begin(), peer.sas.end(), [&](uint64_t id) {
        const IkeSa* o = find_sa(id);
        return o && o != &sa && o->state == IkeState::established;
    });
    if (!other) chain.add(wire::NotifyPayload{.type = NotifyType::initial_contact});

    std::array<uint8_t, 4> spi{};
    if (!peer.cfg.childless) {
        auto spi_in = deps.kernel.alloc_spi(peer.remote, peer.local_address, peer.reqid);
        if (!spi_in) {
            // Bring the IKE SA up anyway (RFC 6023); the CHILD SA is retried later.
            peer.child_error = spi_in.error().message();
            log->warn("{}cannot allocate SPI: {}", prefix(sa), peer.child_error);
        } else {
            s.child_spi_in = *spi_in;
            store_be32(spi.data(), spi_in->value);
            s.child_ts = allowed_selectors(peer.local_address, peer.remote, peer.cfg.traffic);
            chain.add(wire::NotifyPayload{.type = NotifyType::use_transport_mode});
            chain.add(esp_sa_payload(peer.cfg.esp, spi, false));
            chain.add(wire::TsiPayload{.selectors = s.child_ts.local});
            chain.add(wire::TsrPayload{.selectors = s.child_ts.remote});
        }
    }
    Request req{.task = Task::ike_auth, .id = MessageId{sa.next_out}};
    auto datagrams = protect(sa, wire::ExchangeType::ike_auth, req.id, false, chain);
    if (!datagrams) {
        delete_ike_sa(sa, datagrams.take_error(), now);
        return;
    }
    ++sa.next_out;
    req.datagrams = std::move(*datagrams);
    transmit_request(sa, std::move(req), now);
}

void Engine::Impl::on_auth_response(IkeSa& sa, const wire::PayloadList& inner, TimePoint now) {
    Peer& peer = *sa.peer;
    Setup& s = *sa.setup;
    const auto* idr = wire::find_first<wire::IdrPayload>(inner);
    const auto* auth = wire::find_first<wire::AuthPayload>(inner);
    if (!idr || !auth) {
        const auto* err = wire::first_error_notify(inner);
        std::string what = err ? std::string(wire::name(err->type)) : "no AUTH payload";
        delete_ike_sa(sa, Error{Errc::authentication_failed, "peer answered " + what}, now);
        return;
    }
    Identity claimed = identity_of(idr->type, idr->data);
    if (!(claimed == peer.cfg.id)) {
        delete_ike_sa(sa,
                      Error{Errc::identity_mismatch, "peer authenticated as " + claimed.text +
                                                         ", expected " + peer.cfg.id.text},
                      now);
        return;
    }
    crypto::Prf prf(sa.suite.prf);
    AuthOctets octets{s.init_response, s.ni, idr->body, s.sk_pr.view()};
    auto certs = cert_payloads(inner);
    if (Status st = verify_auth(prf, octets, *auth, peer.cfg, cfg.local, certs, deps.wall_clock());
        !st) {
        delete_ike_sa(sa, st.take_error(), now);
        return;
    }
    sa.initial_contact_seen = false;  // only a responder acts on INITIAL_CONTACT it receives

    // The first CHILD SA, negotiated before the IKE SA is declared up so that events come in
    // order (ike_up, then child_up).
    const EspSpi spi_in = s.child_spi_in;
    s.child_spi_in = EspSpi{};
    std::optional<uint64_t> child_id;
    std::optional<Error> child_error;
    if (spi_in.value != 0) {
        auto child = accept_child_answer(sa, inner, spi_in, s.child_ts, s.ni, s.nr, {}, false, now);
        if (child) {
            child_id = *child;
        } else {
            free_spi(peer, spi_in);
            child_error = child.take_error();
        }
    }
    sa.setup.reset();
    const uint64_t id = sa.id;
    ike_sa_established(sa, now);
    IkeSa* still = find_sa(id);
    if (!still) return;
    if (child_id) {
        if (ChildSa* c = find_child(*still, *child_id)) {
            peer.child_error.clear();
            emit(SaEvent::Kind::child_up, *still, c, "");
        }
    } else if (child_error) {
        child_failed(*still, *child_error, now);
    } else if (!peer.cfg.childless) {
        schedule_child_retry(*still, now);
    }
}

// --- responder ---------------------------------------------------------------------------------

void Engine::Impl::on_auth_request(IkeSa& sa, const wire::Header& h, const wire::PayloadList& inner,
                                   TimePoint now) {
    Setup& s = *sa.setup;
    auto refuse = [&](Error reason, Peer* peer) {
        log->warn("{}IKE_AUTH refused: {}", prefix(sa), reason.message());
        respond_notify(sa, h, NotifyType::authentication_failed);
        if (peer) peer->last_error = reason_text(reason);
        delete_ike_sa(sa, std::move(reason), now);
    };
    const auto& idi = must<wire::IdiPayload>(inner);
    Identity claimed = identity_of(idi.type, idi.data);
    Peer* peer = peer_by_identity(claimed);
    if (!peer)
        return refuse(Error{Errc::unknown_peer, "no peer with identity " + claimed.text}, nullptr);
    // Transport mode binds the SAs to the peer's address as our applications use it, so the
    // peer must come from one of its configured addresses, NAT or not: behind a NAT that is its
    // public address (an elastic IP, the masquerading router's), which is what `address` names.
    // The address it came from becomes the one in use.
    const size_t index = index_of(*peer, sa.remote.address);
    if (index == kNoAddress) {
        std::string configured;
        for (const IpAddress& a : peer->remotes)
            configured += (configured.empty() ? "" : " or ") + a.to_string();
        return refuse(Error{Errc::identity_mismatch,
                            claimed.text + " connected from " + sa.remote.address.to_string() +
                                ", configured " + configured +
                                (sa.nat_detected ? " (behind a NAT, `address` must be the "
                                                   "public address it is seen from)"
                                                 : "")},
                      peer);
    }
    // Without an address of our own towards the peer (no route to it) no CHILD SA or policy
    // could name our end; it comes up once a route appears (on_addresses_changed).
    if (peer->locals[index].empty()) {
        return refuse(Error{Errc::state_error, no_local_address_reason(*peer)}, peer);
    }
    if (wire::find_first<wire::EapPayload>(inner) || !wire::find_first<wire::AuthPayload>(inner)) {
        return refuse(Error{Errc::authentication_failed, "EAP is not supported"}, peer);
    }
    crypto::Prf prf(sa.suite.prf);
    AuthOctets theirs{s.init_request, s.nr, idi.body, s.sk_pi.view()};
    auto certs = cert_payloads(inner);
    if (Status st = verify_auth(prf, theirs, must<wire::AuthPayload>(inner), peer->cfg, cfg.local,
                                certs, deps.wall_clock());
        !st) {
        return refuse(st.take_error(), peer);
    }

    use_address(*peer, index, now, false);
    sa.peer = peer;
    peer->sas.push_back(sa.id);
    sa.initial_contact_seen = wire::has_notify(inner, NotifyType::initial_contact);

    const LocalConfig& local = cfg.local;
    wire::ChainBuilder out;
    Bytes idr_body = add_identity<wire::IdrPayload>(out, local);
    AuthOctets ours{s.init_response, s.ni, idr_body, s.sk_pr.view()};
    auto auth = make_auth(prf, ours, local.auth == AuthMethod::psk ? peer->cfg.psk.get() : nullptr,
                          local, s.peer_sig_hashes);
    if (!auth) return refuse(auth.take_error(), peer);
    out.add(wire::AuthPayload{.method = auth->method, .data = auth->data});

    std::optional<uint64_t> child_id;
    if (wire::find_first<wire::SaPayload>(inner)) {
        auto child = accept_child(sa, inner, s.ni, s.nr, {}, std::nullopt, true, false, now);
        if (child) {
            add_child_answer(out, *child, {}, nullptr);
            child_id = child->child_id;
        } else {
            peer->child_error = child.error().message();
            out.add(wire::NotifyPayload{.type = notify_for(child.error())});
        }
    }
    respond(sa, h.exchange, h.message_id, out);
    sa.setup.reset();
    const uint64_t id = sa.id;
    ike_sa_established(sa, now);
    IkeSa* still = find_sa(id);
    if (!still || !child_id) return;
    if (ChildSa* c = find_child(*still, *child_id)) {
        peer->child_error.clear();
        emit(SaEvent::Kind::child_up, *still, c, "");
    }
    // Without a CHILD SA in IKE_AUTH the initiator creates it itself later (RFC 6023).
}

// --- both --------------------------------------------------------------------------------------

void Engine::Impl::ike_sa_established(IkeSa& sa, TimePoint now) {
    Peer& peer = *sa.peer;
    sa.state = IkeState::established;
    sa.established_at = now;
    sa.last_heard = now;
    sa.expire_at = now + peer.cfg.ike_lifetime;
    sa.rekey_at = now + rekey_after(peer.cfg.ike_lifetime, peer.cfg.rekey_margin,
                                    peer.cfg.rekey_jitter, deps.rng);
    sa.dpd_at = peer.cfg.dpd_delay.count() > 0 ? now + peer.cfg.dpd_delay : kNever;
    arm_keepalive(sa, now);
    half_open.erase({sa.spi_i.value, sa.remote});
    peer.failures = 0;
    peer.last_error.clear();
    peer.start_at = kNever;
    ++counters.handshakes_completed;
    log->info("{}IKE SA established ({}) with {}", prefix(sa), sa.suite.name(),
              sa.remote.to_string());
    emit(SaEvent::Kind::ike_up, sa, nullptr, "");
    arm(sa);
    const uint64_t id = sa.id;
    if (sa.initial_contact_seen) apply_initial_contact(sa, now);
    resolve_duplicates(peer, now);
    if (IkeSa* still = find_sa(id)) start_next_request(*still, now);
}

}  // namespace ikemesh::ike
