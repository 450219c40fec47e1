// All timing policy of the engine in one place, as pure functions of the settings (and, where the
// policy is randomised, of an injected random source). The engine asks these functions *when*;
// it never computes a delay anywhere else. Each function's table is in its comment and its test.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "common/types.hpp"
#include "crypto/random.hpp"
#include "ike/engine_config.hpp"

namespace ikemesh::ike {

// Retransmission of a request (RFC 7296 2.1 and 2.4): after sending attempt n (n = 0 is the first
// transmission) wait retransmit_timeout * retransmit_base^n, capped at retransmit_limit; after
// retransmit_tries retransmissions, the wait that follows the last one ends the exchange and the
// peer is declared dead. With the defaults (2 s, 1.8, 5 tries, 30 s cap):
//
//   attempt   0     1     2      3       4       5
//   wait      2.0s  3.6s  6.48s  11.66s  20.99s  30s (37.8 capped)   -> dead after 74.7 s
//
// Returns nullopt when `attempt` is past the last retransmission.
std::optional<Duration> retransmit_wait(const EngineSettings& s, uint32_t attempt);
// Time from the first transmission until the peer is declared dead (the sum of all waits).
Duration retransmit_give_up_after(const EngineSettings& s);

// When to start rekeying an SA established at time 0 with `lifetime`: lifetime - margin - a
// uniform random part of `jitter` (so a mesh does not rekey in lockstep). Never earlier than half
// the lifetime, so absurd settings cannot make an SA rekey in a loop.
Duration rekey_after(std::chrono::seconds lifetime, std::chrono::seconds margin,
                     std::chrono::seconds jitter, crypto::RandomSource& rng);

// Back-off before re-initiating a `start = always` peer after its `failures`-th consecutive
// failure: reinitiate_base * 2^(failures-1), capped at reinitiate_max, then multiplied by a random
// factor in [0.5, 1.5) so that a mesh that lost a node does not retry in lockstep.
//
//   failures  1     2     3     4      5      6      7+
//   nominal   2s    4s    8s    16s    32s    64s    120s (defaults)
Duration reinitiate_backoff(const EngineSettings& s, uint32_t failures, crypto::RandomSource& rng);

// NAT-keepalives (RFC 3948 2.3): while this node is behind a NAT, one every `interval` keeps the
// NAT's mapping of its NAT-T port alive (the RFC's default is 20 s). nullopt (no keepalives) when
// this node is not behind a NAT or the interval is 0.
std::optional<Duration> natt_keepalive_interval(std::chrono::seconds interval, bool behind_nat);

// Fixed delays of the engine (no setting moves them):
// - kKernelSlack: extra time the kernel's own SA lifetimes get beyond the engine's; the engine
//   rekeys and expires CHILD SAs on its own timers, the kernel's soft and hard limits are only a
//   backstop for a daemon that stopped.
// - kOutboundGrace: how long a rekey responder waits for the old SA's Delete before it switches
//   its outbound traffic to the new SA anyway.
// - kRekeyRetry: after a rekey that failed (or lost a collision), the next attempt.
inline constexpr std::chrono::seconds kKernelSlack{60};
inline constexpr std::chrono::seconds kOutboundGrace{10};
inline constexpr std::chrono::seconds kRekeyRetry{30};

// A `start = always` node that sorts *after* its peer (see docs/mesh.md) waits this long before
// its first initiation, so that in a mesh that boots at once the designated initiator usually wins
// without any duplicate IKE SA: uniform in [1 s, 3 s).
Duration mesh_follower_delay(crypto::RandomSource& rng);

}  // namespace ikemesh::ike
