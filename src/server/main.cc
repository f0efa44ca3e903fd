// arbor: the single binary. `arbor serve` runs everything in one process over a local data
// directory; `arbor keys` and `arbor orgs` manage credentials offline.
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "api/app.h"
#include "api/otlp_grpc.h"
#include "api/routes_access.h"
#include "api/server.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "control/audit_log.h"
#include "control/auth.h"
#include "control/oidc.h"
#include "control/registry.h"
#include "control/secrets.h"
#include "ingest/writer.h"
#include "json/json.h"
#include "query/engine.h"
#include "server/backup.h"
#include "server/operations.h"
#include "server/ops_cli.h"
#include "server/ops_flags.h"
#include "server/user_cli.h"
#include "storage/flusher.h"
#include "storage/object_store.h"
#include "storage/row_store.h"
#include "storage/segments.h"
#include "storage/wal.h"

namespace arbor {
namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kUsage = R"(usage:
  arbor serve [--data-dir DIR] [--listen HOST:PORT] [--org-name NAME] [--web-dir DIR]
              [--otlp-grpc-listen HOST:PORT|off]
  arbor keys create [--data-dir DIR] [--org NAME] [--name NAME]
  arbor keys list [--data-dir DIR]
  arbor keys revoke ID [--data-dir DIR]
  arbor orgs create --name NAME [--data-dir DIR]
  arbor orgs list [--data-dir DIR]
  arbor user create --email E [--org NAME] [--name N] [--role owner|admin|editor|viewer]
                    [--password-file F] [--data-dir DIR]
  arbor user disable|enable|set-password --email E [--password-file F] [--data-dir DIR]
  arbor user list [--org NAME] [--data-dir DIR]
  arbor secrets verify [--data-dir DIR] [--master-key-file FILE]
  arbor secrets rotate-master-key --old-key-file A --new-key-file B [--data-dir DIR]
  arbor backup --out DIR [--data-dir DIR]
  arbor restore --from DIR --data-dir DIR
  arbor export (--experiment ID | --dataset ID | --project-logs ID)
               [--data-dir DIR | --url URL --api-key KEY]
  arbor routes                 (the HTTP route table and what each route needs, as JSON)
  arbor version

serve also takes --memtable-mb N (flush rows to a segment after N MiB of WAL, default 64),
--block-cache-mb N (decoded segment blocks kept in memory, default 256) and
--compaction-inputs-min N (merge once N similar-sized segments are adjacent, default 4) and
--history-retention-s N (`version` reads see every row version this far back, default 604800 =
7 days; compaction drops older history and deleted rows: docs/operations/configuration.md).
Operations (docs/operations/): --retention-interval-s N (seconds between retention sweeps,
default 3600), --telemetry-url URL (off unless set; what is sent: docs/operations/telemetry.md)
and --telemetry-interval-s N (default 3600). `backup` asks a running server for an online
snapshot over its local admin socket, else copies the stopped data dir; `restore` checks every
file's SHA-256 and refuses a non-empty target; `export` writes JSONL of the live rows.
Monitoring and hardening (docs/operations/monitoring.md, security.md): --log-format json|text
(default json, one object per line on stderr), --metrics-token-file FILE (or
$ARBOR_METRICS_TOKEN; GET /metrics answers 401 without it), --audit-reads on|off (also audit
btql and fetch; default off), --rate-limit-rps N and --rate-limit-burst N (per API key; default
off), --query-timeout-ms N (default 30000; 0 = none), --query-rows-max N (rows a query may
materialize, default 2000000; 0 = none), --tls-cert FILE --tls-key FILE (PEM; HTTPS on --listen).

`serve` creates the org named by --org-name (default "arbor") if it does not exist yet, with
an admin API key: the value of ARBOR_BOOTSTRAP_API_KEY if set, else a random key printed
once. A bootstrap key that the data dir does not know yet is added to that org.
AI secrets are sealed under a master key (base64 of 32 bytes): --master-key-file, else
$ARBOR_MASTER_KEY, else DATA_DIR/master.key (generated, mode 0600, on first start). After
`secrets rotate-master-key`, restart `serve` with the new key.
--web-dir serves the built web UI (default: web/dist next to the binary's parent directory,
when it exists).
--otlp-grpc-listen serves OTLP/gRPC (default 127.0.0.1:4317, skipped with a warning when that
port is taken; an explicit address must bind; `off` disables it).
OIDC sign-in for the web UI (docs/operations/sso.md): --oidc-issuer URL --oidc-client-id ID
--oidc-redirect-uri URL (this server's /api/auth/oidc/callback) [--oidc-client-secret-file F,
or $ARBOR_OIDC_CLIENT_SECRET].
Local users sign in to the web UI with email and password (`arbor user create`); session
cookies are marked Secure with TLS, behind a proxy sending X-Forwarded-Proto: https, or with
--secure-cookies true.
)";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;

  std::string Flag(const std::string& name, const std::string& def = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? def : it->second;
  }
};

StatusOr<Args> ParseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      std::size_t eq = a.find('=');
      if (eq != std::string::npos) {
        args.flags[a.substr(2, eq - 2)] = a.substr(eq + 1);
      } else if (i + 1 < argc) {
        args.flags[a.substr(2)] = argv[++i];
      } else {
        return InvalidArgument("flag " + a + " needs a value");
      }
    } else {
      args.positional.push_back(a);
    }
  }
  return args;
}

std::string DataDir(const Args& args) { return args.Flag("data-dir", "./arbor-data"); }

StatusOr<std::unique_ptr<catalog::Catalog>> OpenCatalog(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("cannot create data dir " + dir + ": " + ec.message());
  return catalog::OpenSqliteCatalog(dir + "/catalog.db");
}

// The secret that signs upload and download URLs; made once per data dir.
StatusOr<std::string> SigningKey(const std::string& dir) {
  std::string path = dir + "/url-signing.key";
  auto existing = ReadFile(path);
  if (existing.ok() && existing->size() == 64) return *existing;
  std::string key = HexEncode(RandomBytes(32));
  RETURN_IF_ERROR(WriteFileAtomic(path, key));
  return key;
}

// Makes sure the serving org exists (creating it with an admin key the first time) and that
// ARBOR_BOOTSTRAP_API_KEY, when set, is one of its keys.
Status Bootstrap(catalog::Catalog& cat, control::Auth& auth, const std::string& org_name) {
  const char* env_key = std::getenv("ARBOR_BOOTSTRAP_API_KEY");
  std::string wanted = env_key ? env_key : "";
  auto org = cat.FindOrgByName(org_name);
  if (!org.ok()) {
    ASSIGN_OR_RETURN(org, cat.CreateOrg(org_name));
    ASSIGN_OR_RETURN(control::CreatedKey key, auth.CreateKey(org->id, "bootstrap", wanted));
    std::cout << "created org '" << org->name << "'" << std::endl;
    if (wanted.empty()) std::cout << "admin API key (shown once): " << key.secret << std::endl;
    return Status::Ok();
  }
  if (wanted.empty() || cat.FindApiKeyByHash(Sha256Hex(wanted)).ok()) {
    return Status::Ok();  // already known (a revoked bootstrap key stays revoked)
  }
  return auth.CreateKey(org->id, "bootstrap", wanted).status();
}

// A whole number in [1, max] from --name, or `def`.
StatusOr<std::size_t> CountFlag(const Args& args, const std::string& name, std::size_t def,
                                std::size_t max = 1u << 20) {
  std::string text = args.Flag(name);
  if (text.empty()) return def;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0' || v == 0 || v > max) {
    return InvalidArgument("--" + name + " must be a whole number between 1 and " +
                           std::to_string(max));
  }
  return static_cast<std::size_t>(v);
}

StatusOr<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("--listen must be HOST:PORT");
  int port = std::atoi(listen.substr(colon + 1).c_str());
  if (port < 0 || port > 65535) return InvalidArgument("bad port in --listen");
  return std::make_pair(listen.substr(0, colon), port);
}

// OIDC sign-in (docs/operations/sso.md): off unless --oidc-issuer is given, then the client id
// and redirect URI are required; the client secret comes from a file or the environment.
StatusOr<control::oidc::Config> OidcConfig(const Args& args) {
  control::oidc::Config c{.issuer = args.Flag("oidc-issuer"),
                          .client_id = args.Flag("oidc-client-id"),
                          .client_secret = "",
                          .redirect_uri = args.Flag("oidc-redirect-uri")};
  if (c.issuer.empty()) return c;
  if (c.client_id.empty() || c.redirect_uri.empty()) {
    return InvalidArgument("--oidc-issuer needs --oidc-client-id and --oidc-redirect-uri");
  }
  if (std::string file = args.Flag("oidc-client-secret-file"); !file.empty()) {
    ASSIGN_OR_RETURN(c.client_secret, ReadFile(file));
    while (!c.client_secret.empty() &&
           std::isspace(static_cast<unsigned char>(c.client_secret.back()))) {
      c.client_secret.pop_back();
    }
  } else if (const char* env = std::getenv("ARBOR_OIDC_CLIENT_SECRET")) {
    c.client_secret = env;
  }
  return c;
}

// The built web UI: --web-dir, else <dir of the binary>/../web/dist when it has an index.
std::string WebDir(const Args& args) {
  std::string flag = args.Flag("web-dir");
  if (!flag.empty()) return flag;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  auto dist = exe.parent_path().parent_path() / "web" / "dist";
  return std::filesystem::exists(dist / "index.html", ec) ? dist.string() : "";
}

// The master key that seals AI secrets; refuses one that cannot open the stored secrets.
StatusOr<control::SecretBox> OpenSecretBox(const Args& args, const std::string& dir,
                                           catalog::Catalog& cat) {
  bool generated = false;
  ASSIGN_OR_RETURN(std::string kek,
                   control::LoadMasterKey(args.Flag("master-key-file"), dir, true, generated));
  if (generated) {
    std::cout << "generated a master key for AI secrets at " << dir
              << "/master.key (mode 0600); back it up apart from the data dir: the secrets "
              << "cannot be decrypted without it" << std::endl;
  }
  ASSIGN_OR_RETURN(control::SecretBox box, control::SecretBox::Create(std::move(kek)));
  RETURN_IF_ERROR(control::CheckMasterKey(cat, box));
  return box;
}

// `secrets verify` decrypts every AI secret and prints counts (never values);
// `secrets rotate-master-key` re-wraps every data key under a new master key.
Status Secrets(const Args& args) {
  std::string verb = args.positional.size() > 1 ? args.positional[1] : "";
  std::string dir = DataDir(args);
  ASSIGN_OR_RETURN(auto cat, OpenCatalog(dir));
  bool generated = false;
  if (verb == "verify") {
    ASSIGN_OR_RETURN(std::string kek,
                     control::LoadMasterKey(args.Flag("master-key-file"), dir, false, generated));
    ASSIGN_OR_RETURN(auto box, control::SecretBox::Create(std::move(kek)));
    ASSIGN_OR_RETURN(auto counts, control::VerifyAll(*cat, box));
    std::cout << json::Serialize(boost::json::object{{"secrets", counts.total},
                                                     {"decrypted", counts.ok},
                                                     {"failed", counts.total - counts.ok}})
              << std::endl;
    if (counts.ok != counts.total) return PermissionDenied("some secrets did not decrypt");
    return Status::Ok();
  }
  if (verb == "rotate-master-key" && !args.Flag("old-key-file").empty() &&
      !args.Flag("new-key-file").empty()) {
    ASSIGN_OR_RETURN(std::string old_kek,
                     control::LoadMasterKey(args.Flag("old-key-file"), dir, false, generated));
    ASSIGN_OR_RETURN(std::string new_kek,
                     control::LoadMasterKey(args.Flag("new-key-file"), dir, false, generated));
    ASSIGN_OR_RETURN(auto from, control::SecretBox::Create(std::move(old_kek)));
    ASSIGN_OR_RETURN(auto to, control::SecretBox::Create(std::move(new_kek)));
    ASSIGN_OR_RETURN(std::size_t n, control::RotateMasterKey(*cat, from, to));
    std::cout << "re-wrapped " << n << " data keys; start the server with the new key" << std::endl;
    return Status::Ok();
  }
  return InvalidArgument(kUsage);
}

Status Serve(const Args& args) {
  std::string dir = DataDir(args);
  ASSIGN_OR_RETURN(auto listen, ParseListen(args.Flag("listen", "127.0.0.1:8000")));
  ASSIGN_OR_RETURN(serve::OpsFlags ops_flags,
                   serve::ParseOpsFlags([&args](const std::string& n) { return args.Flag(n); }));
  // Signals are taken by sigwait below, never by the worker threads started from here on.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // One server per data dir; held until exit (offline backup and export take it too).
  ASSIGN_OR_RETURN(int dir_lock, ops::LockDataDir(dir));
  (void)dir_lock;
  ASSIGN_OR_RETURN(auto cat, OpenCatalog(dir));
  control::Auth auth(*cat);
  control::Registry registry(*cat);
  control::Users users(*cat);
  ASSIGN_OR_RETURN(control::oidc::Config oidc, OidcConfig(args));
  RETURN_IF_ERROR(Bootstrap(*cat, auth, args.Flag("org-name", "arbor")));
  ASSIGN_OR_RETURN(std::string signing_key, SigningKey(dir));
  ASSIGN_OR_RETURN(control::SecretBox secret_box, OpenSecretBox(args, dir, *cat));

  // Segments first (the index of every flushed version), then the WAL on top of them.
  ASSIGN_OR_RETURN(std::size_t cache_mb, CountFlag(args, "block-cache-mb", 256));
  ASSIGN_OR_RETURN(std::size_t memtable_mb, CountFlag(args, "memtable-mb", 64));
  ASSIGN_OR_RETURN(std::size_t compaction_inputs, CountFlag(args, "compaction-inputs-min", 4, 64));
  ASSIGN_OR_RETURN(
      auto segments,
      storage::Segments::Open({.dir = dir + "/segments", .block_cache_bytes_max = cache_mb << 20}));
  storage::RowStore store(segments.get());
  RETURN_IF_ERROR(segments->LoadInto(store));
  ingest::Writer writer(*cat, store);
  writer.SkipReplayUpTo(segments->flushed_xact());
  ASSIGN_OR_RETURN(auto wal, storage::Wal::Open({.dir = dir + "/wal"}, [&](std::string_view p) {
                     return writer.Replay(p);
                   }));
  writer.Attach(wal.get());
  // Writes wait (then get 503) once several memtables' worth of WAL await flushing, so memory
  // stays bounded when ingest outruns the flusher.
  writer.LimitMemtable(limits::memtables_unflushed_max * (memtable_mb << 20),
                       limits::ingest_flush_wait_ms);
  auto history_clock = [retention_s = ops_flags.history_retention_s] {
    return serve::HistoryClockAt(NowMicros() / 1000000, retention_s);
  };
  storage::Flusher flusher(
      *wal, store, *segments,
      {.memtable_bytes_max = memtable_mb << 20,
       .compaction = {.inputs_min = std::max<std::size_t>(compaction_inputs, 2)},
       .history_clock = history_clock});
  flusher.Start();
  query::Engine engine(*cat, store, writer);
  auto blobs = storage::NewLocalDirObjectStore(dir + "/blobs");
  control::AuditLog audit_log(*cat, {.reads = ops_flags.audit_reads});
  serve::RegisterStorageMetrics(
      *wal, *segments, {.inputs_min = std::max<std::size_t>(compaction_inputs, 2)}, history_clock);
  api::App app(
      {.catalog = *cat,
       .auth = auth,
       .registry = registry,
       .writer = writer,
       .engine = engine,
       .blobs = *blobs,
       .url_signing_key = signing_key,
       .version = kVersion,
       .web_dir = WebDir(args),
       .secret_box = &secret_box,
       .audit_log = &audit_log,
       .ops = ops_flags.api,
       .users = &users,
       .secure_cookies = !ops_flags.tls_cert_file.empty() || args.Flag("secure-cookies") == "true",
       .oidc = oidc});
  ASSIGN_OR_RETURN(std::size_t retention_s,
                   CountFlag(args, "retention-interval-s", 3600, 366u * 86400u));
  ASSIGN_OR_RETURN(std::size_t telemetry_s,
                   CountFlag(args, "telemetry-interval-s", 3600, 366u * 86400u));
  ASSIGN_OR_RETURN(auto operations,
                   ops::Operations::Start({.data_dir = dir,
                                           .version = kVersion,
                                           .catalog = *cat,
                                           .engine = engine,
                                           .writer = writer,
                                           .wal = *wal,
                                           .segments = *segments,
                                           .flusher = flusher},
                                          {.retention_interval_s = static_cast<int>(retention_s),
                                           .telemetry_url = args.Flag("telemetry-url"),
                                           .telemetry_interval_s = static_cast<int>(telemetry_s)}));
  ASSIGN_OR_RETURN(auto server,
                   api::HttpServer::Start({.host = listen.first,
                                           .port = listen.second,
                                           .tls_cert_file = ops_flags.tls_cert_file,
                                           .tls_key_file = ops_flags.tls_key_file},
                                          [&app, ops = operations.get()](const api::Request& r) {
                                            ops->CountRequest();
                                            return app.Handle(r);
                                          }));
  const bool tls = !ops_flags.tls_cert_file.empty();
  std::cout << "arbor " << kVersion << " listening on " << (tls ? "https://" : "http://")
            << listen.first << ":" << server->port() << " (data dir " << dir << ")" << std::endl;
  log::Info("listening", {{"port", server->port()}, {"tls", tls ? "on" : "off"}});
  const std::string grpc_listen = args.Flag("otlp-grpc-listen");
  std::unique_ptr<api::OtlpGrpcServer> grpc;
  if (grpc_listen != "off") {
    const std::string address = grpc_listen.empty() ? "127.0.0.1:4317" : grpc_listen;
    auto started =
        api::OtlpGrpcServer::Start(address, {.auth = auth, .registry = registry, .writer = writer});
    if (started.ok()) {
      grpc = std::move(*started);
      std::cout << "arbor: OTLP/gRPC on port " << grpc->port() << std::endl;
    } else if (grpc_listen.empty()) {
      log::Warn("OTLP/gRPC not started", {{"error", started.status().message()}});
    } else {
      return started.status();
    }
  }
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "arbor: signal " << sig << ", finishing in-flight requests" << std::endl;
  if (grpc) grpc->Shutdown();
  server->Shutdown();
  operations->Stop();
  flusher.Stop();
  wal->Close();
  std::cout << "arbor: stopped" << std::endl;
  return Status::Ok();
}

// `arbor routes`: the route table as JSON (api::RouteTable), from an App over a throwaway
// in-memory catalog. The route-walking test (tests/blackbox/test_route_auth.py) walks it.
Status Routes() {
  ASSIGN_OR_RETURN(auto cat, catalog::OpenSqliteCatalog(":memory:"));
  control::Auth auth(*cat);
  control::Registry registry(*cat);
  control::Users users(*cat);
  storage::RowStore store;
  ingest::Writer writer(*cat, store);
  query::Engine engine(*cat, store, writer);
  auto blobs = storage::NewLocalDirObjectStore(
      (std::filesystem::temp_directory_path() / "arbor-routes-unused").string());
  api::App app({.catalog = *cat,
                .auth = auth,
                .registry = registry,
                .writer = writer,
                .engine = engine,
                .blobs = *blobs,
                .version = kVersion,
                .users = &users});
  std::cout << json::Serialize(api::RouteTable(app.router())) << std::endl;
  return Status::Ok();
}

StatusOr<catalog::Org> FindOrg(catalog::Catalog& cat, const std::string& name) {
  if (!name.empty()) return cat.FindOrgByName(name);
  ASSIGN_OR_RETURN(auto orgs, cat.ListOrgs());
  if (orgs.empty()) return NotFound("no org yet: run `arbor serve` once or `arbor orgs create`");
  return orgs.front();
}

Status Keys(const Args& args) {
  std::string verb = args.positional.size() > 1 ? args.positional[1] : "";
  ASSIGN_OR_RETURN(auto cat, OpenCatalog(DataDir(args)));
  control::Auth auth(*cat);
  if (verb == "create") {
    ASSIGN_OR_RETURN(catalog::Org org, FindOrg(*cat, args.Flag("org")));
    ASSIGN_OR_RETURN(auto key, auth.CreateKey(org.id, args.Flag("name", "cli")));
    std::cout << key.secret << std::endl;
    return Status::Ok();
  }
  if (verb == "list") {
    ASSIGN_OR_RETURN(auto keys, cat->ListApiKeys());
    for (const auto& k : keys) {
      auto org = cat->GetOrg(k.org_id);
      boost::json::object o{{"id", k.id},
                            {"org", org.ok() ? org->name : k.org_id},
                            {"name", k.name},
                            {"created", k.created},
                            {"revoked", k.revoked}};
      std::cout << json::Serialize(o) << std::endl;
    }
    return Status::Ok();
  }
  if (verb == "revoke" && args.positional.size() > 2) return cat->RevokeApiKey(args.positional[2]);
  return InvalidArgument(kUsage);
}

Status Orgs(const Args& args) {
  std::string verb = args.positional.size() > 1 ? args.positional[1] : "";
  ASSIGN_OR_RETURN(auto cat, OpenCatalog(DataDir(args)));
  if (verb == "create" && !args.Flag("name").empty()) {
    ASSIGN_OR_RETURN(catalog::Org org, cat->CreateOrg(args.Flag("name")));
    control::Auth auth(*cat);
    ASSIGN_OR_RETURN(auto key, auth.CreateKey(org.id, "admin"));
    std::cout << key.secret << std::endl;
    return Status::Ok();
  }
  if (verb == "list") {
    ASSIGN_OR_RETURN(auto orgs, cat->ListOrgs());
    for (const auto& o : orgs) {
      std::cout << json::Serialize(boost::json::object{{"id", o.id}, {"name", o.name}})
                << std::endl;
    }
    return Status::Ok();
  }
  return InvalidArgument(kUsage);
}

// `export`: exactly one of --experiment, --dataset, --project-logs names the object.
Status Export(const Args& args) {
  ops::ExportSpec spec{
      .url = args.Flag("url"), .api_key = args.Flag("api-key"), .data_dir = DataDir(args)};
  for (const char* type : {"experiment", "dataset", "project-logs"}) {
    if (args.Flag(type).empty()) continue;
    if (!spec.object_type.empty()) return InvalidArgument("export takes one object");
    spec.object_type = std::string(type) == "project-logs" ? "project_logs" : type;
    spec.object_id = args.Flag(type);
  }
  return ops::ExportCommand(spec, std::cout);
}

int Main(int argc, char** argv) {
  auto args = ParseArgs(argc, argv);
  if (!args.ok() || args->positional.empty()) {
    std::cerr << (args.ok() ? "" : args.status().message() + "\n") << kUsage;
    return 2;
  }
  const std::string& cmd = args->positional[0];
  Status st;
  if (cmd == "serve") {
    st = Serve(*args);
  } else if (cmd == "keys") {
    st = Keys(*args);
  } else if (cmd == "secrets") {
    st = Secrets(*args);
  } else if (cmd == "orgs") {
    st = Orgs(*args);
  } else if (cmd == "user" && args->positional.size() > 1) {
    auto cat = OpenCatalog(DataDir(*args));
    st = cat.ok() ? serve::UserCommand(
                        **cat, args->positional[1],
                        [&](const std::string& n) { return args->Flag(n); }, std::cin, std::cout)
                  : cat.status();
  } else if (cmd == "backup") {
    st = ops::BackupCommand(DataDir(*args), args->Flag("out"), kVersion);
  } else if (cmd == "restore") {
    st = ops::RestoreCommand(args->Flag("from"), args->Flag("data-dir"));
  } else if (cmd == "export") {
    st = Export(*args);
  } else if (cmd == "routes") {
    st = Routes();
  } else if (cmd == "version") {
    std::cout << kVersion << std::endl;
  } else {
    std::cerr << kUsage;
    return 2;
  }
  if (!st.ok()) {
    std::cerr << "arbor: " << st.ToString() << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace arbor

int main(int argc, char** argv) { return arbor::Main(argc, argv); }
