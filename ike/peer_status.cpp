// Status snapshots (`ikectl status`): each peer's state, its IKE and CHILD SAs, and the kernel's
// byte and packet counters of each CHILD SA.
#include "ike/engine_impl.hpp"

namespace ikemesh::ike {
namespace {

const char* start_name(StartAction s) {
    switch (s) {
        case StartAction::always:
            return "always";
        case StartAction::on_demand:
            return "on-demand";
        case StartAction::passive:
            return "passive";
    }
    return "?";
}

int64_t seconds_between(TimePoint from, TimePoint to) {
    return std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
}

}  // namespace

std::string Engine::Impl::peer_state(const Peer& peer) const {
    // A pending start counts as connecting only before the first failure (the follower delay,
    // or coming back after a polite Delete). A re-attempt waiting out its back-off after a
    // failure is down: nothing is in progress, and `ikectl status` must say so (exit code 4).
    bool connecting = peer.start_at != kNever && peer.failures == 0;
    for (uint64_t id : peer.sas) {
        auto it = sas.find(id);
        if (it == sas.end()) continue;
        if (it->second->state == IkeState::established) return "established";
        if (it->second->state == IkeState::connecting) connecting = true;
    }
    return connecting ? "connecting" : "down";
}

EngineStatus Engine::Impl::status(TimePoint now) {
    EngineStatus st;
    st.half_open = static_cast<uint32_t>(half_open.size());
    for (const auto& [name, p] : peers) {
        PeerStatus ps;
        ps.name = name;
        ps.address = p->remote;
        ps.addresses = p->remotes;
        ps.local_address = p->local_address;
        ps.id = p->cfg.id.text;
        ps.start = start_name(p->cfg.start);
        ps.state = peer_state(*p);
        ps.last_error = p->last_error;
        ps.child_error = p->child_error;
        for (uint64_t id : p->sas) {
            IkeSa* sa = find_sa(id);
            if (!sa) continue;
            IkeSaStatus is;
            is.spi_i = sa->spi_i;
            is.spi_r = sa->spi_r;
            is.initiator = sa->initiator;
            is.state = to_string(sa->state);
            is.proposal = sa->state == IkeState::connecting ? "" : sa->suite.name();
            is.local = sa->local;
            is.remote = sa->remote;
            is.nat_detected = sa->nat_detected;
            is.behind_nat = sa->behind_nat;
            is.peer_behind_nat = sa->peer_behind_nat;
            if (sa->state != IkeState::connecting) {
                is.established_seconds = seconds_between(sa->established_at, now);
                is.last_heard_seconds = seconds_between(sa->last_heard, now);
            }
            if (sa->rekey_at != kNever) is.rekey_in_seconds = seconds_between(now, sa->rekey_at);
            ps.ike_sas.push_back(std::move(is));
            for (const ChildSa& c : sa->children) {
                ChildSaStatus cs;
                cs.spi_in = c.spi_in;
                cs.spi_out = c.spi_out;
                cs.reqid = p->reqid;
                cs.state = to_string(c.state);
                cs.proposal = c.suite.name();
                cs.established_seconds = seconds_between(c.established, now);
                if (c.rekey_at != kNever) cs.rekey_in_seconds = seconds_between(now, c.rekey_at);
                const auto [local, remote] = esp_addresses(*sa);
                if (auto in = deps.kernel.query_sa(local, c.spi_in)) {
                    cs.bytes_in = in->bytes;
                    cs.packets_in = in->packets;
                }
                if (!c.pending_outbound) {
                    if (auto out = deps.kernel.query_sa(remote, c.spi_out)) {
                        cs.bytes_out = out->bytes;
                        cs.packets_out = out->packets;
                    }
                }
                ps.child_sas.push_back(std::move(cs));
            }
        }
        st.peers.push_back(std::move(ps));
    }
    return st;
}

}  // namespace ikemesh::ike
