// Not a test: a hidden Catch2 case ("[.capture]", never run by default) that records real PF_KEY
// messages from a kernel with af_key (the QEMU guest) as seeds for fuzz/pfkey_message, plus
// builder output. A raw PF_KEY socket of its own, SADB_REGISTER'd for ESP, sees every broadcast
// (REGISTER replies, ADD/UPDATE/DELETE and SPD notifications, ACQUIRE, EXPIRE, flushes) in a
// private network namespace while PfkeyKernel and `ip xfrm` make changes; it sends GETSPI, GET,
// dumps and failing requests of its own for replies and errors. One message per file.
//
//   tests/e2e/vm --run 'IKEMESH_CAPTURE_DIR=$PWD/fuzz/corpus/pfkey_message
//       build/tests/unit_kernel "[.capture]"'   (one line)
#include <linux/pfkeyv2.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "kernel/pfkey_kernel.hpp"
#include "kernel/pfkey_message.hpp"
#include "layout.hpp"
#include "netns.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;
using namespace ikemesh::kernel::test;

namespace {

void write_file(const std::string& path, const Bytes& b) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

class Recorder {
  public:
    explicit Recorder(std::string dir) : dir_(std::move(dir)) {
        fd_ = ::socket(PF_KEY, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, PF_KEY_V2);
        Bytes reg;
        pfkey::build_register(reg, {1, 1});
        send(reg);
    }
    ~Recorder() { ::close(fd_); }
    bool ok() const { return fd_ >= 0; }

    size_t save(const std::string& label, int ms = 200) {
        size_t n = 0;
        Bytes buf(65536);
        pollfd p{fd_, POLLIN, 0};
        while (::poll(&p, 1, n == 0 ? ms : 50) == 1) {
            const ssize_t got = ::recv(fd_, buf.data(), buf.size(), 0);
            if (got <= 0) break;
            buf.resize(static_cast<size_t>(got));
            write_file(dir_ + "/real_" + label + "_" + std::to_string(n++), buf);
            buf.resize(65536);
        }
        return n;
    }
    void send(const Bytes& request) { ::send(fd_, request.data(), request.size(), 0); }

  private:
    std::string dir_;
    int fd_ = -1;
};

SaParams cbc_sa(const char* src, const char* dst, uint32_t spi) {
    SaParams sa;
    sa.src = ip(src);
    sa.dst = ip(dst);
    sa.spi = EspSpi{spi};
    sa.reqid = ReqId{7};
    sa.encr = {crypto::EncrAlg::aes_cbc, 128};
    sa.encr_key = crypto::SecretBytes(Bytes(16, 0x11));  // not secrets: fixed test bytes
    sa.integ = crypto::IntegAlg::hmac_sha2_512_256;
    sa.integ_key = crypto::SecretBytes(Bytes(64, 0x22));
    sa.replay_window = 32;
    sa.soft.time = std::chrono::seconds(1);
    sa.hard.time = std::chrono::seconds(2);
    return sa;
}

}  // namespace

TEST_CASE("capture real PF_KEY messages as fuzz seeds", "[.capture]") {
    const char* dir_env = std::getenv("IKEMESH_CAPTURE_DIR");
    REQUIRE(dir_env != nullptr);
    const std::string dir = dir_env;

    {  // Builder output.
        Bytes out;
        SaParams sa = cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee00);
        sa.encap = UdpEncap{4500, 4501};
        REQUIRE(pfkey::build_sa(out, sa, false, 0x2007, {1, 2}));
        write_file(dir + "/built_add_cbc_encap", out);
        out.clear();
        REQUIRE(pfkey::build_policy(out, bypass_policies(IpAddress::Family::v6, 6, 22)[2], false,
                                    0x494b0000 + 1000, 0, {2, 2}));
        write_file(dir + "/built_spdadd_v6_bypass", out);
        out.clear();
        REQUIRE(pfkey::build_getspi(out, ip("fd00::2"), ip("fd00::1"), 0x2007, 0xc0000000,
                                    0xcfffffff, {3, 2}));
        write_file(dir + "/built_getspi_v6", out);
    }

    auto report = in_new_netns([&](Checks& c) {
        shell(
            "ip link add v0 type veth peer name v1; ip link set v0 up; ip link set v1 up; "
            "ip addr add 10.99.0.1/24 dev v0");
        Recorder rec(dir);
        if (!c.check(rec.ok(), "PF_KEY socket (af_key loaded?)")) return;
        rec.save("register");
        auto k = PfkeyKernel::open();
        if (!c.check(k.ok(), "open")) return;
        auto& x = **k;
        rec.save("register_other");
        for (const auto& p : transport_policies(ip("10.99.0.1"), ip("10.99.0.2"), ReqId{7})) {
            c.check(x.add_policy(p).ok(), "add policy");
        }
        c.check(rec.save("spdadd") > 0, "SPDADD notifications");
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
        auto spi = x.alloc_spi(ip("10.99.0.2"), ip("10.99.0.1"), ReqId{7});
        c.check(spi.ok(), "GETSPI");
        Bytes req;
        REQUIRE(pfkey::build_getspi(req, ip("10.99.0.2"), ip("10.99.0.1"), 0x2007, 0xc0000000,
                                    0xcfffffff, {10, 0}));
        rec.send(req);
        c.check(rec.save("getspi_reply") > 0, "GETSPI reply");
        if (spi) c.check(x.update_sa(cbc_sa("10.99.0.2", "10.99.0.1", spi->value)).ok(), "UPD");
        rec.save("update");
        c.check(x.add_sa(cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee01)).ok(), "ADD");
        rec.save("add");
        req.clear();
        REQUIRE(pfkey::build_get_sa(req, ip("10.99.0.2"), EspSpi{0xc0ffee01}, {11, 0}));
        rec.send(req);
        c.check(rec.save("get_reply") > 0, "GET reply");
        req.clear();
        pfkey::build_dump_sas(req, {12, 0});
        rec.send(req);
        c.check(rec.save("dump_sas") > 0, "SA dump");
        req.clear();
        pfkey::build_dump_policies(req, {13, 0});
        rec.send(req);
        c.check(rec.save("dump_policies") > 0, "policy dump");
        req.clear();
        REQUIRE(pfkey::build_sa(req, cbc_sa("10.99.0.1", "10.99.0.2", 0xc0ffee01), false, 0x2007,
                                {14, 0}));
        rec.send(req);
        c.check(rec.save("error_exists") > 0, "EEXIST answer");
        c.check(rec.save("expire", 3000) > 0, "EXPIRE soft and hard");
        (void)x.remove_owned();
        rec.save("delete");
        shell("ip xfrm policy flush; ip xfrm state flush");
        c.check(rec.save("flush") > 0, "flush notifications");
    });
    INFO(report);
    CHECK(report.empty());
}
