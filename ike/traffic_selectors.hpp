// Traffic selectors for host-to-host transport mode (RFC 7296 2.9, 3.13).
//
// A node proposes its own address as TSi and the peer's as TSr, narrowed to the protocols of the
// peer's `traffic` setting (empty: all traffic). A class's port ("tcp/5001") may be at either end,
// so it is not part of the selectors: the kernel policies carry it. A responder narrows what it is
// offered to what its own configuration allows, by intersection, and refuses with TS_UNACCEPTABLE
// when nothing is left; an initiator checks that the answer lies within what it proposed.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "ike/engine_config.hpp"
#include "ike/wire/payloads.hpp"

namespace ikemesh::ike {

using Selectors = wire::SmallVector<wire::TrafficSelector, 2>;

struct TsPair {
    Selectors local;   // this node's side (TSi when we initiate, TSr when we respond)
    Selectors remote;  // the peer's side
};

// A selector covering exactly one host, `protocol` (0 = any) and a port range.
wire::TrafficSelector host_selector(const IpAddress& host, uint8_t protocol = 0,
                                    uint16_t start_port = 0, uint16_t end_port = 65535);

// What this node allows with a peer: one selector pair per protocol of `traffic` (all traffic if
// empty).
TsPair allowed_selectors(const IpAddress& local, const IpAddress& remote,
                         std::span<const TrafficSpec> traffic);

// The intersection of two selectors, nullopt if empty (different families, protocols, disjoint
// ranges) or if either is of a type other than the two address ranges.
std::optional<wire::TrafficSelector> intersect(const wire::TrafficSelector& a,
                                               const wire::TrafficSelector& b);
// Whether `inner` lies completely within `outer`.
bool contains(const wire::TrafficSelector& outer, const wire::TrafficSelector& inner);

// Responder: narrow the peer's offer (its `remote` side is the peer) to `allowed`.
// Errc::ts_unacceptable when either side narrows to nothing.
Result<TsPair> narrow(const TsPair& offered, const TsPair& allowed);
// Initiator: every selector of the answer must lie within one we proposed.
Status check_narrowed(const TsPair& answer, const TsPair& proposed);

std::string to_string(const wire::TrafficSelector& ts);  // "10.0.0.1[tcp/0-65535]"
std::string to_string(const Selectors& list);

}  // namespace ikemesh::ike
