#include "kernel/fake_kernel.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "kernel/esp_algorithms.hpp"

namespace ikemesh::kernel {

namespace {

// The range XFRM's backend asks the kernel for, so fake and real SPIs look alike in logs.
constexpr uint32_t kSpiMin = 0xc0000000;
constexpr uint32_t kSpiSpan = 0x10000000;

std::string sa_name(const IpAddress& dst, EspSpi spi) {
    return "SA " + dst.to_string() + " spi " + to_hex(spi);
}

}  // namespace

std::string_view FakeKernel::name(Verb v) {
    switch (v) {
        case Verb::alloc_spi:
            return "alloc_spi";
        case Verb::add_sa:
            return "add_sa";
        case Verb::update_sa:
            return "update_sa";
        case Verb::delete_sa:
            return "delete_sa";
        case Verb::query_sa:
            return "query_sa";
        case Verb::add_policy:
            return "add_policy";
        case Verb::update_policy:
            return "update_policy";
        case Verb::delete_policy:
            return "delete_policy";
        case Verb::bypass_socket:
            return "bypass_socket";
        case Verb::enable_udp_encap:
            return "enable_udp_encap";
        case Verb::list_owned:
            return "list_owned";
    }
    return "?";
}

size_t FakeKernel::SaKeyHash::operator()(const SaKey& k) const noexcept {
    size_t h = k.spi * 0x9e3779b97f4a7c15ull;
    for (uint8_t b : k.dst.bytes())
        h = (h ^ b) * 0x100000001b3ull;
    return h;
}

FakeKernel::FakeKernel(uint32_t seed) : spi_state_(seed == 0 ? 1 : seed) {
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

FakeKernel::~FakeKernel() {
    if (event_fd_ >= 0) ::close(event_fd_);
}

void FakeKernel::record(Call call) {
    ++counts_[static_cast<size_t>(call.verb)];
    if (recording_) calls_.push_back(std::move(call));
}

std::optional<Error> FakeKernel::take_failure(Verb v) {
    auto& q = failures_[static_cast<size_t>(v)];
    if (q.empty()) return std::nullopt;
    Error e = std::move(q.front());
    q.pop_front();
    return e;
}

void FakeKernel::fail_next(Verb verb, Error error) {
    failures_[static_cast<size_t>(verb)].push_back(std::move(error));
}

void FakeKernel::signal() {
    if (event_fd_ < 0) return;
    uint64_t one = 1;
    // A full counter (impossible in practice) still leaves the fd readable: ignore the result.
    [[maybe_unused]] auto n = ::write(event_fd_, &one, sizeof one);
}

void FakeKernel::inject(KernelEvent event) {
    events_.push_back(std::move(event));
    signal();
}

void FakeKernel::read_events(const std::function<void(const KernelEvent&)>& handler) {
    if (event_fd_ >= 0) {
        uint64_t count;
        [[maybe_unused]] auto n = ::read(event_fd_, &count, sizeof count);
    }
    // Events injected by the handler itself wait for the next call, as a real socket's would.
    std::deque<KernelEvent> pending;
    pending.swap(events_);
    for (const auto& e : pending)
        handler(e);
    if (!events_.empty()) signal();
}

Result<EspSpi> FakeKernel::alloc_spi(const IpAddress& src, const IpAddress& dst, ReqId reqid) {
    Call call{Verb::alloc_spi, src, dst, {}, reqid, {}, true};
    if (auto f = take_failure(Verb::alloc_spi)) {
        call.ok = false;
        record(std::move(call));
        return *f;
    }
    if (src.empty() || src.family() != dst.family()) {
        call.ok = false;
        record(std::move(call));
        return Error{Errc::kernel_invalid_request, "alloc SPI needs two addresses of one family"};
    }
    // xorshift32: cheap, full period, and spread over the range like the kernel's random pick.
    EspSpi spi;
    do {
        spi_state_ ^= spi_state_ << 13;
        spi_state_ ^= spi_state_ >> 17;
        spi_state_ ^= spi_state_ << 5;
        spi = EspSpi{kSpiMin + spi_state_ % kSpiSpan};
    } while (sad_.count(SaKey{dst, spi.value}) != 0);

    Sa larval;
    larval.params.src = src;
    larval.params.dst = dst;
    larval.params.spi = spi;
    larval.params.reqid = reqid;
    larval.larval = true;
    sad_.emplace(SaKey{dst, spi.value}, std::move(larval));
    call.spi = spi;
    record(std::move(call));
    return spi;
}

Status FakeKernel::store_sa(const SaParams& sa, bool update) {
    const Verb verb = update ? Verb::update_sa : Verb::add_sa;
    Call call{verb, sa.src, sa.dst, sa.spi, sa.reqid, {}, true};
    auto fail = [&](Error e) -> Status {
        call.ok = false;
        record(std::move(call));
        return e;
    };
    if (auto f = take_failure(verb)) return fail(std::move(*f));
    if (auto s = validate_sa(sa); !s) return fail(s.take_error());

    const SaKey key{sa.dst, sa.spi.value};
    auto it = sad_.find(key);
    if (update) {
        // XFRM_MSG_UPDSA on a missing state fails with ESRCH.
        if (it == sad_.end()) {
            return fail(Error{Errc::kernel_no_entry, "update " + sa_name(sa.dst, sa.spi)});
        }
        if (it->second.larval) {
            it->second.params = sa.clone();
            it->second.larval = false;
        } else {
            // xfrm_state_update on a complete SA takes only the encapsulation and the lifetimes
            // (addresses and keys stay); switching encapsulation on or off fails (EEXIST).
            Sa& held = it->second;
            if (held.params.encap.has_value() != sa.encap.has_value()) {
                return fail(Error{Errc::kernel_exists, "update " + sa_name(sa.dst, sa.spi)});
            }
            held.params.encap = sa.encap;
            held.params.soft = sa.soft;
            held.params.hard = sa.hard;
        }
    } else {
        // XFRM_MSG_NEWSA on an existing (dst, spi, proto), larval or not, fails with EEXIST.
        if (it != sad_.end()) {
            return fail(Error{Errc::kernel_exists, "add " + sa_name(sa.dst, sa.spi)});
        }
        Sa s;
        s.params = sa.clone();
        sad_.emplace(key, std::move(s));
    }
    record(std::move(call));
    return {};
}

Status FakeKernel::add_sa(const SaParams& sa) {
    return store_sa(sa, false);
}

Status FakeKernel::update_sa(const SaParams& sa) {
    return store_sa(sa, true);
}

Status FakeKernel::delete_sa(const IpAddress& dst, EspSpi spi) {
    Call call{Verb::delete_sa, {}, dst, spi, {}, {}, true};
    if (auto f = take_failure(Verb::delete_sa)) {
        call.ok = false;
        record(std::move(call));
        return *f;
    }
    auto it = sad_.find(SaKey{dst, spi.value});
    if (it == sad_.end()) {
        call.ok = false;
        record(std::move(call));
        return Error{Errc::kernel_no_entry, "delete " + sa_name(dst, spi)};
    }
    call.src = it->second.params.src;
    call.reqid = it->second.params.reqid;
    sad_.erase(it);
    record(std::move(call));
    return {};
}

Result<SaCounters> FakeKernel::query_sa(const IpAddress& dst, EspSpi spi) {
    Call call{Verb::query_sa, {}, dst, spi, {}, {}, true};
    if (auto f = take_failure(Verb::query_sa)) {
        call.ok = false;
        record(std::move(call));
        return *f;
    }
    auto it = sad_.find(SaKey{dst, spi.value});
    if (it == sad_.end()) {
        call.ok = false;
        record(std::move(call));
        return Error{Errc::kernel_no_entry, "query " + sa_name(dst, spi)};
    }
    record(std::move(call));
    return it->second.counters;
}

Status FakeKernel::store_policy(const PolicyParams& policy, bool update) {
    const Verb verb = update ? Verb::update_policy : Verb::add_policy;
    Call call{verb, policy.id.selector.src, policy.id.selector.dst, {}, policy.reqid, policy.id,
              true};
    auto fail = [&](Error e) -> Status {
        call.ok = false;
        record(std::move(call));
        return e;
    };
    if (auto f = take_failure(verb)) return fail(std::move(*f));
    if (auto s = validate_policy(policy); !s) return fail(s.take_error());
    auto [it, inserted] = policies_.try_emplace(policy.id, policy);
    if (!inserted) {
        // XFRM_MSG_NEWPOLICY is exclusive; XFRM_MSG_UPDPOLICY replaces.
        if (!update) {
            return fail(Error{Errc::kernel_exists, "add policy " +
                                                       std::string(kernel::name(policy.id.dir)) +
                                                       " " + policy.id.selector.to_string()});
        }
        it->second = policy;
    }
    record(std::move(call));
    return {};
}

Status FakeKernel::add_policy(const PolicyParams& policy) {
    return store_policy(policy, false);
}

Status FakeKernel::update_policy(const PolicyParams& policy) {
    return store_policy(policy, true);
}

Status FakeKernel::delete_policy(const PolicyId& id) {
    Call call{Verb::delete_policy, id.selector.src, id.selector.dst, {}, {}, id, true};
    if (auto f = take_failure(Verb::delete_policy)) {
        call.ok = false;
        record(std::move(call));
        return *f;
    }
    auto it = policies_.find(id);
    if (it == policies_.end()) {
        call.ok = false;
        record(std::move(call));
        return Error{Errc::kernel_no_entry, "delete policy " + std::string(kernel::name(id.dir)) +
                                                " " + id.selector.to_string()};
    }
    call.reqid = it->second.reqid;
    policies_.erase(it);
    record(std::move(call));
    return {};
}

Status FakeKernel::bypass_socket(int fd, int family) {
    Call call{Verb::bypass_socket, {}, {}, {}, {}, {}, true};
    if (auto f = take_failure(Verb::bypass_socket)) {
        call.ok = false;
        record(std::move(call));
        return *f;
    }
    (void)fd;
    (void)family;
    record(std::move(call));
    return {};
}

Status FakeKernel::enable_udp_encap(int fd) {
    Call call{Verb::enable_udp_encap, {}, {}, {}, {}, {}, true};
    if (auto f = take_failure(Verb::enable_udp_encap)) {
        call.ok = false;
        record(std::move(call));
        return *f;
    }
    (void)fd;
    record(std::move(call));
    return {};
}

Result<OwnedState> FakeKernel::list_owned() {
    Call call{Verb::list_owned, {}, {}, {}, {}, {}, true};
    if (auto f = take_failure(Verb::list_owned)) {
        call.ok = false;
        record(std::move(call));
        return *f;
    }
    record(std::move(call));
    OwnedState state;
    // Larval SAs carry no owner mark in XFRM either (the kernel creates them), so they are not
    // listed; they time out by themselves.
    for (const auto& [key, sa] : sad_) {
        if (sa.larval) continue;
        state.sas.push_back(
            OwnedSa{sa.params.src, sa.params.dst, sa.params.spi, sa.params.reqid, sa.params.mode});
    }
    for (const auto& [id, p] : policies_) {
        state.policies.push_back(OwnedPolicy{id, p.action, p.priority, p.reqid});
    }
    return state;
}

const FakeKernel::Sa* FakeKernel::find_sa(const IpAddress& dst, EspSpi spi) const {
    auto it = sad_.find(SaKey{dst, spi.value});
    return it == sad_.end() ? nullptr : &it->second;
}

const PolicyParams* FakeKernel::find_policy(const PolicyId& id) const {
    auto it = policies_.find(id);
    return it == policies_.end() ? nullptr : &it->second;
}

size_t FakeKernel::sa_count() const {
    return static_cast<size_t>(
        std::count_if(sad_.begin(), sad_.end(), [](const auto& kv) { return !kv.second.larval; }));
}

size_t FakeKernel::larval_count() const {
    return sad_.size() - sa_count();
}

std::vector<const FakeKernel::Sa*> FakeKernel::sas() const {
    std::vector<const Sa*> out;
    for (const auto& [key, sa] : sad_) {
        if (!sa.larval) out.push_back(&sa);
    }
    return out;
}

Status FakeKernel::expire(const IpAddress& dst, EspSpi spi, bool hard) {
    auto it = sad_.find(SaKey{dst, spi.value});
    if (it == sad_.end()) return Error{Errc::kernel_no_entry, "expire " + sa_name(dst, spi)};
    ExpireEvent e{it->second.params.src, dst, spi, it->second.params.reqid, hard};
    if (hard) sad_.erase(it);
    inject(KernelEvent{e});
    return {};
}

Status FakeKernel::delete_externally(const IpAddress& dst, EspSpi spi) {
    auto it = sad_.find(SaKey{dst, spi.value});
    if (it == sad_.end()) return Error{Errc::kernel_no_entry, "delete " + sa_name(dst, spi)};
    SaDeletedEvent e{it->second.params.src, dst, spi, it->second.params.reqid};
    sad_.erase(it);
    inject(KernelEvent{e});
    return {};
}

Status FakeKernel::set_counters(const IpAddress& dst, EspSpi spi, const SaCounters& counters) {
    auto it = sad_.find(SaKey{dst, spi.value});
    if (it == sad_.end()) return Error{Errc::kernel_no_entry, "counters of " + sa_name(dst, spi)};
    it->second.counters = counters;
    return {};
}

}  // namespace ikemesh::kernel
