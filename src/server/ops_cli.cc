#include "server/ops_cli.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <iostream>

#include "api/http_client.h"
#include "catalog/catalog.h"
#include "ingest/writer.h"
#include "json/json.h"
#include "query/btql.h"
#include "query/btql_text.h"
#include "query/engine.h"
#include "server/admin_socket.h"
#include "server/backup.h"
#include "storage/row_store.h"
#include "storage/segments.h"
#include "storage/wal.h"

namespace arbor::ops {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

constexpr int kExportPageRows = 1000;

StatusOr<bj::object> ExportAst(const ExportSpec& spec) {
  if (spec.object_type != "experiment" && spec.object_type != "dataset" &&
      spec.object_type != "project_logs") {
    return InvalidArgument("export needs --experiment ID, --dataset ID or --project-logs ID");
  }
  for (char c : spec.object_id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return InvalidArgument("bad object id: " + spec.object_id);
    }
  }
  return query::ParseBtqlText("select: * | from: " + spec.object_type + "('" + spec.object_id +
                              "') | limit: " + std::to_string(kExportPageRows));
}

// Pages through a running server's /btql with its cursor.
Status ExportOverHttp(const ExportSpec& spec, bj::object ast, std::ostream& out) {
  std::string base = spec.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (;;) {
    bj::object body{{"query", ast}, {"fmt", "json"}};
    ASSIGN_OR_RETURN(api::HttpReply reply,
                     api::HttpFetch({.method = "POST",
                                     .url = base + "/btql",
                                     .headers = {{"Content-Type", "application/json"},
                                                 {"Authorization", "Bearer " + spec.api_key}},
                                     .body = json::Serialize(body),
                                     .timeout_ms = 60000,
                                     .body_bytes_max = std::size_t{1} << 30}));
    if (reply.status != 200) {
      return Unavailable("server answered HTTP " + std::to_string(reply.status) + ": " +
                         reply.body);
    }
    ASSIGN_OR_RETURN(bj::value doc, json::Parse(reply.body));
    const bj::object* page = doc.if_object();
    if (page == nullptr || !page->contains("data") || !page->at("data").is_array()) {
      return Internal("unexpected /btql answer");
    }
    for (const bj::value& row : page->at("data").as_array()) out << json::Serialize(row) << "\n";
    const bj::value* cursor = page->if_contains("cursor");
    if (cursor == nullptr || !cursor->is_string() || cursor->as_string().empty()) break;
    ast["cursor"] = *cursor;
  }
  return out.good() ? Status::Ok() : Internal("cannot write the export");
}

// Opens a stopped data dir as `serve` would (segments, then the WAL on top) and queries it.
Status ExportOffline(const ExportSpec& spec, bj::object ast, std::ostream& out) {
  const std::string& dir = spec.data_dir;
  if (!fs::exists(dir + "/catalog.db")) return NotFound("no arbor data dir at " + dir);
  ASSIGN_OR_RETURN(int lock, LockDataDir(dir));
  ASSIGN_OR_RETURN(auto cat, catalog::OpenSqliteCatalog(dir + "/catalog.db"));
  ASSIGN_OR_RETURN(auto segments, storage::Segments::Open({.dir = dir + "/segments"}));
  storage::RowStore store(segments.get());
  RETURN_IF_ERROR(segments->LoadInto(store));
  ingest::Writer writer(*cat, store);
  writer.SkipReplayUpTo(segments->flushed_xact());
  ASSIGN_OR_RETURN(auto wal, storage::Wal::Open({.dir = dir + "/wal"}, [&](std::string_view p) {
                     return writer.Replay(p);
                   }));
  writer.Attach(wal.get());
  query::Engine engine(*cat, store, writer);
  // The object's org: the one whose catalog knows the object.
  std::string org_id;
  ASSIGN_OR_RETURN(auto orgs, cat->ListOrgs());
  catalog::ObjectKind kind = spec.object_type == "experiment" ? catalog::ObjectKind::kExperiment
                             : spec.object_type == "dataset"  ? catalog::ObjectKind::kDataset
                                                              : catalog::ObjectKind::kProject;
  for (const catalog::Org& org : orgs) {
    if (cat->GetObject(org.id, kind, spec.object_id).ok()) org_id = org.id;
  }
  Status st = org_id.empty() ? NotFound(spec.object_type + " " + spec.object_id + " not found")
                             : Status::Ok();
  while (st.ok()) {
    auto q = query::ParseQueryAst(ast);
    if (!q.ok()) {
      st = q.status();
      break;
    }
    auto page = engine.Run(org_id, *q, std::nullopt);
    if (!page.ok()) {
      st = page.status();
      break;
    }
    for (const bj::value& row : page->data) out << json::Serialize(row) << "\n";
    if (page->cursor.empty()) break;
    ast["cursor"] = page->cursor;
  }
  wal->Close();
  ::close(lock);
  return st;
}

}  // namespace

Status BackupCommand(const std::string& data_dir, const std::string& out_dir,
                     const std::string& version) {
  if (out_dir.empty()) return InvalidArgument("backup needs --out DIR");
  std::error_code ec;
  const std::string out = fs::absolute(out_dir, ec).lexically_normal().string();
  auto reply = AdminCall(AdminSocketName(data_dir), {{"op", "backup"}, {"out", out}});
  if (reply.ok()) {
    const bj::value* ok = reply->if_contains("ok");
    if (ok != nullptr && ok->is_bool() && ok->as_bool()) {
      std::cout << "online backup of " << data_dir << " written to " << out << std::endl;
      return Status::Ok();
    }
    const bj::value* err = reply->if_contains("error");
    return Internal("the server could not back up: " +
                    (err && err->is_string() ? std::string(err->as_string()) : "unknown error"));
  }
  if (reply.status().code() != StatusCode::kUnavailable) return reply.status();
  // No server answers: back up offline, holding the lock so none starts meanwhile.
  ASSIGN_OR_RETURN(int lock, LockDataDir(data_dir));
  Status st = BackupOffline(data_dir, out, version);
  ::close(lock);
  if (st.ok()) std::cout << "offline backup of " << data_dir << " written to " << out << std::endl;
  return st;
}

Status RestoreCommand(const std::string& backup_dir, const std::string& data_dir) {
  if (backup_dir.empty() || data_dir.empty()) {
    return InvalidArgument("restore needs --from DIR and --data-dir DIR");
  }
  RETURN_IF_ERROR(Restore(backup_dir, data_dir));
  std::cout << "restored " << backup_dir << " into " << data_dir
            << " (every file's SHA-256 checked); start `arbor serve --data-dir " << data_dir
            << "` with the original master key" << std::endl;
  return Status::Ok();
}

Status ExportCommand(const ExportSpec& spec, std::ostream& out) {
  ASSIGN_OR_RETURN(bj::object ast, ExportAst(spec));
  if (!spec.url.empty()) {
    if (spec.api_key.empty()) return InvalidArgument("export --url needs --api-key KEY");
    return ExportOverHttp(spec, std::move(ast), out);
  }
  return ExportOffline(spec, std::move(ast), out);
}

}  // namespace arbor::ops
