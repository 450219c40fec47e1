// FakeKernel: the kernel semantics the engine relies on, call recording, injected events and
// failures.
#include "kernel/fake_kernel.hpp"

#include <poll.h>

#include <catch2/catch.hpp>
#include <set>

#include "layout.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using ikemesh::kernel::test::ip;
using Verb = FakeKernel::Verb;

namespace {

SaParams sa_for(const IpAddress& src, const IpAddress& dst, EspSpi spi, ReqId reqid) {
    SaParams sa;
    sa.src = src;
    sa.dst = dst;
    sa.spi = spi;
    sa.reqid = reqid;
    sa.encr = {crypto::EncrAlg::aes_gcm_16, 128};
    sa.encr_key = crypto::SecretBytes(Bytes(20, 0x5a));
    return sa;
}

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

std::vector<KernelEvent> drain(FakeKernel& k) {
    std::vector<KernelEvent> out;
    k.read_events([&](const KernelEvent& e) { out.push_back(e); });
    return out;
}

}  // namespace

TEST_CASE("alloc_spi creates a larval SA that update_sa completes") {
    FakeKernel k;
    const auto us = ip("10.0.0.1");
    const auto peer = ip("10.0.0.2");
    auto spi = k.alloc_spi(peer, us, ReqId{7});
    REQUIRE(spi);
    CHECK(spi->value >= 0xc0000000);
    CHECK(k.larval_count() == 1);
    CHECK(k.sa_count() == 0);
    REQUIRE(k.find_sa(us, *spi));
    CHECK(k.find_sa(us, *spi)->larval);

    REQUIRE(k.update_sa(sa_for(peer, us, *spi, ReqId{7})));
    CHECK(k.larval_count() == 0);
    CHECK(k.sa_count() == 1);
    const auto* sa = k.find_sa(us, *spi);
    REQUIRE(sa);
    CHECK_FALSE(sa->larval);
    CHECK(sa->params.encr_key.equals(crypto::SecretBytes(Bytes(20, 0x5a))));
}

TEST_CASE("SPIs are distinct per destination and reproducible per seed") {
    FakeKernel a(5), b(5), c(6);
    std::set<uint32_t> seen;
    for (int i = 0; i < 1000; ++i) {
        auto s = a.alloc_spi(ip("10.0.0.2"), ip("10.0.0.1"), ReqId{1});
        REQUIRE(s);
        CHECK(seen.insert(s->value).second);
        CHECK(*b.alloc_spi(ip("10.0.0.2"), ip("10.0.0.1"), ReqId{1}) == *s);
    }
    CHECK(*c.alloc_spi(ip("10.0.0.2"), ip("10.0.0.1"), ReqId{1}) !=
          *FakeKernel(5).alloc_spi(ip("10.0.0.2"), ip("10.0.0.1"), ReqId{1}));
}

TEST_CASE("duplicates fail with kernel_exists, unknown entries with kernel_no_entry") {
    FakeKernel k;
    const auto sa = sa_for(ip("10.0.0.1"), ip("10.0.0.2"), EspSpi{0x1234}, ReqId{1});
    REQUIRE(k.add_sa(sa));
    auto dup = k.add_sa(sa);
    REQUIRE_FALSE(dup);
    CHECK(dup.error().is(Errc::kernel_exists));
    CHECK(k.sa_count() == 1);

    auto upd = k.update_sa(sa_for(ip("10.0.0.1"), ip("10.0.0.2"), EspSpi{0x9999}, ReqId{1}));
    CHECK(upd.error().is(Errc::kernel_no_entry));
    CHECK(k.delete_sa(ip("10.0.0.2"), EspSpi{0x9999}).error().is(Errc::kernel_no_entry));
    CHECK(k.query_sa(ip("10.0.0.2"), EspSpi{0x9999}).error().is(Errc::kernel_no_entry));
    REQUIRE(k.delete_sa(ip("10.0.0.2"), EspSpi{0x1234}));
    CHECK(k.sa_count() == 0);
    // An SPI allocated for an inbound SA blocks an add with the same SPI, as in XFRM.
    auto spi = k.alloc_spi(ip("10.0.0.2"), ip("10.0.0.1"), ReqId{2});
    REQUIRE(spi);
    CHECK(k.add_sa(sa_for(ip("10.0.0.2"), ip("10.0.0.1"), *spi, ReqId{2}))
              .error()
              .is(Errc::kernel_exists));

    auto pol = transport_policies(ip("10.0.0.1"), ip("10.0.0.2"), ReqId{1});
    REQUIRE(k.add_policy(pol[0]));
    CHECK(k.add_policy(pol[0]).error().is(Errc::kernel_exists));
    PolicyParams changed = pol[0];
    changed.priority = 5;
    REQUIRE(k.update_policy(changed));
    CHECK(k.find_policy(pol[0].id)->priority == 5);
    REQUIRE(k.update_policy(pol[1]));  // update adds when absent
    CHECK(k.policy_count() == 2);
    REQUIRE(k.delete_policy(pol[0].id));
    CHECK(k.delete_policy(pol[0].id).error().is(Errc::kernel_no_entry));
}

TEST_CASE("the fake checks parameters as strictly as the real backend") {
    FakeKernel k;
    auto sa = sa_for(ip("10.0.0.1"), ip("10.0.0.2"), EspSpi{0x1234}, ReqId{1});
    sa.encr_key = crypto::SecretBytes(16);  // the AEAD salt is missing
    auto s = k.add_sa(sa);
    REQUIRE_FALSE(s);
    CHECK(s.error().is(Errc::kernel_invalid_request));
    CHECK(k.sa_count() == 0);
    CHECK_FALSE(k.calls().back().ok);
}

TEST_CASE("every call is recorded with its outcome") {
    FakeKernel k;
    auto spi = k.alloc_spi(ip("10.0.0.2"), ip("10.0.0.1"), ReqId{3});
    REQUIRE(spi);
    REQUIRE(k.update_sa(sa_for(ip("10.0.0.2"), ip("10.0.0.1"), *spi, ReqId{3})));
    auto pol = transport_policies(ip("10.0.0.1"), ip("10.0.0.2"), ReqId{3});
    REQUIRE(k.add_policy(pol[0]));
    CHECK_FALSE(k.delete_sa(ip("10.0.0.9"), EspSpi{0x500}));
    REQUIRE(k.bypass_socket(3, 2));
    REQUIRE(k.enable_udp_encap(3));

    const auto& calls = k.calls();
    REQUIRE(calls.size() == 6);
    CHECK(calls[0].verb == Verb::alloc_spi);
    CHECK(calls[0].spi == *spi);
    CHECK(calls[0].reqid == ReqId{3});
    CHECK(calls[1].verb == Verb::update_sa);
    CHECK(calls[2].verb == Verb::add_policy);
    REQUIRE(calls[2].policy);
    CHECK(*calls[2].policy == pol[0].id);
    CHECK(calls[3].verb == Verb::delete_sa);
    CHECK_FALSE(calls[3].ok);
    CHECK(calls[4].verb == Verb::bypass_socket);
    CHECK(calls[5].verb == Verb::enable_udp_encap);
    CHECK(k.count(Verb::update_sa) == 1);
    for (size_t v = 0; v < FakeKernel::kVerbCount; ++v) {
        CHECK(FakeKernel::name(static_cast<Verb>(v)) != "?");
    }

    k.set_recording(false);
    REQUIRE(k.add_policy(pol[1]));
    CHECK(k.calls().size() == 6);
    CHECK(k.count(Verb::add_policy) == 2);
}

TEST_CASE("fail_next makes the next call of a verb fail and change nothing") {
    FakeKernel k;
    k.fail_next(Verb::add_sa, Error{Errc::kernel_not_supported, "no ESP"});
    k.fail_next(Verb::add_sa, Error{Errc::kernel_failure, "second"});
    const auto sa = sa_for(ip("10.0.0.1"), ip("10.0.0.2"), EspSpi{0x1234}, ReqId{1});
    auto first = k.add_sa(sa);
    REQUIRE_FALSE(first);
    CHECK(first.error().is(Errc::kernel_not_supported));
    CHECK(first.error().detail == "no ESP");
    CHECK(k.add_sa(sa).error().detail == "second");
    CHECK(k.sa_count() == 0);
    CHECK(k.add_sa(sa));
    // Other verbs are unaffected.
    k.fail_next(Verb::alloc_spi, Errc::kernel_failure);
    CHECK(k.query_sa(ip("10.0.0.2"), EspSpi{0x1234}));
    CHECK_FALSE(k.alloc_spi(ip("10.0.0.2"), ip("10.0.0.1"), ReqId{1}));
    CHECK(k.larval_count() == 0);
}

TEST_CASE("injected events arrive through event_fd and read_events, once") {
    FakeKernel k;
    CHECK_FALSE(readable(k.event_fd()));
    AcquireEvent a;
    a.flow = Selector::host_to_host(ip("10.0.0.1"), ip("10.0.0.2"), kProtoUdp, 1000, 53);
    a.reqid = ReqId{4};
    k.inject(KernelEvent{a});
    CHECK(readable(k.event_fd()));
    auto events = drain(k);
    REQUIRE(events.size() == 1);
    CHECK(std::get<AcquireEvent>(events[0].data).reqid == ReqId{4});
    CHECK_FALSE(readable(k.event_fd()));
    CHECK(drain(k).empty());
}

TEST_CASE("expiry and external deletion behave like the kernel's") {
    FakeKernel k;
    const auto sa = sa_for(ip("10.0.0.1"), ip("10.0.0.2"), EspSpi{0x1234}, ReqId{6});
    REQUIRE(k.add_sa(sa));
    REQUIRE(k.expire(sa.dst, sa.spi, false));
    CHECK(k.sa_count() == 1);  // soft: rekey, the SA stays
    REQUIRE(k.expire(sa.dst, sa.spi, true));
    CHECK(k.sa_count() == 0);  // hard: gone
    auto events = drain(k);
    REQUIRE(events.size() == 2);
    CHECK_FALSE(std::get<ExpireEvent>(events[0].data).hard);
    CHECK(std::get<ExpireEvent>(events[1].data).hard);
    CHECK(std::get<ExpireEvent>(events[1].data).reqid == ReqId{6});
    CHECK(k.expire(sa.dst, sa.spi, true).error().is(Errc::kernel_no_entry));

    REQUIRE(k.add_sa(sa));
    REQUIRE(k.delete_externally(sa.dst, sa.spi));
    CHECK(k.sa_count() == 0);
    events = drain(k);
    REQUIRE(events.size() == 1);
    CHECK(std::get<SaDeletedEvent>(events[0].data).spi == sa.spi);
}

TEST_CASE("counters set by a test are what query_sa reports") {
    FakeKernel k;
    const auto sa = sa_for(ip("10.0.0.1"), ip("10.0.0.2"), EspSpi{0x1234}, ReqId{6});
    REQUIRE(k.add_sa(sa));
    CHECK(k.query_sa(sa.dst, sa.spi)->packets == 0);
    SaCounters c;
    c.bytes = 1500;
    c.packets = 3;
    c.last_use = std::chrono::sys_seconds(std::chrono::seconds(1700000000));
    REQUIRE(k.set_counters(sa.dst, sa.spi, c));
    auto q = k.query_sa(sa.dst, sa.spi);
    REQUIRE(q);
    CHECK(q->bytes == 1500);
    CHECK(q->packets == 3);
    CHECK(q->last_use == c.last_use);
    CHECK(k.set_counters(sa.dst, EspSpi{1}, c).error().is(Errc::kernel_no_entry));
}

TEST_CASE("list_owned, remove_owned and submit over the fake") {
    FakeKernel k;
    std::vector<KernelOp> ops;
    for (uint32_t i = 0; i < 10; ++i) {
        const auto peer = ip(("10.1.0." + std::to_string(i + 2)).c_str());
        ops.emplace_back(AddSa{sa_for(ip("10.1.0.1"), peer, EspSpi{0x1000 + i}, ReqId{i + 1})});
        for (auto& p : transport_policies(ip("10.1.0.1"), peer, ReqId{i + 1})) {
            ops.emplace_back(AddPolicy{p});
        }
    }
    ops.emplace_back(DeleteSa{ip("10.9.9.9"), EspSpi{0x77}});  // fails alone
    auto results = k.submit(ops);
    REQUIRE(results.size() == 31);
    for (size_t i = 0; i < 30; ++i)
        CHECK(results[i]);
    CHECK(results[30].error().is(Errc::kernel_no_entry));
    // A larval SA is not listed (XFRM cannot mark it either).
    REQUIRE(k.alloc_spi(ip("10.1.0.2"), ip("10.1.0.1"), ReqId{1}));

    auto owned = k.list_owned();
    REQUIRE(owned);
    CHECK(owned->sas.size() == 10);
    CHECK(owned->policies.size() == 20);
    auto removed = k.remove_owned();
    REQUIRE(removed);
    CHECK(*removed == 30);
    CHECK(k.sa_count() == 0);
    CHECK(k.policy_count() == 0);
    CHECK(k.larval_count() == 1);
}

TEST_CASE("tens of thousands of SAs stay cheap") {
    FakeKernel k;
    k.set_recording(false);
    for (uint32_t i = 0; i < 20000; ++i) {
        auto spi = k.alloc_spi(ip("10.0.0.2"), ip("10.0.0.1"), ReqId{i});
        REQUIRE(spi);
        REQUIRE(k.update_sa(sa_for(ip("10.0.0.2"), ip("10.0.0.1"), *spi, ReqId{i})));
    }
    CHECK(k.sa_count() == 20000);
    CHECK(k.count(Verb::update_sa) == 20000);
}
