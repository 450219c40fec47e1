// ikemesh-kernel-tool: the kernel backends' verbs from the command line, for the QEMU guest
// scenarios (install an SA pair through XfrmKernel and pass traffic) and for an operator who
// wants to see or clean up what ikemeshd left in the kernel (list, remove-owned). It is a thin
// shell over kernel/kernel.hpp; it never flushes anything and touches only entries carrying its
// owner tag (default: ikemeshd's).
//
//   ikemesh-kernel-tool [--kernel xfrm|pfkey] [--tag HEX] COMMAND ARGS...
//     list                                  owned SAs and policies, one per line
//     remove-owned                          delete them; prints how many
//     alloc-spi SRC DST REQID               prints the SPI (hex)
//     add-sa|update-sa SRC DST SPI REQID ENCR KEYHEX [INTEG KEYHEX] [--esn] [--window N]
//                      [--encap SPORT DPORT]          ENCR/INTEG in strongSwan notation
//     delete-sa DST SPI
//     query DST SPI                         "bytes N packets N add_time T first_use T last_use T"
//     add-policies LOCAL PEER REQID         transport out + in, ipsec with ESP template
//     add-bypass v4|v6 PROTO PORT           allow policies (PROTO number, PORT 0 = any;
//                                           ICMP: PORT = one type, 0 = the `icmp` class)
//     monitor SECONDS                       prints kernel events for that long
// Exit status: 0 ok, 1 the kernel refused (message on stderr), 2 usage.
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/algorithms.hpp"
#include "kernel/kernel.hpp"

using namespace ikemesh;
using namespace ikemesh::kernel;

namespace {

int usage(const char* why) {
    std::fprintf(stderr, "ikemesh-kernel-tool: %s (see the comment at the top of the source)\n",
                 why);
    return 2;
}

int fail(const Error& e) {
    std::fprintf(stderr, "ikemesh-kernel-tool: %s\n", e.message().c_str());
    return 1;
}

std::optional<IpAddress> address(const std::string& s) {
    return IpAddress::parse(s);
}

std::optional<uint32_t> number(const std::string& s, int base = 0) {
    char* end = nullptr;
    errno = 0;
    const unsigned long v = std::strtoul(s.c_str(), &end, base);
    if (errno != 0 || end == s.c_str() || *end != '\0' || v > 0xffffffffUL) return std::nullopt;
    return static_cast<uint32_t>(v);
}

int sa_command(Kernel& k, bool update, std::vector<std::string> args) {
    if (args.size() < 6) return usage("add-sa needs SRC DST SPI REQID ENCR KEYHEX");
    SaParams sa;
    auto src = address(args[0]);
    auto dst = address(args[1]);
    auto spi = number(args[2], 16);
    auto reqid = number(args[3]);
    auto encr = crypto::parse_encr(args[4]);
    auto key = from_hex(args[5]);
    if (!src || !dst || !spi || !reqid || !encr || !key) return usage("bad add-sa argument");
    sa.src = *src;
    sa.dst = *dst;
    sa.spi = EspSpi{*spi};
    sa.reqid = ReqId{*reqid};
    sa.encr = *encr;
    sa.encr_key = crypto::SecretBytes(*key);
    size_t i = 6;
    if (i + 1 < args.size() && args[i].rfind("--", 0) != 0) {
        auto integ = crypto::parse_integ(args[i]);
        auto ikey = from_hex(args[i + 1]);
        if (!integ || !ikey) return usage("bad integrity algorithm or key");
        sa.integ = *integ;
        sa.integ_key = crypto::SecretBytes(*ikey);
        i += 2;
    }
    for (; i < args.size(); ++i) {
        if (args[i] == "--esn") {
            sa.esn = true;
        } else if (args[i] == "--window" && i + 1 < args.size()) {
            auto w = number(args[++i]);
            if (!w) return usage("bad --window");
            sa.replay_window = *w;
        } else if (args[i] == "--encap" && i + 2 < args.size()) {
            auto sp = number(args[i + 1]);
            auto dp = number(args[i + 2]);
            if (!sp || !dp || *sp > 65535 || *dp > 65535) return usage("bad --encap ports");
            sa.encap = UdpEncap{static_cast<uint16_t>(*sp), static_cast<uint16_t>(*dp)};
            i += 2;
        } else {
            return usage(("unknown option " + args[i]).c_str());
        }
    }
    Status s = update ? k.update_sa(sa) : k.add_sa(sa);
    return s ? 0 : fail(s.error());
}

std::string when(const std::optional<std::chrono::sys_seconds>& t) {
    return t ? std::to_string(t->time_since_epoch().count()) : "-";
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    KernelKind kind = KernelKind::xfrm;
    OwnerTag tag;
    while (!args.empty() && args.front().rfind("--", 0) == 0) {
        if (args.size() < 2) return usage("option without value");
        if (args[0] == "--kernel") {
            auto k = parse_kernel_kind(args[1]);
            if (!k) return usage("unknown --kernel");
            kind = *k;
        } else if (args[0] == "--tag") {
            auto t = number(args[1], 16);
            if (!t) return usage("bad --tag");
            tag.value = *t;
        } else {
            return usage("unknown option");
        }
        args.erase(args.begin(), args.begin() + 2);
    }
    if (args.empty()) return usage("no command");
    const std::string cmd = args.front();
    args.erase(args.begin());

    auto opened = open_kernel(kind, tag);
    if (!opened) return fail(opened.error());
    Kernel& k = **opened;

    if (cmd == "list") {
        auto owned = k.list_owned();
        if (!owned) return fail(owned.error());
        for (const auto& sa : owned->sas) {
            std::printf("sa %s -> %s spi %s reqid %u %s\n", sa.src.to_string().c_str(),
                        sa.dst.to_string().c_str(), to_hex(sa.spi).c_str(), sa.reqid.value,
                        std::string(name(sa.mode)).c_str());
        }
        for (const auto& p : owned->policies) {
            std::printf("policy %s %s %s priority %u reqid %u\n",
                        std::string(name(p.id.dir)).c_str(), p.id.selector.to_string().c_str(),
                        std::string(name(p.action)).c_str(), p.priority, p.reqid.value);
        }
        return 0;
    }
    if (cmd == "remove-owned") {
        auto n = k.remove_owned();
        if (!n) return fail(n.error());
        std::printf("removed %zu\n", *n);
        return 0;
    }
    if (cmd == "alloc-spi") {
        if (args.size() != 3) return usage("alloc-spi SRC DST REQID");
        auto src = address(args[0]);
        auto dst = address(args[1]);
        auto reqid = number(args[2]);
        if (!src || !dst || !reqid) return usage("bad alloc-spi argument");
        auto spi = k.alloc_spi(*src, *dst, ReqId{*reqid});
        if (!spi) return fail(spi.error());
        std::printf("%s\n", to_hex(*spi).c_str());
        return 0;
    }
    if (cmd == "add-sa" || cmd == "update-sa") return sa_command(k, cmd == "update-sa", args);
    if (cmd == "delete-sa" || cmd == "query") {
        if (args.size() != 2) return usage("DST SPI");
        auto dst = address(args[0]);
        auto spi = number(args[1], 16);
        if (!dst || !spi) return usage("bad DST or SPI");
        if (cmd == "delete-sa") {
            auto s = k.delete_sa(*dst, EspSpi{*spi});
            return s ? 0 : fail(s.error());
        }
        auto c = k.query_sa(*dst, EspSpi{*spi});
        if (!c) return fail(c.error());
        std::printf("bytes %llu packets %llu add_time %s first_use %s last_use %s\n",
                    static_cast<unsigned long long>(c->bytes),
                    static_cast<unsigned long long>(c->packets), when(c->add_time).c_str(),
                    when(c->first_use).c_str(), when(c->last_use).c_str());
        return 0;
    }
    if (cmd == "add-policies") {
        if (args.size() != 3) return usage("add-policies LOCAL PEER REQID");
        auto local = address(args[0]);
        auto peer = address(args[1]);
        auto reqid = number(args[2]);
        if (!local || !peer || !reqid) return usage("bad add-policies argument");
        for (const auto& p : transport_policies(*local, *peer, ReqId{*reqid})) {
            if (auto s = k.add_policy(p); !s) return fail(s.error());
        }
        return 0;
    }
    if (cmd == "add-bypass") {
        if (args.size() != 3) return usage("add-bypass v4|v6 PROTO PORT");
        const auto family = args[0] == "v6" ? IpAddress::Family::v6 : IpAddress::Family::v4;
        auto proto = number(args[1]);
        auto port = number(args[2]);
        if (!proto || !port || *proto > 255 || *port > 65535) return usage("bad PROTO or PORT");
        for (const auto& p :
             bypass_policies(family, static_cast<uint8_t>(*proto), static_cast<uint16_t>(*port))) {
            if (auto s = k.add_policy(p); !s) return fail(s.error());
        }
        return 0;
    }
    if (cmd == "monitor") {
        if (args.size() != 1) return usage("monitor SECONDS");
        auto secs = number(args[0]);
        if (!secs) return usage("bad SECONDS");
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(*secs);
        while (std::chrono::steady_clock::now() < until) {
            pollfd p{k.event_fd(), POLLIN, 0};
            if (::poll(&p, 1, 100) == 1) {
                k.read_events([](const KernelEvent& e) {
                    std::printf("%s\n", describe(e).c_str());
                    std::fflush(stdout);
                });
            }
        }
        return 0;
    }
    return usage(("unknown command " + cmd).c_str());
}
