// Engine: the public API, datagram dispatch, the request/response transport of protected
// exchanges (message ids, retransmission, response cache, fragments) and the wake-up heap.
// The exchanges themselves live in exchange_*.cpp, peer life cycle in peers.cpp, kernel events in
// kernel_events.cpp, status snapshots in peer_status.cpp.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "ike/engine_impl.hpp"
#include "ike/timer_policy.hpp"
#include "ike/wire/rules.hpp"

namespace ikemesh::ike {

using wire::ExchangeType;
using wire::NotifyType;
using wire::PayloadType;

const char* to_string(IkeState s) {
    switch (s) {
        case IkeState::connecting:
            return "connecting";
        case IkeState::established:
            return "established";
        case IkeState::rekeyed:
            return "rekeyed";
        case IkeState::deleting:
            return "deleting";
    }
    return "?";
}

const char* to_string(ChildState s) {
    switch (s) {
        case ChildState::installed:
            return "installed";
        case ChildState::rekeying:
            return "rekeying";
        case ChildState::rekeyed:
            return "rekeyed";
        case ChildState::deleting:
            return "deleting";
    }
    return "?";
}

const char* to_string(Task t) {
    switch (t) {
        case Task::ike_sa_init:
            return "IKE_SA_INIT";
        case Task::ike_auth:
            return "IKE_AUTH";
        case Task::create_child:
            return "CREATE_CHILD_SA";
        case Task::rekey_child:
            return "CHILD SA rekey";
        case Task::rekey_ike:
            return "IKE SA rekey";
        case Task::delete_child:
            return "CHILD SA delete";
        case Task::delete_ike:
            return "IKE SA delete";
        case Task::dpd:
            return "liveness check";
        case Task::path_check:
            return "path check";
    }
    return "?";
}

const char* to_string(SaEvent::Kind kind) {
    switch (kind) {
        case SaEvent::Kind::ike_up:
            return "ike_up";
        case SaEvent::Kind::ike_down:
            return "ike_down";
        case SaEvent::Kind::ike_rekeyed:
            return "ike_rekeyed";
        case SaEvent::Kind::child_up:
            return "child_up";
        case SaEvent::Kind::child_down:
            return "child_down";
        case SaEvent::Kind::child_rekeyed:
            return "child_rekeyed";
        case SaEvent::Kind::child_failed:
            return "child_failed";
        case SaEvent::Kind::peer_dead:
            return "peer_dead";
    }
    return "?";
}

// --- public API: forwarding to Impl ------------------------------------------------------------

Engine::Engine(EngineDeps deps, EngineConfig config, TimePoint now)
    : impl_(std::make_unique<Impl>(deps, std::move(config), now)) {}
Engine::~Engine() = default;
void Engine::start(TimePoint now) {
    impl_->start(now);
}
void Engine::on_datagram(ByteView data, const Endpoint& local, const Endpoint& remote,
                         TimePoint now) {
    impl_->on_datagram(data, local, remote, now);
}
void Engine::on_timer(TimePoint now) {
    impl_->on_timer(now);
}
TimePoint Engine::next_timer() const {
    return impl_->next_timer();
}
void Engine::on_kernel_event(const kernel::KernelEvent& event, TimePoint now) {
    impl_->on_kernel_event(event, now);
}
void Engine::on_addresses_changed(TimePoint now) {
    impl_->on_addresses_changed(now);
}
Status Engine::initiate(std::string_view peer, TimePoint now) {
    return impl_->initiate(peer, now);
}
Status Engine::terminate(std::string_view peer, TimePoint now) {
    return impl_->terminate(peer, now);
}
Status Engine::rekey(std::string_view peer, bool ike, TimePoint now) {
    return impl_->rekey(peer, ike, now);
}
void Engine::reconfigure(EngineConfig config, TimePoint now) {
    impl_->reconfigure(std::move(config), now);
}
void Engine::shutdown(TimePoint now) {
    impl_->shutdown(now);
}
std::vector<OutDatagram> Engine::take_outbox() {
    return std::exchange(impl_->outbox, {});
}
std::vector<SaEvent> Engine::take_events() {
    return std::exchange(impl_->events, {});
}
EngineStatus Engine::status(TimePoint now) {
    return impl_->status(now);
}
const EngineCounters& Engine::counters() const {
    return impl_->counters;
}

// --- construction ------------------------------------------------------------------------------

namespace {

std::shared_ptr<spdlog::logger> engine_logger() {
    if (auto l = spdlog::get("ike")) return l;
    // Without a daemon that set up logging (unit and exchange tests), log nowhere.
    static auto quiet =
        std::make_shared<spdlog::logger>("ike", std::make_shared<spdlog::sinks::null_sink_mt>());
    return quiet;
}

}  // namespace

Engine::Impl::Impl(EngineDeps d, EngineConfig c, TimePoint now)
    : deps(d), cfg(std::move(c)), log(engine_logger()) {
    (void)now;
    if (!deps.wall_clock) {
        throw std::invalid_argument("ike::Engine: EngineDeps::wall_clock is required");
    }
}

Engine::Impl::~Impl() = default;

// --- lookups and small helpers -----------------------------------------------------------------

IkeSa* Engine::Impl::find_sa(uint64_t id) {
    auto it = sas.find(id);
    return it == sas.end() ? nullptr : it->second.get();
}

Peer* Engine::Impl::find_peer(std::string_view name) {
    auto it = peers.find(name);
    return it == peers.end() ? nullptr : it->second.get();
}

Peer* Engine::Impl::peer_by_address(const IpAddress& a) {
    Peer* found = nullptr;
    for (auto& [name, p] : peers) {
        if (!has_address(*p, a)) continue;
        if (found) return nullptr;
        found = p.get();
    }
    return found;
}

Peer* Engine::Impl::peer_by_identity(const Identity& id) {
    for (auto& [name, p] : peers) {
        if (p->cfg.id == id) return p.get();
    }
    return nullptr;
}

uint64_t Engine::Impl::random_spi() {
    for (;;) {
        uint64_t v = deps.rng.next_u64();
        if (v != 0 && !sas.contains(v)) return v;
    }
}

Bytes Engine::Impl::random_bytes(size_t n) {
    Bytes b(n);
    deps.rng.fill(b);
    return b;
}

IkeSa& Engine::Impl::create_sa(bool initiator, Peer* peer, const Endpoint& local,
                               const Endpoint& remote, TimePoint now, uint64_t id) {
    auto sa = std::make_unique<IkeSa>();
    sa->id = id != 0 && !sas.contains(id) ? id : random_spi();
    sa->initiator = initiator;
    sa->peer = peer;
    sa->local = local;
    sa->remote = remote;
    sa->created = now;
    sa->last_heard = now;
    if (initiator) {
        sa->spi_i = IkeSpi{sa->id};
    } else {
        sa->spi_r = IkeSpi{sa->id};
    }
    sa->setup = std::make_unique<Setup>();
    IkeSa& ref = *sa;
    if (peer) {
        peer->sas.push_back(ref.id);
        peer->initiated += initiator ? 1 : 0;
    }
    sas.emplace(ref.id, std::move(sa));
    return ref;
}

std::string Engine::Impl::prefix(const IkeSa& sa) const {
    std::string name = sa.peer ? sa.peer->cfg.name : sa.remote.address.to_string();
    return name + "[" + to_hex(sa.spi_i) + ":" + to_hex(sa.spi_r) + "] ";
}

void Engine::Impl::emit(SaEvent::Kind kind, const IkeSa& sa, const ChildSa* child,
                        std::string reason) {
    SaEvent e{.kind = kind,
              .peer = sa.peer ? sa.peer->cfg.name : sa.remote.address.to_string(),
              .spi_i = sa.spi_i,
              .spi_r = sa.spi_r,
              .spi_in = child ? child->spi_in : EspSpi{},
              .spi_out = child ? child->spi_out : EspSpi{},
              .reason = std::move(reason)};
    if (child) {
        log->info("{}{} {}/{}{}{}", prefix(sa), to_string(kind), to_hex(e.spi_in),
                  to_hex(e.spi_out), e.reason.empty() ? "" : ": ", e.reason);
    } else {
        log->info("{}{}{}{}", prefix(sa), to_string(kind), e.reason.empty() ? "" : ": ", e.reason);
    }
    events.push_back(std::move(e));
}

void Engine::Impl::send_raw(const Endpoint& local, const Endpoint& remote, Bytes datagram) {
    ++counters.messages_sent;
    outbox.push_back(OutDatagram{local, remote, std::move(datagram)});
}

void Engine::Impl::send(const IkeSa& sa, const Bytes& datagram) {
    send_raw(sa.local, sa.remote, datagram);
}

void Engine::Impl::set_remote(IkeSa& sa, const Endpoint& to) {
    if (sa.remote == to) return;
    if (auto it = half_open.find({sa.spi_i.value, sa.remote});
        it != half_open.end() && it->second == sa.id) {
        half_open.erase(it);
        half_open[{sa.spi_i.value, to}] = sa.id;
    }
    sa.remote = to;
}

// --- NAT traversal -----------------------------------------------------------------------------

void Engine::Impl::arm_keepalive(IkeSa& sa, TimePoint now) {
    auto every = sa.peer && sa.natt
                     ? natt_keepalive_interval(sa.peer->cfg.natt_keepalive, sa.behind_nat)
                     : std::nullopt;
    sa.keepalive_at = every ? now + *every : kNever;
}

void Engine::Impl::send_keepalive(IkeSa& sa, TimePoint now) {
    // RFC 3948 2.3: one octet 0xFF from the NAT-T port; the receiving kernel (or daemon) drops it.
    ++counters.natt_keepalives_sent;
    outbox.push_back(OutDatagram{sa.local, sa.remote, Bytes{0xff}, OutDatagram::Framing::raw});
    arm_keepalive(sa, now);
}

Engine::Impl::Follow Engine::Impl::may_follow_peer(IkeSa& sa, const Endpoint& to,
                                                   std::string_view how) {
    // RFC 7296 2.23: only a host that is not behind a NAT updates the peer's address from
    // validated packets; one behind a NAT SHOULD NOT, since a single packet (an on-path attacker
    // racing a fresh one from another source) could then break the SA. And there is nothing to
    // follow without a NAT on the peer's side.
    const char* why = !sa.peer_behind_nat ? "the peer is not behind a NAT"
                      : !sa.natt          ? "the IKE SA does not use NAT-T"
                                          : nullptr;
    // Both behind NATs (a 1:1 cloud address here, a masquerading router there): staying put
    // would leave a half-dead pair when the peer's NAT forgets its mapping, so the new endpoint
    // is followed once the peer answers a request sent there (a return routability check, as
    // MOBIKE does, RFC 4555 3.5), which a forged packet cannot make happen.
    if (!why) return sa.behind_nat ? Follow::check_first : Follow::yes;
    ++counters.nat_mappings_refused;
    if (!sa.mapping_refusal_logged) {
        sa.mapping_refusal_logged = true;
        log->warn("{}peer seen at {} ({}), not following: {}", prefix(sa), to.to_string(), how,
                  why);
    }
    return Follow::no;
}

void Engine::Impl::peer_seen_at(IkeSa& sa, const Endpoint& to, std::string_view how,
                                TimePoint now) {
    switch (may_follow_peer(sa, to, how)) {
        case Follow::yes:
            follow_peer(sa, to, how);
            return;
        case Follow::no:
            return;
        case Follow::check_first:
            break;
    }
    // One check per endpoint at a time (the kernel repeats its report for every packet).
    auto checks_to = [&](Task task, const std::optional<Endpoint>& at) {
        return task == Task::path_check && at == to;
    };
    if (sa.inflight && checks_to(sa.inflight->task, sa.inflight->to)) return;
    if (std::any_of(sa.queue.begin(), sa.queue.end(),
                    [&](const Intent& i) { return checks_to(i.task, i.to); })) {
        return;
    }
    ++counters.nat_path_checks;
    log->info(
        "{}peer seen at {} ({}), and both sides are behind NATs: following it once it "
        "answers there",
        prefix(sa), to.to_string(), how);
    queue_intent(sa, Intent{.task = Task::path_check, .to = to}, now);
}

void Engine::Impl::follow_peer(IkeSa& sa, const Endpoint& to, std::string_view how) {
    const Endpoint from = sa.remote;
    set_remote(sa, to);
    ++counters.nat_mappings_followed;
    log->info("{}peer's NAT mapping moved from {} to {} ({}); following it", prefix(sa),
              from.to_string(), to.to_string(), how);
    if (sa.peer && to.address != sa.peer->remote) {
        // Transport mode: applications still address the peer as configured.
        log->warn("{}peer's public address is now {}, configured {}: update `address`", prefix(sa),
                  to.address.to_string(), sa.peer->remote.to_string());
    }
    for (ChildSa& c : sa.children)
        move_child_encap(sa, c);
}

void Engine::Impl::move_child_encap(IkeSa& sa, ChildSa& c) {
    if (!c.encap_in || !c.encap_out) return;
    const Endpoint& to = sa.remote;
    if (c.encap_in->src == to.address && c.encap_in->encap->sport == to.port &&
        c.encap_out->dst == to.address && c.encap_out->encap->dport == to.port) {
        return;  // already there (the kernel repeats a report until the SA names the source)
    }
    // Inbound: the kernel compares arriving ESP's source with the SA's encap sport and reports
    // each difference; xfrm_state_update takes the new encapsulation in place (not a new
    // source address, which the kernel does not need to accept the packets).
    kernel::SaParams in = c.encap_in->clone();
    in.src = to.address;
    in.encap->sport = to.port;
    if (Status st = deps.kernel.update_sa(in); !st) {
        log->error("{}updating inbound SA {} for the new mapping failed: {}", prefix(sa),
                   to_hex(c.spi_in), st.error().message());
    } else {
        *c.encap_in = std::move(in);
    }
    kernel::SaParams out = c.encap_out->clone();
    const IpAddress old_dst = out.dst;
    out.dst = to.address;
    out.encap->dport = to.port;
    if (c.pending_outbound) {
        // Not in the kernel yet: it goes in with the new endpoint.
        c.pending_outbound->dst = out.dst;
        c.pending_outbound->encap = out.encap;
    } else if (old_dst == out.dst) {
        if (Status st = deps.kernel.update_sa(out); !st) {
            log->error("{}updating outbound SA {} for the new mapping failed: {}", prefix(sa),
                       to_hex(c.spi_out), st.error().message());
            return;
        }
    } else {
        // An SA is identified by (daddr, SPI): the new one goes in before the old one goes, so
        // outbound traffic never meets a gap.
        if (Status st = deps.kernel.add_sa(out); !st) {
            log->error("{}installing outbound SA {} at {} failed: {}", prefix(sa),
                       to_hex(c.spi_out), out.dst.to_string(), st.error().message());
            return;
        }
        (void)deps.kernel.delete_sa(old_dst, c.spi_out);
    }
    *c.encap_out = std::move(out);
}

// --- the wake-up heap --------------------------------------------------------------------------

void Engine::Impl::arm(IkeSa& sa) {
    TimePoint next =
        std::min({sa.dpd_at, sa.rekey_at, sa.expire_at, sa.child_retry_at, sa.keepalive_at});
    if (sa.inflight) next = std::min(next, sa.inflight->retransmit_at);
    for (const ChildSa& c : sa.children) {
        next = std::min({next, c.rekey_at, c.expire_at, c.pending_outbound_at});
    }
    if (next < sa.armed_at) {
        sa.armed_at = next;
        wakes.push(Wake{next, sa.id});
    }
}

void Engine::Impl::arm(Peer& peer) {
    if (peer.start_at < peer.armed_at) {
        peer.armed_at = peer.start_at;
        wakes.push(Wake{peer.start_at, peer.id, true});
    }
}

TimePoint Engine::Impl::next_timer() const {
    return wakes.empty() ? kNever : wakes.top().when;
}

void Engine::Impl::on_timer(TimePoint now) {
    while (!wakes.empty() && wakes.top().when <= now) {
        Wake w = wakes.top();
        wakes.pop();
        if (w.peer) {
            auto it = peers_by_id.find(w.key);
            if (it == peers_by_id.end()) continue;
            Peer& p = *it->second;
            if (p.armed_at == w.when) p.armed_at = kNever;
            wake_peer(p, now);
            arm(p);
        } else if (IkeSa* sa = find_sa(w.key)) {
            if (sa->armed_at == w.when) sa->armed_at = kNever;
            uint64_t id = sa->id;
            wake_sa(*sa, now);
            if (IkeSa* still = find_sa(id)) arm(*still);
        }
    }
    // Entries of SAs that are gone linger until their time; rebuild when they dominate.
    if (wakes.size() > 8 * (sas.size() + peers.size()) + 1024) {
        decltype(wakes) fresh;
        for (auto& [id, sa] : sas) {
            if (sa->armed_at != kNever) fresh.push(Wake{sa->armed_at, id});
        }
        for (auto& [id, p] : peers_by_id) {
            if (p->armed_at != kNever) fresh.push(Wake{p->armed_at, id, true});
        }
        wakes = std::move(fresh);
    }
}

void Engine::Impl::wake_sa(IkeSa& sa, TimePoint now) {
    const uint64_t id = sa.id;
    if (sa.inflight && sa.inflight->retransmit_at <= now) {
        on_retransmit_timeout(sa, now);
        if (!find_sa(id)) return;
    }
    if (sa.expire_at <= now) {
        sa.expire_at = kNever;
        const bool setting_up = sa.state == IkeState::connecting;
        delete_ike_sa(sa,
                      Error{setting_up ? Errc::peer_dead : Errc::state_error,
                            setting_up ? "half-open IKE SA timed out" : "IKE SA lifetime expired"},
                      now);
        return;
    }
    if (sa.state != IkeState::established) return;
    if (sa.keepalive_at <= now) send_keepalive(sa, now);
    if (sa.rekey_at <= now) {
        sa.rekey_at = kNever;
        queue_intent(sa, Intent{.task = Task::rekey_ike}, now);
        if (!find_sa(id)) return;
    }
    if (sa.dpd_at <= now) {
        check_liveness(sa, now);
        if (!find_sa(id)) return;
    }
    if (sa.child_retry_at <= now) {
        sa.child_retry_at = kNever;
        if (sa.children.empty()) queue_intent(sa, Intent{.task = Task::create_child}, now);
        if (!find_sa(id)) return;
    }
    std::vector<uint64_t> rekey, expired;
    for (ChildSa& c : sa.children) {
        if (c.pending_outbound_at <= now) install_pending_outbound(sa, c);
        if (c.rekey_at <= now) {
            c.rekey_at = kNever;
            if (c.state == ChildState::installed) rekey.push_back(c.id);
        }
        if (c.expire_at <= now) {
            c.expire_at = kNever;
            expired.push_back(c.id);
        }
    }
    for (uint64_t cid : expired) {
        ChildSa* c = find_child(sa, cid);
        if (!c) continue;
        std::vector<EspSpi> spis{c->spi_in};
        remove_child(sa, cid, "CHILD SA lifetime expired");
        queue_intent(sa, Intent{.task = Task::delete_child, .spis = std::move(spis)}, now);
        if (!find_sa(id)) return;
    }
    for (uint64_t cid : rekey) {
        queue_intent(sa, Intent{.task = Task::rekey_child, .child_id = cid}, now);
        if (!find_sa(id)) return;
    }
}

// --- inbound datagrams -------------------------------------------------------------------------

void Engine::Impl::on_datagram(ByteView data, const Endpoint& local, const Endpoint& remote,
                               TimePoint now) {
    ++counters.messages_received;
    auto header = wire::parse_header(data);
    if (!header) {
        ++counters.messages_dropped;
        return;
    }
    const wire::Header& h = *header;
    if (h.major_version != wire::kMajorVersion) {
        // RFC 7296 2.5: drop, and answer an IKE_SA_INIT request with INVALID_MAJOR_VERSION.
        ++counters.messages_dropped;
        if (h.exchange == ExchangeType::ike_sa_init && !h.is_response()) {
            const uint8_t version = wire::kMajorVersion << 4;
            respond_stateless(h, local, remote, NotifyType::invalid_major_version,
                              ByteView(&version, 1));
        }
        return;
    }
    wire::Message msg;
    PayloadType critical = PayloadType::none;
    if (Status st = wire::parse_message(data, msg, &critical); !st) {
        ++counters.messages_dropped;
        if (st.error().is(Errc::unsupported_critical) && h.exchange == ExchangeType::ike_sa_init &&
            !h.is_response()) {
            const auto type = static_cast<uint8_t>(critical);
            respond_stateless(h, local, remote, NotifyType::unsupported_critical_payload,
                              ByteView(&type, 1));
        }
        log->debug("dropped datagram from {}: {}", remote.to_string(), st.error().message());
        return;
    }
    // The outer chain: IKE_SA_INIT in clear, everything else in one SK/SKF payload (RFC 7296
    // 2.21: anything else is dropped unanswered). The same check the parser's fuzzer drives.
    if (Status st = wire::check_outer_payloads(msg); !st) {
        ++counters.messages_dropped;
        log->debug("dropped datagram from {}: {}", remote.to_string(), st.error().message());
        return;
    }
    if (h.exchange == ExchangeType::ike_sa_init) {
        if (!h.is_response()) {
            if (!h.spi_r.is_zero() || !h.is_initiator()) {
                ++counters.messages_dropped;
                return;
            }
            on_init_request(data, msg, local, remote, now);
            return;
        }
        IkeSa* sa = find_sa(h.spi_i.value);
        if (!sa || !sa->initiator || sa->state != IkeState::connecting || !sa->inflight ||
            sa->inflight->task != Task::ike_sa_init || h.is_initiator()) {
            ++counters.messages_dropped;
            return;
        }
        on_init_response(*sa, data, msg, local, remote, now);
        return;
    }
    // Our SPI is the one of the side that did not send this message (RFC 7296 3.1, I flag).
    const uint64_t ours = h.is_initiator() ? h.spi_r.value : h.spi_i.value;
    IkeSa* sa = find_sa(ours);
    if (!sa || sa->initiator == h.is_initiator() ||
        sa->remote_spi() != (h.is_initiator() ? h.spi_i : h.spi_r)) {
        ++counters.messages_dropped;
        return;
    }
    handle_protected(*sa, data, msg, local, remote, now);
}

void Engine::Impl::handle_protected(IkeSa& sa, ByteView datagram, const wire::Message& msg,
                                    const Endpoint& local, const Endpoint& remote, TimePoint now) {
    const wire::Header& h = msg.header;
    if (!sa.open || msg.payloads.empty()) {
        ++counters.messages_dropped;
        return;
    }
    const bool response = h.is_response();
    const auto* sk = std::get_if<wire::SkPayload>(&msg.payloads.back());
    const auto* skf = std::get_if<wire::SkfPayload>(&msg.payloads.back());
    if (!sk && !skf) {
        ++counters.messages_dropped;  // not last (check_outer_payloads saw it): never answered
        return;
    }
    static thread_local Bytes plaintext;
    // A retransmitted request is answered from the cache once its integrity is verified.
    if (!response && sa.next_in > 0 && h.message_id.value == sa.next_in - 1 &&
        sa.cached_id == h.message_id && !sa.cached_response.empty()) {
        bool authentic = sk ? wire::open_sk(datagram, msg, *sa.open, plaintext).ok()
                            : wire::open_skf(datagram, msg, *sa.open, plaintext).ok();
        if (authentic && (sk || skf->fragment_number == 1)) {
            for (const Bytes& d : sa.cached_response)
                send_raw(local, remote, d);
            ++counters.retransmissions;
        } else if (!authentic) {
            ++counters.messages_dropped;
        }
        return;
    }
    if (response ? (!sa.inflight || sa.inflight->id != h.message_id)
                 : h.message_id.value != sa.next_in) {
        ++counters.messages_dropped;
        return;
    }
    wire::OpenedChain chain;
    if (sk) {
        auto opened = wire::open_sk(datagram, msg, *sa.open, plaintext);
        if (!opened) {
            ++counters.messages_dropped;
            return;
        }
        chain = *opened;
    } else {
        auto frag = wire::open_skf(datagram, msg, *sa.open, plaintext);
        if (!frag) {
            ++counters.messages_dropped;
            return;
        }
        sa.last_heard = now;
        if (!sa.reassembler) sa.reassembler = std::make_unique<wire::FragmentReassembler>();
        auto whole = sa.reassembler->add(h.message_id, *frag);
        if (!whole) {
            if (!whole.error().is(Errc::fragment_incomplete)) ++counters.messages_dropped;
            return;
        }
        // The reassembler goes (it only lives while fragments are collected); the chain must
        // outlive it for the handlers, so it moves to a per-thread buffer.
        static thread_local Bytes assembled;
        assembled.assign(whole->chain.begin(), whole->chain.end());
        chain = wire::OpenedChain{whole->first, assembled};
        sa.reassembler.reset();
    }
    // Authenticated and fresh (a retransmitted request was answered from the cache above, an old
    // response matches no request in flight): the peer is alive, and behind a NAT its mapping may
    // have moved (RFC 7296 2.23: follow the address of the last such message).
    sa.last_heard = now;
    // A request is answered where it came from (RFC 7296 2.11), also while this node has not
    // (yet) followed the peer there: respond() reads this until the handler returns.
    struct AnswerTo {
        std::optional<Endpoint>& slot;
        ~AnswerTo() { slot.reset(); }
    } answer_to{request_from};
    if (!response) request_from = remote;
    if (local.port == cfg.port_natt) {
        sa.natt = true;
        // The peer moved to the NAT-T port without a NAT in between (RFC 7296 2.23 allows it;
        // strongSwan always does when both sides support NAT-T): its port changed, not its
        // address. Answer there (2.11) and send everything after to it.
        if (!sa.nat_detected && remote.address == sa.remote.address) set_remote(sa, remote);
    }
    if (sa.nat_detected && remote != sa.remote) {
        if (sa.state == IkeState::connecting) {
            set_remote(sa, remote);  // the float of IKE_AUTH to port 4500: nothing installed yet
        } else if (response && sa.inflight->task == Task::path_check && sa.inflight->to == remote) {
            follow_peer(sa, remote, "IKE, answered there");
        } else {
            peer_seen_at(sa, remote, "IKE", now);
        }
    }
    if (sa.natt) sa.local = local;

    static thread_local wire::PayloadList inner;
    inner.clear();
    PayloadType critical = PayloadType::none;
    Status parsed = wire::parse_payloads(chain.first, chain.chain, inner, &critical);
    if (parsed) parsed = wire::check_payload_rules(h.exchange, response, inner);
    if (!parsed) {
        log->warn("{}malformed {} {}: {}", prefix(sa), wire::name(h.exchange),
                  response ? "response" : "request", parsed.error().message());
        if (!response) {
            // RFC 7296 2.21.2 / 2.5: answer an authenticated but unacceptable request.
            const auto type = static_cast<uint8_t>(critical);
            if (parsed.error().is(Errc::unsupported_critical)) {
                respond_notify(sa, h, NotifyType::unsupported_critical_payload, ByteView(&type, 1));
            } else {
                respond_notify(sa, h, NotifyType::invalid_syntax);
            }
        } else {
            delete_ike_sa(sa, Error{Errc::invalid_syntax, parsed.error().message()}, now);
        }
        return;
    }
    if (response) {
        dispatch_response(sa, h, inner, now);
    } else {
        dispatch_request(sa, h, inner, now);
    }
}

void Engine::Impl::dispatch_request(IkeSa& sa, const wire::Header& h,
                                    const wire::PayloadList& inner, TimePoint now) {
    switch (h.exchange) {
        case ExchangeType::ike_auth:
            if (!sa.initiator && sa.state == IkeState::connecting && h.message_id.value == 1) {
                on_auth_request(sa, h, inner, now);
                return;
            }
            break;
        case ExchangeType::create_child_sa:
            if (sa.state == IkeState::established || sa.state == IkeState::deleting) {
                on_create_child_request(sa, h, inner, now);
                return;
            }
            break;
        case ExchangeType::informational:
            if (sa.state != IkeState::connecting) {
                on_informational_request(sa, h, inner, now);
                return;
            }
            break;
        default:
            break;
    }
    ++counters.messages_dropped;
}

void Engine::Impl::dispatch_response(IkeSa& sa, const wire::Header& h,
                                     const wire::PayloadList& inner, TimePoint now) {
    Request req = std::move(*sa.inflight);
    sa.inflight.reset();
    const uint64_t id = sa.id;
    (void)h;
    switch (req.task) {
        case Task::ike_auth:
            on_auth_response(sa, inner, now);
            break;
        case Task::create_child:
        case Task::rekey_child:
            on_create_child_response(sa, req, inner, now);
            break;
        case Task::rekey_ike:
            on_rekey_ike_response(sa, req, inner, now);
            break;
        case Task::delete_child:
        case Task::delete_ike:
        case Task::dpd:
        case Task::path_check:
            on_informational_response(sa, req, inner, now);
            break;
        case Task::ike_sa_init:
            break;  // handled unencrypted in on_datagram
    }
    if (IkeSa* still = find_sa(id)) {
        start_next_request(*still, now);
        arm(*still);
    }
}

// --- outbound requests and responses -----------------------------------------------------------

Result<std::vector<Bytes>> Engine::Impl::protect(IkeSa& sa, ExchangeType exchange, MessageId id,
                                                 bool response, wire::ChainBuilder& chain) {
    const PayloadType first = chain.first_type();
    auto inner = chain.finish();
    if (!inner) return inner.take_error();
    wire::Header h{.spi_i = sa.spi_i, .spi_r = sa.spi_r, .exchange = exchange, .message_id = id};
    h.set(wire::HeaderFlag::initiator, sa.initiator);
    h.set(wire::HeaderFlag::response, response);
    std::vector<Bytes> out(1);
    if (Status st = wire::seal_sk(h, first, *inner, *sa.seal, deps.rng, out[0]); !st) {
        return st.take_error();
    }
    // RFC 7383 2.5: fragment when the message would exceed the path limit and the peer said
    // it can reassemble; IKE_SA_INIT is never fragmented (it is not protected).
    const size_t ip_overhead = (sa.remote.address.is_v6() ? 40 : 20) + 8 + (sa.natt ? 4 : 0);
    const size_t limit = cfg.settings.fragment_size > ip_overhead
                             ? cfg.settings.fragment_size - ip_overhead
                             : cfg.settings.fragment_size;
    if (sa.peer_fragmentation && out[0].size() > limit) {
        if (Status st = wire::seal_skf(h, first, *inner, *sa.seal, deps.rng, limit, out); !st) {
            return st.take_error();
        }
    }
    return out;
}

void Engine::Impl::respond(IkeSa& sa, ExchangeType exchange, MessageId id,
                           wire::ChainBuilder& chain) {
    auto datagrams = protect(sa, exchange, id, true, chain);
    if (!datagrams) {
        log->error("{}cannot build {} response: {}", prefix(sa), wire::name(exchange),
                   datagrams.error().message());
        return;
    }
    sa.cached_id = id;
    sa.cached_response = std::move(*datagrams);
    sa.next_in = id.value + 1;
    const Endpoint to = request_from.value_or(sa.remote);
    for (const Bytes& d : sa.cached_response)
        send_raw(sa.local, to, d);
}

void Engine::Impl::respond_notify(IkeSa& sa, const wire::Header& h, NotifyType type,
                                  ByteView data) {
    wire::ChainBuilder answer;
    answer.add(wire::NotifyPayload{.type = type, .data = data});
    respond(sa, h.exchange, h.message_id, answer);
}

void Engine::Impl::queue_intent(IkeSa& sa, Intent intent, TimePoint now) {
    sa.queue.push_back(std::move(intent));
    start_next_request(sa, now);
}

void Engine::Impl::start_next_request(IkeSa& sa, TimePoint now) {
    while (!sa.inflight && !sa.queue.empty() &&
           (sa.state == IkeState::established || sa.state == IkeState::deleting ||
            sa.state == IkeState::rekeyed)) {
        Intent intent = std::move(sa.queue.front());
        sa.queue.erase(sa.queue.begin());
        // Once we are deleting (or replaced), only the Delete itself goes out.
        if (sa.state != IkeState::established && intent.task != Task::delete_ike) continue;
        wire::ChainBuilder chain;
        std::optional<Request> req;
        ExchangeType exchange = ExchangeType::informational;
        switch (intent.task) {
            case Task::create_child:
            case Task::rekey_child:
                exchange = ExchangeType::create_child_sa;
                req = build_create_child(sa, intent, chain, now);
                break;
            case Task::rekey_ike:
                exchange = ExchangeType::create_child_sa;
                req = build_rekey_ike(sa, chain);
                break;
            case Task::delete_child:
            case Task::delete_ike:
            case Task::dpd:
            case Task::path_check:
                req.emplace();
                req->task = intent.task;
                req->to = intent.to;
                build_informational(sa, intent, chain, *req);
                break;
            case Task::ike_sa_init:
            case Task::ike_auth:
                break;
        }
        if (!req) continue;
        req->id = MessageId{sa.next_out};
        auto datagrams = protect(sa, exchange, req->id, false, chain);
        if (!datagrams) {
            log->error("{}cannot build {}: {}", prefix(sa), to_string(intent.task),
                       datagrams.error().message());
            continue;
        }
        ++sa.next_out;
        req->datagrams = std::move(*datagrams);
        transmit_request(sa, std::move(*req), now);
    }
}

void Engine::Impl::send_request_datagrams(const IkeSa& sa, const Request& req) {
    for (const Bytes& d : req.datagrams)
        send_raw(sa.local, req.to.value_or(sa.remote), d);
}

void Engine::Impl::transmit_request(IkeSa& sa, Request request, TimePoint now) {
    send_request_datagrams(sa, request);
    request.attempt = 0;
    request.retransmit_at = now + *retransmit_wait(cfg.settings, 0);
    sa.inflight = std::move(request);
    arm(sa);
}

void Engine::Impl::on_retransmit_timeout(IkeSa& sa, TimePoint now) {
    Request& req = *sa.inflight;
    auto wait = retransmit_wait(cfg.settings, req.attempt + 1);
    if (!wait && req.task == Task::path_check) {
        // Nobody answers there: a forged or stale report. The SA stays where it was, and the
        // request (its message ID is spent, RFC 7296 2.2) goes on as a liveness check at the
        // old endpoint, with a schedule of its own.
        ++counters.nat_path_checks_failed;
        log->warn("{}no answer at {} after {} retransmissions; staying at {}", prefix(sa),
                  req.to ? req.to->to_string() : "?", req.attempt, sa.remote.to_string());
        req.task = Task::dpd;
        req.to.reset();
        req.attempt = 0;
        req.retransmit_at = now + *retransmit_wait(cfg.settings, 0);
        send_request_datagrams(sa, req);
        return;
    }
    if (!wait) {
        // RFC 7296 2.4: the retransmission schedule ran out; the peer is considered dead.
        if (req.task == Task::dpd) ++counters.dpd_failures;
        std::string detail = std::string("no response to ") + to_string(req.task) + " after " +
                             std::to_string(req.attempt) + " retransmissions";
        // IKE_SA_INIT unanswered at one of several addresses: the next one is tried at once.
        if (req.task == Task::ike_sa_init && sa.initiator && sa.peer) {
            const size_t at = index_of(*sa.peer, sa.remote.address);
            const size_t next = at == kNoAddress ? kNoAddress : first_usable(*sa.peer, at + 1);
            if (next != kNoAddress) {
                sa.fallback_to = next;
                detail += " at " + sa.remote.address.to_string();
            }
        }
        if (sa.peer && !sa.fallback_to) emit(SaEvent::Kind::peer_dead, sa, nullptr, detail);
        delete_ike_sa(sa, Error{Errc::peer_dead, detail}, now);
        return;
    }
    ++req.attempt;
    ++counters.retransmissions;
    req.retransmit_at = now + *wait;
    log->debug("{}retransmitting {} (attempt {})", prefix(sa), to_string(req.task), req.attempt);
    send_request_datagrams(sa, req);
}

// --- tear-down ----------------------------------------------------------------------------------

void Engine::Impl::delete_ike_sa(IkeSa& sa, Error reason, TimePoint now) {
    if (sa.reason.empty()) sa.reason = reason_text(reason);
    const bool was_up = sa.state != IkeState::connecting;
    while (!sa.children.empty())
        remove_child(sa, sa.children.back().id, sa.reason);
    if (sa.setup && sa.setup->child_spi_in.value != 0 && sa.peer) {
        free_spi(*sa.peer, sa.setup->child_spi_in);
    }
    if (sa.inflight && sa.inflight->new_spi_in.value != 0 && sa.peer) {
        free_spi(*sa.peer, sa.inflight->new_spi_in);
    }
    if ((was_up || sa.peer) && sa.state != IkeState::rekeyed && sa.replaced_by == 0) {
        emit(SaEvent::Kind::ike_down, sa, nullptr, sa.reason);
    }
    Peer* peer = sa.peer;
    const bool failed = !reason.is(Errc::ok) && !reason.is(Errc::deleted_by_peer) &&
                        !reason.is(Errc::rekey_collision_lost) && sa.state != IkeState::rekeyed &&
                        sa.replaced_by == 0;
    if (sa.state == IkeState::connecting) {
        ++counters.handshakes_failed[errc_name(static_cast<Errc>(reason.code.value()))];
    }
    const bool replaced = sa.state == IkeState::rekeyed || sa.replaced_by != 0;
    const IpAddress remote_address = sa.remote.address;
    const std::optional<size_t> fallback = sa.fallback_to;
    forget_sa(sa.id);
    if (peer && !replaced) {
        if (fallback && !peer->admin_down && !shutting_down && peer->sas.empty()) {
            peer->last_error =
                reason_text(reason) + "; trying " + peer->remotes[*fallback].to_string();
            log->info("peer {}: {}", peer->cfg.name, peer->last_error);
            initiate_on(*peer, *fallback, now);
        } else if (failed) {
            peer_failed(*peer, reason, now);
        } else if (peer->sas.empty() && peer->cfg.start == StartAction::always &&
                   !peer->admin_down && !shutting_down) {
            // Deleted (by the peer or a duplicate rule) with nothing left: come back up.
            peer->last_error = reason_text(reason);
            schedule_start(*peer, now, true);
        }
    } else if (!peer && !shutting_down) {
        // A half-open SA a peer started with us failed before it said who it is: if that peer is
        // ours to keep up, try the other way round.
        Peer* p = peer_by_address(remote_address);
        if (p && p->sas.empty() && p->cfg.start == StartAction::always && !p->admin_down &&
            p->start_at == kNever) {
            schedule_start(*p, now, true);
        }
    }
}

void Engine::Impl::forget_sa(uint64_t id) {
    auto it = sas.find(id);
    if (it == sas.end()) return;
    IkeSa& sa = *it->second;
    half_open.erase({sa.spi_i.value, sa.remote});
    if (sa.peer) {
        std::erase(sa.peer->sas, id);
        sa.peer->initiated -= sa.initiator ? 1 : 0;
    }
    sas.erase(it);
}

void Engine::Impl::peer_failed(Peer& peer, const Error& reason, TimePoint now) {
    ++peer.failures;
    peer.last_error = reason_text(reason);
    if (peer.cfg.start == StartAction::always && !peer.admin_down && !shutting_down &&
        peer.sas.empty()) {
        peer.start_at = now + reinitiate_backoff(cfg.settings, peer.failures, deps.rng);
        arm(peer);
    }
}

}  // namespace ikemesh::ike
