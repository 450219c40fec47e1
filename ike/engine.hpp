// The IKEv2 protocol engine, sans I/O.
//
// The engine owns every IKE SA and CHILD SA of this node and decides everything about them, but
// performs no I/O of its own: it is driven by calls (a datagram arrived, time passed, the kernel
// reported something, an operator asked for something) and answers with outputs that the caller
// carries out (datagrams to send, SA events to log and stream). Time is passed in with every call;
// randomness and key exchange come from injected objects; kernel verbs are called synchronously
// through the injected kernel::Kernel (they are quick request/ack round trips whose results feed
// the exchange being processed). The daemon runs one Engine on one Asio thread; exchange tests run
// two Engines in one process with virtual time and the fake kernel.
//
// What the engine is not: it does not read files (config arrives as values), does not own sockets,
// does not render status (it returns snapshots).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/ip.hpp"
#include "common/result.hpp"
#include "common/types.hpp"
#include "crypto/key_exchange.hpp"
#include "crypto/random.hpp"
#include "ike/engine_config.hpp"
#include "ike/status.hpp"

namespace ikemesh::kernel {
class Kernel;
struct KernelEvent;
}  // namespace ikemesh::kernel

namespace ikemesh::ike {

struct EngineDeps {
    crypto::RandomSource& rng;
    crypto::KeyExchangeFactory& kex;
    kernel::Kernel& kernel;
    // The local address the system would use to reach `remote` (a route lookup), used when the
    // config names no local address of that family; nullopt when there is no route. Optional:
    // without it only configured local addresses are used.
    std::function<std::optional<IpAddress>(const IpAddress& remote)> source_address;
    // Wall-clock time, used only to check certificate validity periods. Required: the engine
    // never reads a clock itself, and the constructor throws std::invalid_argument without it
    // (a wiring mistake, found at the first start, never a silent read of the system clock).
    std::function<std::chrono::system_clock::time_point()> wall_clock;
};

// A datagram to send. `local.port` names the socket (500 or the NAT-T port). An IKE message is
// bare: on the NAT-T port the daemon prepends the 4-byte non-ESP marker (RFC 3948 2.2). A raw
// datagram goes on the wire exactly as `data` says, with no marker: the engine uses it only for
// the 1-octet NAT-keepalive (RFC 3948 2.3), which must not look like IKE.
struct OutDatagram {
    enum class Framing : uint8_t { ike, raw };
    Endpoint local;
    Endpoint remote;
    Bytes data;
    Framing framing = Framing::ike;
};

struct EngineConfig {
    EngineSettings settings;
    LocalConfig local;
    std::vector<PeerConfig> peers;
    uint16_t port = 500;        // our IKE port
    uint16_t port_natt = 4500;  // our NAT-T port
};

class Engine {
  public:
    // Throws std::invalid_argument if `deps.wall_clock` is empty (see EngineDeps).
    Engine(EngineDeps deps, EngineConfig config, TimePoint now);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Installs policies and starts `start = always` peers. Call once after construction.
    void start(TimePoint now);

    // A UDP datagram arrived (non-ESP marker already removed for the NAT-T port).
    void on_datagram(ByteView data, const Endpoint& local, const Endpoint& remote, TimePoint now);
    // Fires every timer due at `now`. Call when `next_timer()` is reached.
    void on_timer(TimePoint now);
    // The earliest pending deadline, or TimePoint::max() when nothing is scheduled.
    TimePoint next_timer() const;
    void on_kernel_event(const kernel::KernelEvent& event, TimePoint now);
    // Local addresses or routes changed: the local address of every peer whose config names no
    // local address of its family is looked up again (EngineDeps::source_address). A peer that
    // had none gets its policies and starts; a peer whose address changed has its policies moved
    // and its SAs re-established from the new address; a peer that lost its route goes down with
    // that reason. Peers whose address is unchanged are not touched.
    void on_addresses_changed(TimePoint now);

    // Operator commands. Errc::unknown_peer for names not in the config.
    Status initiate(std::string_view peer, TimePoint now);
    Status terminate(std::string_view peer, TimePoint now);
    Status rekey(std::string_view peer, bool ike, TimePoint now);
    // Applies a new configuration: new peers come up, removed peers are deleted politely, changed
    // peers are re-established, unchanged peers keep their SAs untouched.
    void reconfigure(EngineConfig config, TimePoint now);
    // Deletes every SA politely (best effort, Delete payloads sent) and removes everything this
    // engine installed in the kernel. The daemon flushes the outbox and exits.
    void shutdown(TimePoint now);

    // Outputs accumulated since the last take.
    std::vector<OutDatagram> take_outbox();
    std::vector<SaEvent> take_events();

    // Snapshots. `status` queries the kernel for CHILD SA counters.
    EngineStatus status(TimePoint now);
    const EngineCounters& counters() const;

    class Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ikemesh::ike
