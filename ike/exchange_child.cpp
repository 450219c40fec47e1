// CREATE_CHILD_SA (RFC 7296 1.3, 2.8, 2.8.1, 2.8.2, 2.25): a new CHILD SA, a CHILD SA rekey
// and an IKE SA rekey, both roles, with simultaneous rekeys resolved by the nonce rule.
//
// New or rekeyed CHILD SA:
//   HDR, SK {[N(REKEY_SA),] SA, Ni, [KEi,] TSi, TSr, N(USE_TRANSPORT_MODE)} -->
//                           <-- HDR, SK {SA, Nr, [KEr,] TSi, TSr, N(USE_TRANSPORT_MODE)}
// IKE SA rekey:
//   HDR, SK {SA, Ni, KEi} -->
//                           <-- HDR, SK {SA, Nr, KEr}
// Refusals:                 <-- HDR, SK {N(NO_PROPOSAL_CHOSEN | TS_UNACCEPTABLE |
//                                         INVALID_KE_PAYLOAD | CHILD_SA_NOT_FOUND |
//                                         TEMPORARY_FAILURE | NO_ADDITIONAL_SAS)}
#include <spdlog/spdlog.h>

#include <algorithm>

#include "ike/engine_impl.hpp"
#include "ike/timer_policy.hpp"

namespace ikemesh::ike {

using wire::NotifyType;

namespace {

constexpr size_t kMaxChildrenPerIkeSa = 4;  // one in a mesh; a few more during rekeys

// RFC 7296 2.8.1: nonces compare as unsigned byte strings; the smaller of an exchange's two
// nonces stands for the exchange.
ByteView min_nonce(ByteView a, ByteView b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end()) ? a : b;
}
bool nonce_less(ByteView a, ByteView b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

Bytes copy(ByteView v) {
    return Bytes(v.begin(), v.end());
}

uint64_t load_be64(ByteView b) {
    ByteReader r(b);
    return r.u64();
}

crypto::DhGroup pfs_group(const PeerConfig& pc) {
    for (const EspProposal& p : pc.esp) {
        if (!p.dh.empty()) return p.dh.front();
    }
    return crypto::DhGroup::none;
}

}  // namespace

// --- initiator: new CHILD SA or CHILD SA rekey -----------------------------------------------

std::optional<Request> Engine::Impl::build_create_child(IkeSa& sa, const Intent& intent,
                                                        wire::ChainBuilder& chain, TimePoint now) {
    Peer& peer = *sa.peer;
    ChildSa* old = nullptr;
    if (intent.task == Task::rekey_child) {
        old = find_child(sa, intent.child_id);
        if (!old || old->state != ChildState::installed) return std::nullopt;
    } else if (!sa.children.empty() || peer.cfg.childless) {
        return std::nullopt;  // the CHILD SA came up meanwhile
    }
    auto spi_in = deps.kernel.alloc_spi(peer.remote, peer.local_address, peer.reqid);
    if (!spi_in) {
        if (old) {
            old->rekey_at = now + kRekeyRetry;
            arm(sa);
        } else {
            child_failed(sa, spi_in.take_error(), now);
        }
        return std::nullopt;
    }
    Request req{.task = intent.task};
    req.child_id = intent.child_id;
    req.new_spi_in = *spi_in;
    req.nonce = random_bytes(kNonceSize);
    if (crypto::DhGroup g = pfs_group(peer.cfg); g != crypto::DhGroup::none) {
        auto ke = deps.kex.create(g);
        if (!ke) {
            free_spi(peer, *spi_in);
            child_failed(sa, ke.take_error(), now);
            return std::nullopt;
        }
        req.ke = std::move(*ke);
    }
    std::array<uint8_t, 4> spi{}, old_spi{};
    store_be32(spi.data(), spi_in->value);
    if (old) {
        old->state = ChildState::rekeying;
        store_be32(old_spi.data(), old->spi_in.value);
        chain.add(wire::NotifyPayload{
            .protocol = wire::ProtocolId::esp, .spi = old_spi, .type = NotifyType::rekey_sa});
    }
    chain.add(esp_sa_payload(peer.cfg.esp, spi, req.ke != nullptr));
    chain.add(wire::NoncePayload{.data = req.nonce});
    if (req.ke) chain.add(wire::KePayload{.group = req.ke->group(), .data = req.ke->public_key()});
    req.ts = old ? old->ts : allowed_selectors(peer.local_address, peer.remote, peer.cfg.traffic);
    chain.add(wire::TsiPayload{.selectors = req.ts.local});
    chain.add(wire::TsrPayload{.selectors = req.ts.remote});
    chain.add(wire::NotifyPayload{.type = NotifyType::use_transport_mode});
    return req;
}

void Engine::Impl::on_create_child_response(IkeSa& sa, Request& req, const wire::PayloadList& inner,
                                            TimePoint now) {
    Peer& peer = *sa.peer;
    ChildSa* old = req.task == Task::rekey_child ? find_child(sa, req.child_id) : nullptr;
    if (old && old->state != ChildState::rekeying) old = nullptr;  // deleted meanwhile
    auto abandon = [&](const Error& e) {
        free_spi(peer, req.new_spi_in);
        if (old) {
            if (old->collision_child) {
                // RFC 7296 2.8.1: our rekey failed while the peer's rekey of the same SA
                // succeeded; the peer's new CHILD SA takes over and the peer deletes the old one.
                old->state = ChildState::rekeyed;
                old->replaced_by = old->collision_child;
                return;
            }
            old->state = ChildState::installed;
            old->rekey_at = now + kRekeyRetry;
            arm(sa);
            log->warn("{}CHILD SA rekey failed: {}", prefix(sa), e.message());
        } else {
            child_failed(sa, e, now);
        }
    };
    if (const auto* err = wire::first_error_notify(inner)) {
        if (err->type == NotifyType::child_sa_not_found && old) {
            // The peer no longer has it: drop ours and start afresh.
            free_spi(peer, req.new_spi_in);
            remove_child(sa, old->id, "peer no longer has this CHILD SA");
            if (sa.children.empty()) schedule_child_retry(sa, now);
            return;
        }
        std::string what(wire::name(err->type));
        return abandon(Error{Errc::child_sa_failed, "peer answered " + what});
    }
    crypto::SecretBytes shared;
    if (req.ke) {
        const auto* ke = wire::find_first<wire::KePayload>(inner);
        if (!ke || ke->group != req.ke->group()) {
            return abandon(Error{Errc::invalid_ke_payload, "responder's KE does not match"});
        }
        auto s = req.ke->shared_secret(ke->data);
        if (!s) return abandon(s.take_error());
        shared = std::move(*s);
    }
    ByteView nr = must<wire::NoncePayload>(inner).data;
    auto child = accept_child_answer(sa, inner, req.new_spi_in, req.ts, req.nonce, nr,
                                     shared.view(), req.ke != nullptr, now);
    if (!child) return abandon(child.take_error());
    ChildSa* fresh = find_child(sa, *child);
    old = req.task == Task::rekey_child ? find_child(sa, req.child_id) : nullptr;
    if (!old || old->state != ChildState::rekeying) {
        peer.child_error.clear();
        emit(SaEvent::Kind::child_up, sa, fresh, "");
        return;
    }
    ++counters.child_rekeys;
    if (old->collision_child) {
        if (nonce_less(min_nonce(req.nonce, nr), old->collision_nonce)) {
            // We lost the collision: our new CHILD SA is redundant and we delete it; the
            // peer's stays and the peer deletes the old one.
            std::vector<EspSpi> spis{fresh->spi_in};
            old->state = ChildState::rekeyed;
            old->replaced_by = old->collision_child;
            remove_child(sa, fresh->id, "redundant after rekey collision");
            queue_intent(sa, Intent{.task = Task::delete_child, .spis = std::move(spis)}, now);
            return;
        }
        // We won: the peer deletes the CHILD SA it created; never send traffic on it.
        if (ChildSa* theirs = find_child(sa, old->collision_child)) {
            theirs->pending_outbound_at = kNever;
            theirs->rekey_at = kNever;
        }
    }
    old->state = ChildState::rekeyed;
    old->replaced_by = fresh->id;
    old->rekey_at = kNever;
    emit(SaEvent::Kind::child_rekeyed, sa, fresh, "replaces " + to_hex(old->spi_in));
    // The old pair stays until the peer confirms the Delete, so packets in flight on it arrive.
    queue_intent(sa, Intent{.task = Task::delete_child, .spis = {old->spi_in}}, now);
}

// --- initiator: IKE SA rekey -------------------------------------------------------------------

std::optional<Request> Engine::Impl::build_rekey_ike(IkeSa& sa, wire::ChainBuilder& chain) {
    if (sa.replaced_by != 0) return std::nullopt;
    Peer& peer = *sa.peer;
    crypto::DhGroup group =
        sa.rekey_group != crypto::DhGroup::none ? sa.rekey_group : preferred_dh(peer.cfg.ike);
    auto ke = deps.kex.create(group);
    if (!ke) return std::nullopt;
    Request req{.task = Task::rekey_ike};
    req.ke = std::move(*ke);
    req.nonce = random_bytes(kNonceSize);
    req.new_ike_spi = IkeSpi{random_spi()};
    const auto spi = wire_bytes(req.new_ike_spi);
    chain.add(ike_sa_payload(peer.cfg.ike, spi));
    chain.add(wire::NoncePayload{.data = req.nonce});
    chain.add(wire::KePayload{.group = req.ke->group(), .data = req.ke->public_key()});
    return req;
}

Status Engine::Impl::derive_rekeyed(IkeSa& old, IkeSa& fresh, ByteView shared, ByteView ni,
                                    ByteView nr) {
    crypto::Prf prf(fresh.suite.prf);
    auto encr = crypto::encr_key_size(fresh.suite.encr);
    if (!encr) return Error{Errc::unsupported_algorithm, crypto::name(fresh.suite.encr)};
    crypto::IkeKeySizes sizes{*encr, crypto::integ_key_size(fresh.suite.integ)};
    auto keys = crypto::derive_rekeyed_ike_keys(prf, old.sk_d.view(), shared, ni, nr, fresh.spi_i,
                                                fresh.spi_r, sizes);
    if (!keys) return keys.take_error();
    const bool i = fresh.initiator;
    auto seal = crypto::SkCipher::create(fresh.suite.encr, fresh.suite.integ,
                                         std::move(i ? keys->sk_ei : keys->sk_er),
                                         std::move(i ? keys->sk_ai : keys->sk_ar));
    auto open = crypto::SkCipher::create(fresh.suite.encr, fresh.suite.integ,
                                         std::move(i ? keys->sk_er : keys->sk_ei),
                                         std::move(i ? keys->sk_ar : keys->sk_ai));
    if (!seal) return seal.take_error();
    if (!open) return open.take_error();
    fresh.seal.emplace(std::move(*seal));
    fresh.open.emplace(std::move(*open));
    fresh.sk_d = std::move(keys->sk_d);
    return {};
}

IkeSa& Engine::Impl::create_rekeyed_sa(IkeSa& old, bool initiator, uint64_t id, TimePoint now) {
    IkeSa& fresh = create_sa(initiator, old.peer, old.local, old.remote, now, id);
    fresh.setup.reset();
    fresh.natt = old.natt;
    fresh.nat_detected = old.nat_detected;
    fresh.behind_nat = old.behind_nat;
    fresh.peer_behind_nat = old.peer_behind_nat;
    fresh.peer_fragmentation = old.peer_fragmentation;
    return fresh;
}

void Engine::Impl::rekeyed_sa_up(IkeSa& fresh, TimePoint now) {
    const PeerConfig& pc = fresh.peer->cfg;
    fresh.state = IkeState::established;
    fresh.established_at = now;
    fresh.last_heard = now;
    fresh.expire_at = now + pc.ike_lifetime;
    fresh.rekey_at = now + rekey_after(pc.ike_lifetime, pc.rekey_margin, pc.rekey_jitter, deps.rng);
    fresh.dpd_at = pc.dpd_delay.count() > 0 ? now + pc.dpd_delay : kNever;
    arm_keepalive(fresh, now);
    arm(fresh);
}

void Engine::Impl::adopt_rekeyed(IkeSa& old, IkeSa& fresh, TimePoint now) {
    for (ChildSa& c : old.children)
        fresh.children.push_back(std::move(c));
    old.children.clear();
    fresh.child_retry_at = old.child_retry_at;
    fresh.child_failures = old.child_failures;
    old.state = IkeState::rekeyed;
    old.replaced_by = fresh.id;
    old.rekey_at = old.dpd_at = old.child_retry_at = old.keepalive_at = kNever;
    // The initiator of the rekey deletes the old SA; should that never happen, drop it quietly.
    old.expire_at = now + retransmit_give_up_after(cfg.settings);
    ++counters.ike_rekeys;
    emit(SaEvent::Kind::ike_rekeyed, fresh, nullptr,
         "replaces " + to_hex(old.spi_i) + ":" + to_hex(old.spi_r));
    arm(old);
    arm(fresh);
}

void Engine::Impl::on_rekey_ike_response(IkeSa& sa, Request& req, const wire::PayloadList& inner,
                                         TimePoint now) {
    Peer& peer = *sa.peer;
    auto retry_later = [&](const std::string& why) {
        log->warn("{}IKE SA rekey failed: {}", prefix(sa), why);
        if (IkeSa* theirs = sa.collision_sa ? find_sa(sa.collision_sa) : nullptr) {
            // The peer's simultaneous rekey succeeded: its new SA takes over (RFC 7296 2.8.2).
            adopt_rekeyed(sa, *theirs, now);
            return;
        }
        sa.rekey_at = now + kRekeyRetry;
        arm(sa);
    };
    if (const auto* err = wire::first_error_notify(inner)) {
        if (err->type == NotifyType::invalid_ke_payload && err->data.size() == 2) {
            auto g = static_cast<crypto::DhGroup>(load_be16(err->data.data()));
            if (offers_dh(peer.cfg.ike, g) && g != req.ke->group()) {
                sa.rekey_group = g;
                queue_intent(sa, Intent{.task = Task::rekey_ike}, now);
                return;
            }
        }
        return retry_later("peer answered " + std::string(wire::name(err->type)));
    }
    const auto* sa_payload = wire::find_first<wire::SaPayload>(inner);
    const auto* ke = wire::find_first<wire::KePayload>(inner);
    if (!sa_payload || !ke) return retry_later("incomplete answer");
    auto choice = check_ike_response(*sa_payload, peer.cfg.ike);
    if (!choice) return retry_later(choice.error().message());
    if (choice->spi.size() != 8 || ke->group != req.ke->group() ||
        choice->suite.dh != req.ke->group()) {
        return retry_later("answer does not match the request");
    }
    auto shared = req.ke->shared_secret(ke->data);
    if (!shared) return retry_later(shared.error().message());
    ByteView nr = must<wire::NoncePayload>(inner).data;

    IkeSa& fresh = create_rekeyed_sa(sa, true, req.new_ike_spi.value, now);
    fresh.spi_r = IkeSpi{load_be64(choice->spi)};
    fresh.suite = choice->suite;
    if (Status st = derive_rekeyed(sa, fresh, shared->view(), req.nonce, nr); !st) {
        forget_sa(fresh.id);
        return retry_later(st.error().message());
    }
    rekeyed_sa_up(fresh, now);
    if (sa.collision_sa) {
        IkeSa* theirs = find_sa(sa.collision_sa);
        if (nonce_less(min_nonce(req.nonce, nr), sa.collision_nonce)) {
            // We lost: our new SA is redundant and we delete it; the peer deletes the old one.
            if (theirs) adopt_rekeyed(sa, *theirs, now);
            begin_delete(fresh,
                         Error{Errc::rekey_collision_lost, "redundant after rekey collision"}, now);
            return;
        }
        // We won: the peer deletes the SA it created (no CHILD SA ever moves to it).
    }
    adopt_rekeyed(sa, fresh, now);
    queue_intent(sa, Intent{.task = Task::delete_ike}, now);
}

// --- responder ---------------------------------------------------------------------------------

void Engine::Impl::on_create_child_request(IkeSa& sa, const wire::Header& h,
                                           const wire::PayloadList& inner, TimePoint now) {
    auto refuse = [&](NotifyType type, ByteView data = {}) { respond_notify(sa, h, type, data); };
    // RFC 7296 2.25: an SA on its way out takes no new work.
    if (sa.state != IkeState::established || sa.replaced_by != 0) {
        return refuse(NotifyType::temporary_failure);
    }
    const auto& offer = must<wire::SaPayload>(inner);
    if (!offer.proposals.empty() && offer.proposals.front().protocol == wire::ProtocolId::ike) {
        on_rekey_ike_request(sa, h, inner, now);
        return;
    }
    Peer& peer = *sa.peer;
    ChildSa* old = nullptr;
    if (const auto* rekey = wire::find_notify(inner, NotifyType::rekey_sa)) {
        if (rekey->spi.size() != 4) return refuse(NotifyType::invalid_syntax);
        old = child_by_spi_out(sa, EspSpi{load_be32(rekey->spi.data())});
        if (!old) return refuse(NotifyType::child_sa_not_found);
        if (old->state == ChildState::rekeyed || old->state == ChildState::deleting) {
            return refuse(NotifyType::temporary_failure);
        }
    } else if (sa.children.size() >= kMaxChildrenPerIkeSa) {
        return refuse(NotifyType::no_additional_sas);
    }
    std::unique_ptr<crypto::KeyExchange> our_ke;
    crypto::SecretBytes shared;
    std::optional<crypto::DhGroup> group;
    if (const auto* ke = wire::find_first<wire::KePayload>(inner)) {
        crypto::DhGroup want = pfs_group(peer.cfg);
        bool acceptable =
            std::any_of(peer.cfg.esp.begin(), peer.cfg.esp.end(), [&](const EspProposal& p) {
                return std::find(p.dh.begin(), p.dh.end(), ke->group) != p.dh.end();
            });
        if (!acceptable) {
            if (want == crypto::DhGroup::none) return refuse(NotifyType::no_proposal_chosen);
            return refuse(NotifyType::invalid_ke_payload, wire_bytes(want));
        }
        auto k = deps.kex.create(ke->group);
        if (!k) return refuse(NotifyType::no_proposal_chosen);
        auto s = (*k)->shared_secret(ke->data);
        if (!s) return refuse(NotifyType::invalid_syntax);
        our_ke = std::move(*k);
        shared = std::move(*s);
        group = ke->group;
    }
    Bytes nr = random_bytes(kNonceSize);
    ByteView ni = must<wire::NoncePayload>(inner).data;
    auto child = accept_child(sa, inner, ni, nr, shared.view(), group, false, old != nullptr, now);
    if (!child) {
        log->warn("{}CHILD SA refused: {}", prefix(sa), child.error().message());
        peer.child_error = child.error().message();
        return refuse(notify_for(child.error()));
    }
    wire::ChainBuilder out;
    add_child_answer(out, *child, nr, our_ke.get());
    respond(sa, h.exchange, h.message_id, out);
    ChildSa* fresh = find_child(sa, child->child_id);
    if (!fresh) return;
    // `old` may have moved when the new child was appended to the vector: look it up again.
    old =
        old ? child_by_spi_out(
                  sa, EspSpi{load_be32(wire::find_notify(inner, NotifyType::rekey_sa)->spi.data())})
            : nullptr;
    if (!old) {
        peer.child_error.clear();
        emit(SaEvent::Kind::child_up, sa, fresh, "");
        return;
    }
    ++counters.child_rekeys;
    if (old->state == ChildState::rekeying) {
        // RFC 7296 2.8.1 collision: our own rekey of the same CHILD SA is in flight. Which of the
        // two new SAs survives is decided when our response arrives.
        old->collision_child = fresh->id;
        old->collision_nonce = copy(min_nonce(ni, nr));
    } else {
        old->replaced_by = fresh->id;
    }
    emit(SaEvent::Kind::child_rekeyed, sa, fresh, "replaces " + to_hex(old->spi_in));
}

void Engine::Impl::on_rekey_ike_request(IkeSa& sa, const wire::Header& h,
                                        const wire::PayloadList& inner, TimePoint now) {
    auto refuse = [&](NotifyType type, ByteView data = {}) { respond_notify(sa, h, type, data); };
    Peer& peer = *sa.peer;
    const auto* ke = wire::find_first<wire::KePayload>(inner);
    if (!ke) return refuse(NotifyType::invalid_syntax);
    auto choice = select_ike(must<wire::SaPayload>(inner), peer.cfg.ike, ke->group);
    if (!choice) return refuse(NotifyType::no_proposal_chosen);
    if (choice->spi.size() != 8) return refuse(NotifyType::invalid_syntax);
    if (ke->group != choice->suite.dh) {
        return refuse(NotifyType::invalid_ke_payload, wire_bytes(choice->suite.dh));
    }
    auto our_ke = deps.kex.create(choice->suite.dh);
    if (!our_ke) return refuse(NotifyType::no_proposal_chosen);
    auto shared = (*our_ke)->shared_secret(ke->data);
    if (!shared) return refuse(NotifyType::invalid_syntax);
    Bytes nr = random_bytes(kNonceSize);
    ByteView ni = must<wire::NoncePayload>(inner).data;

    IkeSa& fresh = create_rekeyed_sa(sa, false, 0, now);
    fresh.spi_i = IkeSpi{load_be64(choice->spi)};
    fresh.suite = choice->suite;
    if (Status st = derive_rekeyed(sa, fresh, shared->view(), ni, nr); !st) {
        forget_sa(fresh.id);
        return refuse(NotifyType::no_proposal_chosen);
    }
    const auto spi = wire_bytes(fresh.spi_r);
    wire::ChainBuilder out;
    out.add(ike_sa_response(*choice, spi));
    out.add(wire::NoncePayload{.data = nr});
    out.add(wire::KePayload{.group = (*our_ke)->group(), .data = (*our_ke)->public_key()});
    respond(sa, h.exchange, h.message_id, out);
    rekeyed_sa_up(fresh, now);
    if (sa.inflight && sa.inflight->task == Task::rekey_ike) {
        // RFC 7296 2.8.2 collision: decided when the response to our own rekey arrives.
        sa.collision_sa = fresh.id;
        sa.collision_nonce = copy(min_nonce(ni, nr));
        return;
    }
    adopt_rekeyed(sa, fresh, now);
}

}  // namespace ikemesh::ike
