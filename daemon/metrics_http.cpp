#include "daemon/metrics_http.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <vector>

#include "daemon/logging.hpp"

namespace ikemesh::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxHeaderBytes = 8192;
constexpr size_t kMaxConnections = 16;
constexpr std::chrono::seconds kTimeout{30};
// The version of the text exposition format (Prometheus "text/plain; version=0.0.4").
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

tcp::endpoint to_tcp(const Endpoint& ep) {
    auto bytes = ep.address.bytes();
    if (ep.address.is_v4()) {
        asio::ip::address_v4::bytes_type b;
        std::copy(bytes.begin(), bytes.end(), b.begin());
        return {asio::ip::address_v4(b), ep.port};
    }
    asio::ip::address_v6::bytes_type b;
    std::copy(bytes.begin(), bytes.end(), b.begin());
    return {asio::ip::address_v6(b), ep.port};
}

}  // namespace

class HttpSession;

class MetricsHttpServer::Impl : public std::enable_shared_from_this<MetricsHttpServer::Impl> {
  public:
    Impl(asio::io_context& io, Render render)
        : io_(io), render_(std::move(render)), acceptor_(io) {}

    void accept();
    void close();

    asio::io_context& io_;
    Render render_;
    tcp::acceptor acceptor_;
    std::vector<std::weak_ptr<HttpSession>> sessions_;
    bool closed_ = false;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
  public:
    HttpSession(std::shared_ptr<MetricsHttpServer::Impl> server, tcp::socket socket)
        : server_(std::move(server)), stream_(std::move(socket)), buffer_(kMaxHeaderBytes) {}

    void read() {
        parser_.emplace();
        parser_->header_limit(kMaxHeaderBytes);
        parser_->body_limit(0);
        stream_.expires_after(kTimeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

  private:
    void on_read(beast::error_code ec) {
        if (ec || server_->closed_) {  // end of stream, timeout, malformed, too large
            close();
            return;
        }
        const auto& req = parser_->get();
        response_ = {};
        response_.version(req.version());
        response_.keep_alive(req.keep_alive());
        response_.set(http::field::server, "ikemeshd");
        std::string_view target(req.target().data(), req.target().size());
        target = target.substr(0, target.find('?'));
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            response_.result(http::status::method_not_allowed);
            response_.set(http::field::allow, "GET, HEAD");
            response_.set(http::field::content_type, "text/plain");
            response_.body() = "method not allowed\n";
        } else if (target != "/metrics") {
            response_.result(http::status::not_found);
            response_.set(http::field::content_type, "text/plain");
            response_.body() = "not found; try /metrics\n";
        } else {
            response_.result(http::status::ok);
            response_.set(http::field::content_type, kContentType);
            response_.body() = server_->render_();
        }
        response_.prepare_payload();
        if (req.method() == http::verb::head) response_.body().clear();
        stream_.expires_after(kTimeout);
        http::async_write(stream_, response_,
                          [self = shared_from_this()](beast::error_code wec, size_t) {
                              if (wec || !self->response_.keep_alive() || self->server_->closed_) {
                                  self->close();
                                  return;
                              }
                              self->read();
                          });
    }

    std::shared_ptr<MetricsHttpServer::Impl> server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> response_;
};

void MetricsHttpServer::Impl::accept() {
    acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (self->closed_ || ec == asio::error::operation_aborted) return;
        if (!ec) {
            std::erase_if(self->sessions_, [](const auto& w) { return w.expired(); });
            if (self->sessions_.size() >= kMaxConnections) {
                beast::error_code ignored;
                socket.close(ignored);
            } else {
                auto session = std::make_shared<HttpSession>(self, std::move(socket));
                self->sessions_.push_back(session);
                session->read();
            }
        } else {
            log(Subsystem::daemon).warn("metrics accept failed: {}", ec.message());
        }
        self->accept();
    });
}

void MetricsHttpServer::Impl::close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    acceptor_.close(ec);
    for (auto& w : sessions_) {
        if (auto s = w.lock()) s->close();
    }
    sessions_.clear();
}

MetricsHttpServer::MetricsHttpServer(asio::io_context& io, Render render)
    : impl_(std::make_shared<Impl>(io, std::move(render))) {}

MetricsHttpServer::~MetricsHttpServer() {
    impl_->close();
}

Status MetricsHttpServer::open(const Endpoint& listen) {
    beast::error_code ec;
    tcp::endpoint ep = to_tcp(listen);
    impl_->acceptor_.open(ep.protocol(), ec);
    if (ec) return Error{ec, "metrics socket"};
    impl_->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (ep.address().is_v6()) impl_->acceptor_.set_option(asio::ip::v6_only(true), ec);
    impl_->acceptor_.bind(ep, ec);
    if (ec) return Error{ec, "bind metrics listener " + listen.to_string()};
    impl_->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error{ec, "listen " + listen.to_string()};
    impl_->accept();
    return {};
}

uint16_t MetricsHttpServer::port() const {
    beast::error_code ec;
    auto ep = impl_->acceptor_.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void MetricsHttpServer::close() {
    impl_->close();
}

}  // namespace ikemesh::daemon
