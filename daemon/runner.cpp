#include "daemon/runner.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <optional>
#include <vector>

#include "config/diff.hpp"
#include "crypto/key_exchange.hpp"
#include "crypto/random.hpp"
#include "daemon/clock.hpp"
#include "daemon/config_adapter.hpp"
#include "daemon/control_server.hpp"
#include "daemon/logging.hpp"
#include "daemon/metrics.hpp"
#include "daemon/metrics_http.hpp"
#include "daemon/reload.hpp"
#include "daemon/status_json.hpp"
#include "daemon/systemd_notify.hpp"
#include "daemon/udp_socket.hpp"
#include "ike/engine.hpp"
#include "kernel/kernel.hpp"
#include "kernel/rtnl_routes.hpp"

namespace ikemesh::daemon {

namespace asio = boost::asio;

// The STATUS= line is refreshed at most this often: it costs a status snapshot, which queries
// the kernel for every CHILD SA.
constexpr std::chrono::seconds kStatusLineInterval{2};
// Address and route changes come in bursts (an interface coming up brings its addresses, its
// connected routes and, for IPv6, DAD a moment later): the engine looks again once per window.
constexpr std::chrono::milliseconds kAddressChangeDebounce{300};

class Runner::Impl final : public ControlHandler, private ReloadSteps {
  public:
    Impl(std::filesystem::path config_dir, RuntimeConfig config,
         std::unique_ptr<kernel::Kernel> kernel)
        : config_dir_(std::move(config_dir)),
          running_(std::move(config)),
          kernel_(std::move(kernel)),
          timer_(io_),
          watchdog_timer_(io_),
          status_timer_(io_),
          signals_(io_),
          address_timer_(io_),
          control_(io_, *this, counters_),
          started_(std::chrono::steady_clock::now()) {}

    ~Impl() override {
        control_.close();
        if (metrics_http_) metrics_http_->close();
    }

    Status start();
    int run();

    // --- ControlHandler ---
    ike::EngineStatus status() override {
        auto st = engine_->status(engine_now());
        esp_totals_.update(st);
        return st;
    }
    std::string metrics() override;
    Status initiate(std::string_view peer) override {
        auto s = engine_->initiate(peer, engine_now());
        after_engine();
        return s;
    }
    Status terminate(std::string_view peer) override {
        auto s = engine_->terminate(peer, engine_now());
        after_engine();
        return s;
    }
    Status rekey(std::string_view peer, bool ike) override {
        auto s = engine_->rekey(peer, ike, engine_now());
        after_engine();
        return s;
    }
    Result<json> reload() override { return perform_reload(*this); }
    Result<json> check_config() override;
    json version() override;

  private:
    // --- ReloadSteps ---
    void begin() override;
    Result<RuntimeConfig> load() override { return load_runtime_config(config_dir_); }
    json apply(RuntimeConfig config) override;
    void end(const Result<json>& outcome) override;

    Status open_sockets();
    void on_datagram(ByteView data, const Endpoint& local, const Endpoint& remote) {
        engine_->on_datagram(data, local, remote, engine_now());
        after_engine();
    }
    void after_engine() {
        send_outbox();
        publish_events();
        arm_timer();
    }
    void send_outbox();
    void publish_events();
    void arm_timer();
    void watch_kernel();
    void watch_routes();
    std::optional<IpAddress> source_address(const IpAddress& remote);
    void watch_signals();
    void ping_watchdog(std::chrono::microseconds interval);
    void mark_status_dirty();
    void stop(const char* why);
    IkeSocket* socket_for(const ike::OutDatagram& out);
    double uptime_seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    }

    asio::io_context io_;
    std::filesystem::path config_dir_;
    RuntimeConfig running_;
    std::unique_ptr<kernel::Kernel> kernel_;
    crypto::SystemRandom rng_;
    crypto::SystemKeyExchangeFactory kex_;
    std::unique_ptr<ike::Engine> engine_;
    std::vector<std::unique_ptr<IkeSocket>> sockets_;
    asio::steady_timer timer_;
    TimePoint armed_ = TimePoint::min();
    asio::steady_timer watchdog_timer_;
    asio::steady_timer status_timer_;
    bool status_timer_armed_ = false;
    asio::signal_set signals_;
    std::optional<asio::posix::stream_descriptor> kernel_fd_;
    std::unique_ptr<kernel::RouteTable> routes_;
    std::optional<asio::posix::stream_descriptor> routes_fd_;
    asio::steady_timer address_timer_;
    bool address_timer_armed_ = false;
    DaemonCounters counters_;
    ControlServer control_;
    std::unique_ptr<MetricsHttpServer> metrics_http_;
    EspTotals esp_totals_;
    SystemdNotifier notify_;
    std::chrono::steady_clock::time_point started_;
    bool stopping_ = false;
};

Status Runner::Impl::open_sockets() {
    std::vector<IpAddress> addresses = running_.daemon.listen;
    bool defaults = addresses.empty();
    if (defaults) addresses = {*IpAddress::parse("0.0.0.0"), *IpAddress::parse("::")};
    for (const auto& address : addresses) {
        for (bool natt : {false, true}) {
            uint16_t port = natt ? running_.daemon.port_natt : running_.daemon.port;
            auto sock = IkeSocket::open(io_, address, port, natt, counters_);
            if (!sock) {
                // A host without IPv6 still runs an IPv4 mesh when nothing asked for IPv6.
                if (defaults && address.is_v6() &&
                    sock.error().code == std::errc::address_family_not_supported) {
                    log(Subsystem::daemon).warn("IPv6 unavailable, listening on IPv4 only");
                    break;
                }
                return Error{sock.error().code, "IKE socket " +
                                                    Endpoint{address, port}.to_string() + ": " +
                                                    sock.error().detail};
            }
            int family = address.is_v4() ? AF_INET : AF_INET6;
            // Without the bypass our own policies would swallow IKE itself.
            if (auto ok = kernel_->bypass_socket((*sock)->native_handle(), family); !ok) {
                return Error{ok.error().code, "bypass policy for the IKE socket " +
                                                  Endpoint{address, port}.to_string() + ": " +
                                                  ok.error().message()};
            }
            if (natt) {
                if (auto ok = kernel_->enable_udp_encap((*sock)->native_handle()); !ok) {
                    // IKE still works; only ESP-in-UDP (peers behind NAT) does not.
                    log(Subsystem::kernel)
                        .error("UDP encapsulation on {}: {}; peers behind NAT will fail",
                               Endpoint{address, port}.to_string(), ok.error().message());
                }
            }
            (*sock)->start([this](ByteView data, const Endpoint& local, const Endpoint& remote) {
                on_datagram(data, local, remote);
            });
            log(Subsystem::daemon)
                .info("listening on {}{}", Endpoint{address, (*sock)->port()}.to_string(),
                      natt ? " (NAT-T)" : "");
            sockets_.push_back(std::move(*sock));
        }
    }
    return {};
}

Status Runner::Impl::start() {
    if (auto ok = apply_log_options(running_.daemon.log); !ok) return ok;
    log(Subsystem::daemon)
        .info("ikemeshd {} starting: config {}, kernel {}, {} peers", IKEMESH_VERSION,
              config_dir_.string(), kernel_->kind(), running_.engine.peers.size());

    if (auto ok = open_sockets(); !ok) return ok;
    if (auto ok = control_.open(running_.daemon.control_socket, running_.daemon.control_group);
        !ok) {
        return Error{ok.error().code, "control socket: " + ok.error().message()};
    }
    if (running_.daemon.metrics_listen) {
        metrics_http_ = std::make_unique<MetricsHttpServer>(io_, [this] { return metrics(); });
        if (auto ok = metrics_http_->open(*running_.daemon.metrics_listen); !ok) return ok;
        log(Subsystem::daemon)
            .info("metrics on http://{}/metrics", running_.daemon.metrics_listen->to_string());
    }

    // Route lookups choose our address towards peers for which the configuration names none
    // (the wildcard `listen` default), whichever backend holds the SAs.
    auto routes = kernel::RtnlRoutes::open();
    if (!routes) return Error{routes.error().code, routes.error().message()};
    routes_ = std::move(*routes);
    ike::EngineDeps deps{rng_, kex_, *kernel_,
                         [this](const IpAddress& remote) { return source_address(remote); },
                         [] { return std::chrono::system_clock::now(); }};
    engine_ = std::make_unique<ike::Engine>(deps, std::move(running_.engine), engine_now());
    running_.engine = {};  // the engine holds its own copy; `source` is kept for diffs
    engine_->start(engine_now());
    after_engine();

    if (int fd = kernel_->event_fd(); fd >= 0) {
        // A duplicate, because the descriptor object closes what it holds.
        int copy = ::dup(fd);
        if (copy < 0) return Error{std::error_code(errno, std::generic_category()), "dup"};
        kernel_fd_.emplace(io_, copy);
        watch_kernel();
    }
    if (int fd = routes_->change_fd(); fd >= 0) {
        int copy = ::dup(fd);
        if (copy < 0) return Error{std::error_code(errno, std::generic_category()), "dup"};
        routes_fd_.emplace(io_, copy);
        watch_routes();
    }
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.add(SIGHUP);
    watch_signals();

    notify_.ready();
    if (auto interval = notify_.watchdog_interval()) ping_watchdog(*interval);
    mark_status_dirty();
    log(Subsystem::daemon).info("ready");
    return {};
}

int Runner::Impl::run() {
    io_.run();
    return 0;
}

IkeSocket* Runner::Impl::socket_for(const ike::OutDatagram& out) {
    IkeSocket* wildcard = nullptr;
    for (auto& s : sockets_) {
        if (s->port() != out.local.port || s->is_v6() != out.remote.address.is_v6()) continue;
        if (s->address() == out.local.address) return s.get();
        bool any = true;
        for (uint8_t b : s->address().bytes())
            any = any && b == 0;
        if (any) wildcard = s.get();
    }
    return wildcard;
}

void Runner::Impl::send_outbox() {
    for (const auto& out : engine_->take_outbox()) {
        IkeSocket* s = socket_for(out);
        if (!s) {
            ++counters_.datagrams_dropped;
            log(Subsystem::daemon)
                .warn("no socket for {} -> {}", out.local.to_string(), out.remote.to_string());
            continue;
        }
        const bool raw = out.framing == ike::OutDatagram::Framing::raw;
        if (auto ok = s->send(out.data, out.local, out.remote, raw); !ok) {
            log(Subsystem::daemon).debug("send: {}", ok.error().message());
        }
    }
}

void Runner::Impl::publish_events() {
    auto events = engine_->take_events();
    if (events.empty()) return;
    // The engine has logged each event already (with its SA prefix); here they go to monitors.
    // Without one, no JSON is built: a responder under load emits an event per handshake.
    if (control_.subscribers() > 0) {
        auto now = std::chrono::system_clock::now();
        for (const auto& ev : events)
            control_.broadcast(event_json(ev, now));
    }
    mark_status_dirty();
}

void Runner::Impl::arm_timer() {
    if (stopping_) return;
    TimePoint next = engine_->next_timer();
    if (next == armed_) return;
    armed_ = next;
    if (next == TimePoint::max()) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(to_steady_time(next));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        armed_ = TimePoint::min();
        engine_->on_timer(engine_now());
        after_engine();
    });
}

void Runner::Impl::watch_kernel() {
    kernel_fd_->async_wait(asio::posix::stream_descriptor::wait_read,
                           [this](const boost::system::error_code& ec) {
                               if (ec || stopping_) return;
                               kernel_->read_events([this](const kernel::KernelEvent& event) {
                                   log(Subsystem::kernel).debug("{}", kernel::describe(event));
                                   engine_->on_kernel_event(event, engine_now());
                               });
                               after_engine();
                               watch_kernel();
                           });
}

std::optional<IpAddress> Runner::Impl::source_address(const IpAddress& remote) {
    auto source = routes_->source_for(remote);
    if (!source) {
        log(Subsystem::kernel).warn("{}", source.error().message());
        return std::nullopt;
    }
    return *source;
}

void Runner::Impl::watch_routes() {
    routes_fd_->async_wait(
        asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
            if (ec || stopping_) return;
            if (routes_->read_changes() && !address_timer_armed_) {
                address_timer_armed_ = true;
                address_timer_.expires_after(kAddressChangeDebounce);
                address_timer_.async_wait([this](const boost::system::error_code& tec) {
                    address_timer_armed_ = false;
                    if (tec || stopping_) return;
                    log(Subsystem::daemon).debug("addresses or routes changed");
                    engine_->on_addresses_changed(engine_now());
                    after_engine();
                });
            }
            watch_routes();
        });
}

void Runner::Impl::watch_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec || stopping_) return;
        if (sig == SIGHUP) {
            log(Subsystem::daemon).info("SIGHUP: reloading the configuration");
            (void)perform_reload(*this);
            watch_signals();
            return;
        }
        stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    });
}

void Runner::Impl::ping_watchdog(std::chrono::microseconds interval) {
    notify_.watchdog();
    watchdog_timer_.expires_after(interval);
    watchdog_timer_.async_wait([this, interval](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        ping_watchdog(interval);
    });
}

void Runner::Impl::mark_status_dirty() {
    // The STATUS line costs a full status snapshot (every SA): only when systemd listens.
    if (status_timer_armed_ || stopping_ || !notify_.active()) return;
    status_timer_armed_ = true;
    status_timer_.expires_after(kStatusLineInterval);
    status_timer_.async_wait([this](const boost::system::error_code& ec) {
        status_timer_armed_ = false;
        if (ec || stopping_) return;
        notify_.status(status_line(engine_->status(engine_now())));
    });
}

void Runner::Impl::stop(const char* why) {
    if (stopping_) return;
    stopping_ = true;
    notify_.stopping();
    log(Subsystem::daemon).info("{}: deleting SAs and stopping", why);
    if (engine_) {
        engine_->shutdown(engine_now());
        send_outbox();
        (void)engine_->take_events();  // logged by the engine; no monitor is listening any more
    }
    control_.close();
    if (metrics_http_) metrics_http_->close();
    boost::system::error_code ignored;
    timer_.cancel();
    watchdog_timer_.cancel();
    status_timer_.cancel();
    address_timer_.cancel();
    signals_.cancel(ignored);
    if (kernel_fd_) kernel_fd_->close(ignored);
    if (routes_fd_) routes_fd_->close(ignored);
    for (auto& s : sockets_)
        s->close();
    io_.stop();
}

std::string Runner::Impl::metrics() {
    auto st = status();
    auto xfrm = read_xfrm_stat();
    MetricsInput in{st,   engine_->counters(), esp_totals_.totals(), counters_,
                    xfrm, IKEMESH_VERSION,     uptime_seconds()};
    return render_metrics(in);
}

Result<json> Runner::Impl::check_config() {
    auto candidate = load_runtime_config(config_dir_);
    if (!candidate) return candidate.take_error();
    json j{{"valid", true}, {"peers", candidate->engine.peers.size()}};
    if (running_.source && candidate->source) {
        j.update(config_change_json(config::diff(*running_.source, *candidate->source)));
    }
    return j;
}

json Runner::Impl::version() {
    return json{{"daemon", "ikemeshd"},
                {"version", IKEMESH_VERSION},
                {"pid", static_cast<int64_t>(::getpid())},
                {"kernel", std::string(kernel_->kind())},
                {"config_dir", config_dir_.string()},
                {"uptime_seconds", static_cast<int64_t>(uptime_seconds())}};
}

void Runner::Impl::begin() {
    notify_.reloading();
    ++counters_.reloads;
    log(Subsystem::config).info("reloading {}", config_dir_.string());
}

json Runner::Impl::apply(RuntimeConfig config) {
    json changes = json::object();
    if (running_.source && config.source) {
        changes = config_change_json(config::diff(*running_.source, *config.source));
    }
    if (auto ok = apply_log_options(config.daemon.log); !ok) {
        log(Subsystem::config).error("log levels: {}", ok.error().message());
    }
    size_t peers = config.engine.peers.size();
    pin_running_ports(running_.daemon, config.engine);
    engine_->reconfigure(std::move(config.engine), engine_now());
    // Socket-bound settings keep their running values until a restart; the rest is live now.
    running_.daemon.log = config.daemon.log;
    running_.source = std::move(config.source);
    after_engine();
    log(Subsystem::config)
        .info("configuration applied: {} peers ({} added, {} removed, {} changed)", peers,
              changes.value("added", json::array()).size(),
              changes.value("removed", json::array()).size(),
              changes.value("changed", json::array()).size());
    return changes;
}

void Runner::Impl::end(const Result<json>& outcome) {
    notify_.ready();
    if (!outcome) {
        ++counters_.reload_failures;
        log(Subsystem::config)
            .error("reload refused, nothing changed: {}", outcome.error().message());
    }
    mark_status_dirty();
}

Runner::Runner(std::filesystem::path config_dir, RuntimeConfig config,
               std::unique_ptr<kernel::Kernel> kernel)
    : impl_(std::make_unique<Impl>(std::move(config_dir), std::move(config), std::move(kernel))) {}

Runner::~Runner() = default;

Status Runner::start() {
    return impl_->start();
}

int Runner::run() {
    return impl_->run();
}

}  // namespace ikemesh::daemon
