// The optional Prometheus HTTP listener (`[metrics] listen = "127.0.0.1:9090"`), with Boost.Beast.
//
// It serves GET (and HEAD) /metrics and nothing else: 404 for other paths, 405 for other methods,
// no request bodies, small header limits, a timeout per connection and a cap on connections. The
// body comes from a render callback on the io_context's thread (the same text `ikectl metrics`
// prints), so the engine is only ever touched from that thread. Bind it to loopback or a
// management address: the metrics name every peer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "common/ip.hpp"
#include "common/result.hpp"

namespace ikemesh::daemon {

class MetricsHttpServer {
  public:
    using Render = std::function<std::string()>;

    MetricsHttpServer(boost::asio::io_context& io, Render render);
    ~MetricsHttpServer();
    MetricsHttpServer(const MetricsHttpServer&) = delete;
    MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

    Status open(const Endpoint& listen);
    uint16_t port() const;  // the bound port (useful when opened with port 0)
    void close();

    class Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace ikemesh::daemon
