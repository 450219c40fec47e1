// PfkeyKernel: the Kernel interface over PF_KEY v2 (RFC 2367 with Linux's extensions), for
// `kernel = "pfkey"`.
//
// Two PF_KEY sockets: one for requests, where every request carries a sequence number and our
// pid and the answer is the message with the same (seq, pid) (a reply, the notification of our
// change, or an error in sadb_msg_errno); one SADB_REGISTER'd for ESP, which receives ACQUIRE and
// EXPIRE and the notifications the kernel broadcasts for every change. PF_KEY has no free-form
// owner field: SAs are marked by a reqid band and policies by a priority band (pfkey::Marking,
// kernel/README.md). Policies are deleted by their kernel index (SADB_X_SPDDELETE2), never by
// selector, so a policy of another process with the same selector is never touched. Messages are
// built and parsed by kernel/pfkey_message.hpp; this unit only does the socket work. Not
// thread-safe: one engine thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/bytes.hpp"
#include "kernel/kernel.hpp"
#include "kernel/pfkey_message.hpp"

namespace ikemesh::kernel {

struct PfkeyOptions {
    OwnerTag owner;
    // The range GETSPI draws from (as the XFRM backend).
    uint32_t spi_min = 0xc0000000;
    uint32_t spi_max = 0xcfffffff;
    // How long a request may wait for its answer.
    int reply_timeout_ms = 5000;
    // Receive buffer of both sockets: the kernel broadcasts every change to every PF_KEY socket,
    // and a full buffer drops messages silently (PF_KEY has no ENOBUFS notice).
    int socket_buffer_bytes = 8 * 1024 * 1024;
};

class PfkeyKernel final : public Kernel {
  public:
    // Opens both sockets and registers for ESP. kernel_not_supported if the kernel has no
    // PF_KEY (af_key not loaded).
    static Result<std::unique_ptr<PfkeyKernel>> open(const PfkeyOptions& options = {});
    ~PfkeyKernel() override;
    PfkeyKernel(const PfkeyKernel&) = delete;
    PfkeyKernel& operator=(const PfkeyKernel&) = delete;

    std::string_view kind() const override { return "pfkey"; }
    Result<EspSpi> alloc_spi(const IpAddress& src, const IpAddress& dst, ReqId reqid) override;
    Status add_sa(const SaParams& sa) override;
    Status update_sa(const SaParams& sa) override;
    Status delete_sa(const IpAddress& dst, EspSpi spi) override;
    Result<SaCounters> query_sa(const IpAddress& dst, EspSpi spi) override;
    Status add_policy(const PolicyParams& policy) override;
    Status update_policy(const PolicyParams& policy) override;
    Status delete_policy(const PolicyId& id) override;
    Status bypass_socket(int fd, int family) override;
    Status enable_udp_encap(int fd) override;
    Result<OwnedState> list_owned() override;
    int event_fd() const override { return events_; }
    void read_events(const std::function<void(const KernelEvent&)>& handler) override;

    const pfkey::Marking& marking() const { return marking_; }

  private:
    explicit PfkeyKernel(const PfkeyOptions& options);
    Status init();

    Status sa_request(const SaParams& sa, bool update);
    Status policy_request(const PolicyParams& policy, bool update);
    // Sends what is in send_ (then wipes it) and returns the answer with seq/pid, parsed; an
    // answer with sadb_msg_errno set becomes the error. Other messages are skipped.
    Result<pfkey::Message> request(std::string_view what, uint32_t seq);
    // One request: `build(send_, header)` fills the (wiped) send buffer, then request(). A build
    // error is prefixed with `what`, and the buffer, which may hold key material, is wiped.
    template <class Build>
    Result<pfkey::Message> build_and_request(std::string_view what, uint32_t seq, Build&& build);
    // A dump: calls `each` for every entry until the last one (seq 0). An empty database is
    // answered with ENOENT, which is an empty dump here.
    Status dump(std::string_view what, uint8_t type,
                const std::function<void(const pfkey::Message&)>& each);
    Result<ByteView> receive(int fd, std::string_view what);
    Status send_buffer(std::string_view what);
    void remember(const PolicyId& id, uint32_t index, ReqId reqid);
    static std::string policy_key(const PolicyId& id);
    uint32_t next_seq() { return ++seq_; }

    PfkeyOptions options_;
    pfkey::Marking marking_;
    int request_ = -1;
    int events_ = -1;
    uint32_t pid_ = 0;
    uint32_t seq_ = 0x80000000;            // far from the kernel's ACQUIRE sequence numbers
    std::set<uint8_t> supported_encrypt_;  // from the SADB_REGISTER reply
    std::set<uint8_t> supported_auth_;
    // Kernel index (and reqid) of each policy we installed or listed: deletion is by index.
    struct Installed {
        uint32_t index = 0;
        ReqId reqid;
    };
    std::map<std::string, Installed> policies_;
    std::map<uint32_t, ReqId> reqid_by_index_;
    Bytes send_;
    Bytes recv_;
};

}  // namespace ikemesh::kernel
