#include "api/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>

namespace arbor::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target = "/";
};

StatusOr<Url> ParseUrl(const std::string& url) {
  Url out;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return InvalidArgument("URL must start with http:// or https://: " + url);
  }
  std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) out.target = rest.substr(slash);
  std::size_t colon = authority.rfind(':');
  out.host = authority.substr(0, colon);
  out.port = colon == std::string::npos ? (out.tls ? "443" : "80") : authority.substr(colon + 1);
  if (out.host.empty() || out.port.empty()) return InvalidArgument("URL has no host: " + url);
  return out;
}

template <typename Stream>
HttpReply Exchange(Stream& stream, const Url& u, const HttpCall& call) {
  http::request<http::string_body> req{http::string_to_verb(call.method), u.target, 11};
  const bool default_port = u.port == (u.tls ? "443" : "80");
  req.set(http::field::host, default_port ? u.host : u.host + ":" + u.port);
  req.set(http::field::user_agent, "arbor");
  for (const auto& [k, v] : call.headers) req.set(k, v);
  if (!call.body.empty() || call.method == "POST") {
    req.body() = call.body;
    req.prepare_payload();
  }
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(call.body_bytes_max);
  http::read(stream, buffer, parser);
  auto& res = parser.get();
  return HttpReply{.status = static_cast<int>(res.result_int()),
                   .content_type = std::string(res[http::field::content_type]),
                   .body = std::move(res.body())};
}

}  // namespace

StatusOr<HttpReply> HttpFetch(const HttpCall& call) {
  ASSIGN_OR_RETURN(Url u, ParseUrl(call.url));
  if (http::string_to_verb(call.method) == http::verb::unknown) {
    return InvalidArgument("unknown HTTP method " + call.method);
  }
  auto deadline = std::chrono::milliseconds(call.timeout_ms);
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(u.host, u.port);
    if (!u.tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(deadline);
      stream.connect(endpoints);
      return Exchange(stream, u, call);
    }
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    stream.set_verify_callback(ssl::host_name_verification(u.host));
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) {
      return Unavailable("cannot set TLS server name for " + u.host);
    }
    beast::get_lowest_layer(stream).expires_after(deadline);
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(ssl::stream_base::client);
    return Exchange(stream, u, call);
  } catch (const boost::system::system_error& e) {
    return Unavailable(call.method + " " + call.url + " failed: " + e.code().message());
  } catch (const std::exception& e) {
    return Unavailable(call.method + " " + call.url + " failed: " + e.what());
  }
}

}  // namespace arbor::api
