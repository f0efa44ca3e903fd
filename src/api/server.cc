#include "api/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/limits.h"

namespace arbor::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Sets the deadline of the next operation on a plain or TLS stream.
template <class Stream>
void ExpiresAfter(Stream& stream, std::chrono::seconds timeout) {
  beast::get_lowest_layer(stream).expires_after(timeout);
}

// Moves the body out of `msg`: bodies are up to 64 MiB and are never needed twice.
Request ToRequest(http::request<http::string_body>& msg) {
  Request r;
  r.method = std::string(msg.method_string());
  std::string_view target = msg.target();
  std::size_t q = target.find('?');
  r.path = PercentDecode(target.substr(0, q));
  if (q != std::string_view::npos) r.query = ParseQueryString(target.substr(q + 1));
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = std::move(msg.body());
  return r;
}

http::response<http::string_body> ToMessage(Response& resp, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(resp.status), version};
  res.set(http::field::server, "arbor");
  res.set(http::field::content_type, resp.content_type);
  for (const auto& [k, v] : resp.headers) res.insert(k, v);
  res.keep_alive(keep_alive);
  res.body() = std::move(resp.body);
  res.prepare_payload();
  return res;
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  Handler handler;
  asio::io_context io;
  asio::thread_pool workers;
  tcp::acceptor acceptor;
  std::vector<std::thread> io_threads;
  std::atomic<int> connections{0};
  std::optional<ssl::context> tls;  // set: every connection is TLS

  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;  // requests being handled
  bool stopping = false;
  bool stopped = false;

  Impl(const ServerOptions& o, Handler h)
      : options(o), handler(std::move(h)), workers(o.worker_threads), acceptor(io) {}

  asio::awaitable<void> Accept() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      if (connections.load() >= static_cast<int>(limits::connections_max)) {
        socket.close();  // over the connection limit: refuse rather than queue without bound
        continue;
      }
      boost::system::error_code peer_ec;
      std::string client_ip = socket.remote_endpoint(peer_ec).address().to_string();
      if (tls) {
        asio::co_spawn(io, TlsSession(std::move(socket), std::move(client_ip)), asio::detached);
      } else {
        asio::co_spawn(io, PlainSession(beast::tcp_stream(std::move(socket)), std::move(client_ip)),
                       asio::detached);
      }
    }
  }

  bool BeginRequest() {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping) return false;
    ++in_flight;
    return true;
  }

  void EndRequest() {
    std::lock_guard<std::mutex> lock(mu);
    --in_flight;
    cv.notify_all();
  }

  asio::awaitable<Response> RunHandler(const Request& req) {
    co_return co_await asio::co_spawn(
        workers,
        [this, &req]() -> asio::awaitable<Response> {
          try {
            co_return handler(req);
          } catch (const std::exception& e) {
            co_return Error(Internal(std::string("unexpected error: ") + e.what()));
          }
        },
        asio::use_awaitable);
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu);
    return stopping;
  }

  // A chunked response fed by resp.stream until it returns nullopt, the client goes away
  // (a write fails) or the server stops.
  template <class AsyncStream>
  asio::awaitable<void> Stream(AsyncStream& stream, Response& resp, unsigned version) {
    http::response<http::empty_body> head{static_cast<http::status>(resp.status), version};
    head.set(http::field::server, "arbor");
    head.set(http::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers) head.insert(k, v);
    head.keep_alive(false);
    head.chunked(true);
    http::response_serializer<http::empty_body> serializer{head};
    boost::system::error_code ec;
    ExpiresAfter(stream, std::chrono::seconds(limits::http_idle_timeout_s));
    co_await http::async_write_header(stream, serializer,
                                      asio::redirect_error(asio::use_awaitable, ec));
    auto next = std::move(resp.stream);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!ec && !Stopping()) {
      std::optional<std::string> chunk = co_await asio::co_spawn(
          workers,
          [&next]() -> asio::awaitable<std::optional<std::string>> {
            try {
              co_return next();
            } catch (const std::exception&) {
              co_return std::nullopt;
            }
          },
          asio::use_awaitable);
      if (!chunk) break;
      if (!chunk->empty()) {
        ExpiresAfter(stream, std::chrono::seconds(limits::http_idle_timeout_s));
        co_await asio::async_write(stream, http::make_chunk(asio::buffer(*chunk)),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      timer.expires_after(std::chrono::milliseconds(limits::stream_poll_ms));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) {
      co_await asio::async_write(stream, http::make_chunk_last(),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> PlainSession(beast::tcp_stream stream, std::string client_ip) {
    ++connections;
    co_await Serve(stream, client_ip);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    --connections;
  }

  asio::awaitable<void> TlsSession(tcp::socket socket, std::string client_ip) {
    ++connections;
    TlsStream stream(beast::tcp_stream(std::move(socket)), *tls);
    boost::system::error_code ec;
    ExpiresAfter(stream, std::chrono::seconds(limits::http_header_timeout_s));
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await Serve(stream, client_ip);
      ExpiresAfter(stream, std::chrono::seconds(limits::http_header_timeout_s));
      co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
    --connections;
  }

  // Requests of one connection until it closes. Headers must arrive within
  // http_header_timeout_s (also the keep-alive idle time), then the body within
  // http_body_timeout_s: a slow client cannot hold a connection open forever.
  template <class AsyncStream>
  asio::awaitable<void> Serve(AsyncStream& stream, const std::string& client_ip) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(limits::request_body_bytes_max);
      parser.header_limit(limits::http_header_bytes_max);
      ExpiresAfter(stream, std::chrono::seconds(limits::http_header_timeout_s));
      boost::system::error_code ec;
      co_await http::async_read_header(stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        ExpiresAfter(stream, std::chrono::seconds(limits::http_body_timeout_s));
        co_await http::async_read(stream, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec == http::error::body_limit) {
        Response r = Error(PayloadTooLarge(
            "request body exceeds " + std::to_string(limits::request_body_bytes_max) + " bytes"));
        auto msg = ToMessage(r, 11, false);
        co_await http::async_write(stream, msg, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      if (ec) {
        bool malformed =
            ec.category() == http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message;
        if (!malformed) break;  // closed, timed out or reset: nobody to answer
        Response r = Error(InvalidArgument("malformed HTTP request: " + ec.message()));
        auto msg = ToMessage(r, 11, false);
        co_await http::async_write(stream, msg, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      auto& msg = parser.get();
      bool keep_alive = msg.keep_alive();
      Response resp;
      if (!BeginRequest()) {
        resp = Error(Unavailable("server is shutting down"));
        keep_alive = false;
      } else {
        Request req = ToRequest(msg);
        req.client_ip = client_ip;
        req.tls = tls.has_value();
        resp = co_await RunHandler(req);
        EndRequest();
      }
      if (resp.stream) {
        co_await Stream(stream, resp, msg.version());
        break;  // a stream ends its connection
      }
      auto out = ToMessage(resp, msg.version(), keep_alive);
      ExpiresAfter(stream, std::chrono::seconds(limits::http_idle_timeout_s));
      co_await http::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep_alive) break;
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Shutdown();
  Wait();
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                        Handler handler) {
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  boost::system::error_code ec;
  if (!options.tls_cert_file.empty()) {
    impl->tls.emplace(ssl::context::tls_server);
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    impl->tls->use_certificate_chain_file(options.tls_cert_file, ec);
    if (!ec) impl->tls->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    if (ec) return InvalidArgument("cannot load the TLS certificate or key: " + ec.message());
  }
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return InvalidArgument("bad listen address " + options.host);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                       ": " + ec.message());
  }
  Impl* raw = impl.get();
  asio::co_spawn(raw->io, raw->Accept(), asio::detached);
  for (int i = 0; i < options.io_threads; ++i) {
    raw->io_threads.emplace_back([raw] { raw->io.run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Shutdown() {
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  asio::post(impl_->io, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
  });
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->cv.wait_for(lock, std::chrono::seconds(30), [&] { return impl_->in_flight == 0; });
  }
  impl_->io.stop();
  for (auto& t : impl_->io_threads) {
    if (t.joinable()) t.join();
  }
  impl_->workers.join();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stopped = true;
  impl_->cv.notify_all();
}

void HttpServer::Wait() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [&] { return impl_->stopped; });
}

}  // namespace arbor::api
