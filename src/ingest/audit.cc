#include "ingest/audit.h"

#include <cstddef>
#include <vector>

#include "base/limits.h"
#include "base/util.h"
#include "ingest/rows.h"
#include "ingest/xact.h"

namespace arbor::ingest {
namespace {

namespace bj = boost::json;

// Fields that route a row or that the server owns: not changes a reviewer made.
bool IsRoutingField(std::string_view k) {
  return k == "id" || k == "experiment_id" || k == "dataset_id" || k == "project_id" ||
         k == "log_id" || k == "org_id" || k == "prompt_session_id" || k == "created";
}

// Small scalars are quoted in the trail; big or nested values are only named by their path.
bool Quotable(const bj::value& v) {
  if (v.is_string()) return v.get_string().size() <= limits::audit_value_bytes_max;
  return !v.is_object() && !v.is_array();
}

const bj::value* At(const bj::object* obj, const std::vector<std::string>& path) {
  const bj::value* v = nullptr;
  for (const std::string& k : path) {
    if (obj == nullptr) return nullptr;
    v = obj->if_contains(k);
    obj = v && v->is_object() ? &v->get_object() : nullptr;
  }
  return v;
}

// Leaf paths of a merge row (objects descend, as the merge does), each with the value it
// replaced and the new one when both are quotable.
void CollectChanges(const bj::object& fields, const bj::object* old, std::vector<std::string>& path,
                    bj::array& out) {
  for (const auto& [k, v] : fields) {
    if (out.size() >= limits::audit_changes_max) return;
    if (path.empty() && IsRoutingField(k)) continue;
    path.emplace_back(k);
    if (v.is_object() && !v.get_object().empty()) {
      CollectChanges(v.get_object(), old, path, out);
    } else {
      bj::object change;
      bj::array p;
      for (const auto& s : path) p.emplace_back(s);
      change["path"] = std::move(p);
      const bj::value* before = At(old, path);
      if (before == nullptr || Quotable(*before)) {
        change["from"] = before ? *before : bj::value(nullptr);
      }
      if (Quotable(v)) change["to"] = v;
      out.push_back(std::move(change));
    }
    path.pop_back();
  }
}

}  // namespace

void UpdateAuditTrail(bj::object& row, const bj::object* old, const IncomingRow& in,
                      std::uint64_t xact) {
  bj::array trail;
  if (const bj::value* prev = old ? old->if_contains("audit_data") : nullptr;
      prev && prev->is_array()) {
    trail = prev->get_array();
  }
  if (in.audit) {
    bj::object action;
    action["action"] = in.is_merge && old ? "merge" : "upsert";
    if (in.is_merge && old) {
      bj::array changes;
      std::vector<std::string> path;
      CollectChanges(in.fields, old, path, changes);
      action["changes"] = std::move(changes);
    }
    bj::object entry;
    entry["_xact_id"] = XactToString(xact);
    entry["created"] = FormatIsoTime(NowMicros());
    entry["source"] = in.audit->source;
    entry["metadata"] = in.audit->metadata;
    auto or_null = [](const std::string& s) { return s.empty() ? bj::value() : bj::value(s); };
    entry["key_id"] = or_null(in.audit->key_id);
    entry["user_id"] = or_null(in.audit->user_id);
    entry["audit_data"] = std::move(action);
    trail.push_back(std::move(entry));
    if (trail.size() > limits::audit_entries_max) {
      trail.erase(trail.begin(), trail.begin() + static_cast<std::ptrdiff_t>(
                                                     trail.size() - limits::audit_entries_max));
    }
  }
  if (trail.empty()) {
    row.erase("audit_data");
  } else {
    row["audit_data"] = std::move(trail);
  }
}

bj::array AuditLogRows(const bj::array& rows) {
  bj::array out;
  for (const bj::value& r : rows) {
    if (!r.is_object()) continue;
    const bj::object& row = r.get_object();
    const bj::value* trail = row.if_contains("audit_data");
    if (trail == nullptr || !trail->is_array()) continue;
    for (const bj::value& e : trail->get_array()) {
      if (!e.is_object()) continue;
      bj::object entry = e.get_object();
      for (const auto& [k, v] : row) {
        if (IsRoutingField(k) && k != "created") entry[k] = v;
      }
      out.push_back(std::move(entry));
    }
  }
  return out;
}

}  // namespace arbor::ingest
