// The data plane: ingest (/logs3, overflow, REST insert and feedback) and reads (/btql,
// REST fetch, summaries).
#include "api/app.h"
#include "api/fields.h"
#include "api/prompt_btql.h"
#include "base/limits.h"
#include "base/util.h"
#include "ingest/audit.h"
#include "ingest/xact.h"
#include "json/json.h"
#include "query/btql_text.h"

namespace arbor::api {

namespace bj = boost::json;
using catalog::ObjectKind;

namespace {

// The routing fields a row needs to land in an object of the given type.
void SetRouting(bj::object& row, ingest::ObjectType type, const std::string& id) {
  switch (type) {
    case ingest::ObjectType::kExperiment:
      row["experiment_id"] = id;
      break;
    case ingest::ObjectType::kDataset:
      row["dataset_id"] = id;
      break;
    case ingest::ObjectType::kProjectLogs:
      row["project_id"] = id;
      row["log_id"] = "g";
      break;
    case ingest::ObjectType::kPlaygroundLogs:
      row["prompt_session_id"] = id;
      row["log_id"] = "x";
      break;
  }
}

StatusOr<ingest::ObjectType> RestType(const std::string& name) {
  if (name == "experiment") return ingest::ObjectType::kExperiment;
  if (name == "dataset") return ingest::ObjectType::kDataset;
  if (name == "project_logs") return ingest::ObjectType::kProjectLogs;
  return NotFound("unknown object type " + name);
}

StatusOr<std::optional<std::uint64_t>> VersionParam(const std::string& text) {
  if (text.empty()) return std::optional<std::uint64_t>();
  auto x = ingest::ParseXact(text);
  if (!x) return InvalidArgument("'version' must be a transaction id");
  return std::optional<std::uint64_t>(*x);
}

StatusOr<std::optional<std::uint64_t>> VersionField(const bj::object& body) {
  const bj::value* v = body.if_contains("version");
  if (v == nullptr || v->is_null()) return std::optional<std::uint64_t>();
  if (v->is_string()) return VersionParam(std::string(v->get_string()));
  if (v->is_int64() || v->is_uint64())
    return std::optional<std::uint64_t>(v->to_number<std::uint64_t>());
  return InvalidArgument("'version' must be a transaction id");
}

// `audit_log` (protocol §4.1): true answers with the rows' audit entries instead of the rows
// (ingest/audit.h). GET fetch passes it as the text "true"/"false".
StatusOr<bool> AuditLogFlag(const bj::object& args) {
  const bj::value* v = args.if_contains("audit_log");
  if (v == nullptr || v->is_null()) return false;
  if (v->is_bool()) return v->get_bool();
  if (v->is_string() && (v->get_string() == "true" || v->get_string() == "false")) {
    return v->get_string() == "true";
  }
  return InvalidArgument("'audit_log' must be a boolean");
}

// A REST feedback item's `source` and `metadata` describe the feedback, not the row: they
// become the row's audit entry (ingest/audit.h). REST feedback defaults to "api".
bj::object FeedbackAudit(const bj::object& item) {
  bj::object audit;
  const bj::value* source = item.if_contains("source");
  audit["_audit_source"] = source && !source->is_null() ? *source : bj::value("api");
  if (const bj::value* m = item.if_contains("metadata")) audit["_audit_metadata"] = *m;
  return audit;
}

bj::object ResultBody(const query::QueryResult& r) {
  bj::object out;
  out["data"] = r.data;
  bj::object schema;
  schema["type"] = "array";
  bj::object items;
  items["type"] = "object";
  bj::object props;
  for (const auto& row : r.data) {
    for (const auto& kv : row.as_object()) {
      if (!props.contains(kv.key())) props[kv.key()] = bj::object();
    }
  }
  items["properties"] = std::move(props);
  schema["items"] = std::move(items);
  out["schema"] = std::move(schema);
  out["cursor"] = r.cursor.empty() ? bj::value(nullptr) : bj::value(r.cursor);
  return out;
}

}  // namespace

void App::AddDataRoutes() {
  router_.Add({"GET", "/version", false, [this](const Call&) {
                 bj::object o;
                 o["version"] = deps_.version;
                 o["logs3_payload_max_bytes"] = limits::logs3_payload_bytes_max;
                 return Json(o);
               }});

  router_.Add({"POST", "/logs3", false, [this](const Call& c) -> Response {
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 bj::value* rows = body->if_contains("rows");
                 if (rows != nullptr && rows->is_object()) {  // a payload sent through overflow
                   const bj::object& ref = rows->get_object();
                   auto key = RequireString(ref, "key");
                   if (!key.ok()) return Error(key.status());
                   std::string blob_key = "overflow/" + c.principal.org_id + "/" + *key;
                   auto payload = deps_.blobs.Get(blob_key);
                   if (!payload.ok())
                     return Error(NotFound("no uploaded payload with key " + *key));
                   auto inner = json::Parse(*payload);
                   if (!inner.ok()) return Error(inner.status());
                   bj::value* inner_rows =
                       inner->is_object() ? inner->get_object().if_contains("rows") : nullptr;
                   if (inner_rows == nullptr || !inner_rows->is_array()) {
                     return Error(InvalidArgument("uploaded payload has no 'rows' array"));
                   }
                   auto xact = WriteRows(c.principal, std::move(inner_rows->get_array()));
                   if (!xact.ok()) return Error(xact.status());
                   (void)deps_.blobs.Delete(blob_key);
                   return Json(bj::object{{"xact_id", ingest::XactToString(*xact)}});
                 }
                 if (rows == nullptr || !rows->is_array()) {
                   return Error(InvalidArgument("body needs a 'rows' array"));
                 }
                 auto xact = WriteRows(c.principal, std::move(rows->get_array()));
                 if (!xact.ok()) return Error(xact.status());
                 return Json(bj::object{{"xact_id", ingest::XactToString(*xact)}});
               }});

  router_.Add(
      {"POST", "/logs3/overflow", false, [this](const Call& c) -> Response {
         auto body = BodyObject(c.request);
         if (!body.ok()) return Error(body.status());
         const bj::value* size = body->if_contains("size_bytes");
         if (size && size->is_number() &&
             size->to_number<double>() > static_cast<double>(limits::request_body_bytes_max)) {
           return Error(PayloadTooLarge("overflow payloads are limited to " +
                                        std::to_string(limits::request_body_bytes_max) + " bytes"));
         }
         std::string key = NewUuid();
         std::string path = "/logs3/overflow/upload/" + c.principal.org_id + "/" + key;
         bj::object out;
         out["method"] = "PUT";
         out["signedUrl"] = SignedUrl(c.request, path, "PUT");
         out["headers"] = bj::object{{"Content-Type", "application/json"}};
         out["key"] = key;
         return Json(out);
       }});

  router_.Add({"PUT", "/logs3/overflow/upload/{}/{}", true, [this](const Call& c) -> Response {
                 if (Status st = CheckSignature(c.request, "PUT"); !st.ok()) return Error(st);
                 std::string key = "overflow/" + c.params[0] + "/" + c.params[1];
                 if (!storage::IsValidObjectKey(key)) return Error(InvalidArgument("bad key"));
                 if (Status st = deps_.blobs.Put(key, c.request.body); !st.ok()) return Error(st);
                 return Json(bj::object{});
               }});

  router_.Add({"POST", "/btql", false, [this](const Call& c) -> Response {
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 const bj::value* q = body->if_contains("query");
                 if (q == nullptr) return Error(InvalidArgument("body needs 'query'"));
                 // Text (pipe or SQL syntax) parses into the same AST the SDKs send.
                 bj::object ast;
                 if (q->is_string()) {
                   auto parsed_text = query::ParseBtqlText(q->get_string());
                   if (!parsed_text.ok()) return Error(parsed_text.status());
                   ast = std::move(*parsed_text);
                 } else if (q->is_object()) {
                   ast = q->get_object();
                 } else {
                   return Error(InvalidArgument("'query' must be BTQL text or a JSON AST object"));
                 }
                 auto fmt = OptString(*body, "fmt");
                 if (!fmt.ok() || (fmt->has_value() && **fmt != "json")) {
                   return Error(InvalidArgument("'fmt' must be \"json\""));
                 }
                 auto audit_log = AuditLogFlag(*body);
                 if (!audit_log.ok()) return Error(audit_log.status());
                 if (auto fns =
                         ProjectFunctionsBtql(*functions_, c.principal.org_id, ast, *audit_log)) {
                   if (!fns->ok()) return Error(fns->status());
                   return Json(ResultBody(query::QueryResult{.data = std::move(**fns)}));
                 }
                 auto parsed = query::ParseQueryAst(ast);
                 if (!parsed.ok()) return Error(parsed.status());
                 auto version = VersionField(*body);
                 if (!version.ok()) return Error(version.status());
                 auto result = deps_.engine.Run(c.principal.org_id, *parsed, *version);
                 if (!result.ok()) return Error(result.status());
                 if (*audit_log) result->data = ingest::AuditLogRows(result->data);
                 Response r = Json(ResultBody(*result));
                 if (!result->cursor.empty()) r.headers.emplace_back("x-bt-cursor", result->cursor);
                 return r;
               }});

  router_.Add({"GET", "/experiment-comparison2", false, [this](const Call& c) -> Response {
                 const std::string& id = c.request.Query("experiment_id");
                 if (id.empty()) return Error(InvalidArgument("experiment_id is required"));
                 query::ComparisonOptions opts{.experiment_id = id};
                 if (!c.request.Query("base_experiment_id").empty()) {
                   opts.base_experiment_id = c.request.Query("base_experiment_id");
                 }
                 auto out = deps_.engine.CompareExperiments(c.principal.org_id, opts);
                 return out.ok() ? Json(*out) : Error(out.status());
               }});

  router_.Add(
      {"GET", "/dataset-summary", false, [this](const Call& c) -> Response {
         const std::string& id = c.request.Query("dataset_id");
         if (id.empty()) return Error(InvalidArgument("dataset_id is required"));
         auto n = deps_.engine.CountRows(c.principal.org_id, {ingest::ObjectType::kDataset, id});
         if (!n.ok()) return Error(n.status());
         return Json(bj::object{{"total_records", *n}});
       }});

  auto fetch = [this](const Call& c) -> Response {
    auto type = RestType(c.params[0]);
    if (!type.ok()) return Error(type.status());
    bj::object args;
    if (c.request.method == "POST" && !c.request.body.empty()) {
      auto body = BodyObject(c.request);
      if (!body.ok()) return Error(body.status());
      args = std::move(*body);
    } else {
      for (const auto& [k, v] : c.request.query) args[k] = v;
    }
    query::Query q{.source = *type, .object_ids = {c.params[1]}};
    q.limit = limits::btql_limit_default;
    if (const bj::value* limit = args.if_contains("limit"); limit && !limit->is_null()) {
      std::int64_t n = limit->is_string()  ? std::atoll(limit->get_string().c_str())
                       : limit->is_int64() ? limit->get_int64()
                                           : -1;
      if (n < 0) return Error(InvalidArgument("'limit' must be a non-negative integer"));
      q.limit = std::min<std::size_t>(static_cast<std::size_t>(n), limits::btql_limit_max);
    }
    auto cursor = OptString(args, "cursor");
    if (!cursor.ok()) return Error(cursor.status());
    q.cursor = cursor->value_or("");
    auto version = VersionField(args);
    if (!version.ok()) return Error(version.status());
    auto audit_log = AuditLogFlag(args);
    if (!audit_log.ok()) return Error(audit_log.status());
    auto result = deps_.engine.Run(c.principal.org_id, q, *version);
    if (!result.ok()) return Error(result.status());
    if (*audit_log) result->data = ingest::AuditLogRows(result->data);
    bj::object out;
    out["events"] = result->data;
    out["cursor"] = result->cursor.empty() ? bj::value(nullptr) : bj::value(result->cursor);
    return Json(out);
  };
  router_.Add({"GET", "/v1/{}/{}/fetch", false, fetch});
  router_.Add({"POST", "/v1/{}/{}/fetch", false, fetch});

  router_.Add({"POST", "/v1/{}/{}/insert", false, [this](const Call& c) -> Response {
                 auto type = RestType(c.params[0]);
                 if (!type.ok()) return Error(type.status());
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 const bj::value* events = body->if_contains("events");
                 if (events == nullptr || !events->is_array()) {
                   return Error(InvalidArgument("body needs an 'events' array"));
                 }
                 bj::array rows;
                 for (const auto& e : events->get_array()) {
                   if (!e.is_object())
                     return Error(InvalidArgument("each event must be an object"));
                   bj::object row = e.get_object();
                   if (!row.contains("id")) row["id"] = NewUuid();
                   SetRouting(row, *type, c.params[1]);
                   rows.push_back(std::move(row));
                 }
                 auto xact = WriteRows(c.principal, rows);
                 if (!xact.ok()) return Error(xact.status());
                 bj::array ids;
                 for (const auto& r : rows) ids.push_back(r.as_object().at("id"));
                 return Json(bj::object{{"row_ids", std::move(ids)}});
               }});

  router_.Add({"POST", "/v1/{}/{}/feedback", false, [this](const Call& c) -> Response {
                 auto type = RestType(c.params[0]);
                 if (!type.ok()) return Error(type.status());
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 const bj::value* items = body->if_contains("feedback");
                 if (items == nullptr || !items->is_array()) {
                   return Error(InvalidArgument("body needs a 'feedback' array"));
                 }
                 bj::array rows;
                 for (const auto& f : items->get_array()) {
                   if (!f.is_object())
                     return Error(InvalidArgument("each feedback item must be an object"));
                   const bj::object& item = f.get_object();
                   auto id = RequireString(item, "id");
                   if (!id.ok()) return Error(id.status());
                   bj::object audit = FeedbackAudit(item);
                   bj::object merge = audit;
                   merge["id"] = *id;
                   merge["_is_merge"] = true;
                   for (const char* k : {"scores", "expected", "tags"}) {
                     if (const bj::value* v = item.if_contains(k)) merge[k] = *v;
                   }
                   SetRouting(merge, *type, c.params[1]);
                   rows.push_back(std::move(merge));
                   if (const bj::value* text = item.if_contains("comment");
                       text && text->is_string()) {
                     bj::object comment = audit;
                     comment["id"] = NewUuid();
                     comment["created"] = FormatIsoTime(NowMicros());
                     comment["origin"] = bj::object{{"id", *id}};
                     comment["comment"] = bj::object{{"text", *text}};
                     SetRouting(comment, *type, c.params[1]);
                     rows.push_back(std::move(comment));
                   }
                 }
                 auto xact = WriteRows(c.principal, rows);
                 if (!xact.ok()) return Error(xact.status());
                 return Json(bj::object{{"status", "success"}});
               }});

  router_.Add(
      {"GET", "/v1/experiment/{}/summarize", false, [this](const Call& c) -> Response {
         auto exp = deps_.registry.Get(c.principal.org_id, ObjectKind::kExperiment, c.params[0]);
         if (!exp.ok()) return Error(exp.status());
         auto project =
             deps_.registry.Get(c.principal.org_id, ObjectKind::kProject, exp->project_id);
         bj::object out;
         out["project_name"] = project.ok() ? project->name : "";
         out["experiment_name"] = exp->name;
         out["project_url"] = c.request.Origin() + "/app/p/" + exp->project_id;
         out["experiment_url"] = c.request.Origin() + "/app/experiments/" + exp->id;
         std::optional<std::string> base_id;
         if (!c.request.Query("comparison_experiment_id").empty()) {
           base_id = c.request.Query("comparison_experiment_id");
         } else {
           auto base = deps_.registry.BaseExperiment(c.principal.org_id, exp->id);
           if (base.ok() && base->has_value()) base_id = (*base)->id;
         }
         if (base_id) {
           auto base = deps_.registry.Get(c.principal.org_id, ObjectKind::kExperiment, *base_id);
           if (!base.ok()) return Error(base.status());
           out["comparison_experiment_name"] = base->name;
         }
         if (c.request.Query("summarize_scores") != "false") {
           auto cmp = deps_.engine.CompareExperiments(
               c.principal.org_id, {.experiment_id = exp->id, .base_experiment_id = base_id});
           if (!cmp.ok()) return Error(cmp.status());
           out["scores"] = cmp->at("scores");
           out["metrics"] = cmp->at("metrics");
         }
         return Json(out);
       }});

  router_.Add({"GET", "/v1/dataset/{}/summarize", false, [this](const Call& c) -> Response {
                 auto ds =
                     deps_.registry.Get(c.principal.org_id, ObjectKind::kDataset, c.params[0]);
                 if (!ds.ok()) return Error(ds.status());
                 auto project =
                     deps_.registry.Get(c.principal.org_id, ObjectKind::kProject, ds->project_id);
                 bj::object out;
                 out["project_name"] = project.ok() ? project->name : "";
                 out["dataset_name"] = ds->name;
                 out["project_url"] = c.request.Origin() + "/app/p/" + ds->project_id;
                 out["dataset_url"] = c.request.Origin() + "/app/datasets/" + ds->id;
                 if (c.request.Query("summarize_data") != "false") {
                   auto n = deps_.engine.CountRows(c.principal.org_id,
                                                   {ingest::ObjectType::kDataset, ds->id});
                   if (!n.ok()) return Error(n.status());
                   out["data_summary"] = bj::object{{"total_records", *n}};
                 }
                 return Json(out);
               }});
}

}  // namespace arbor::api
