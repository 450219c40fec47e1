// PfkeyKernel against the real PF_KEY of the running kernel, each test in a network namespace of
// its own (see netns.hpp). The development hosts have no af_key: there every test checks that
// opening the backend fails with a clear kernel_not_supported error naming af_key. In the QEMU
// guest (af_key and ESP loaded; tests/e2e/scenarios/kernel_pfkey_backend.sh runs
// `unit_kernel "[pfkey-netns]"`) they take the other branch and check the verbs, ownership and
// events against the kernel.
//
//   one namespace per test:   lo up;  v0 10.99.0.1/24 <--veth--> v1 (no address)
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>

#include "kernel/pfkey_kernel.hpp"
#include "layout.hpp"
#include "netns.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using namespace ikemesh::kernel::test;

namespace {

// Opens the backend in the test's namespace. nullptr when the kernel has no PF_KEY, after
// checking that the error says so clearly (the host's branch).
std::unique_ptr<PfkeyKernel> open_or_check(Checks& c) {
    auto k = PfkeyKernel::open();
    if (k) return std::move(*k);
    c.check(k.error().is(Errc::kernel_not_supported),
            "without af_key: kernel_not_supported, got " + k.error().message());
    c.check(k.error().message().find("af_key") != std::string::npos,
            "the error names af_key: " + k.error().message());
    return nullptr;
}

void veth() {
    shell(
        "ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && "
        "ip addr add 10.99.0.1/24 dev v0");
}

SaParams cbc_sa(const char* src, const char* dst, uint32_t spi) {
    SaParams sa;
    sa.src = ip(src);
    sa.dst = ip(dst);
    sa.spi = EspSpi{spi};
    sa.reqid = ReqId{7};
    sa.encr = {crypto::EncrAlg::aes_cbc, 128};
    sa.encr_key = crypto::SecretBytes(Bytes(16, 0x11));
    sa.integ = crypto::IntegAlg::hmac_sha1_96;
    sa.integ_key = crypto::SecretBytes(Bytes(20, 0x22));
    sa.replay_window = 32;
    return sa;
}

bool send_udp(const char* dst, uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    std::memcpy(&to.sin_addr, ip(dst).bytes().data(), 4);
    const bool ok = ::sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) >= 0;
    ::close(fd);
    return ok;
}

// Events until `done` says so or the budget runs out.
std::vector<KernelEvent> collect(PfkeyKernel& k, std::chrono::milliseconds budget,
                                 const std::function<bool(const std::vector<KernelEvent>&)>& done) {
    std::vector<KernelEvent> out;
    const auto until = std::chrono::steady_clock::now() + budget;
    while (!done(out) && std::chrono::steady_clock::now() < until) {
        pollfd p{k.event_fd(), POLLIN, 0};
        if (::poll(&p, 1, 50) == 1) k.read_events([&](const KernelEvent& e) { out.push_back(e); });
    }
    return out;
}

template <typename T>
size_t count_of(const std::vector<KernelEvent>& events) {
    return static_cast<size_t>(std::count_if(events.begin(), events.end(), [](const auto& e) {
        return std::holds_alternative<T>(e.data);
    }));
}

}  // namespace

TEST_CASE("PF_KEY: SAs and policies in, counted, listed, and only ours removed", "[pfkey-netns]") {
    auto report = in_new_netns([](Checks& c) {
        veth();
        auto k = open_or_check(c);
        if (!k) return;
        for (const auto& p : transport_policies(ip("10.99.0.1"), ip("10.99.0.2"), ReqId{7})) {
            c.check(k->add_policy(p).ok(), "add " + describe(KernelOp{AddPolicy{p}}));
            auto again = k->add_policy(p);
            c.check(!again && again.error().is(Errc::kernel_exists), "second add: kernel_exists");
            c.check(k->update_policy(p).ok(), "update (SPDUPDATE) of an existing policy");
        }
        for (const auto& p : bypass_policies(IpAddress::Family::v4, kProtoTcp, 22)) {
            c.check(k->add_policy(p).ok(), "bypass tcp/22");
        }
        auto spi = k->alloc_spi(ip("10.99.0.2"), ip("10.99.0.1"), ReqId{7});
        if (!c.check(spi.ok(), "GETSPI: " + (spi ? "" : spi.error().message()))) return;
        c.check(spi->value >= 0xc0000000 && spi->value <= 0xcfffffff, "SPI in our range");
        c.check(k->update_sa(cbc_sa("10.99.0.2", "10.99.0.1", spi->value)).ok(), "UPDATE inbound");
        c.check(k->add_sa(cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee01)).ok(), "ADD outbound");
        auto dup = k->add_sa(cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee01));
        c.check(!dup && dup.error().is(Errc::kernel_exists), "second ADD: kernel_exists");
        c.check(
            shell_output("ip xfrm state").find("reqid 8199 mode transport") != std::string::npos,
            "the kernel holds reqid 0x2000 + 7");

        // What PF_KEY cannot install fails before or in the kernel, with the reason.
        SaParams gcm = cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee02);
        gcm.encr = {crypto::EncrAlg::aes_gcm_16, 128};
        gcm.encr_key = crypto::SecretBytes(Bytes(20, 0x33));
        gcm.integ = crypto::IntegAlg::none;
        gcm.integ_key = {};
        auto g = k->add_sa(gcm);
        c.check(!g && g.error().is(Errc::kernel_not_supported),
                "AES-GCM through PF_KEY: kernel_not_supported, got " +
                    (g ? std::string("success") : g.error().message()));
        SaParams esn = cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee03);
        esn.esn = true;
        c.check(k->add_sa(esn).error().is(Errc::kernel_not_supported), "ESN refused");

        // Traffic through the outbound SA shows in its counters (SADB_GET, current lifetime;
        // the packets are encrypted before the neighbour lookup that then fails).
        for (int i = 0; i < 3; ++i)
            send_udp("10.99.0.2", 9);
        auto counters = k->query_sa(ip("10.99.0.2"), EspSpi{0xc0ffee01});
        if (c.check(counters.ok(), "GET")) {
            c.check(counters->packets >= 1,
                    "packets counted, got " + std::to_string(counters->packets));
            c.check(counters->bytes > 0, "bytes counted");
            c.check(counters->add_time.has_value() && counters->first_use.has_value(), "times");
        }
        auto missing = k->query_sa(ip("10.99.0.2"), EspSpi{0xc0ffee09});
        c.check(!missing && missing.error().is(Errc::kernel_no_entry), "GET of nothing: no entry");

        // Another process's SA and policy, and ours as a fresh backend (a restarted daemon) sees
        // them: only ours.
        shell(
            "ip xfrm state add src 10.99.0.1 dst 192.0.2.9 proto esp spi 0x777 reqid 99 mode "
            "transport enc 'cbc(aes)' 0x000102030405060708090a0b0c0d0e0f auth-trunc "
            "'hmac(sha1)' 0x0102030405060708090a0b0c0d0e0f1011121314 96");
        shell(
            "ip xfrm policy add src 10.99.0.1/32 dst 192.0.2.9/32 dir out tmpl src 10.99.0.1 "
            "dst 192.0.2.9 proto esp reqid 99 mode transport");
        auto fresh = PfkeyKernel::open();
        if (!c.check(fresh.ok(), "second backend")) return;
        auto owned = (*fresh)->list_owned();
        if (!c.check(owned.ok(), "list_owned")) return;
        c.check(owned->sas.size() == 2, "2 SAs, got " + std::to_string(owned->sas.size()));
        c.check(owned->policies.size() == 6,
                "6 policies, got " + std::to_string(owned->policies.size()));
        for (const auto& sa : owned->sas) {
            c.check(sa.reqid == ReqId{7} && sa.mode == Mode::transport, "SA reqid 7, transport");
        }
        for (const auto& p : owned->policies) {
            c.check(
                p.priority == (p.action == PolicyAction::ipsec ? kPriorityIpsec : kPriorityBypass),
                "priority back in the engine's terms");
            if (p.action == PolicyAction::ipsec) c.check(p.reqid == ReqId{7}, "policy reqid 7");
        }
        auto removed = (*fresh)->remove_owned();
        c.check(removed.ok() && *removed == 8, "removed 8");
        auto after = k->list_owned();
        c.check(after.ok() && after->sas.empty() && after->policies.empty(), "nothing left");
        c.check(shell_output("ip xfrm state").find("0x00000777") != std::string::npos,
                "the other SA survives");
        c.check(shell_output("ip xfrm policy").find("192.0.2.9/32") != std::string::npos,
                "the other policy survives");
        auto gone = k->delete_policy(
            transport_policies(ip("10.99.0.1"), ip("10.99.0.2"), ReqId{7}).front().id);
        c.check(!gone && gone.error().is(Errc::kernel_no_entry), "delete of a gone policy");
    });
    INFO(report);
    CHECK(report.empty());
}

TEST_CASE("PF_KEY: ACQUIRE, soft and hard EXPIRE, deletions and flushes by others",
          "[pfkey-netns]") {
    auto report = in_new_netns([](Checks& c) {
        veth();
        auto k = open_or_check(c);
        if (!k) return;
        for (const auto& p : transport_policies(ip("10.99.0.1"), ip("10.99.0.2"), ReqId{7})) {
            c.check(k->add_policy(p).ok(), "trap policy");
        }
        send_udp("10.99.0.2", 9);
        auto acq = collect(*k, std::chrono::milliseconds(2000),
                           [](const auto& e) { return count_of<AcquireEvent>(e) > 0; });
        if (c.check(count_of<AcquireEvent>(acq) == 1, "one ACQUIRE")) {
            const auto& a = std::get<AcquireEvent>(acq.front().data);
            c.check(a.src == ip("10.99.0.1") && a.dst == ip("10.99.0.2"), "ACQUIRE endpoints");
            c.check(a.reqid == ReqId{7}, "reqid from the policy index");
            c.check(a.seq != 0, "ACQUIRE seq");
        }

        SaParams sa = cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee11);
        sa.soft.time = std::chrono::seconds(1);
        sa.hard.time = std::chrono::seconds(2);
        c.check(k->add_sa(sa).ok(), "SA with 1 s / 2 s lifetimes");
        auto exp = collect(*k, std::chrono::milliseconds(5000),
                           [](const auto& e) { return count_of<ExpireEvent>(e) >= 2; });
        std::vector<bool> hard;
        for (const auto& e : exp) {
            if (const auto* x = std::get_if<ExpireEvent>(&e.data)) {
                c.check(x->spi == EspSpi{0xc0ffee11} && x->reqid == ReqId{7}, "EXPIRE of ours");
                hard.push_back(x->hard);
            }
        }
        c.check(hard == std::vector<bool>{false, true}, "soft, then hard EXPIRE");

        c.check(k->add_sa(cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee12)).ok(), "SA");
        shell("ip xfrm state delete src 10.99.0.1 dst 10.99.0.2 proto esp spi 0xc0ffee12");
        auto del = collect(*k, std::chrono::milliseconds(2000),
                           [](const auto& e) { return count_of<SaDeletedEvent>(e) > 0; });
        c.check(count_of<SaDeletedEvent>(del) == 1, "SA deleted by another process");
        c.check(k->add_sa(cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee13)).ok(), "SA");
        c.check(k->delete_sa(ip("10.99.0.2"), EspSpi{0xc0ffee13}).ok(), "our own delete");
        // A flush of an empty SAD notifies nothing: leave one SA for it.
        c.check(k->add_sa(cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee14)).ok(), "SA");
        shell("ip xfrm state flush");
        auto fl = collect(*k, std::chrono::milliseconds(2000),
                          [](const auto& e) { return count_of<ResyncEvent>(e) > 0; });
        c.check(count_of<SaDeletedEvent>(fl) == 0, "our own delete is no event");
        c.check(count_of<ResyncEvent>(fl) == 1, "a flush by another process: resync");

        // Per-socket bypass (IP_IPSEC_POLICY) and ESP-in-UDP on real sockets.
        const int s4 = ::socket(AF_INET, SOCK_DGRAM, 0);
        const int s6 = ::socket(AF_INET6, SOCK_DGRAM, 0);
        c.check(k->bypass_socket(s4, AF_INET).ok(), "IPv4 socket bypass");
        c.check(k->bypass_socket(s6, AF_INET6).ok(), "IPv6 socket bypass");
        c.check(k->enable_udp_encap(s4).ok(), "UDP_ENCAP");
        ::close(s4);
        ::close(s6);
        c.check(k->remove_owned().ok(), "cleanup");
    });
    INFO(report);
    CHECK(report.empty());
}
