// INFORMATIONAL (RFC 7296 1.4, 2.4): Delete of CHILD and IKE SAs and liveness checks.
//
//   HDR, SK {[N,] [D,] ...} -->
//                       <-- HDR, SK {[N,] [D,] ...}
// Deleting CHILD SAs:   D(ESP, our inbound SPIs) --> <-- D(ESP, its inbound SPIs)
// Deleting the IKE SA:  D(IKE) -->                   <-- (empty)
// Liveness check:       (empty) -->                  <-- (empty)
#include <spdlog/spdlog.h>

#include "ike/engine_impl.hpp"

namespace ikemesh::ike {

namespace {

Bytes spi_list(const std::vector<EspSpi>& spis) {
    Bytes out(4 * spis.size());
    for (size_t i = 0; i < spis.size(); ++i)
        store_be32(out.data() + 4 * i, spis[i].value);
    return out;
}

}  // namespace

void Engine::Impl::build_informational(IkeSa& sa, const Intent& intent, wire::ChainBuilder& chain,
                                       Request& req) {
    (void)sa;
    switch (intent.task) {
        case Task::delete_child: {
            Bytes spis = spi_list(intent.spis);
            chain.add(wire::DeletePayload{.protocol = wire::ProtocolId::esp,
                                          .spi_size = 4,
                                          .count = static_cast<uint16_t>(intent.spis.size()),
                                          .spis = spis});
            req.spis = intent.spis;
            break;
        }
        case Task::delete_ike:
            chain.add(wire::DeletePayload{.protocol = wire::ProtocolId::ike, .spi_size = 0});
            break;
        default:
            break;  // a liveness check is an empty INFORMATIONAL
    }
}

void Engine::Impl::on_informational_response(IkeSa& sa, Request& req,
                                             const wire::PayloadList& inner, TimePoint now) {
    (void)inner;
    switch (req.task) {
        case Task::delete_ike:
            delete_ike_sa(sa, Error{Errc::ok}, now);
            return;
        case Task::delete_child:
            // The peer has removed its side; now ours can go (kept until here so that packets
            // in flight on a rekeyed pair still arrive).
            for (EspSpi spi : req.spis) {
                for (const ChildSa& c : sa.children) {
                    if (c.spi_in == spi) {
                        remove_child(sa, c.id, sa.reason.empty() ? "deleted" : sa.reason);
                        break;
                    }
                }
            }
            return;
        default:
            return;  // liveness: hearing the response was the point (last_heard is set)
    }
}

void Engine::Impl::on_informational_request(IkeSa& sa, const wire::Header& h,
                                            const wire::PayloadList& inner, TimePoint now) {
    wire::ChainBuilder out;
    bool delete_ike = false;
    std::vector<EspSpi> ours;
    bool lost_one = false;  // a CHILD SA deleted without a replacement
    for (const wire::DeletePayload* d : wire::all_of<wire::DeletePayload>(inner)) {
        if (d->protocol == wire::ProtocolId::ike) {
            delete_ike = true;
            continue;
        }
        if (d->protocol != wire::ProtocolId::esp || d->spi_size != 4) continue;
        for (size_t i = 0; i < d->count; ++i) {
            // The peer names its inbound SPIs, which are our outbound ones (RFC 7296 3.11).
            ChildSa* c = child_by_spi_out(sa, EspSpi{load_be32(d->spi_at(i).data())});
            if (!c) continue;  // already gone (simultaneous deletes): answer without it
            ours.push_back(c->spi_in);
            uint64_t replacement = c->replaced_by;
            const bool rekeyed = replacement != 0 || c->state == ChildState::rekeyed;
            lost_one |= !rekeyed;
            remove_child(sa, c->id, rekeyed ? "rekeyed" : "deleted by peer");
            if (ChildSa* next = replacement ? find_child(sa, replacement) : nullptr) {
                // A rekey we answered is complete: start sending on the new SA.
                install_pending_outbound(sa, *next);
            }
        }
    }
    if (delete_ike) {
        respond(sa, h.exchange, h.message_id, out);
        delete_ike_sa(sa, Error{Errc::deleted_by_peer, "deleted by peer"}, now);
        return;
    }
    if (!ours.empty()) {
        Bytes spis = spi_list(ours);
        out.add(wire::DeletePayload{.protocol = wire::ProtocolId::esp,
                                    .spi_size = 4,
                                    .count = static_cast<uint16_t>(ours.size()),
                                    .spis = spis});
    }
    respond(sa, h.exchange, h.message_id, out);
    // The IKE SA stands without a CHILD SA: say why in the status (a peer that cannot install
    // the CHILD SA it just negotiated, such as strongSwan without ESP in its kernel, deletes it).
    if (lost_one && sa.children.empty() && sa.peer) sa.peer->child_error = "deleted by peer";
    // The peer deleted our only CHILD SA without replacing it: bring one back unless it is
    // meant to be childless or the IKE SA is going away.
    if (sa.children.empty() && !ours.empty() && sa.peer && !sa.peer->cfg.childless &&
        sa.state == IkeState::established && sa.replaced_by == 0 &&
        sa.peer->cfg.start != StartAction::passive) {
        schedule_child_retry(sa, now);
    }
}

void Engine::Impl::check_liveness(IkeSa& sa, TimePoint now) {
    const auto delay = sa.peer ? sa.peer->cfg.dpd_delay : std::chrono::seconds{0};
    if (delay.count() == 0) {
        sa.dpd_at = kNever;
        return;
    }
    // Inbound ESP on one of the peer's CHILD SAs proves it is alive (RFC 7296 2.4).
    for (ChildSa& c : sa.children) {
        auto counters_in = deps.kernel.query_sa(esp_addresses(sa).local, c.spi_in);
        if (counters_in && counters_in->bytes > c.seen_in_bytes) {
            c.seen_in_bytes = counters_in->bytes;
            sa.last_heard = now;
        }
    }
    if (now - sa.last_heard < delay) {
        sa.dpd_at = sa.last_heard + delay;
        return;
    }
    sa.dpd_at = now + delay;
    // Any outstanding request already tests liveness through its retransmissions.
    const bool pending =
        sa.inflight || std::any_of(sa.queue.begin(), sa.queue.end(),
                                   [](const Intent& i) { return i.task == Task::dpd; });
    if (!pending) {
        log->debug("{}nothing heard for {}s, checking liveness", prefix(sa),
                   std::chrono::duration_cast<std::chrono::seconds>(now - sa.last_heard).count());
        queue_intent(sa, Intent{.task = Task::dpd}, now);
    }
}

}  // namespace ikemesh::ike
