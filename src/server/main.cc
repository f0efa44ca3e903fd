// arbor: the single binary. `arbor serve` runs everything in one process over a local data
// directory; `arbor keys` and `arbor orgs` manage credentials offline.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "api/app.h"
#include "api/otlp_grpc.h"
#include "api/server.h"
#include "base/limits.h"
#include "base/util.h"
#include "catalog/catalog.h"
#include "control/auth.h"
#include "control/registry.h"
#include "control/secrets.h"
#include "ingest/writer.h"
#include "json/json.h"
#include "query/engine.h"
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
  arbor secrets verify [--data-dir DIR] [--master-key-file FILE]
  arbor secrets rotate-master-key --old-key-file A --new-key-file B [--data-dir DIR]
  arbor version

serve also takes --memtable-mb N (flush rows to a segment after N MiB of WAL, default 64),
--block-cache-mb N (decoded segment blocks kept in memory, default 256) and
--compaction-inputs-min N (merge once N similar-sized segments are adjacent, default 4).

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
  // Signals are taken by sigwait below, never by the worker threads started from here on.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ASSIGN_OR_RETURN(auto cat, OpenCatalog(dir));
  control::Auth auth(*cat);
  control::Registry registry(*cat);
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
  storage::Flusher flusher(
      *wal, store, *segments,
      {.memtable_bytes_max = memtable_mb << 20,
       .compaction = {.inputs_min = std::max<std::size_t>(compaction_inputs, 2)}});
  flusher.Start();
  query::Engine engine(*cat, store, writer);
  auto blobs = storage::NewLocalDirObjectStore(dir + "/blobs");
  api::App app({.catalog = *cat,
                .auth = auth,
                .registry = registry,
                .writer = writer,
                .engine = engine,
                .blobs = *blobs,
                .url_signing_key = signing_key,
                .version = kVersion,
                .web_dir = WebDir(args),
                .secret_box = &secret_box});
  ASSIGN_OR_RETURN(auto server,
                   api::HttpServer::Start({.host = listen.first, .port = listen.second},
                                          [&app](const api::Request& r) { return app.Handle(r); }));
  std::cout << "arbor " << kVersion << " listening on http://" << listen.first << ":"
            << server->port() << " (data dir " << dir << ")" << std::endl;
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
      std::cerr << "arbor: warning: " << started.status().message() << std::endl;
    } else {
      return started.status();
    }
  }
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "arbor: signal " << sig << ", finishing in-flight requests" << std::endl;
  if (grpc) grpc->Shutdown();
  server->Shutdown();
  flusher.Stop();
  wal->Close();
  std::cout << "arbor: stopped" << std::endl;
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
