// Route lookups: which local address the system would use to reach a peer, and a signal when
// that may have changed.
//
// The engine needs its own address towards every peer (the IKE source address, the SAs' and
// policies' local end). When the configuration names none of that family, the answer is the
// kernel's: the preferred source of the route to the peer, as `ip route get ADDR` prints it
// (`src`). RouteTable is the narrow interface the daemon asks; RtnlRoutes (rtnl_routes.hpp) asks
// the running kernel over rtnetlink, FakeRoutes (below) answers from an in-memory table for
// tests. Neither knows about peers or the engine: the daemon hands the lookup to the engine as
// EngineDeps::source_address and calls Engine::on_addresses_changed when `changes_pending()`.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"

namespace ikemesh::kernel {

class RouteTable {
  public:
    virtual ~RouteTable() = default;
    // The preferred source address of the route to `remote`; nullopt when there is no route
    // (unreachable, prohibited, or no address of that family to send from). An error only when
    // the lookup itself failed (the kernel did not answer).
    virtual Result<std::optional<IpAddress>> source_for(const IpAddress& remote) = 0;
    // A descriptor that becomes readable when addresses or routes may have changed; -1 if the
    // table never changes by itself.
    virtual int change_fd() const = 0;
    // Reads what is pending on change_fd(); true if an address, route or link changed (or
    // notifications were lost, which may hide a change). Never blocks.
    virtual bool read_changes() = 0;
};

// An in-memory routing table: longest prefix match over added routes, each with the source it
// prefers. Changes are made by the test, which then tells the engine itself.
class FakeRoutes final : public RouteTable {
  public:
    // A route to `prefix`/`length` preferring `source` (replaces one with the same prefix).
    void add(const IpAddress& prefix, uint8_t length, const IpAddress& source);
    void remove(const IpAddress& prefix, uint8_t length);
    // Every route whose source is `source` goes, as when an address is removed.
    void remove_source(const IpAddress& source);
    size_t lookups() const { return lookups_; }

    Result<std::optional<IpAddress>> source_for(const IpAddress& remote) override;
    int change_fd() const override { return -1; }
    bool read_changes() override { return false; }

  private:
    struct Route {
        IpAddress prefix;
        uint8_t length = 0;
        IpAddress source;
    };
    std::vector<Route> routes_;
    size_t lookups_ = 0;
};

// Whether `a` lies in `prefix`/`length` (same family; lengths beyond the address are clamped).
bool in_prefix(const IpAddress& a, const IpAddress& prefix, uint8_t length);

}  // namespace ikemesh::kernel
