// bench_handshake: opens N IKE SAs (PSK, X25519, AES-GCM-16, childless) against a responder over
// UDP and reports IKE SAs per second and, given the responder's pid, its resident memory per
// established IKE SA. Works against ikemeshd and strongSwan's charon alike; see
// tests/bench/handshake.sh, which runs both in one go and records the figures.
//
//   bench_handshake --target 127.0.0.1:15000 --count 20000 --window 256
//       --local-id client.bench --remote-id responder.bench --psk-file F [--pid PID] [--busy-poll]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "bench_initiator.hpp"

using namespace ikemesh;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    long value = 0;
    while (in >> key) {
        if (key == "VmRSS:") {
            in >> value;
            return value;
        }
        std::getline(in, key);
    }
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"IKE SA setup rate against a responder"};
    std::string target = "127.0.0.1:500", local_id = "client.bench", remote_id = "responder.bench";
    std::string psk_file, source = "127.0.0.1";
    uint64_t count = 10000;
    size_t window = 128;
    int pid = 0;
    double timeout_s = 120;
    bool busy_poll = false;
    app.add_option("--target", target, "responder address:port");
    app.add_option("--source", source, "local address to send from");
    app.add_option("--count", count, "IKE SAs to open");
    app.add_option("--window", window, "handshakes in flight at once");
    app.add_option("--local-id", local_id);
    app.add_option("--remote-id", remote_id);
    app.add_option("--psk-file", psk_file)->required();
    app.add_option("--pid", pid, "responder pid, for resident memory per IKE SA");
    app.add_option("--timeout", timeout_s, "give up after this many seconds");
    app.add_flag("--busy-poll", busy_poll,
                 "never sleep waiting for answers: on loopback the responder's send would "
                 "otherwise also pay for waking this process, a cost of the receiving host");
    CLI11_PARSE(app, argc, argv);

    std::ifstream pf(psk_file);
    std::string psk;
    std::getline(pf, psk);
    auto colon = target.rfind(':');
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(std::stoi(target.substr(colon + 1))));
    inet_pton(AF_INET, target.substr(0, colon).c_str(), &to.sin_addr);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        std::perror("socket");
        return 2;
    }

    bench::BenchInitiator init({local_id, remote_id, Bytes(psk.begin(), psk.end())});
    const long rss_before = pid ? rss_kib(pid) : -1;
    std::map<uint64_t, Clock::time_point> sent_at;  // handshakes in flight
    uint64_t started = 0, done = 0, failed = 0, retransmits = 0;
    std::string first_failure;
    Bytes buf(65536);
    const auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::duration<double>(timeout_s);
    while (done + failed < count && Clock::now() < deadline) {
        while (started < count && sent_at.size() < window) {
            Bytes req = init.start(++started);
            (void)send(fd, req.data(), req.size(), 0);
            sent_at[started] = Clock::now();
        }
        if (!busy_poll) {
            pollfd p{fd, POLLIN, 0};
            poll(&p, 1, 50);
        }
        for (;;) {
            ssize_t n = recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0) break;
            auto step = init.on_datagram(ByteView(buf.data(), static_cast<size_t>(n)));
            if (step.send) {
                (void)send(fd, step.send->data(), step.send->size(), 0);
                sent_at[step.n] = Clock::now();
            }
            if (step.done || !step.failed.empty()) {
                sent_at.erase(step.n);
                step.done ? ++done : ++failed;
                if (!step.failed.empty() && first_failure.empty()) first_failure = step.failed;
            }
        }
        // Datagrams lost to full socket buffers are sent again after a second.
        const auto now = Clock::now();
        for (auto& [n, at] : sent_at) {
            if (now - at > std::chrono::seconds(1)) {
                if (const Bytes* again = init.pending(n)) {
                    (void)send(fd, again->data(), again->size(), 0);
                    ++retransmits;
                }
                at = now;
            }
        }
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const long rss_after = pid ? rss_kib(pid) : -1;
    std::printf("ike_sas=%llu failed=%llu seconds=%.3f rate=%.0f retransmits=%llu",
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(failed),
                secs, static_cast<double>(done) / secs,
                static_cast<unsigned long long>(retransmits));
    if (pid && done > 0) {
        std::printf(
            " rss_before_kib=%ld rss_after_kib=%ld bytes_per_ike_sa=%.0f", rss_before, rss_after,
            static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(done));
    }
    std::printf("\n");
    if (!first_failure.empty()) std::fprintf(stderr, "first failure: %s\n", first_failure.c_str());
    close(fd);
    return done == count ? 0 : 1;
}
