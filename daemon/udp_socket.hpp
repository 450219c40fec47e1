// One UDP socket carrying IKE, on the IKE port or the NAT-T port, for one address family.
//
// The socket learns the local address each datagram arrived on (IP_PKTINFO / IPV6_PKTINFO) and
// sends replies from a chosen local address the same way, so one wildcard socket serves a host
// with many addresses and the engine always answers from the address the peer used. On the NAT-T
// port it strips the non-ESP marker on receive (dropping keepalives and stray ESP) and prepends
// it on send (natt.hpp). IPv6 sockets are IPV6_V6ONLY so IPv4 and IPv6 sockets share a port.
// Sends never block: a datagram the kernel cannot take right now is dropped and counted, IKE
// retransmits it. One receive buffer per socket, reused for every datagram.
//
// Bypass policies and UDP_ENCAP are the kernel layer's business: the runner applies them to
// native_handle() after open().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/bytes.hpp"
#include "common/ip.hpp"
#include "common/result.hpp"
#include "daemon/metrics.hpp"

namespace ikemesh::daemon {

class IkeSocket {
  public:
    // `ike` is the bare IKE message (marker removed); valid only during the call.
    using Handler =
        std::function<void(ByteView ike, const Endpoint& local, const Endpoint& remote)>;

    // Opens and binds `address`:`port` (port 0 picks a free port, for tests). The wildcard
    // addresses 0.0.0.0 and :: receive on every local address of their family.
    static Result<std::unique_ptr<IkeSocket>> open(boost::asio::io_context& io,
                                                   const IpAddress& address, uint16_t port,
                                                   bool natt, DaemonCounters& counters);
    ~IkeSocket();
    IkeSocket(const IkeSocket&) = delete;
    IkeSocket& operator=(const IkeSocket&) = delete;

    // Starts the receive loop; `handler` runs on the io_context's thread for each IKE message.
    void start(Handler handler);
    // Sends `ike` to `remote` from `local.address` (any address of the socket if empty).
    // Errors are returned (and counted as drops) but are never fatal: UDP loses datagrams anyway.
    // `raw`: send the bytes as they are, without the non-ESP marker of the NAT-T port (the
    // NAT-keepalive, RFC 3948 2.3).
    Status send(ByteView ike, const Endpoint& local, const Endpoint& remote, bool raw = false);
    void close();

    int native_handle();
    const IpAddress& address() const { return address_; }
    uint16_t port() const { return port_; }  // the bound port, also when opened with 0
    bool natt() const { return natt_; }
    bool is_v6() const { return address_.is_v6(); }

  private:
    IkeSocket(boost::asio::io_context& io, bool natt, DaemonCounters& counters);
    void arm();
    void drain();

    boost::asio::ip::udp::socket socket_;
    IpAddress address_;
    uint16_t port_ = 0;
    bool natt_ = false;
    DaemonCounters& counters_;
    Handler handler_;
    std::vector<uint8_t> buffer_;
    std::shared_ptr<bool> alive_;  // the pending wait's handler checks it before touching `this`
};

}  // namespace ikemesh::daemon
