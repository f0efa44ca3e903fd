// arbor_load: ingest benchmark driver for Arbor (benchmarks I1 and I2,
// shared/design/benchmarks.md).
//
// Registers a project, generates the seeded span workload (bench/workload.h), then posts it to
// POST /logs3 in batches over C keep-alive connections (one thread each), and meanwhile probes
// POST /btql for a just-acknowledged row id to measure ack -> visible latency.
//
//   arbor_load --url http://127.0.0.1:8000 --key KEY [--connections 16] [--rows 200000] [--seed 42]
//              [--batch 100] [--json-out FILE] ...
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "workload.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Endpoint {
  std::string host, port, key;
};

Endpoint parse_url(const std::string& url, const std::string& key) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0)
    rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos)
    bench::Args::bad("only http:// URLs are supported: " + url);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) bench::Args::bad("--url must not have a path: " + url);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) return {rest, "80", key};
  return {rest.substr(0, colon), rest.substr(colon + 1), key};
}

// One keep-alive HTTP/1.1 connection with synchronous calls; reconnects after errors.
class HttpClient {
 public:
  explicit HttpClient(Endpoint ep) : ep_(std::move(ep)) {}

  // Returns the HTTP status, or -1 after three failed network attempts (message in *err).
  int call(http::verb verb, const std::string& target, std::string body, std::string* resp,
           std::string* err) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, ep_.host + ":" + ep_.port);
    req.set(http::field::authorization, "Bearer " + ep_.key);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "arbor_load");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    for (int attempt = 0; attempt < 3; ++attempt) {
      try {
        if (!sock_.is_open()) connect();
        http::write(sock_, req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(boost::none);
        http::read(sock_, buf_, parser);
        auto& res = parser.get();
        const int status = static_cast<int>(res.result_int());
        const bool keep = res.keep_alive();
        *resp = std::move(res.body());
        if (!keep) close();
        return status;
      } catch (const std::exception& e) {
        *err = std::string("network: ") + e.what();
        close();
        if (attempt < 2) ++retries_;
      }
    }
    return -1;
  }

  uint64_t retries() const { return retries_; }

  void connect() {
    tcp::resolver resolver(ioc_);
    net::connect(sock_, resolver.resolve(ep_.host, ep_.port));
    sock_.set_option(tcp::no_delay(true));
    buf_.clear();
  }

 private:
  void close() {
    boost::system::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
    buf_.clear();
  }

  Endpoint ep_;
  net::io_context ioc_;
  tcp::socket sock_{ioc_};
  beast::flat_buffer buf_;
  uint64_t retries_ = 0;
};

std::string clip(const std::string& s, size_t n = 300) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

class ArborSink : public bench::Sink {
 public:
  explicit ArborSink(const Endpoint& ep) : http_(ep) { http_.connect(); }
  bool post(const bench::Row* rows, size_t n, std::string* err) override {
    std::string body;
    body.reserve(bench::batch_json_bytes(rows, n) + 32);
    body += "{\"rows\":";
    bench::append_batch_array(body, rows, n);
    body += ",\"api_version\":2}";
    std::string resp;
    const int status = http_.call(http::verb::post, "/logs3", std::move(body), &resp, err);
    if (status >= 200 && status < 300) return true;
    if (status > 0) *err = "HTTP " + std::to_string(status) + ": " + clip(resp);
    return false;
  }
  uint64_t retries() const override { return http_.retries(); }

 private:
  HttpClient http_;
};

class ArborReader : public bench::Reader {
 public:
  ArborReader(const Endpoint& ep, std::string project_id)
      : http_(ep), pid_(std::move(project_id)) {}
  int lookup(const std::string& id, std::string* row, std::string* err) override {
    std::string q =
        R"({"query":{"select":[{"op":"star"}],"from":{"op":"function","name":{"op":"ident","name":["project_logs"]},"args":[{"op":"literal","value":)";
    bench::append_json_string(q, pid_);
    q +=
        R"(}]},"filter":{"op":"eq","left":{"op":"ident","name":["id"]},"right":{"op":"literal","value":)";
    bench::append_json_string(q, id);
    q += R"(}},"limit":10}})";
    std::string resp;
    const int status = http_.call(http::verb::post, "/btql", std::move(q), &resp, err);
    if (status < 0) return -1;
    if (status != 200) {
      *err = "HTTP " + std::to_string(status) + ": " + clip(resp);
      return -1;
    }
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(resp, ec);
    const boost::json::value* data =
        (!ec && v.is_object()) ? v.as_object().if_contains("data") : nullptr;
    if (!data || !data->is_array()) {
      *err = "no data array in /btql response: " + clip(resp);
      return -1;
    }
    for (const auto& r : data->as_array()) {
      const auto* idv = r.is_object() ? r.as_object().if_contains("id") : nullptr;
      if (idv && idv->is_string() && idv->as_string() == id) {
        *row = boost::json::serialize(r);
        return 1;
      }
    }
    if (!data->as_array().empty()) {  // rows came back, but not the one asked for
      *row = boost::json::serialize(data->as_array()[0]);
      return 1;
    }
    return 0;
  }

 private:
  HttpClient http_;
  std::string pid_;
};

std::string register_project(const Endpoint& ep, const std::string& name) {
  HttpClient http(ep);
  std::string body = "{\"project_name\":";
  bench::append_json_string(body, name);
  body += '}';
  std::string resp, err;
  const int status =
      http.call(http::verb::post, "/api/project/register", std::move(body), &resp, &err);
  if (status != 200) {
    std::fprintf(stderr, "error: POST /api/project/register -> %d %s%s\n", status,
                 clip(resp).c_str(), err.c_str());
    std::exit(1);
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(resp, ec);
  const boost::json::value* p =
      (!ec && v.is_object()) ? v.as_object().if_contains("project") : nullptr;
  const boost::json::value* id = (p && p->is_object()) ? p->as_object().if_contains("id") : nullptr;
  if (!id || !id->is_string()) {
    std::fprintf(stderr, "error: no project.id in register response: %s\n", clip(resp).c_str());
    std::exit(1);
  }
  return std::string(id->as_string());
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args(argc, argv);
  if (args.flag("help")) {
    std::printf(
        "usage: arbor_load --url http://HOST:PORT --key API_KEY [flags]\n"
        "  --url URL             Arbor base URL (default http://127.0.0.1:8000)\n"
        "  --key KEY             API key (default $ARBOR_API_KEY)\n"
        "  --project NAME        project to register (default arbor-bench-<time>-<pid>)\n"
        "  --dump FILE           only write the generated rows as NDJSON (no server)\n"
        "  --project-id ID       project_id to put in dumped rows\n%s",
        bench::kCommonHelp);
    return 0;
  }
  const char* env_key = std::getenv("ARBOR_API_KEY");
  const Endpoint ep =
      parse_url(args.get("url", "http://127.0.0.1:8000"), args.get("key", env_key ? env_key : ""));
  const std::string dump = args.get("dump", "");
  const std::string dump_pid = args.get("project-id", "00000000-0000-4000-8000-000000000000");
  const std::string project_name =
      args.get("project", "arbor-bench-" + std::to_string(std::time(nullptr)) + "-" +
                              std::to_string(getpid()));
  const bench::WorkloadConfig wcfg = bench::workload_from_args(args);
  const bench::RunOptions opt = bench::run_options_from_args(args, "arbor");
  args.check_all_used();

  if (!dump.empty()) {  // no server: write the rows as NDJSON, in send order
    const bench::Dataset ds = bench::Generator(wcfg, dump_pid).build();
    bench::print_dataset(wcfg, ds);
    std::ofstream f(dump, std::ios::binary);
    for (const auto& r : ds.rows) f << r.json << '\n';
    return f.good() ? 0 : 1;
  }

  std::printf("[%s] machine: %s; url=http://%s:%s\n", opt.system.c_str(),
              bench::machine_summary().c_str(), ep.host.c_str(), ep.port.c_str());
  const std::string project_id = register_project(ep, project_name);
  std::printf("[%s] project %s id=%s\n", opt.system.c_str(), project_name.c_str(),
              project_id.c_str());

  const auto g0 = bench::Clock::now();
  bench::Generator gen(wcfg, project_id);
  const bench::Dataset ds = gen.build();
  std::printf("[%s] generated in %.1fs\n", opt.system.c_str(),
              bench::ms_between(g0, bench::Clock::now()) / 1000);
  bench::print_dataset(wcfg, ds);

  return bench::run_ingest(
      wcfg, ds, opt, [&] { return std::make_unique<ArborSink>(ep); },
      [&] { return std::make_unique<ArborReader>(ep, project_id); });
}
