// Peers: their life cycle (start, re-initiation, removal), kernel policies, the mesh rules of
// docs/mesh.md (designated initiator, duplicates, INITIAL_CONTACT), configuration reloads and
// operator commands. Kernel events are in kernel_events.cpp, status snapshots in peer_status.cpp.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "ike/engine_impl.hpp"
#include "ike/timer_policy.hpp"

namespace ikemesh::ike {
namespace {

constexpr uint32_t kFirstReqId = 1000;  // leaves the low range to hand-made and other daemons' SAs

// One out and one in policy per (protocol, local port, remote port) a `traffic` class covers: a
// class with a port covers the port at either end ("tcp/5001": connections to a service on the
// peer and to one on this node), so it gives two of each.
std::vector<kernel::PolicyParams> peer_policies(const Peer& p) {
    const IpAddress& local = p.local_address;
    const IpAddress& remote = p.remote;
    if (p.cfg.traffic.empty()) return kernel::transport_policies(local, remote, p.reqid);
    std::vector<kernel::PolicyParams> out;
    auto add = [&](uint8_t protocol, uint16_t local_port, uint16_t remote_port) {
        kernel::PolicyParams o;
        o.id.selector =
            kernel::Selector::host_to_host(local, remote, protocol, local_port, remote_port);
        o.id.dir = kernel::Direction::out;
        o.priority = kernel::kPriorityIpsec;
        o.reqid = p.reqid;
        o.tmpl_src = local;
        o.tmpl_dst = remote;
        kernel::PolicyParams i = o;
        i.id.selector =
            kernel::Selector::host_to_host(remote, local, protocol, remote_port, local_port);
        i.id.dir = kernel::Direction::in;
        i.tmpl_src = remote;
        i.tmpl_dst = local;
        out.push_back(o);
        out.push_back(i);
    };
    for (const TrafficSpec& t : p.cfg.traffic) {
        add(t.protocol, 0, t.port);
        if (t.port != 0) add(t.protocol, t.port, 0);
    }
    return out;
}

// Bypass policies are scoped to the pair of hosts, so each peer's set is its own and a reload of
// one peer never touches another's.
std::vector<kernel::PolicyParams> peer_bypass(const Peer& p) {
    const auto family = p.remote.family();
    std::vector<kernel::PolicyParams> out = kernel::essential_bypass_policies(family);
    for (const TrafficSpec& b : p.cfg.bypass) {
        auto more = kernel::bypass_policies(family, b.protocol, b.port);
        out.insert(out.end(), more.begin(), more.end());
    }
    const uint8_t full = p.remote.is_v6() ? 128 : 32;
    for (kernel::PolicyParams& bp : out) {
        const bool outbound = bp.id.dir == kernel::Direction::out;
        bp.id.selector.src = outbound ? p.local_address : p.remote;
        bp.id.selector.dst = outbound ? p.remote : p.local_address;
        bp.id.selector.src_prefix = bp.id.selector.dst_prefix = full;
    }
    return out;
}

}  // namespace

// --- life cycle --------------------------------------------------------------------------------

bool Engine::Impl::we_sort_first(const PeerConfig& pc) const {
    const Identity& a = cfg.local.id;
    const Identity& b = pc.id;
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.data != b.data) return a.data < b.data;
    return false;  // identical identities: a misconfiguration; neither side is designated
}

void Engine::Impl::add_peer(const PeerConfig& pc, TimePoint now) {
    auto p = std::make_unique<Peer>();
    p->id = next_peer_id++;
    p->cfg = pc;
    p->reqid = ReqId{kFirstReqId + next_reqid++};
    p->remotes = pc.addresses.empty() ? std::vector<IpAddress>{pc.address} : pc.addresses;
    p->locals = resolve_locals(*p);
    const size_t first = first_usable(*p, 0);
    p->in_use = first == kNoAddress ? 0 : first;
    p->remote = p->remotes[p->in_use];
    p->local_address = p->locals[p->in_use];
    p->designated_initiator = we_sort_first(pc);
    Peer& ref = *p;
    peers_by_id[ref.id] = &ref;
    peers.emplace(pc.name, std::move(p));
    if (ref.local_address.empty()) {
        ref.last_error = no_local_address_reason(ref);
        log->error("peer {}: {}", pc.name, ref.last_error);
        return;
    }
    install_policies(ref);
    if (pc.start == StartAction::always) schedule_start(ref, now, true);
}

std::vector<IpAddress> Engine::Impl::resolve_locals(const Peer& peer) const {
    std::vector<IpAddress> out;
    for (const IpAddress& remote : peer.remotes) {
        IpAddress local;
        for (const IpAddress& a : cfg.local.addresses) {
            if (a.family() == remote.family()) {
                local = a;
                break;
            }
        }
        if (local.empty() && deps.source_address) {
            if (auto a = deps.source_address(remote)) local = *a;
        }
        out.push_back(local);
    }
    return out;
}

std::string Engine::Impl::no_local_address_reason(const Peer& peer) const {
    std::string reason = "no local address to reach ";
    for (size_t i = 0; i < peer.remotes.size(); ++i)
        reason += (i == 0 ? "" : " or ") + peer.remotes[i].to_string();
    if (deps.source_address)
        reason += peer.remotes.size() == 1 ? " (no route to it)" : " (no route to them)";
    return reason;
}

size_t Engine::Impl::first_usable(const Peer& peer, size_t from) const {
    for (size_t i = from; i < peer.locals.size(); ++i) {
        if (!peer.locals[i].empty()) return i;
    }
    return kNoAddress;
}

size_t Engine::Impl::index_of(const Peer& peer, const IpAddress& a) const {
    auto it = std::find(peer.remotes.begin(), peer.remotes.end(), a);
    return it == peer.remotes.end() ? kNoAddress : static_cast<size_t>(it - peer.remotes.begin());
}

bool Engine::Impl::has_address(const Peer& peer, const IpAddress& a) const {
    return index_of(peer, a) != kNoAddress;
}

void Engine::Impl::use_address(Peer& peer, size_t index, TimePoint now, bool restart) {
    const IpAddress next_remote = index == kNoAddress ? peer.remotes.front() : peer.remotes[index];
    const IpAddress next_local = index == kNoAddress ? IpAddress{} : peer.locals[index];
    if (next_remote == peer.remote && next_local == peer.local_address) return;
    const IpAddress previous = peer.local_address;
    log->info("peer {}: addresses {} -> {} become {} -> {}", peer.cfg.name,
              previous.empty() ? "none" : previous.to_string(), peer.remote.to_string(),
              next_local.empty() ? "none" : next_local.to_string(), next_remote.to_string());
    // The SAs on the old pair go: their CHILD SAs at once (the kernel state is named by the old
    // addresses), the IKE SAs after a Delete sent from the old address, detached from the peer
    // (as when a peer is removed) so that the new IKE SA does not wait for that goodbye, which
    // cannot arrive if the old address is gone.
    std::vector<uint64_t> ids = peer.sas;
    for (uint64_t id : ids) {
        if (IkeSa* sa = find_sa(id)) begin_delete(*sa, Error{Errc::ok, "addresses changed"}, now);
    }
    for (uint64_t id : peer.sas) {
        if (IkeSa* sa = find_sa(id)) sa->peer = nullptr;
    }
    peer.sas.clear();
    peer.initiated = 0;
    remove_policies(peer);
    peer.in_use = index == kNoAddress ? 0 : index;
    peer.remote = next_remote;
    peer.local_address = next_local;
    if (next_local.empty()) {
        peer.failures = 0;
        peer.start_at = kNever;
        peer.last_error = no_local_address_reason(peer);
        log->error("peer {}: {}", peer.cfg.name, peer.last_error);
        return;
    }
    install_policies(peer);
    if (!restart) return;
    peer.failures = 0;
    peer.start_at = kNever;
    peer.last_error.clear();
    // A peer seen for the first time follows the mesh rule; a peer that moved starts at once:
    // only we know that the SAs went.
    if (peer.cfg.start == StartAction::always && !peer.admin_down) {
        schedule_start(peer, now, previous.empty());
    }
}

void Engine::Impl::on_addresses_changed(TimePoint now) {
    if (shutting_down || !deps.source_address) return;
    for (auto& [name, p] : peers) {
        std::vector<IpAddress> next = resolve_locals(*p);
        if (next == p->locals) continue;
        const bool had = !p->local_address.empty();
        p->locals = std::move(next);
        // The pair in use stays while it works (its local address may change); otherwise the
        // first usable address takes over.
        size_t index = had && !p->locals[p->in_use].empty() ? p->in_use : first_usable(*p, 0);
        use_address(*p, index, now, true);
    }
}

void Engine::Impl::remove_peer(Peer& peer, TimePoint now) {
    peer.admin_down = true;
    peer.start_at = kNever;
    std::vector<uint64_t> ids = peer.sas;
    for (uint64_t id : ids) {
        if (IkeSa* sa = find_sa(id)) {
            begin_delete(*sa, Error{Errc::ok, "peer removed from the configuration"}, now);
        }
    }
    // SAs still saying goodbye outlive the peer record.
    for (uint64_t id : peer.sas) {
        if (IkeSa* sa = find_sa(id)) sa->peer = nullptr;
    }
    for (auto& [id, sa] : sas) {
        if (sa->peer == &peer) sa->peer = nullptr;
    }
    remove_policies(peer);
    peers_by_id.erase(peer.id);
    peers.erase(peer.cfg.name);
}

void Engine::Impl::install_policies(Peer& peer) {
    std::vector<kernel::PolicyParams> all = peer_bypass(peer);
    auto ipsec = peer_policies(peer);
    all.insert(all.end(), ipsec.begin(), ipsec.end());
    std::vector<kernel::KernelOp> ops;
    ops.reserve(all.size());
    // update = add or replace: a leftover of an earlier run with the same selector is taken over.
    for (const auto& p : all)
        ops.emplace_back(kernel::UpdatePolicy{p});
    auto results = deps.kernel.submit(ops);
    for (size_t i = 0; i < results.size(); ++i) {
        if (!results[i]) {
            peer.last_error =
                "policy " + all[i].id.selector.to_string() + ": " + results[i].error().message();
            log->error("peer {}: {}", peer.cfg.name, peer.last_error);
        } else {
            peer.policies.push_back(all[i]);
        }
    }
}

void Engine::Impl::remove_policies(Peer& peer) {
    std::vector<kernel::KernelOp> ops;
    for (const auto& p : peer.policies)
        ops.emplace_back(kernel::DeletePolicy{p.id});
    (void)deps.kernel.submit(ops);
    peer.policies.clear();
}

void Engine::Impl::schedule_start(Peer& peer, TimePoint now, bool follower_delay) {
    Duration delay{0};
    if (follower_delay && !peer.designated_initiator) delay = mesh_follower_delay(deps.rng);
    peer.start_at = std::min(peer.start_at, now + delay);
    arm(peer);
}

void Engine::Impl::wake_peer(Peer& peer, TimePoint now) {
    if (peer.start_at > now) return;
    peer.start_at = kNever;
    if (peer.admin_down || shutting_down || !peer.sas.empty()) return;
    // The peer is already setting up an IKE SA with us (not yet authenticated): let it finish.
    for (const auto& [key, id] : half_open) {
        if (has_address(peer, key.second.address)) {
            if (IkeSa* sa = find_sa(id); sa && sa->peer == nullptr) return;
        }
    }
    initiate_ike_sa(peer, now);
}

void Engine::Impl::begin_delete(IkeSa& sa, Error reason, TimePoint now) {
    if (sa.state == IkeState::connecting) {
        delete_ike_sa(sa, std::move(reason), now);
        return;
    }
    if (sa.state == IkeState::deleting) return;
    if (sa.reason.empty()) sa.reason = reason_text(reason);
    while (!sa.children.empty())
        remove_child(sa, sa.children.back().id, sa.reason);
    sa.state = IkeState::deleting;
    sa.queue.clear();
    sa.rekey_at = sa.dpd_at = sa.child_retry_at = sa.keepalive_at = kNever;
    queue_intent(sa, Intent{.task = Task::delete_ike}, now);
}

// --- mesh rules (docs/mesh.md) -------------------------------------------------------------------

void Engine::Impl::apply_initial_contact(IkeSa& fresh, TimePoint now) {
    Peer& peer = *fresh.peer;
    std::vector<uint64_t> stale;
    for (uint64_t id : peer.sas) {
        IkeSa* other = find_sa(id);
        // Only SAs already up before the new one's IKE_SA_INIT arrived: a simultaneous start
        // must not kill the SA being set up the other way.
        if (other && other != &fresh && other->state == IkeState::established &&
            other->established_at < fresh.created) {
            stale.push_back(id);
        }
    }
    for (uint64_t id : stale) {
        if (IkeSa* other = find_sa(id)) {
            delete_ike_sa(*other, Error{Errc::deleted_by_peer, "peer restarted (INITIAL_CONTACT)"},
                          now);
        }
    }
}

void Engine::Impl::resolve_duplicates(Peer& peer, TimePoint now) {
    // The rule only ever deletes SAs we initiated: without any, there is nothing to decide (and
    // a responder holding many SAs with one peer pays nothing per handshake).
    if (peer.initiated == 0) return;
    std::vector<IkeSa*> up;
    for (uint64_t id : peer.sas) {
        IkeSa* sa = find_sa(id);
        if (!sa || sa->state != IkeState::established || sa->replaced_by != 0) continue;
        // The peer-created half of an undecided rekey collision is not a duplicate.
        bool collision = std::any_of(peer.sas.begin(), peer.sas.end(), [&](uint64_t o) {
            IkeSa* other = find_sa(o);
            return other && other->collision_sa == sa->id;
        });
        if (!collision) up.push_back(sa);
    }
    if (up.size() < 2) return;
    std::vector<IkeSa*> losers;
    if (!peer.designated_initiator) {
        // The designated initiator's SA wins; only we delete the ones we initiated.
        bool theirs = std::any_of(up.begin(), up.end(), [](IkeSa* s) { return !s->initiator; });
        if (!theirs) return;
        for (IkeSa* s : up) {
            if (s->initiator) losers.push_back(s);
        }
    } else {
        std::vector<IkeSa*> ours;
        for (IkeSa* s : up) {
            if (s->initiator) ours.push_back(s);
        }
        if (ours.size() < 2) return;
        std::sort(ours.begin(), ours.end(),
                  [](IkeSa* a, IkeSa* b) { return a->established_at < b->established_at; });
        losers.assign(ours.begin(), ours.end() - 1);
    }
    for (IkeSa* s : losers) {
        log->info("{}duplicate IKE SA with {}, deleting the one we initiated (mesh rule)",
                  prefix(*s), peer.cfg.name);
        begin_delete(*s, Error{Errc::ok, "duplicate IKE SA (mesh rule)"}, now);
    }
}

// --- the public verbs --------------------------------------------------------------------------

void Engine::Impl::start(TimePoint now) {
    // Before anything is installed: whatever of ours is in the kernel now is a previous run's
    // (a crash or SIGKILL; a clean stop removes its own).
    auto owned = deps.kernel.list_owned();
    if (!owned) {
        log->warn(
            "cannot list the kernel's entries ({}); a previous run's, if any, stay until their "
            "lifetime ends",
            owned.error().message());
    }
    for (const PeerConfig& pc : cfg.peers)
        add_peer(pc, now);
    refresh_proposals();
    if (!owned) return;
    remove_stale_policies(owned->policies);
    // Its SAs still carry traffic with peers that do not yet know we restarted: each goes once
    // a new CHILD SA with its peer is up (retire_previous_run_sas).
    previous_run_sas = std::move(owned->sas);
    if (!previous_run_sas.empty()) {
        log->info(
            "{} SAs of a previous run in the kernel; each goes once a new CHILD SA with its "
            "peer is up",
            previous_run_sas.size());
    }
}

// A previous run's policies that this configuration also has were taken over by add_peer
// (installed with update); the others (a peer or traffic class since removed from the
// configuration) are removed, as a reload would have removed them.
void Engine::Impl::remove_stale_policies(const std::vector<kernel::OwnedPolicy>& previous) {
    std::set<kernel::PolicyId, kernel::PolicyIdLess> current;
    for (const auto& [name, p] : peers) {
        for (const kernel::PolicyParams& pol : p->policies)
            current.insert(pol.id);
    }
    std::vector<kernel::KernelOp> ops;
    for (const kernel::OwnedPolicy& old : previous) {
        if (!current.contains(old.id)) ops.emplace_back(kernel::DeletePolicy{old.id});
    }
    if (ops.empty()) return;
    size_t removed = 0;
    auto results = deps.kernel.submit(ops);
    for (size_t i = 0; i < results.size(); ++i) {
        const auto& id = std::get<kernel::DeletePolicy>(ops[i]).id;
        if (results[i]) {
            ++removed;
        } else if (!results[i].error().is(Errc::kernel_no_entry)) {
            log->warn("removing policy {} left by a previous run failed: {}",
                      id.selector.to_string(), results[i].error().message());
        }
    }
    log->info("removed {} policies of a previous run that the configuration no longer has",
              removed);
}

// The peer has a new CHILD SA in both directions, and learnt of our restart by INITIAL_CONTACT
// (it dropped its side of the old pairs then): our side of them is dead weight. An SPI this run
// uses is never removed, in case the kernel handed out an old SPI again after the old SA expired.
void Engine::Impl::retire_previous_run_sas(Peer& peer) {
    if (previous_run_sas.empty()) return;
    auto in_use = [&](const kernel::OwnedSa& old) {
        for (uint64_t id : peer.sas) {
            if (IkeSa* sa = find_sa(id)) {
                for (const ChildSa& c : sa->children) {
                    if (c.spi_in == old.spi || c.spi_out == old.spi) return true;
                }
            }
        }
        return false;
    };
    size_t removed = 0;
    std::erase_if(previous_run_sas, [&](const kernel::OwnedSa& old) {
        if (!has_address(peer, old.src) && !has_address(peer, old.dst)) return false;
        if (in_use(old)) return true;
        Status st = deps.kernel.delete_sa(old.dst, old.spi);
        if (st) {
            ++removed;
        } else if (!st.error().is(Errc::kernel_no_entry)) {
            log->warn("peer {}: removing SA {} left by a previous run failed: {}", peer.cfg.name,
                      to_hex(old.spi), st.error().message());
        }
        return true;
    });
    if (removed > 0) {
        log->info("peer {}: removed {} SAs left by a previous run", peer.cfg.name, removed);
    }
}

void Engine::Impl::refresh_proposals() {
    all_ike_proposals.clear();
    for (const auto& [name, p] : peers) {
        for (const IkeProposal& q : p->cfg.ike) {
            if (std::find(all_ike_proposals.begin(), all_ike_proposals.end(), q) ==
                all_ike_proposals.end()) {
                all_ike_proposals.push_back(q);
            }
        }
    }
}

Status Engine::Impl::initiate(std::string_view name, TimePoint now) {
    Peer* peer = find_peer(name);
    if (!peer) return Error{Errc::unknown_peer, std::string(name)};
    peer->admin_down = false;
    if (peer->local_address.empty()) {
        return Error{Errc::state_error, no_local_address_reason(*peer)};
    }
    for (uint64_t id : peer->sas) {
        IkeSa* sa = find_sa(id);
        if (sa && sa->state == IkeState::established) {
            if (sa->children.empty() && !peer->cfg.childless) {
                queue_intent(*sa, Intent{.task = Task::create_child}, now);
            }
            return {};
        }
        if (sa && sa->state == IkeState::connecting) return {};
    }
    peer->start_at = kNever;
    initiate_ike_sa(*peer, now);
    return {};
}

Status Engine::Impl::terminate(std::string_view name, TimePoint now) {
    Peer* peer = find_peer(name);
    if (!peer) return Error{Errc::unknown_peer, std::string(name)};
    peer->admin_down = true;
    peer->start_at = kNever;
    std::vector<uint64_t> ids = peer->sas;
    for (uint64_t id : ids) {
        if (IkeSa* sa = find_sa(id))
            begin_delete(*sa, Error{Errc::ok, "terminated by operator"}, now);
    }
    peer->last_error = "terminated by operator";
    return {};
}

Status Engine::Impl::rekey(std::string_view name, bool ike, TimePoint now) {
    Peer* peer = find_peer(name);
    if (!peer) return Error{Errc::unknown_peer, std::string(name)};
    for (uint64_t id : peer->sas) {
        IkeSa* sa = find_sa(id);
        if (!sa || sa->state != IkeState::established || sa->replaced_by != 0) continue;
        if (ike) {
            queue_intent(*sa, Intent{.task = Task::rekey_ike}, now);
        } else {
            std::vector<uint64_t> children;
            for (const ChildSa& c : sa->children) {
                if (c.state == ChildState::installed) children.push_back(c.id);
            }
            if (children.empty()) return Error{Errc::state_error, "no CHILD SA to rekey"};
            for (uint64_t c : children) {
                queue_intent(*sa, Intent{.task = Task::rekey_child, .child_id = c}, now);
            }
        }
        return {};
    }
    return Error{Errc::state_error, "no established IKE SA with " + std::string(name)};
}

void Engine::Impl::reconfigure(EngineConfig next, TimePoint now) {
    const bool local_changed = !(cfg.local == next.local);
    cfg.settings = next.settings;
    cfg.local = std::move(next.local);
    std::map<std::string, const PeerConfig*, std::less<>> wanted;
    for (const PeerConfig& pc : next.peers)
        wanted[pc.name] = &pc;
    std::vector<std::string> gone;
    for (const auto& [name, p] : peers) {
        auto it = wanted.find(name);
        if (it == wanted.end() || local_changed || !(p->cfg == *it->second)) gone.push_back(name);
    }
    for (const std::string& name : gone) {
        log->info(
            "peer {}: {}", name,
            wanted.contains(name) ? "changed, re-establishing" : "removed from the configuration");
        remove_peer(*find_peer(name), now);
    }
    for (const PeerConfig& pc : next.peers) {
        if (!find_peer(pc.name)) add_peer(pc, now);
    }
    cfg.peers = std::move(next.peers);
    refresh_proposals();
}

void Engine::Impl::shutdown(TimePoint now) {
    shutting_down = true;
    std::vector<uint64_t> ids;
    for (const auto& [id, sa] : sas)
        ids.push_back(id);
    for (uint64_t id : ids) {
        if (IkeSa* sa = find_sa(id)) begin_delete(*sa, Error{Errc::ok, "daemon stopping"}, now);
    }
    for (auto& [name, p] : peers) {
        p->start_at = kNever;
        remove_policies(*p);
    }
}

}  // namespace ikemesh::ike
