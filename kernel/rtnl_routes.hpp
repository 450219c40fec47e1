// RtnlRoutes: the RouteTable of the running kernel, over rtnetlink (libmnl).
//
// Two NETLINK_ROUTE sockets, as the XFRM backend has two: one for lookups (RTM_GETROUTE, one
// request and one answer at a time, bounded by a timeout), one bound to the address, route and
// link multicast groups whose readability says "something changed". It reads the routing state
// of the network namespace it was opened in, whatever `kernel = ...` backend runs the SAs (the
// fake kernel included), and needs no capability: route lookups and these groups are open to
// every process. Not thread-safe: one engine thread owns it.
#pragma once

#include <memory>

#include "common/bytes.hpp"
#include "kernel/routes.hpp"

struct mnl_socket;

namespace ikemesh::kernel {

struct RtnlOptions {
    // How long a lookup may wait for the kernel's answer (it answers synchronously; this only
    // matters if something is badly wrong).
    int reply_timeout_ms = 2000;
    // Open the notification socket (change_fd() is -1 without it).
    bool watch_changes = true;
};

class RtnlRoutes final : public RouteTable {
  public:
    static Result<std::unique_ptr<RtnlRoutes>> open(const RtnlOptions& options = {});
    ~RtnlRoutes() override;
    RtnlRoutes(const RtnlRoutes&) = delete;
    RtnlRoutes& operator=(const RtnlRoutes&) = delete;

    Result<std::optional<IpAddress>> source_for(const IpAddress& remote) override;
    int change_fd() const override;
    bool read_changes() override;

  private:
    RtnlRoutes() = default;
    Status init(const RtnlOptions& options);

    mnl_socket* request_ = nullptr;
    mnl_socket* events_ = nullptr;
    uint32_t port_id_ = 0;
    uint32_t seq_ = 0;
    Bytes buf_;
};

}  // namespace ikemesh::kernel
