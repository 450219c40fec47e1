// CHILD SAs: negotiation halves shared by IKE_AUTH and CREATE_CHILD_SA, keying material
// (RFC 7296 2.17) and the kernel state of each CHILD SA (one inbound and one outbound ESP SA in
// transport mode, bound to the peer's policies by its reqid).
#include <spdlog/spdlog.h>

#include "ike/engine_impl.hpp"
#include "ike/timer_policy.hpp"

namespace ikemesh::ike {

using wire::NotifyType;

namespace {

std::optional<kernel::Selector> single_selector(const TsPair& ts, bool inbound) {
    if (ts.local.size() != 1 || ts.remote.size() != 1) return std::nullopt;
    const auto& l = ts.local.front();
    const auto& r = ts.remote.front();
    if (l.ip_protocol == 0 && r.ip_protocol == 0) return std::nullopt;
    auto port = [](const wire::TrafficSelector& t) -> uint16_t {
        return t.start_port == t.end_port ? t.start_port : 0;
    };
    const auto& src = inbound ? r : l;
    const auto& dst = inbound ? l : r;
    return kernel::Selector::host_to_host(src.start_address, dst.start_address,
                                          l.ip_protocol ? l.ip_protocol : r.ip_protocol, port(src),
                                          port(dst));
}

// Transport-mode selectors across a NAT (RFC 7296 2.23.1) name each host by the address its
// sender sees; these translate them to our view (our address, the peer's configured one) and
// back to the peer's (the addresses of its offer), keeping protocols and ports.
TsPair in_our_view(TsPair ts, const IpAddress& local, const IpAddress& remote) {
    for (auto& s : ts.local)
        s.start_address = s.end_address = local;
    for (auto& s : ts.remote)
        s.start_address = s.end_address = remote;
    return ts;
}

TsPair in_peer_view(TsPair ts, const TsPair& offered) {
    auto rename = [](Selectors& list, const Selectors& as) {
        if (as.empty()) return;
        for (auto& s : list) {
            s.start_address = as.front().start_address;
            s.end_address = as.front().end_address;
        }
    };
    rename(ts.local, offered.local);
    rename(ts.remote, offered.remote);
    return ts;
}

}  // namespace

wire::NotifyType Engine::Impl::notify_for(const Error& e) {
    if (e.is(Errc::ts_unacceptable)) return NotifyType::ts_unacceptable;
    if (e.is(Errc::invalid_ke_payload)) return NotifyType::invalid_ke_payload;
    return NotifyType::no_proposal_chosen;
}

Result<Engine::Impl::ChildKeys> Engine::Impl::child_keys(const IkeSa& sa, const EspSuite& suite,
                                                         ByteView shared, ByteView ni,
                                                         ByteView nr) {
    auto encr = crypto::encr_key_size(suite.encr);
    if (!encr) return Error{Errc::unsupported_algorithm, crypto::name(suite.encr)};
    const size_t integ = crypto::integ_key_size(suite.integ);
    crypto::Prf prf(sa.suite.prf);
    auto keymat =
        crypto::derive_child_keymat(prf, sa.sk_d.view(), shared, ni, nr, 2 * (*encr + integ));
    if (!keymat) return keymat.take_error();
    // RFC 7296 2.17: initiator-to-responder keys first (encryption, then integrity).
    ChildKeys k;
    k.encr_i = keymat->slice(0, *encr);
    k.integ_i = keymat->slice(*encr, integ);
    k.encr_r = keymat->slice(*encr + integ, *encr);
    k.integ_r = keymat->slice(2 * *encr + integ, integ);
    return k;
}

kernel::SaParams Engine::Impl::child_sa_params(const IkeSa& sa, const EspSuite& suite, bool inbound,
                                               EspSpi spi, crypto::SecretBytes encr,
                                               crypto::SecretBytes integ, const TsPair& ts,
                                               TimePoint now, TimePoint rekey_at) const {
    const Peer& peer = *sa.peer;
    kernel::SaParams p;
    const EspAddresses at = esp_addresses(sa);
    p.src = inbound ? at.remote : at.local;
    p.dst = inbound ? at.local : at.remote;
    if (sa.natt) {
        // ESP goes in UDP only across a NAT (RFC 7296 2.23, RFC 3948). IKE on port 4500 alone
        // does not mean that: a peer that floated there without a NAT sends and expects plain
        // ESP (strongSwan decides by NAT detection too).
        // The kernel's ports are the SA's source and destination: an inbound SA's sport is the
        // peer's (arriving ESP from another source port is reported as a new mapping).
        if (sa.nat_detected) {
            p.encap = inbound ? kernel::UdpEncap{.sport = sa.remote.port, .dport = sa.local.port}
                              : kernel::UdpEncap{.sport = sa.local.port, .dport = sa.remote.port};
        }
    }
    p.spi = spi;
    p.reqid = peer.reqid;
    p.mode = kernel::Mode::transport;
    p.encr = suite.encr;
    p.integ = suite.integ;
    p.encr_key = std::move(encr);
    p.integ_key = std::move(integ);
    p.esn = suite.esn;
    p.replay_window = inbound ? peer.cfg.replay_window : 0;
    auto until_rekey = std::chrono::duration_cast<std::chrono::seconds>(rekey_at - now);
    p.soft.time = until_rekey + kKernelSlack;
    p.hard.time = peer.cfg.child_lifetime + kKernelSlack;
    const Lifetime& lim = peer.cfg.child_limits;
    p.hard.bytes = lim.bytes;
    p.hard.packets = lim.packets;
    // Soft byte/packet limits at 90% minus up to 5% of jitter, so rekeys by volume spread too.
    auto soft = [&](uint64_t hard) -> uint64_t {
        if (hard == 0) return 0;
        return hard / 100 * 85 + deps.rng.uniform(hard / 20 + 1);
    };
    p.soft.bytes = soft(lim.bytes);
    p.soft.packets = soft(lim.packets);
    p.selector = single_selector(ts, inbound);
    p.acquire_seq = inbound ? 0 : peer.acquire_seq;
    return p;
}

Result<ChildSa*> Engine::Impl::install_child(IkeSa& sa, const EspSuite& suite, EspSpi spi_in,
                                             EspSpi spi_out, ChildKeys keys, const TsPair& ts,
                                             bool defer_outbound, bool we_initiated,
                                             TimePoint now) {
    Peer& peer = *sa.peer;
    ChildSa child;
    child.id = next_child_id++;
    child.spi_in = spi_in;
    child.spi_out = spi_out;
    child.suite = suite;
    child.ts = ts;
    child.established = now;
    child.rekey_at = now + rekey_after(peer.cfg.child_lifetime, peer.cfg.rekey_margin,
                                       peer.cfg.rekey_jitter, deps.rng);
    child.expire_at = now + peer.cfg.child_lifetime;
    auto& in_encr = we_initiated ? keys.encr_r : keys.encr_i;
    auto& in_integ = we_initiated ? keys.integ_r : keys.integ_i;
    auto& out_encr = we_initiated ? keys.encr_i : keys.encr_r;
    auto& out_integ = we_initiated ? keys.integ_i : keys.integ_r;
    kernel::SaParams in = child_sa_params(sa, suite, true, spi_in, std::move(in_encr),
                                          std::move(in_integ), ts, now, child.rekey_at);
    kernel::SaParams out = child_sa_params(sa, suite, false, spi_out, std::move(out_encr),
                                           std::move(out_integ), ts, now, child.rekey_at);
    if (Status st = deps.kernel.update_sa(in); !st) {
        free_spi(peer, spi_in);
        return st.take_error();
    }
    if (in.encap) {
        child.encap_in = std::make_unique<kernel::SaParams>(in.clone());
        child.encap_out = std::make_unique<kernel::SaParams>(out.clone());
    }
    if (defer_outbound) {
        child.pending_outbound = std::make_unique<kernel::SaParams>(std::move(out));
        child.pending_outbound_at = now + kOutboundGrace;
    } else if (Status st = deps.kernel.add_sa(out); !st) {
        (void)deps.kernel.delete_sa(in.dst, spi_in);
        return st.take_error();
    }
    peer.acquire_seq = 0;
    sa.child_failures = 0;
    sa.child_retry_at = kNever;
    sa.children.push_back(std::move(child));
    ChildSa* installed = &sa.children.back();
    if (!installed->pending_outbound) retire_previous_run_sas(peer);
    arm(sa);
    return installed;
}

void Engine::Impl::install_pending_outbound(IkeSa& sa, ChildSa& child) {
    child.pending_outbound_at = kNever;
    if (!child.pending_outbound) return;
    std::unique_ptr<kernel::SaParams> out = std::move(child.pending_outbound);
    if (Status st = deps.kernel.add_sa(*out); !st) {
        log->error("{}installing outbound SA {} failed: {}", prefix(sa), to_hex(child.spi_out),
                   st.error().message());
    } else if (sa.peer) {
        retire_previous_run_sas(*sa.peer);
    }
}

void Engine::Impl::remove_child_kernel_state(IkeSa& sa, ChildSa& child) {
    const auto [local, remote] = esp_addresses(sa);
    if (!child.pending_outbound) (void)deps.kernel.delete_sa(remote, child.spi_out);
    child.pending_outbound.reset();
    (void)deps.kernel.delete_sa(local, child.spi_in);
}

void Engine::Impl::remove_child(IkeSa& sa, uint64_t child_id, const std::string& reason) {
    auto it = std::find_if(sa.children.begin(), sa.children.end(),
                           [&](const ChildSa& c) { return c.id == child_id; });
    if (it == sa.children.end()) return;
    remove_child_kernel_state(sa, *it);
    emit(SaEvent::Kind::child_down, sa, &*it, reason);
    sa.children.erase(it);
}

ChildSa* Engine::Impl::find_child(IkeSa& sa, uint64_t child_id) {
    for (ChildSa& c : sa.children) {
        if (c.id == child_id) return &c;
    }
    return nullptr;
}

ChildSa* Engine::Impl::child_by_spi_out(IkeSa& sa, EspSpi spi) {
    for (ChildSa& c : sa.children) {
        if (c.spi_out == spi) return &c;
    }
    return nullptr;
}

void Engine::Impl::free_spi(const Peer& peer, EspSpi spi) {
    if (spi.value != 0) (void)deps.kernel.delete_sa(peer.local_address, spi);
}

void Engine::Impl::schedule_child_retry(IkeSa& sa, TimePoint now) {
    ++sa.child_failures;
    sa.child_retry_at = now + reinitiate_backoff(cfg.settings, sa.child_failures, deps.rng);
    arm(sa);
}

void Engine::Impl::child_failed(IkeSa& sa, const Error& reason, TimePoint now) {
    if (sa.peer) sa.peer->child_error = reason_text(reason);
    emit(SaEvent::Kind::child_failed, sa, nullptr, reason_text(reason));
    if (sa.children.empty() && sa.state == IkeState::established) schedule_child_retry(sa, now);
}

// --- negotiation halves -------------------------------------------------------------------------

Result<Engine::Impl::ChildAnswer> Engine::Impl::accept_child(
    IkeSa& sa, const wire::PayloadList& req, ByteView ni, ByteView nr, ByteView shared,
    std::optional<crypto::DhGroup> pfs_group, bool ike_auth, bool defer_outbound, TimePoint now) {
    Peer& peer = *sa.peer;
    if (!wire::has_notify(req, NotifyType::use_transport_mode)) {
        return Error{Errc::no_proposal_chosen, "peer asks for tunnel mode; only transport is used"};
    }
    auto choice = select_esp(must<wire::SaPayload>(req), peer.cfg.esp, pfs_group, ike_auth);
    if (!choice) return choice.take_error();
    if (choice->spi.size() != 4) return Error{Errc::invalid_syntax, "ESP SPI is not 4 bytes"};
    // As responder the peer's TSi is its side, TSr ours.
    TsPair offered{must<wire::TsrPayload>(req).selectors, must<wire::TsiPayload>(req).selectors};
    const TsPair allowed = allowed_selectors(peer.local_address, peer.remote, peer.cfg.traffic);
    Result<TsPair> narrowed = Errc::ts_unacceptable;
    TsPair answer;
    if (sa.nat_detected) {
        // Transport mode across a NAT (RFC 7296 2.23.1): the peer's selectors carry the
        // addresses it sees (its own private one, ours as it reaches us). Narrow them in our
        // view (the addresses our kernel SAs and policies use), install that, and answer with
        // the narrowed protocols and ports under the peer's own addresses.
        narrowed = narrow(in_our_view(offered, peer.local_address, peer.remote), allowed);
        if (!narrowed) {
            return Error{Errc::ts_unacceptable,
                         "selectors across the NAT do not fit: " + to_string(offered.remote)};
        }
        answer = in_peer_view(*narrowed, offered);
    } else {
        narrowed = narrow(offered, allowed);
        if (narrowed) answer = *narrowed;
    }
    if (!narrowed) return narrowed.take_error();
    auto spi_in = deps.kernel.alloc_spi(peer.remote, peer.local_address, peer.reqid);
    if (!spi_in) return spi_in.take_error();
    auto keys = child_keys(sa, choice->suite, shared, ni, nr);
    if (!keys) {
        free_spi(peer, *spi_in);
        return keys.take_error();
    }
    EspSpi spi_out{load_be32(choice->spi.data())};
    auto child = install_child(sa, choice->suite, *spi_in, spi_out, std::move(*keys), *narrowed,
                               defer_outbound, false, now);
    if (!child) return child.take_error();
    ChildAnswer a;
    a.child_id = (*child)->id;
    a.choice = *choice;
    a.spi_in = *spi_in;
    store_be32(a.spi_bytes.data(), spi_in->value);
    a.ts = answer;
    return a;
}

void Engine::Impl::add_child_answer(wire::ChainBuilder& out, const ChildAnswer& a, ByteView nonce,
                                    const crypto::KeyExchange* ke) {
    out.add(esp_sa_response(a.choice, a.spi_bytes));
    if (!nonce.empty()) out.add(wire::NoncePayload{.data = nonce});
    if (ke) out.add(wire::KePayload{.group = ke->group(), .data = ke->public_key()});
    out.add(wire::TsiPayload{.selectors = a.ts.remote});
    out.add(wire::TsrPayload{.selectors = a.ts.local});
    out.add(wire::NotifyPayload{.type = NotifyType::use_transport_mode});
}

Result<uint64_t> Engine::Impl::accept_child_answer(IkeSa& sa, const wire::PayloadList& resp,
                                                   EspSpi spi_in, const TsPair& proposed,
                                                   ByteView ni, ByteView nr, ByteView shared,
                                                   bool with_dh, TimePoint now) {
    Peer& peer = *sa.peer;
    const auto* sa_payload = wire::find_first<wire::SaPayload>(resp);
    const auto* tsi = wire::find_first<wire::TsiPayload>(resp);
    const auto* tsr = wire::find_first<wire::TsrPayload>(resp);
    if (!sa_payload || !tsi || !tsr) {
        const auto* err = wire::first_error_notify(resp);
        return Error{Errc::child_sa_failed,
                     err ? "peer answered " + std::string(wire::name(err->type))
                         : "peer created no CHILD SA"};
    }
    if (!wire::has_notify(resp, NotifyType::use_transport_mode)) {
        return Error{Errc::child_sa_failed, "peer refused transport mode"};
    }
    auto choice = check_esp_response(*sa_payload, peer.cfg.esp, with_dh);
    if (!choice) return choice.take_error();
    if (choice->spi.size() != 4) return Error{Errc::invalid_syntax, "ESP SPI is not 4 bytes"};
    TsPair answer{tsi->selectors, tsr->selectors};
    // Across a NAT the responder names the hosts as it sees them (RFC 7296 2.23.1).
    if (sa.nat_detected) answer = in_our_view(answer, peer.local_address, peer.remote);
    if (Status st = check_narrowed(answer, proposed); !st) return st.take_error();
    auto keys = child_keys(sa, choice->suite, shared, ni, nr);
    if (!keys) return keys.take_error();
    EspSpi spi_out{load_be32(choice->spi.data())};
    auto child = install_child(sa, choice->suite, spi_in, spi_out, std::move(*keys), answer, false,
                               true, now);
    if (!child) return child.take_error();
    return (*child)->id;
}

}  // namespace ikemesh::ike
