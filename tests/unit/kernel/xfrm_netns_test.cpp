// XfrmKernel against the real XFRM netlink of the running kernel, each test in a network
// namespace of its own (see netns.hpp). On the development hosts the kernel has XFRM but no ESP:
// policies, SPI allocation, ACQUIRE and the event socket are real; adding an SA must fail with
// a clear kernel_not_supported error. In a guest with ESP the SA tests take their other branch
// and check install/query/delete instead.
//
//   one namespace per test:   lo up;  v0 10.99.0.1/24 <--veth--> v1 (no address)
//   traffic to 10.99.0.2 leaves through v0 and meets our policies on the way out.
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>

#include "kernel/xfrm_kernel.hpp"
#include "layout.hpp"
#include "netns.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using namespace ikemesh::kernel::test;

namespace {

constexpr OwnerTag kTag{0x494b4d54};  // "IKMT"

std::unique_ptr<XfrmKernel> open_or_report(Checks& c, XfrmOptions options = {}) {
    options.owner = kTag;
    auto k = XfrmKernel::open(options);
    if (!c.check(k.ok(), "open: " + (k ? std::string() : k.error().message()))) return nullptr;
    return std::move(*k);
}

std::vector<KernelEvent> wait_events(XfrmKernel& k, std::chrono::milliseconds budget) {
    std::vector<KernelEvent> out;
    const auto until = std::chrono::steady_clock::now() + budget;
    while (out.empty() && std::chrono::steady_clock::now() < until) {
        pollfd p{k.event_fd(), POLLIN, 0};
        if (::poll(&p, 1, 50) == 1) k.read_events([&](const KernelEvent& e) { out.push_back(e); });
    }
    return out;
}

bool send_udp(const char* dst, uint16_t port, int fd = -1) {
    const bool own = fd < 0;
    if (own) fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    const IpAddress a = ip(dst);
    std::memcpy(&to.sin_addr, a.bytes().data(), 4);
    const char payload[] = "ikemesh";
    const bool ok =
        ::sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) >= 0;
    if (own) ::close(fd);
    return ok;
}

bool setup_veth(Checks& c) {
    return c.check(shell("ip link add v0 type veth peer name v1") == 0 &&
                       shell("ip link set v0 up") == 0 && shell("ip link set v1 up") == 0 &&
                       shell("ip addr add 10.99.0.1/24 dev v0") == 0,
                   "veth setup");
}

size_t count_lines(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("XFRM: add, update, list and delete transport, bypass and IPv6 policies", "[netns]") {
    auto report = in_new_netns([](Checks& c) {
        auto k = open_or_report(c);
        if (!k) return;
        std::vector<PolicyParams> policies =
            transport_policies(ip("10.99.0.1"), ip("10.99.0.2"), ReqId{42});
        for (auto& p : transport_policies(ip("fd00::1"), ip("fd00::2"), ReqId{43})) {
            policies.push_back(p);
        }
        for (auto& p : bypass_policies(IpAddress::Family::v4, kProtoTcp, 22))
            policies.push_back(p);
        for (auto& p : bypass_policies(IpAddress::Family::v4, kProtoIcmp, 0))
            policies.push_back(p);
        for (auto& p : essential_bypass_policies(IpAddress::Family::v6))
            policies.push_back(p);
        for (const auto& p : policies) {
            auto s = k->add_policy(p);
            c.check(s.ok(), "add " + describe(KernelOp{AddPolicy{p}}) + ": " +
                                (s ? "" : s.error().message()));
        }
        auto dup = k->add_policy(policies[0]);
        c.check(!dup && dup.error().is(Errc::kernel_exists), "duplicate add is kernel_exists");

        auto owned = k->list_owned();
        if (!c.check(owned.ok(), "list_owned")) return;
        c.check(owned->policies.size() == policies.size(),
                "listed " + std::to_string(owned->policies.size()) + " of " +
                    std::to_string(policies.size()));
        for (const auto& p : policies) {
            auto it = std::find_if(owned->policies.begin(), owned->policies.end(),
                                   [&](const OwnedPolicy& o) { return o.id == p.id; });
            if (!c.check(it != owned->policies.end(), "listed " + p.id.selector.to_string())) {
                continue;
            }
            c.check(it->action == p.action, "action of " + p.id.selector.to_string());
            c.check(it->priority == p.priority, "priority of " + p.id.selector.to_string());
            c.check(it->reqid == p.reqid, "reqid of " + p.id.selector.to_string());
        }

        // The owner tag is visible to `ip xfrm` as the selector's uid.
        const auto shown = shell_output("ip -s xfrm policy");
        c.check(count_lines(shown, "uid " + std::to_string(kTag.value)) == policies.size(),
                "ip -s xfrm policy shows the tag on every policy");

        PolicyParams changed = policies[0];
        changed.priority = 1500;
        c.check(k->update_policy(changed).ok(), "update_policy");
        owned = k->list_owned();
        c.check(owned && std::any_of(owned->policies.begin(), owned->policies.end(),
                                     [&](const OwnedPolicy& o) {
                                         return o.id == changed.id && o.priority == 1500;
                                     }),
                "updated priority listed");

        c.check(k->delete_policy(policies[0].id).ok(), "delete_policy");
        auto again = k->delete_policy(policies[0].id);
        c.check(!again && again.error().is(Errc::kernel_no_entry),
                "deleting twice is kernel_no_entry: " + (again ? "" : again.error().message()));
        auto removed = k->remove_owned();
        c.check(removed && *removed == policies.size() - 1, "remove_owned removed the rest");
        c.check(shell_output("ip xfrm policy").find("src") == std::string::npos,
                "nothing left behind");
    });
    INFO(report);
    CHECK(report.empty());
}

TEST_CASE("XFRM: another process's policies survive our cleanup, even with our selectors",
          "[netns]") {
    auto report = in_new_netns([](Checks& c) {
        auto k = open_or_report(c);
        if (!k) return;
        const auto ours = transport_policies(ip("10.99.0.1"), ip("10.99.0.2"), ReqId{42});
        for (const auto& p : ours)
            c.check(k->add_policy(p).ok(), "add ours");
        // "Another daemon": the very same out selector, and an unrelated policy.
        c.check(shell("ip xfrm policy add src 10.99.0.1/32 dst 10.99.0.2/32 dir out priority 7 "
                      "tmpl src 10.99.0.1 dst 10.99.0.2 proto esp reqid 1 mode transport") == 0,
                "ip xfrm policy add (same selector as ours) coexists");
        c.check(shell("ip xfrm policy add src 192.0.2.1/32 dst 192.0.2.2/32 dir in "
                      "tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 9 mode transport") == 0,
                "ip xfrm policy add (unrelated)");
        // A second ikemesh-like owner with another tag does not see ours either.
        XfrmOptions other_opts;
        other_opts.owner = OwnerTag{0x1234};
        auto other = XfrmKernel::open(other_opts);
        c.check(other && (*other)->list_owned()->policies.empty(), "other tag sees nothing");

        auto owned = k->list_owned();
        c.check(owned && owned->policies.size() == 2, "only ours listed");
        auto removed = k->remove_owned();
        c.check(removed && *removed == 2, "removed ours");
        const auto left = shell_output("ip xfrm policy");
        c.check(left.find("priority 7") != std::string::npos, "their twin policy survives");
        c.check(left.find("192.0.2.1") != std::string::npos, "their other policy survives");
        c.check(count_lines(left, "\tdir ") == 2, "exactly their two policies are left");
    });
    INFO(report);
    CHECK(report.empty());
}

TEST_CASE("XFRM: traffic hitting a tagged trap policy raises ACQUIRE; bypasses do not", "[netns]") {
    auto report = in_new_netns([](Checks& c) {
        if (!setup_veth(c)) return;
        auto k = open_or_report(c);
        if (!k) return;
        for (const auto& p : transport_policies(ip("10.99.0.1"), ip("10.99.0.2"), ReqId{77})) {
            c.check(k->add_policy(p).ok(), "add trap policy");
        }
        for (const auto& p : bypass_policies(IpAddress::Family::v4, kProtoUdp, 7)) {
            c.check(k->add_policy(p).ok(), "add udp/7 bypass");
        }
        // A socket with per-socket bypass (as the IKE sockets get) is never caught.
        const int ike = ::socket(AF_INET, SOCK_DGRAM, 0);
        c.check(k->bypass_socket(ike, AF_INET).ok(), "bypass_socket");
        c.check(send_udp("10.99.0.2", 500, ike), "send from bypassed socket");
        ::close(ike);
        // Traffic matching a higher-priority bypass policy is not caught either.
        c.check(send_udp("10.99.0.2", 7), "send to bypassed port");
        c.check(wait_events(*k, std::chrono::milliseconds(300)).empty(),
                "no ACQUIRE for bypassed traffic");

        c.check(send_udp("10.99.0.2", 9), "send into the trap");
        auto events = wait_events(*k, std::chrono::milliseconds(2000));
        if (!c.check(events.size() == 1, "one event, got " + std::to_string(events.size()))) {
            return;
        }
        const auto* a = std::get_if<AcquireEvent>(&events[0].data);
        if (!c.check(a != nullptr, "it is an ACQUIRE: " + describe(events[0]))) return;
        c.check(a->reqid == ReqId{77}, "reqid from the template");
        c.check(a->flow.dst == ip("10.99.0.2") && a->flow.src == ip("10.99.0.1"), "flow addrs");
        c.check(a->flow.protocol == kProtoUdp && a->flow.dst_port == 9, "flow protocol/port");
        c.check(a->dst == ip("10.99.0.2"), "SA destination");
        c.check(a->seq != 0, "acquire seq");
    });
    INFO(report);
    CHECK(report.empty());
}

TEST_CASE("XFRM: deletions and flushes by others are reported, our own are not", "[netns]") {
    auto report = in_new_netns([](Checks& c) {
        auto k = open_or_report(c);
        if (!k) return;
        const auto ps = transport_policies(ip("10.99.0.1"), ip("10.99.0.2"), ReqId{5});
        for (const auto& p : ps)
            c.check(k->add_policy(p).ok(), "add");
        c.check(k->delete_policy(ps[1].id).ok(), "our own delete");
        c.check(wait_events(*k, std::chrono::milliseconds(200)).empty(),
                "our own changes make no events");

        c.check(shell("ip xfrm policy delete src 10.99.0.1/32 dst 10.99.0.2/32 dir out") != 0,
                "ip cannot delete ours by selector alone (the tag is part of its identity)");
        // Deleting by index reaches it (as an operator cleaning up by hand would).
        const auto shown = shell_output("ip -s xfrm policy list dir out");
        const auto at = shown.find("index ");
        if (!c.check(at != std::string::npos, "index shown")) return;
        const auto index = std::stoul(shown.substr(at + 6));
        c.check(shell("ip xfrm policy delete dir out index " + std::to_string(index)) == 0,
                "ip xfrm policy delete by index");
        auto events = wait_events(*k, std::chrono::milliseconds(2000));
        c.check(events.size() == 1 && std::holds_alternative<PolicyDeletedEvent>(events[0].data) &&
                    std::get<PolicyDeletedEvent>(events[0].data).id == ps[0].id,
                "PolicyDeletedEvent for the out policy");

        c.check(k->add_policy(ps[0]).ok(), "add again");
        (void)wait_events(*k, std::chrono::milliseconds(100));
        c.check(shell("ip xfrm policy flush") == 0, "ip xfrm policy flush");
        events = wait_events(*k, std::chrono::milliseconds(2000));
        c.check(events.size() >= 1 && std::holds_alternative<ResyncEvent>(events.back().data),
                "flush asks for a resync");
    });
    INFO(report);
    CHECK(report.empty());
}

TEST_CASE("XFRM: an overrun event socket reports lost events", "[netns]") {
    auto report = in_new_netns([](Checks& c) {
        XfrmOptions small;
        small.event_buffer_bytes = 1;  // the kernel rounds this up to its minimum
        auto watcher = open_or_report(c, small);
        auto k = open_or_report(c);
        if (!watcher || !k) return;
        std::vector<KernelOp> ops;
        for (uint32_t i = 0; i < 500; ++i) {
            IpAddress peer = IpAddress::v4(
                {10, 50, static_cast<uint8_t>(i / 250), static_cast<uint8_t>(i % 250 + 1)});
            for (auto& p : transport_policies(ip("10.99.0.1"), peer, ReqId{i + 1})) {
                ops.emplace_back(AddPolicy{p});
            }
        }
        auto results = k->submit(ops);
        c.check(std::all_of(results.begin(), results.end(), [](const Status& s) { return s.ok(); }),
                "bulk add");
        bool lost = false;
        watcher->read_events([&](const KernelEvent& e) {
            if (const auto* r = std::get_if<ResyncEvent>(&e.data)) {
                lost = lost || r->reason.is(Errc::kernel_events_lost);
            }
        });
        c.check(lost, "ResyncEvent(kernel_events_lost) after the overrun");
        // The installing instance drained its own socket during the batch: no loss there.
        bool k_lost = false;
        k->read_events([&](const KernelEvent& e) {
            k_lost = k_lost || std::holds_alternative<ResyncEvent>(e.data);
        });
        c.check(!k_lost, "the batching instance did not overrun");
        c.check(k->remove_owned().ok(), "cleanup");
    });
    INFO(report);
    CHECK(report.empty());
}

TEST_CASE("XFRM: a batch of 2,000 policies goes in and out, with per-op errors", "[netns]") {
    auto report = in_new_netns([](Checks& c) {
        auto k = open_or_report(c);
        if (!k) return;
        std::vector<KernelOp> ops;
        for (uint32_t i = 0; i < 1000; ++i) {
            IpAddress peer = IpAddress::v4(
                {10, 60, static_cast<uint8_t>(i / 250), static_cast<uint8_t>(i % 250 + 1)});
            for (auto& p : transport_policies(ip("10.99.0.1"), peer, ReqId{i + 1})) {
                ops.emplace_back(AddPolicy{p});
            }
        }
        // A duplicate in the middle and an invalid one: only they fail.
        KernelOp dup{AddPolicy{std::get<AddPolicy>(ops[3]).params}};
        ops.insert(ops.begin() + 700, std::move(dup));
        PolicyParams bad = std::get<AddPolicy>(ops[0]).params;
        bad.id.selector.src_prefix = 40;
        ops.insert(ops.begin() + 1200, KernelOp{AddPolicy{bad}});
        auto results = k->submit(ops);
        c.check(results.size() == 2002, "one result per op");
        size_t ok = 0;
        for (const auto& r : results)
            ok += r.ok() ? 1 : 0;
        c.check(ok == 2000, "2000 succeeded, got " + std::to_string(ok));
        c.check(!results[700] && results[700].error().is(Errc::kernel_exists),
                "the duplicate failed with kernel_exists");
        c.check(!results[1200] && results[1200].error().is(Errc::kernel_invalid_request),
                "the invalid one failed before sending");
        auto owned = k->list_owned();
        c.check(owned && owned->policies.size() == 2000, "2000 listed through a multipart dump");
        auto removed = k->remove_owned();
        c.check(removed && *removed == 2000, "all removed");
    });
    INFO(report);
    CHECK(report.empty());
}

TEST_CASE("XFRM: SPI allocation makes larval SAs; SAs install here only with ESP", "[netns]") {
    auto report = in_new_netns([](Checks& c) {
        auto k = open_or_report(c);
        if (!k) return;
        auto a = k->alloc_spi(ip("10.99.0.2"), ip("10.99.0.1"), ReqId{3});
        auto b = k->alloc_spi(ip("10.99.0.2"), ip("10.99.0.1"), ReqId{3});
        if (!c.check(a && b, "alloc_spi: " + (a ? "" : a.error().message()))) return;
        c.check(a->value >= 0xc0000000 && a->value <= 0xcfffffff, "SPI in the configured range");
        c.check(*a != *b, "two allocations, two SPIs");
        c.check(shell_output("ip xfrm state").find("spi 0x" + to_hex(*a)) != std::string::npos,
                "larval SA visible to ip xfrm");
        auto q = k->query_sa(ip("10.99.0.1"), *a);
        c.check(q && q->packets == 0 && q->bytes == 0, "query of the larval SA");
        auto missing = k->query_sa(ip("10.99.0.1"), EspSpi{0x1001});
        c.check(!missing && missing.error().is(Errc::kernel_no_entry), "query of nothing");

        SaParams sa;
        sa.src = ip("10.99.0.2");
        sa.dst = ip("10.99.0.1");
        sa.spi = *a;
        sa.reqid = ReqId{3};
        sa.encr = {crypto::EncrAlg::aes_cbc, 128};
        sa.encr_key = crypto::SecretBytes(16);
        sa.integ = crypto::IntegAlg::hmac_sha2_256_128;
        sa.integ_key = crypto::SecretBytes(32);
        auto s = k->update_sa(sa);
        if (s) {
            // A kernel with ESP (the QEMU guest): the SA is complete, tagged and countable.
            auto owned = k->list_owned();
            c.check(owned && owned->sas.size() == 1 && owned->sas[0].spi == *a, "SA owned");
            c.check(k->query_sa(sa.dst, sa.spi).ok(), "query");

            // Lifetimes: a 1 s soft and 2 s hard limit give a soft then a hard EXPIRE event,
            // and the kernel removes the SA.
            SaParams shortlived = sa.clone();
            shortlived.src = ip("10.99.0.1");
            shortlived.dst = ip("10.99.0.2");
            shortlived.spi = EspSpi{0xc0de0001};
            shortlived.soft.time = std::chrono::seconds(1);
            shortlived.hard.time = std::chrono::seconds(2);
            c.check(k->add_sa(shortlived).ok(), "add short-lived SA");
            bool soft = false, hard = false;
            const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (!hard && std::chrono::steady_clock::now() < until) {
                for (const auto& e : wait_events(*k, std::chrono::milliseconds(500))) {
                    const auto* x = std::get_if<ExpireEvent>(&e.data);
                    if (!x || x->spi != shortlived.spi) continue;
                    c.check(x->reqid == ReqId{3} && x->dst == shortlived.dst, "expire fields");
                    (x->hard ? hard : soft) = true;
                }
            }
            c.check(soft, "soft EXPIRE event");
            c.check(hard, "hard EXPIRE event");
            auto q2 = k->query_sa(shortlived.dst, shortlived.spi);
            c.check(!q2 && q2.error().is(Errc::kernel_no_entry), "hard expiry removed the SA");
        } else {
            c.check(s.error().is(Errc::kernel_not_supported),
                    "no ESP here means kernel_not_supported: " + s.error().message());
            c.check(
                s.error().detail.find("update SA 10.99.0.2 -> 10.99.0.1 spi " + to_hex(*a)) == 0,
                "the error names the SA: " + s.error().detail);
            c.check(s.error().detail.find("(no ESP in this kernel?)") != std::string::npos,
                    "and the likely cause: " + s.error().detail);
        }
        sa.spi = EspSpi{0xc0ffee00};
        sa.src = ip("10.99.0.1");
        sa.dst = ip("10.99.0.2");
        sa.encr = {crypto::EncrAlg::aes_gcm_16, 128};
        sa.encr_key = crypto::SecretBytes(20);
        sa.integ = crypto::IntegAlg::none;
        sa.integ_key = {};
        auto g = k->add_sa(sa);
        c.check(g || g.error().is(Errc::kernel_not_supported),
                "AES-GCM add: ok, or kernel_not_supported: " + (g ? "" : g.error().message()));
        c.check(k->delete_sa(ip("10.99.0.1"), *b).ok(), "delete the larval SA");
        auto gone = k->delete_sa(ip("10.99.0.1"), *b);
        c.check(!gone && gone.error().is(Errc::kernel_no_entry), "delete twice: kernel_no_entry");
        (void)k->remove_owned();
    });
    INFO(report);
    CHECK(report.empty());
}

TEST_CASE("XFRM: UDP encapsulation and IPv6 socket bypass on real sockets", "[netns]") {
    auto report = in_new_netns([](Checks& c) {
        auto k = open_or_report(c);
        if (!k) return;
        const int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
        c.check(k->enable_udp_encap(udp).ok(), "enable_udp_encap");
        int type = 0;
        socklen_t len = sizeof type;
        c.check(::getsockopt(udp, IPPROTO_UDP, UDP_ENCAP, &type, &len) == 0 &&
                    type == UDP_ENCAP_ESPINUDP,
                "UDP_ENCAP reads back as ESPINUDP");
        ::close(udp);
        const int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
        c.check(!k->enable_udp_encap(tcp).ok(), "refused on a TCP socket");
        ::close(tcp);
        const int v6 = ::socket(AF_INET6, SOCK_DGRAM, 0);
        c.check(k->bypass_socket(v6, AF_INET6).ok(), "IPv6 socket bypass");
        ::close(v6);
        c.check(!k->bypass_socket(-1, AF_INET).ok(), "a bad descriptor is an error");
    });
    INFO(report);
    CHECK(report.empty());
}
