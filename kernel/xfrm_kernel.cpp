#include "kernel/xfrm_kernel.hpp"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <openssl/crypto.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

#include "kernel/xfrm_messages.hpp"

namespace ikemesh::kernel {

namespace {

// Large enough for any dump datagram the kernel builds (it sizes them to the reader's buffer,
// up to 32 KiB) and for many ACKs.
constexpr size_t kReceiveBufferBytes = 64 * 1024;
// Datagrams read from the event socket per read_events call, so one busy kernel cannot starve
// the daemon's loop; the descriptor stays readable and the loop comes back.
constexpr int kEventDatagramsPerRead = 256;
constexpr int kRequestSocketBufferBytes = 4 * 1024 * 1024;

void wipe(Bytes& b) {
    if (!b.empty()) OPENSSL_cleanse(b.data(), b.size());
    b.clear();
}

Error os_error(int err, std::string_view what) {
    return xfrm::netlink_error(err, what, {});
}

}  // namespace

XfrmKernel::XfrmKernel(const XfrmOptions& options) : options_(options) {}

XfrmKernel::~XfrmKernel() {
    wipe(send_);
    if (!recv_.empty()) OPENSSL_cleanse(recv_.data(), recv_.size());
    if (!event_buf_.empty()) OPENSSL_cleanse(event_buf_.data(), event_buf_.size());
    if (request_) mnl_socket_close(request_);
    if (events_) mnl_socket_close(events_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (queue_fd_ >= 0) ::close(queue_fd_);
}

Result<std::unique_ptr<XfrmKernel>> XfrmKernel::open(const XfrmOptions& options) {
    std::unique_ptr<XfrmKernel> k(new XfrmKernel(options));
    if (auto s = k->init(); !s) return s.take_error();
    return k;
}

Status XfrmKernel::init() {
    recv_.resize(kReceiveBufferBytes);
    event_buf_.resize(kReceiveBufferBytes);

    request_ = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC);
    if (!request_) return os_error(errno, "open XFRM netlink socket");
    if (mnl_socket_bind(request_, 0, MNL_SOCKET_AUTOPID) < 0) {
        return os_error(errno, "bind XFRM netlink socket");
    }
    request_pid_ = mnl_socket_get_portid(request_);
    int one = 1;
    // Short ACKs (no echo of our request: it may hold keys) with the kernel's error text.
    mnl_socket_setsockopt(request_, NETLINK_CAP_ACK, &one, sizeof one);
    mnl_socket_setsockopt(request_, NETLINK_EXT_ACK, &one, sizeof one);
    const int fd = mnl_socket_get_fd(request_);
    const int bufsize = kRequestSocketBufferBytes;
    // SO_*BUFFORCE needs CAP_NET_ADMIN, which we need anyway; the plain variant is the fallback.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof bufsize) < 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof bufsize) < 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    }
    timeval tv{options_.reply_timeout_ms / 1000, (options_.reply_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    events_ = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!events_) return os_error(errno, "open XFRM event socket");
    if (mnl_socket_bind(events_, 0, MNL_SOCKET_AUTOPID) < 0) {
        return os_error(errno, "bind XFRM event socket");
    }
    // MAPPING: the peer's NAT moved (RFC 3948 / RFC 7296 2.23), see MappingEvent.
    std::vector<int> groups{XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE, XFRMNLGRP_MAPPING};
    if (options_.watch_changes) {
        groups.push_back(XFRMNLGRP_SA);
        groups.push_back(XFRMNLGRP_POLICY);
    }
    for (int g : groups) {
        if (setsockopt(mnl_socket_get_fd(events_), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g,
                       sizeof g) < 0) {
            return os_error(errno, "join XFRM multicast group " + std::to_string(g));
        }
    }
    const int efd = mnl_socket_get_fd(events_);
    const int evbuf = options_.event_buffer_bytes;
    if (setsockopt(efd, SOL_SOCKET, SO_RCVBUFFORCE, &evbuf, sizeof evbuf) < 0) {
        setsockopt(efd, SOL_SOCKET, SO_RCVBUF, &evbuf, sizeof evbuf);
    }

    queue_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (queue_fd_ < 0 || epoll_fd_ < 0) return os_error(errno, "create event descriptors");
    for (int watched : {efd, queue_fd_}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = watched;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, watched, &ev) < 0) {
            return os_error(errno, "watch event descriptors");
        }
    }
    return {};
}

// --- request plumbing ---------------------------------------------------------------------------

Status XfrmKernel::send_buffer(std::string_view what) {
    const ssize_t n = mnl_socket_sendto(request_, send_.data(), send_.size());
    const int err = errno;
    wipe(send_);
    if (n < 0) return os_error(err, what);
    return {};
}

Result<ByteView> XfrmKernel::receive(std::string_view what) {
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(request_, recv_.data(), recv_.size());
        if (n >= 0) return ByteView(recv_.data(), static_cast<size_t>(n));
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return Error{Errc::kernel_failure, std::string(what) + ": no answer from the kernel"};
        }
        return os_error(errno, what);
    }
}

void XfrmKernel::flush_batch(std::vector<uint32_t>& seqs, std::vector<std::string>& labels,
                             std::vector<Status>& results, std::vector<size_t>& slots) {
    if (seqs.empty()) return;
    if (auto s = send_buffer("send XFRM requests"); !s) {
        for (size_t i = 0; i < seqs.size(); ++i) {
            results[slots[i]] = Error{s.error().code, labels[i] + ": " + s.error().detail};
        }
    } else {
        // Sequence numbers of one batch are consecutive, so a seq maps to its slot directly.
        const uint32_t base = seqs.front();
        std::vector<bool> answered(seqs.size(), false);
        size_t remaining = seqs.size();
        while (remaining > 0) {
            auto data = receive("collect XFRM ACKs");
            if (!data) {
                for (size_t i = 0; i < seqs.size(); ++i) {
                    if (!answered[i]) results[slots[i]] = Error{data.error().code, labels[i]};
                }
                break;
            }
            auto messages = xfrm::split_messages(*data);
            if (!messages) continue;  // not ours to understand; keep waiting for the ACKs
            for (const auto& m : *messages) {
                const uint32_t i = m.seq - base;
                if (m.type != NLMSG_ERROR || i >= seqs.size() || answered[i]) continue;
                auto parsed = xfrm::parse_message(m);
                if (!parsed) continue;
                const auto& ack = std::get<xfrm::Ack>(*parsed);
                if (ack.error != 0) {
                    results[slots[i]] = xfrm::netlink_error(ack.error, labels[i], ack.message);
                }
                answered[i] = true;
                --remaining;
            }
        }
    }
    seqs.clear();
    labels.clear();
    slots.clear();
    // The kernel multicast a notification per change; read them now rather than let the event
    // socket overrun during a large batch.
    drain_events();
}

std::vector<Status> XfrmKernel::submit(std::span<const KernelOp> ops) {
    std::vector<Status> results(ops.size());
    std::vector<uint32_t> seqs;
    std::vector<std::string> labels;
    std::vector<size_t> slots;
    wipe(send_);
    for (size_t i = 0; i < ops.size(); ++i) {
        // The seq is taken only once the request is built, so a batch's seqs are consecutive
        // and an ACK's seq maps straight to its slot.
        const xfrm::RequestHeader h{seq_ + 1, request_pid_};
        const size_t mark = send_.size();
        const Status built = std::visit(
            [&](const auto& o) -> Status {
                using T = std::decay_t<decltype(o)>;
                if constexpr (std::is_same_v<T, AddSa> || std::is_same_v<T, UpdateSa>) {
                    return xfrm::build_sa(send_, o.params, std::is_same_v<T, UpdateSa>, h,
                                          options_.owner);
                } else if constexpr (std::is_same_v<T, DeleteSa>) {
                    return xfrm::build_delete_sa(send_, o.dst, o.spi, h);
                } else if constexpr (std::is_same_v<T, AddPolicy> ||
                                     std::is_same_v<T, UpdatePolicy>) {
                    return xfrm::build_policy(send_, o.params, std::is_same_v<T, UpdatePolicy>, h,
                                              options_.owner);
                } else {
                    return xfrm::build_delete_policy(send_, o.id, h, options_.owner);
                }
            },
            ops[i]);
        if (!built) {
            OPENSSL_cleanse(send_.data() + mark, send_.size() - mark);
            send_.resize(mark);
            results[i] = Error{built.error().code, describe(ops[i]) + ": " + built.error().detail};
            continue;
        }
        ++seq_;
        seqs.push_back(h.seq);
        labels.push_back(describe(ops[i]));
        slots.push_back(i);
        if (seqs.size() >= options_.batch_messages || send_.size() >= options_.batch_bytes) {
            flush_batch(seqs, labels, results, slots);
        }
    }
    flush_batch(seqs, labels, results, slots);
    return results;
}

Status XfrmKernel::one(const KernelOp& op) {
    auto r = submit(std::span<const KernelOp>(&op, 1));
    return std::move(r.front());
}

Result<Bytes> XfrmKernel::request_reply(std::string_view what, uint16_t expected_type) {
    // The request is the only message in send_; its seq is the current one.
    const uint32_t seq = seq_;
    if (auto s = send_buffer(what); !s) return s.take_error();
    for (;;) {
        auto data = receive(what);
        if (!data) return data.take_error();
        auto messages = xfrm::split_messages(*data);
        if (!messages) continue;
        for (const auto& m : *messages) {
            if (m.seq != seq) continue;
            if (m.type == NLMSG_ERROR) {
                auto parsed = xfrm::parse_message(m);
                if (!parsed) return parsed.take_error();
                const auto& ack = std::get<xfrm::Ack>(*parsed);
                if (ack.error != 0) return xfrm::netlink_error(ack.error, what, ack.message);
                return Error{Errc::kernel_failure, std::string(what) + ": ACK without a reply"};
            }
            if (m.type == expected_type) {
                // Hand back a private copy of just this message (header included) and wipe
                // the receive buffer: GETSA replies carry the SA's keys.
                const auto* start = m.payload.data() - sizeof(nlmsghdr);
                Bytes copy(start, m.payload.data() + m.payload.size());
                OPENSSL_cleanse(recv_.data(), data->size());
                return copy;
            }
        }
    }
}

Status XfrmKernel::dump(std::string_view what,
                        const std::function<Status(const xfrm::NetlinkMessage&)>& each) {
    const uint32_t seq = seq_;
    if (auto s = send_buffer(what); !s) return s;
    Status result;
    for (;;) {
        auto data = receive(what);
        if (!data) return data.take_error();
        auto messages = xfrm::split_messages(*data);
        bool done = false;
        if (messages) {
            for (const auto& m : *messages) {
                if (m.seq != seq) continue;
                if (m.type == NLMSG_DONE) {
                    done = true;
                    break;
                }
                if (m.type == NLMSG_ERROR) {
                    auto parsed = xfrm::parse_message(m);
                    if (parsed && std::get<xfrm::Ack>(*parsed).error != 0) {
                        const auto& ack = std::get<xfrm::Ack>(*parsed);
                        result = xfrm::netlink_error(ack.error, what, ack.message);
                        done = true;
                        break;
                    }
                    continue;
                }
                // Keep reading to NLMSG_DONE after a failure so the socket stays in step.
                if (result) {
                    if (auto s = each(m); !s) result = std::move(s);
                }
            }
        } else if (result) {
            result = messages.take_error();
        }
        // SA dumps carry every SA's keys.
        OPENSSL_cleanse(recv_.data(), data->size());
        if (done) return result;
    }
}

// --- verbs --------------------------------------------------------------------------------------

Result<EspSpi> XfrmKernel::alloc_spi(const IpAddress& src, const IpAddress& dst, ReqId reqid) {
    const std::string what = "alloc SPI " + src.to_string() + " -> " + dst.to_string();
    wipe(send_);
    if (auto s = xfrm::build_alloc_spi(send_, src, dst, reqid, options_.spi_min, options_.spi_max,
                                       {next_seq(), request_pid_});
        !s) {
        return Error{s.error().code, what + ": " + s.error().detail};
    }
    auto reply = request_reply(what, XFRM_MSG_NEWSA);
    if (!reply) return reply.take_error();
    auto messages = xfrm::split_messages(*reply);
    if (!messages || messages->size() != 1) return Error{Errc::kernel_failure, what};
    auto parsed = xfrm::parse_message(messages->front());
    wipe(*reply);
    if (!parsed) return Error{parsed.error().code, what + ": " + parsed.error().detail};
    const auto* sa = std::get_if<xfrm::SaMessage>(&*parsed);
    if (!sa) return Error{Errc::kernel_failure, what + ": unexpected reply"};
    return sa->sa.spi;
}

Status XfrmKernel::add_sa(const SaParams& sa) {
    return one(KernelOp{AddSa{sa.clone()}});
}

Status XfrmKernel::update_sa(const SaParams& sa) {
    return one(KernelOp{UpdateSa{sa.clone()}});
}

Status XfrmKernel::delete_sa(const IpAddress& dst, EspSpi spi) {
    return one(KernelOp{DeleteSa{dst, spi}});
}

Result<SaCounters> XfrmKernel::query_sa(const IpAddress& dst, EspSpi spi) {
    const std::string what = "query SA " + dst.to_string() + " spi " + to_hex(spi);
    wipe(send_);
    if (auto s = xfrm::build_get_sa(send_, dst, spi, {next_seq(), request_pid_}); !s) {
        return Error{s.error().code, what + ": " + s.error().detail};
    }
    auto reply = request_reply(what, XFRM_MSG_NEWSA);
    if (!reply) return reply.take_error();
    auto messages = xfrm::split_messages(*reply);
    Result<xfrm::Message> parsed = Errc::kernel_failure;
    if (messages && messages->size() == 1) parsed = xfrm::parse_message(messages->front());
    wipe(*reply);
    if (!parsed) return Error{parsed.error().code, what + ": " + parsed.error().detail};
    const auto* sa = std::get_if<xfrm::SaMessage>(&*parsed);
    if (!sa) return Error{Errc::kernel_failure, what + ": unexpected reply"};
    return sa->sa.counters;
}

Status XfrmKernel::add_policy(const PolicyParams& policy) {
    return one(KernelOp{AddPolicy{policy}});
}

Status XfrmKernel::update_policy(const PolicyParams& policy) {
    return one(KernelOp{UpdatePolicy{policy}});
}

Status XfrmKernel::delete_policy(const PolicyId& id) {
    return one(KernelOp{DeletePolicy{id}});
}

Status XfrmKernel::bypass_socket(int fd, int family) {
    const int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    const int option = family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;
    for (Direction dir : {Direction::in, Direction::out}) {
        auto policy = xfrm::socket_bypass_policy(dir, family);
        if (!policy) return policy.take_error();
        if (setsockopt(fd, level, option, policy->data(), static_cast<socklen_t>(policy->size())) <
            0) {
            return os_error(errno, "bypass IPsec on socket " + std::to_string(fd) + " (" +
                                       std::string(name(dir)) + ")");
        }
    }
    return {};
}

Status XfrmKernel::enable_udp_encap(int fd) {
    const int type = UDP_ENCAP_ESPINUDP;
    if (setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof type) < 0) {
        return os_error(errno, "enable ESP-in-UDP on socket " + std::to_string(fd));
    }
    return {};
}

Result<OwnedState> XfrmKernel::list_owned() {
    OwnedState state;
    wipe(send_);
    xfrm::build_dump_sas(send_, {next_seq(), request_pid_});
    auto s = dump("list SAs", [&](const xfrm::NetlinkMessage& m) -> Status {
        auto parsed = xfrm::parse_message(m);
        if (!parsed) return Error{parsed.error().code, "SA dump: " + parsed.error().detail};
        if (const auto* sa = std::get_if<xfrm::SaMessage>(&*parsed)) {
            if (sa->sa.selector_user == options_.owner.value && sa->sa.protocol == kProtoEsp) {
                state.sas.push_back(
                    OwnedSa{sa->sa.src, sa->sa.dst, sa->sa.spi, sa->sa.reqid, sa->sa.mode});
            }
        }
        return {};
    });
    if (!s) return s.take_error();
    wipe(send_);
    xfrm::build_dump_policies(send_, {next_seq(), request_pid_});
    s = dump("list policies", [&](const xfrm::NetlinkMessage& m) -> Status {
        auto parsed = xfrm::parse_message(m);
        if (!parsed) return Error{parsed.error().code, "policy dump: " + parsed.error().detail};
        if (const auto* p = std::get_if<xfrm::PolicyMessage>(&*parsed)) {
            if (p->policy.selector_user == options_.owner.value) {
                ReqId reqid;
                if (!p->policy.templates.empty()) reqid = p->policy.templates.front().reqid;
                state.policies.push_back(OwnedPolicy{{p->policy.selector, p->policy.dir},
                                                     p->policy.action,
                                                     p->policy.priority,
                                                     reqid});
            }
        }
        return {};
    });
    if (!s) return s.take_error();
    return state;
}

// --- events -------------------------------------------------------------------------------------

void XfrmKernel::queue(KernelEvent event) {
    queued_.push_back(std::move(event));
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(queue_fd_, &one, sizeof one);
}

void XfrmKernel::drain_events() {
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(events_, event_buf_.data(), event_buf_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) {
                queue(KernelEvent{ResyncEvent{
                    Error{Errc::kernel_events_lost, "XFRM event socket overran (ENOBUFS)"}}});
                continue;
            }
            return;  // EAGAIN: nothing more pending
        }
        const ByteView data(event_buf_.data(), static_cast<size_t>(n));
        if (auto messages = xfrm::split_messages(data)) {
            for (const auto& m : *messages) {
                auto parsed = xfrm::parse_message(m);
                if (!parsed) continue;  // a message we cannot read cannot be about our state
                if (auto e = xfrm::to_event(m, *parsed, request_pid_, options_.owner)) {
                    queue(std::move(*e));
                }
            }
        }
        // NEWSA notifications carry keys.
        OPENSSL_cleanse(event_buf_.data(), data.size());
    }
}

void XfrmKernel::read_events(const std::function<void(const KernelEvent&)>& handler) {
    uint64_t count;
    [[maybe_unused]] auto n = ::read(queue_fd_, &count, sizeof count);
    std::deque<KernelEvent> pending;
    pending.swap(queued_);
    for (const auto& e : pending)
        handler(e);

    for (int i = 0; i < kEventDatagramsPerRead; ++i) {
        const ssize_t got = mnl_socket_recvfrom(events_, event_buf_.data(), event_buf_.size());
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) {
                handler(KernelEvent{ResyncEvent{
                    Error{Errc::kernel_events_lost, "XFRM event socket overran (ENOBUFS)"}}});
                continue;
            }
            break;
        }
        const ByteView data(event_buf_.data(), static_cast<size_t>(got));
        if (auto messages = xfrm::split_messages(data)) {
            for (const auto& m : *messages) {
                auto parsed = xfrm::parse_message(m);
                if (!parsed) continue;
                if (auto e = xfrm::to_event(m, *parsed, request_pid_, options_.owner)) handler(*e);
            }
        }
        OPENSSL_cleanse(event_buf_.data(), data.size());
    }
    // Events queued by a handler that called back into us are announced again.
    if (!queued_.empty()) {
        const uint64_t one = 1;
        [[maybe_unused]] auto w = ::write(queue_fd_, &one, sizeof one);
    }
}

}  // namespace ikemesh::kernel
