// Kernel events for the engine: ACQUIRE (traffic that needs a CHILD SA), EXPIRE (soft: rekey;
// hard, or an SA that vanished: heal), XFRM_MSG_MAPPING (the peer's NAT moved), and a resync
// after lost events (policies re-applied, missing SAs healed).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "ike/engine_impl.hpp"
#include "ike/timer_policy.hpp"

namespace ikemesh::ike {

void Engine::Impl::heal_child(IkeSa& sa, uint64_t child_id, const std::string& why, TimePoint now) {
    ChildSa* c = find_child(sa, child_id);
    if (!c) return;
    std::vector<EspSpi> spis{c->spi_in};
    log->warn("{}CHILD SA {}/{} broken: {}; replacing it", prefix(sa), to_hex(c->spi_in),
              to_hex(c->spi_out), why);
    remove_child(sa, child_id, why);
    queue_intent(sa, Intent{.task = Task::delete_child, .spis = std::move(spis)}, now);
    if (sa.children.empty() && sa.state == IkeState::established && sa.peer &&
        !sa.peer->cfg.childless) {
        queue_intent(sa, Intent{.task = Task::create_child}, now);
    }
}

std::pair<IkeSa*, ChildSa*> Engine::Impl::child_by_kernel_spi(const IpAddress& dst, EspSpi spi) {
    for (auto& [id, sa] : sas) {
        for (ChildSa& c : sa->children) {
            if (c.spi_in == spi || (c.spi_out == spi && sa->peer && sa->peer->remote == dst)) {
                return {sa.get(), &c};
            }
        }
    }
    return {nullptr, nullptr};
}

void Engine::Impl::on_kernel_event(const kernel::KernelEvent& event, TimePoint now) {
    if (shutting_down) return;
    std::visit(
        [&](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, kernel::AcquireEvent>) {
                Peer* peer = nullptr;
                for (auto& [name, p] : peers) {
                    if (p->reqid == e.reqid) peer = p.get();
                }
                if (!peer || peer->cfg.start == StartAction::passive || peer->admin_down) return;
                peer->acquire_seq = e.seq;
                for (uint64_t id : peer->sas) {
                    IkeSa* sa = find_sa(id);
                    if (sa && sa->state == IkeState::established && sa->children.empty()) {
                        queue_intent(*sa, Intent{.task = Task::create_child}, now);
                    }
                }
                if (peer->sas.empty() && (peer->failures == 0 || peer->start_at == kNever)) {
                    log->info("peer {}: traffic to {} triggers negotiation", peer->cfg.name,
                              e.flow.to_string());
                    peer->start_at = kNever;
                    initiate_ike_sa(*peer, now);
                }
            } else if constexpr (std::is_same_v<T, kernel::ExpireEvent>) {
                auto [sa, child] = child_by_kernel_spi(e.dst, e.spi);
                if (!sa) return;
                if (e.hard) {
                    heal_child(*sa, child->id, "kernel hard lifetime reached", now);
                } else if (child->state == ChildState::installed) {
                    queue_intent(*sa, Intent{.task = Task::rekey_child, .child_id = child->id},
                                 now);
                }
            } else if constexpr (std::is_same_v<T, kernel::SaDeletedEvent>) {
                auto [sa, child] = child_by_kernel_spi(e.dst, e.spi);
                if (sa)
                    heal_child(*sa, child->id, "SA removed from the kernel by someone else", now);
            } else if constexpr (std::is_same_v<T, kernel::PolicyDeletedEvent>) {
                for (auto& [name, p] : peers) {
                    for (const kernel::PolicyParams& pol : p->policies) {
                        if (pol.id == e.id) {
                            log->warn("peer {}: policy {} removed by someone else, restoring", name,
                                      e.id.selector.to_string());
                            (void)deps.kernel.update_policy(pol);
                        }
                    }
                }
            } else if constexpr (std::is_same_v<T, kernel::MappingEvent>) {
                // The kernel saw ESP for one of our inbound SAs from a new source (RFC 3948):
                // the peer's NAT rebound. Follow it only for encapsulated SAs of peers behind a
                // NAT; the kernel repeats the report until the SA names the new source.
                for (auto& [id, sa] : sas) {
                    for (ChildSa& c : sa->children) {
                        if (c.spi_in != e.spi) continue;
                        if (!c.encap_in || c.encap_in->dst != e.dst) {
                            ++counters.nat_mappings_refused;
                            log->debug("{}mapping for SA {} without UDP encapsulation ignored",
                                       prefix(*sa), to_hex(e.spi));
                            return;
                        }
                        if (sa->state != IkeState::established && sa->state != IkeState::rekeyed) {
                            return;
                        }
                        if (e.new_source == sa->remote) {
                            move_child_encap(*sa, c);  // IKE followed already; this SA lags
                            return;
                        }
                        peer_seen_at(*sa, e.new_source, "ESP", now);
                        return;
                    }
                }
            } else if constexpr (std::is_same_v<T, kernel::ResyncEvent>) {
                log->warn("kernel events lost ({}), resynchronising", e.reason.message());
                resync_kernel(now);
            }
        },
        event.data);
}

void Engine::Impl::resync_kernel(TimePoint now) {
    for (auto& [name, p] : peers) {
        for (const kernel::PolicyParams& pol : p->policies)
            (void)deps.kernel.update_policy(pol);
    }
    std::vector<std::pair<uint64_t, uint64_t>> broken;
    for (auto& [id, sa] : sas) {
        if (!sa->peer) continue;
        for (const ChildSa& c : sa->children) {
            const auto [local, remote] = esp_addresses(*sa);
            bool in_ok = deps.kernel.query_sa(local, c.spi_in).ok();
            bool out_ok = c.pending_outbound || deps.kernel.query_sa(remote, c.spi_out).ok();
            if (!in_ok || !out_ok) broken.emplace_back(id, c.id);
        }
    }
    for (auto [sa_id, child_id] : broken) {
        if (IkeSa* sa = find_sa(sa_id))
            heal_child(*sa, child_id, "SA missing from the kernel", now);
    }
}

}  // namespace ikemesh::ike
