#include "kernel/pfkey_kernel.hpp"

#include <linux/ipsec.h>
#include <linux/pfkeyv2.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace ikemesh::kernel {

namespace {

// Far larger than any PF_KEY message the kernel sends (an SA with keys is under 400 bytes, a
// REGISTER reply under 1 KiB).
constexpr size_t kReceiveBufferBytes = 64 * 1024;
// Messages read from the event socket per read_events call, so a busy kernel cannot starve the
// daemon's loop; the descriptor stays readable and the loop comes back.
constexpr int kEventMessagesPerRead = 256;

void wipe(Bytes& b) {
    if (!b.empty()) OPENSSL_cleanse(b.data(), b.size());
    b.clear();
}

void wipe(ByteView seen, Bytes& buffer) {
    if (!seen.empty()) OPENSSL_cleanse(buffer.data(), seen.size());
}

void set_buffer(int fd, int bytes) {
    // SO_RCVBUFFORCE needs CAP_NET_ADMIN, which PF_KEY needs anyway; the plain one is a fallback.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }
}

Result<int> open_socket(bool nonblocking) {
    const int fd =
        ::socket(PF_KEY, SOCK_RAW | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), PF_KEY_V2);
    if (fd >= 0) return fd;
    const int err = errno;
    if (err == EAFNOSUPPORT || err == EPROTONOSUPPORT || err == EINVAL) {
        return Error{Errc::kernel_not_supported,
                     std::string("open PF_KEY socket: ") + std::strerror(err) +
                         " (this kernel has no PF_KEY: load the af_key module, or use kernel = "
                         "\"xfrm\")"};
    }
    return pfkey::pfkey_error(err, "open PF_KEY socket");
}

std::string sa_what(std::string_view verb, const IpAddress& dst, EspSpi spi) {
    return std::string(verb) + " SA " + dst.to_string() + " spi " + to_hex(spi);
}

}  // namespace

PfkeyKernel::PfkeyKernel(const PfkeyOptions& options)
    : options_(options), marking_(pfkey::Marking::from(options.owner)) {}

PfkeyKernel::~PfkeyKernel() {
    wipe(send_);
    if (!recv_.empty()) OPENSSL_cleanse(recv_.data(), recv_.size());
    if (request_ >= 0) ::close(request_);
    if (events_ >= 0) ::close(events_);
}

Result<std::unique_ptr<PfkeyKernel>> PfkeyKernel::open(const PfkeyOptions& options) {
    std::unique_ptr<PfkeyKernel> k(new PfkeyKernel(options));
    if (auto s = k->init(); !s) return s.take_error();
    return k;
}

Status PfkeyKernel::init() {
    recv_.resize(kReceiveBufferBytes);
    pid_ = static_cast<uint32_t>(::getpid());

    auto req = open_socket(false);
    if (!req) return req.take_error();
    request_ = *req;
    set_buffer(request_, options_.socket_buffer_bytes);
    timeval tv{options_.reply_timeout_ms / 1000, (options_.reply_timeout_ms % 1000) * 1000};
    setsockopt(request_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    auto ev = open_socket(true);
    if (!ev) return ev.take_error();
    events_ = *ev;
    set_buffer(events_, options_.socket_buffer_bytes);

    // SADB_REGISTER for ESP: from now on the kernel sends this socket ACQUIRE and EXPIRE. The
    // answer (to every registered socket) lists the algorithms the kernel offers through PF_KEY.
    const uint32_t seq = next_seq();
    wipe(send_);
    pfkey::build_register(send_, {seq, pid_});
    if (::send(events_, send_.data(), send_.size(), 0) < 0) {
        return pfkey::pfkey_error(errno, "register with PF_KEY");
    }
    wipe(send_);
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.reply_timeout_ms);
    while (std::chrono::steady_clock::now() < until) {
        pollfd p{events_, POLLIN, 0};
        if (::poll(&p, 1, 100) != 1) continue;
        const ssize_t n = ::recv(events_, recv_.data(), recv_.size(), 0);
        if (n < 0) continue;
        const ByteView data(recv_.data(), static_cast<size_t>(n));
        auto m = pfkey::parse_message(data);
        wipe(data, recv_);
        if (!m || m->type != SADB_REGISTER || m->seq != seq || m->pid != pid_) continue;
        if (m->errno_value != 0) return pfkey::pfkey_error(m->errno_value, "register with PF_KEY");
        supported_encrypt_.insert(m->supported_encrypt.begin(), m->supported_encrypt.end());
        supported_auth_.insert(m->supported_auth.begin(), m->supported_auth.end());
        return {};
    }
    return Error{Errc::kernel_failure, "register with PF_KEY: no answer from the kernel"};
}

// --- request plumbing ---------------------------------------------------------------------------

Status PfkeyKernel::send_buffer(std::string_view what) {
    // Whatever sits in the request socket now is other processes' notifications (the kernel
    // broadcasts every change to every PF_KEY socket): drop it, so replies cannot be crowded out.
    for (;;) {
        const ssize_t n = ::recv(request_, recv_.data(), recv_.size(), MSG_DONTWAIT);
        if (n < 0) break;
        wipe(ByteView(recv_.data(), static_cast<size_t>(n)), recv_);
    }
    const ssize_t n = ::send(request_, send_.data(), send_.size(), 0);
    const int err = errno;
    wipe(send_);
    if (n < 0) return pfkey::pfkey_error(err, what);
    return {};
}

Result<ByteView> PfkeyKernel::receive(int fd, std::string_view what) {
    for (;;) {
        const ssize_t n = ::recv(fd, recv_.data(), recv_.size(), 0);
        if (n >= 0) return ByteView(recv_.data(), static_cast<size_t>(n));
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return Error{Errc::kernel_failure, std::string(what) + ": no answer from the kernel"};
        }
        return pfkey::pfkey_error(errno, what);
    }
}

Result<pfkey::Message> PfkeyKernel::request(std::string_view what, uint32_t seq) {
    if (auto s = send_buffer(what); !s) return s.take_error();
    for (;;) {
        auto data = receive(request_, what);
        if (!data) return data.take_error();
        auto m = pfkey::parse_message(*data);
        // Replies to ADD/UPDATE/GET carry the SA's keys.
        wipe(*data, recv_);
        if (!m || m->seq != seq || m->pid != pid_) continue;
        if (m->errno_value != 0) return pfkey::pfkey_error(m->errno_value, what);
        return m;
    }
}

Status PfkeyKernel::dump(std::string_view what, uint8_t type,
                         const std::function<void(const pfkey::Message&)>& each) {
    const uint32_t seq = seq_;
    if (auto s = send_buffer(what); !s) return s;
    for (;;) {
        auto data = receive(request_, what);
        if (!data) return data.take_error();
        auto m = pfkey::parse_message(*data);
        wipe(*data, recv_);  // SA dumps carry every SA's keys
        if (!m || m->pid != pid_ || m->type != type) continue;
        if (m->errno_value != 0) {
            // Nothing to dump is reported as ENOENT in answer to the request itself.
            if (m->errno_value == ENOENT && m->seq == seq) return {};
            return pfkey::pfkey_error(m->errno_value, what);
        }
        if (m->seq == seq) continue;  // not an entry (entries count down to 0)
        each(*m);
        if (m->seq == 0) return {};  // the last entry
    }
}

template <class Build>
Result<pfkey::Message> PfkeyKernel::build_and_request(std::string_view what, uint32_t seq,
                                                      Build&& build) {
    wipe(send_);
    if (Status s = build(send_, pfkey::RequestHeader{seq, pid_}); !s) {
        wipe(send_);
        return Error{s.error().code, std::string(what) + ": " + s.error().detail};
    }
    return request(what, seq);
}

// --- verbs --------------------------------------------------------------------------------------

Result<EspSpi> PfkeyKernel::alloc_spi(const IpAddress& src, const IpAddress& dst, ReqId reqid) {
    const std::string what = "alloc SPI " + src.to_string() + " -> " + dst.to_string();
    auto kreqid = marking_.kernel_reqid(reqid);
    if (!kreqid) return Error{kreqid.error().code, what + ": " + kreqid.error().detail};
    auto reply = build_and_request(what, next_seq(), [&](Bytes& out, pfkey::RequestHeader h) {
        return pfkey::build_getspi(out, src, dst, *kreqid, options_.spi_min, options_.spi_max, h);
    });
    if (!reply) return reply.take_error();
    if (reply->type != SADB_GETSPI || !reply->sa) {
        return Error{Errc::kernel_failure, what + ": unexpected reply"};
    }
    return reply->sa->spi;
}

Status PfkeyKernel::sa_request(const SaParams& sa, bool update) {
    const std::string what =
        describe(update ? KernelOp{UpdateSa{sa.clone()}} : KernelOp{AddSa{sa.clone()}});
    auto kreqid = marking_.kernel_reqid(sa.reqid);
    if (!kreqid) return Error{kreqid.error().code, what + ": " + kreqid.error().detail};
    if (auto alg = pfkey::map_algorithms(sa); alg && !supported_encrypt_.empty()) {
        if (!supported_encrypt_.contains(alg->encrypt)) {
            return Error{Errc::kernel_not_supported,
                         what + ": this kernel's PF_KEY does not offer encryption algorithm " +
                             std::to_string(alg->encrypt) + " (" + crypto::name(sa.encr) +
                             "; SADB_REGISTER lists what it has)"};
        }
    }
    // An SA that answers an ACQUIRE goes out with the ACQUIRE's sequence number, which is how
    // the kernel finds and retires the larval state it made for it.
    const uint32_t seq = !update && sa.acquire_seq != 0 ? sa.acquire_seq : next_seq();
    auto reply = build_and_request(what, seq, [&](Bytes& out, pfkey::RequestHeader h) {
        return pfkey::build_sa(out, sa, update, *kreqid, h);
    });
    if (!reply) return reply.take_error();
    return {};
}

Status PfkeyKernel::add_sa(const SaParams& sa) {
    return sa_request(sa, false);
}

Status PfkeyKernel::update_sa(const SaParams& sa) {
    return sa_request(sa, true);
}

Status PfkeyKernel::delete_sa(const IpAddress& dst, EspSpi spi) {
    const std::string what = sa_what("delete", dst, spi);
    auto reply = build_and_request(what, next_seq(), [&](Bytes& out, pfkey::RequestHeader h) {
        return pfkey::build_delete_sa(out, dst, spi, h);
    });
    if (!reply) return reply.take_error();
    return {};
}

Result<SaCounters> PfkeyKernel::query_sa(const IpAddress& dst, EspSpi spi) {
    const std::string what = sa_what("query", dst, spi);
    auto reply = build_and_request(what, next_seq(), [&](Bytes& out, pfkey::RequestHeader h) {
        return pfkey::build_get_sa(out, dst, spi, h);
    });
    if (!reply) return reply.take_error();
    return pfkey::counters(*reply);
}

std::string PfkeyKernel::policy_key(const PolicyId& id) {
    return std::string(name(id.dir)) + " " + id.selector.to_string();
}

void PfkeyKernel::remember(const PolicyId& id, uint32_t index, ReqId reqid) {
    policies_[policy_key(id)] = Installed{index, reqid};
    reqid_by_index_[index] = reqid;
}

Status PfkeyKernel::policy_request(const PolicyParams& policy, bool update) {
    const std::string what =
        describe(update ? KernelOp{UpdatePolicy{policy}} : KernelOp{AddPolicy{policy}});
    auto priority = marking_.kernel_priority(policy.priority);
    if (!priority) return Error{priority.error().code, what + ": " + priority.error().detail};
    uint32_t kreqid = 0;
    if (policy.action == PolicyAction::ipsec) {
        auto r = marking_.kernel_reqid(policy.reqid);
        if (!r) return Error{r.error().code, what + ": " + r.error().detail};
        kreqid = *r;
    }
    auto reply = build_and_request(what, next_seq(), [&](Bytes& out, pfkey::RequestHeader h) {
        return pfkey::build_policy(out, policy, update, *priority, kreqid, h);
    });
    if (!reply) return reply.take_error();
    if (!reply->policy || reply->policy->id == 0) {
        return Error{Errc::kernel_failure, what + ": the kernel did not report the policy index"};
    }
    remember(policy.id, reply->policy->id, policy.reqid);
    return {};
}

Status PfkeyKernel::add_policy(const PolicyParams& policy) {
    return policy_request(policy, false);
}

Status PfkeyKernel::update_policy(const PolicyParams& policy) {
    return policy_request(policy, true);
}

Status PfkeyKernel::delete_policy(const PolicyId& id) {
    const std::string what = describe(KernelOp{DeletePolicy{id}});
    auto it = policies_.find(policy_key(id));
    if (it == policies_.end()) {
        // Not installed by this process (a previous run's leftover): find its index.
        if (auto owned = list_owned(); !owned) return owned.take_error();
        it = policies_.find(policy_key(id));
        if (it == policies_.end()) {
            return Error{Errc::kernel_no_entry, what + ": no such policy of ours"};
        }
    }
    const uint32_t index = it->second.index;
    auto reply = build_and_request(what, next_seq(), [&](Bytes& out, pfkey::RequestHeader h) {
        return pfkey::build_delete_policy(out, id.dir, index, h);
    });
    if (reply || reply.error().is(Errc::kernel_no_entry)) {
        policies_.erase(it);
        reqid_by_index_.erase(index);
    }
    if (!reply) return reply.take_error();
    return {};
}

Status PfkeyKernel::bypass_socket(int fd, int family) {
    const int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    const int option = family == AF_INET6 ? IPV6_IPSEC_POLICY : IP_IPSEC_POLICY;
    for (Direction dir : {Direction::in, Direction::out}) {
        auto policy = pfkey::socket_bypass_policy(dir);
        if (!policy) return policy.take_error();
        if (setsockopt(fd, level, option, policy->data(), static_cast<socklen_t>(policy->size())) <
            0) {
            return pfkey::pfkey_error(errno, "bypass IPsec on socket " + std::to_string(fd) + " (" +
                                                 std::string(name(dir)) + ")");
        }
    }
    return {};
}

Status PfkeyKernel::enable_udp_encap(int fd) {
    const int type = UDP_ENCAP_ESPINUDP;
    if (setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof type) < 0) {
        return pfkey::pfkey_error(errno, "enable ESP-in-UDP on socket " + std::to_string(fd));
    }
    return {};
}

Result<OwnedState> PfkeyKernel::list_owned() {
    OwnedState state;
    wipe(send_);
    pfkey::build_dump_sas(send_, {next_seq(), pid_});
    auto s = dump("list SAs", SADB_DUMP, [&](const pfkey::Message& m) {
        // Larval SAs (GETSPI not yet completed) are the kernel's, as with XFRM.
        if (!m.sa || !m.sa2 || !m.src || !m.dst || m.sa->state == SADB_SASTATE_LARVAL) return;
        if (!marking_.owns_reqid(m.sa2->reqid)) return;
        const Mode mode = m.sa2->mode == IPSEC_MODE_TUNNEL ? Mode::tunnel : Mode::transport;
        state.sas.push_back(OwnedSa{m.src->address, m.dst->address, m.sa->spi,
                                    marking_.engine_reqid(m.sa2->reqid), mode});
    });
    if (!s) return s.take_error();

    std::map<std::string, Installed> found;
    std::map<uint32_t, ReqId> by_index;
    wipe(send_);
    pfkey::build_dump_policies(send_, {next_seq(), pid_});
    s = dump("list policies", SADB_X_SPDDUMP, [&](const pfkey::Message& m) {
        if (!m.policy || !marking_.owns_priority(m.policy->priority)) return;
        auto id = pfkey::policy_id(m);
        if (!id) return;
        OwnedPolicy p;
        p.id = *id;
        p.priority = marking_.engine_priority(m.policy->priority);
        switch (m.policy->type) {
            case IPSEC_POLICY_IPSEC:
                p.action = PolicyAction::ipsec;
                break;
            case IPSEC_POLICY_DISCARD:
                p.action = PolicyAction::block;
                break;
            default:
                p.action = PolicyAction::allow;
                break;
        }
        if (!m.policy->requests.empty() && marking_.owns_reqid(m.policy->requests.front().reqid)) {
            p.reqid = marking_.engine_reqid(m.policy->requests.front().reqid);
        }
        found[policy_key(p.id)] = Installed{m.policy->id, p.reqid};
        by_index[m.policy->id] = p.reqid;
        state.policies.push_back(p);
    });
    if (!s) return s.take_error();
    // The dump is the truth: forget indexes of policies that are gone.
    policies_ = std::move(found);
    reqid_by_index_ = std::move(by_index);
    return state;
}

// --- events -------------------------------------------------------------------------------------

void PfkeyKernel::read_events(const std::function<void(const KernelEvent&)>& handler) {
    for (int i = 0; i < kEventMessagesPerRead; ++i) {
        const ssize_t got = ::recv(events_, recv_.data(), recv_.size(), MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EINTR) continue;
            break;
        }
        const ByteView data(recv_.data(), static_cast<size_t>(got));
        auto m = pfkey::parse_message(data);
        wipe(data, recv_);  // ADD/UPDATE notifications of any process carry keys
        if (!m) continue;   // a message we cannot read cannot be about our state
        auto e = pfkey::to_event(*m, pid_, marking_);
        if (!e) continue;
        if (auto* acquire = std::get_if<AcquireEvent>(&e->data)) {
            // PF_KEY's ACQUIRE names the policy by index, not the template's reqid.
            if (auto it = reqid_by_index_.find(acquire->policy_index);
                it != reqid_by_index_.end()) {
                acquire->reqid = it->second;
            }
        } else if (const auto* gone = std::get_if<PolicyDeletedEvent>(&e->data)) {
            if (auto it = policies_.find(policy_key(gone->id)); it != policies_.end()) {
                reqid_by_index_.erase(it->second.index);
                policies_.erase(it);
            }
        }
        handler(*e);
    }
    // The request socket receives the same broadcasts; keep it from filling up while idle.
    for (;;) {
        const ssize_t n = ::recv(request_, recv_.data(), recv_.size(), MSG_DONTWAIT);
        if (n < 0) break;
        wipe(ByteView(recv_.data(), static_cast<size_t>(n)), recv_);
    }
}

}  // namespace ikemesh::kernel
