// FakeKernel: an in-memory SAD and SPD with the kernel's semantics, for engine tests, the
// handshake benchmark and `kernel = "fake"` in the daemon.
//
// It behaves like XFRM where the engine can tell: alloc_spi creates a larval SA that update_sa
// completes (on a complete SA update_sa changes only the UDP encapsulation and lifetimes, as
// xfrm_state_update does), adding an SA or policy that exists fails with kernel_exists, deleting or
// updating one that does not fails with kernel_no_entry, a hard expiry removes the SA, and
// parameters are checked as strictly as the real backend checks them (esp_algorithms.hpp). It
// records every call, lets tests inject events and failures and set SA counters, and stays cheap
// enough for tens of thousands of SAs. It is not a model of packet processing: nothing expires by
// time, larval SAs never time out, and no ACQUIRE happens unless a test injects one.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "kernel/kernel.hpp"

namespace ikemesh::kernel {

class FakeKernel final : public Kernel {
  public:
    enum class Verb : uint8_t {
        alloc_spi,
        add_sa,
        update_sa,
        delete_sa,
        query_sa,
        add_policy,
        update_policy,
        delete_policy,
        bypass_socket,
        enable_udp_encap,
        list_owned,
    };
    static constexpr size_t kVerbCount = 11;
    static std::string_view name(Verb v);

    // One recorded call: the verb, what it was about, and whether it succeeded.
    struct Call {
        Verb verb = Verb::alloc_spi;
        IpAddress src;
        IpAddress dst;
        EspSpi spi;
        ReqId reqid;
        std::optional<PolicyId> policy;
        bool ok = true;
    };

    struct Sa {
        SaParams params;  // keys included: exchange tests compare both ends' keys
        bool larval = false;
        SaCounters counters;
    };

    // `seed` makes the SPI sequence reproducible; two fakes with different seeds (two engines in
    // one test) hand out different SPIs.
    explicit FakeKernel(uint32_t seed = 1);
    ~FakeKernel() override;
    FakeKernel(const FakeKernel&) = delete;
    FakeKernel& operator=(const FakeKernel&) = delete;

    std::string_view kind() const override { return "fake"; }
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
    int event_fd() const override { return event_fd_; }
    void read_events(const std::function<void(const KernelEvent&)>& handler) override;

    // --- inspection ---
    const std::vector<Call>& calls() const { return calls_; }
    void clear_calls() { calls_.clear(); }
    size_t count(Verb v) const { return counts_[static_cast<size_t>(v)]; }
    // Turn the per-call log off for benchmarks (counts are always kept).
    void set_recording(bool on) { recording_ = on; }

    const Sa* find_sa(const IpAddress& dst, EspSpi spi) const;
    const PolicyParams* find_policy(const PolicyId& id) const;
    size_t sa_count() const;  // complete SAs, not larval ones
    size_t larval_count() const;
    size_t policy_count() const { return policies_.size(); }
    std::vector<const Sa*> sas() const;  // complete SAs, in no particular order

    // --- injection ---
    // The next call of `verb` fails with `error` (queued: several fail_next calls fail as many
    // calls in order). The failing call changes nothing.
    void fail_next(Verb verb, Error error);
    // Queue an event for read_events (event_fd becomes readable).
    void inject(KernelEvent event);
    // What the kernel does when a lifetime runs out: queue an ExpireEvent and, for hard, remove
    // the SA. kernel_no_entry if there is no such SA.
    Status expire(const IpAddress& dst, EspSpi spi, bool hard);
    // Someone else deletes the SA (`ip xfrm state delete`): removed, SaDeletedEvent queued.
    Status delete_externally(const IpAddress& dst, EspSpi spi);
    // What query_sa reports from now on. kernel_no_entry if there is no such SA.
    Status set_counters(const IpAddress& dst, EspSpi spi, const SaCounters& counters);

  private:
    struct SaKey {
        IpAddress dst;
        uint32_t spi = 0;
        bool operator==(const SaKey&) const = default;
    };
    struct SaKeyHash {
        size_t operator()(const SaKey& k) const noexcept;
    };
    void record(Call call);
    std::optional<Error> take_failure(Verb v);
    Status store_sa(const SaParams& sa, bool update);
    Status store_policy(const PolicyParams& policy, bool update);
    void signal();

    std::unordered_map<SaKey, Sa, SaKeyHash> sad_;
    std::map<PolicyId, PolicyParams, PolicyIdLess> policies_;
    std::vector<Call> calls_;
    std::array<size_t, kVerbCount> counts_{};
    std::array<std::deque<Error>, kVerbCount> failures_;
    std::deque<KernelEvent> events_;
    uint32_t spi_state_;
    bool recording_ = true;
    int event_fd_ = -1;
};

}  // namespace ikemesh::kernel
