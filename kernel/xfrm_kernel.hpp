// XfrmKernel: the Kernel interface over Linux XFRM netlink (libmnl), ikemesh's default backend.
//
// Two netlink sockets, as strongSwan's kernel-netlink does: one for requests, where every
// request carries a sequence number and our port id and is answered by an ACK, an error or a
// reply; one for events, subscribed to the ACQUIRE, EXPIRE, SA and POLICY groups. Batches
// (submit) go out as a few large datagrams of many requests and their ACKs are collected
// afterwards. Everything we install carries the owner tag in its selector's user field
// (kernel/kernel.hpp explains why that field). Messages are built and parsed by
// kernel/xfrm_messages.hpp; this unit only does the socket work. Not thread-safe: one engine
// thread owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "kernel/kernel.hpp"

struct mnl_socket;

namespace ikemesh::kernel {

namespace xfrm {
struct NetlinkMessage;
}

struct XfrmOptions {
    OwnerTag owner;
    // The range ALLOCSPI draws from: the top nibble 0xc, as strongSwan does, so SPIs from us
    // are recognisable in captures; 2^28 values leave collisions to the kernel's retry.
    uint32_t spi_min = 0xc0000000;
    uint32_t spi_max = 0xcfffffff;
    // Requests per datagram in submit(): bounded so the ACKs of one datagram always fit the
    // request socket's receive buffer.
    size_t batch_messages = 256;
    size_t batch_bytes = 96 * 1024;
    // How long a request may wait for its answer before it counts as failed (the kernel answers
    // XFRM requests synchronously, so this only matters if something is badly wrong).
    int reply_timeout_ms = 5000;
    // Receive buffer of the event socket: a bulk install makes the kernel multicast one
    // notification per SA and policy, and an overrun costs a full resync.
    int event_buffer_bytes = 8 * 1024 * 1024;
    // Subscribe to the SA and POLICY groups (deletions by others); ACQUIRE and EXPIRE always.
    bool watch_changes = true;
};

class XfrmKernel final : public Kernel {
  public:
    // Opens and binds both sockets. kernel_not_supported if the kernel has no XFRM netlink,
    // kernel_permission_denied without CAP_NET_ADMIN (checked when the first request fails).
    static Result<std::unique_ptr<XfrmKernel>> open(const XfrmOptions& options = {});
    ~XfrmKernel() override;
    XfrmKernel(const XfrmKernel&) = delete;
    XfrmKernel& operator=(const XfrmKernel&) = delete;

    std::string_view kind() const override { return "xfrm"; }
    Result<EspSpi> alloc_spi(const IpAddress& src, const IpAddress& dst, ReqId reqid) override;
    Status add_sa(const SaParams& sa) override;
    Status update_sa(const SaParams& sa) override;
    Status delete_sa(const IpAddress& dst, EspSpi spi) override;
    Result<SaCounters> query_sa(const IpAddress& dst, EspSpi spi) override;
    Status add_policy(const PolicyParams& policy) override;
    Status update_policy(const PolicyParams& policy) override;
    Status delete_policy(const PolicyId& id) override;
    std::vector<Status> submit(std::span<const KernelOp> ops) override;
    Status bypass_socket(int fd, int family) override;
    Status enable_udp_encap(int fd) override;
    Result<OwnedState> list_owned() override;
    int event_fd() const override { return epoll_fd_; }
    void read_events(const std::function<void(const KernelEvent&)>& handler) override;

    uint32_t request_port_id() const { return request_pid_; }
    const XfrmOptions& options() const { return options_; }

  private:
    explicit XfrmKernel(const XfrmOptions& options);
    Status init();

    Status one(const KernelOp& op);
    // Sends what is in send_ and waits for the answers to `seqs` (ACK or error); one Status per
    // seq. The buffer is wiped afterwards: it may hold keys.
    void flush_batch(std::vector<uint32_t>& seqs, std::vector<std::string>& labels,
                     std::vector<Status>& results, std::vector<size_t>& slots);
    // A request answered by exactly one message (ALLOCSPI, GETSA): that message, or the error.
    Result<Bytes> request_reply(std::string_view what, uint16_t expected_type);
    // A dump: calls `each` for every message until NLMSG_DONE.
    Status dump(std::string_view what,
                const std::function<Status(const xfrm::NetlinkMessage&)>& each);
    Status send_buffer(std::string_view what);
    // One datagram from the request socket into recv_, or an error (timeout included).
    Result<ByteView> receive(std::string_view what);
    // Moves pending event-socket datagrams into queued_ (called during batches so the socket
    // does not overrun while we are busy).
    void drain_events();
    void queue(KernelEvent event);
    uint32_t next_seq() { return ++seq_; }

    XfrmOptions options_;
    mnl_socket* request_ = nullptr;
    mnl_socket* events_ = nullptr;
    uint32_t request_pid_ = 0;
    uint32_t seq_ = 0;
    int epoll_fd_ = -1;  // readable when the event socket is, or queued_ is non-empty
    int queue_fd_ = -1;  // eventfd inside epoll_fd_ signalling queued_
    Bytes send_;
    Bytes recv_;
    Bytes event_buf_;
    std::deque<KernelEvent> queued_;
};

}  // namespace ikemesh::kernel
