// Not a test: a hidden Catch2 case ("[.capture]", never run by default) that records real XFRM
// netlink datagrams from the running kernel as seeds for fuzz/xfrm_message. It listens on a raw
// XFRM socket of its own (all four multicast groups) in a private network namespace while
// XfrmKernel and `ip xfrm` make changes, and sends dump and failing requests of its own to
// capture multipart replies and extended error ACKs. Each datagram becomes one file.
//
//   IKEMESH_CAPTURE_DIR=fuzz/corpus/xfrm_message build/tests/unit_kernel "[.capture]"
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "kernel/xfrm_kernel.hpp"
#include "kernel/xfrm_messages.hpp"
#include "layout.hpp"
#include "netns.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using namespace ikemesh::kernel::test;

namespace {

class Recorder {
  public:
    explicit Recorder(std::string dir) : dir_(std::move(dir)) {
        fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_XFRM);
        sockaddr_nl addr{};
        addr.nl_family = AF_NETLINK;
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        for (int g : {XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE, XFRMNLGRP_SA, XFRMNLGRP_POLICY}) {
            ::setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g);
        }
        int one = 1;
        ::setsockopt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    }
    ~Recorder() { ::close(fd_); }

    // Everything pending (waiting up to `ms` for the first datagram), one file each.
    size_t save(const std::string& label, int ms = 200) {
        size_t n = 0;
        Bytes buf(65536);
        pollfd p{fd_, POLLIN, 0};
        while (::poll(&p, 1, n == 0 ? ms : 50) == 1) {
            const ssize_t got = ::recv(fd_, buf.data(), buf.size(), 0);
            if (got <= 0) break;
            std::ofstream(dir_ + "/real_" + label + "_" + std::to_string(n++), std::ios::binary)
                .write(reinterpret_cast<const char*>(buf.data()), got);
        }
        return n;
    }
    void send(const Bytes& request) { ::send(fd_, request.data(), request.size(), 0); }

  private:
    std::string dir_;
    int fd_ = -1;
};

void write_file(const std::string& path, const Bytes& b) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

TEST_CASE("capture real XFRM datagrams as fuzz seeds", "[.capture]") {
    const char* dir_env = std::getenv("IKEMESH_CAPTURE_DIR");
    REQUIRE(dir_env != nullptr);
    const std::string dir = dir_env;

    // Requests as our builders make them (keys are counting bytes, not secrets).
    {
        SaParams sa;
        sa.src = ip("10.99.0.1");
        sa.dst = ip("10.99.0.2");
        sa.spi = EspSpi{0xc0ffee00};
        sa.reqid = ReqId{42};
        sa.encr = {crypto::EncrAlg::aes_cbc, 128};
        sa.encr_key = crypto::SecretBytes(Bytes(16, 0x11));
        sa.integ = crypto::IntegAlg::hmac_sha2_256_128;
        sa.integ_key = crypto::SecretBytes(Bytes(32, 0x22));
        sa.esn = true;
        sa.encap = UdpEncap{4500, 4501};
        Bytes out;
        REQUIRE(xfrm::build_sa(out, sa, false, {1, 2}, OwnerTag{}));
        write_file(dir + "/built_newsa_cbc_esn_encap", out);
        out.clear();
        REQUIRE(xfrm::build_policy(out, transport_policies(sa.src, sa.dst, ReqId{42})[0], false,
                                   {2, 2}, OwnerTag{}));
        REQUIRE(xfrm::build_delete_sa(out, sa.dst, sa.spi, {3, 2}));
        REQUIRE(xfrm::build_delete_policy(out, transport_policies(sa.src, sa.dst, ReqId{42})[1].id,
                                          {4, 2}, OwnerTag{}));
        write_file(dir + "/built_batch_of_three", out);
    }

    auto report = in_new_netns([&](Checks& c) {
        c.check(shell("ip link add v0 type veth peer name v1") == 0, "veth");
        shell("ip link set v0 up; ip link set v1 up; ip addr add 10.99.0.1/24 dev v0");
        Recorder rec(dir);
        auto k = XfrmKernel::open();
        if (!c.check(k.ok(), "open")) return;
        auto& x = **k;
        for (const auto& p : transport_policies(ip("10.99.0.1"), ip("10.99.0.2"), ReqId{7})) {
            c.check(x.add_policy(p).ok(), "add");
        }
        c.check(rec.save("newpolicy") > 0, "newpolicy notifications");
        auto spi = x.alloc_spi(ip("10.99.0.2"), ip("10.99.0.1"), ReqId{7});
        rec.save("allocspi");
        {  // ACQUIRE
            const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(9);
            std::memcpy(&to.sin_addr, ip("10.99.0.2").bytes().data(), 4);
            ::sendto(s, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
            ::close(s);
            c.check(rec.save("acquire", 1000) > 0, "acquire");
        }
        Bytes req;
        xfrm::build_dump_policies(req, {100, 0});
        rec.send(req);
        c.check(rec.save("dump_policies") > 0, "policy dump");
        req.clear();
        xfrm::build_dump_sas(req, {101, 0});
        rec.send(req);
        c.check(rec.save("dump_sas") > 0, "SA dump");
        req.clear();
        SaParams sa;
        sa.src = ip("10.99.0.1");
        sa.dst = ip("10.99.0.2");
        sa.spi = EspSpi{0x1234};
        sa.encr = {crypto::EncrAlg::aes_gcm_16, 128};
        sa.encr_key = crypto::SecretBytes(Bytes(20, 0x33));
        REQUIRE(xfrm::build_sa(req, sa, false, {102, 0}, OwnerTag{}));
        rec.send(req);
        c.check(rec.save("error_ack") > 0, "error ack");
        if (spi) (void)x.delete_sa(ip("10.99.0.1"), *spi);
        rec.save("delsa");
        shell("ip xfrm policy flush");
        c.check(rec.save("flush") > 0, "flush notifications");
    });
    INFO(report);
    CHECK(report.empty());
}
