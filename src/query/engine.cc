#include "query/engine.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "json/json.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

bool IsComment(const bj::object& row) {
  const bj::value* c = row.if_contains("comment");
  return c != nullptr && c->is_object();
}

catalog::ObjectKind CatalogKind(ingest::ObjectType type) {
  switch (type) {
    case ingest::ObjectType::kExperiment:
      return catalog::ObjectKind::kExperiment;
    case ingest::ObjectType::kDataset:
      return catalog::ObjectKind::kDataset;
    default:
      return catalog::ObjectKind::kProject;
  }
}

// Cursor text: "<snapshot>.<object index>.<position>"; position is a row sequence number,
// or an offset into the sorted result when the query sorts.
struct Cursor {
  std::uint64_t snapshot = 0;
  std::size_t object_index = 0;
  std::uint64_t position = 0;
};

std::string EncodeCursor(const Cursor& c) {
  return std::to_string(c.snapshot) + "." + std::to_string(c.object_index) + "." +
         std::to_string(c.position);
}

StatusOr<Cursor> DecodeCursor(std::string_view text) {
  Cursor c;
  std::uint64_t parts[3];
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, parts[i]);
    if (ec != std::errc() || (i < 2 && (next == end || *next != '.')) || (i == 2 && next != end)) {
      return InvalidArgument("malformed cursor: pass back the cursor a previous page returned");
    }
    p = next + 1;
  }
  c.snapshot = parts[0];
  c.object_index = static_cast<std::size_t>(parts[1]);
  c.position = parts[2];
  return c;
}

using CommentIndex = std::map<std::string, bj::array>;

CommentIndex IndexComments(const storage::ObjectRows& rows, std::uint64_t snapshot) {
  CommentIndex index;
  std::vector<std::string> ids = rows.CommentIds();
  if (ids.empty()) return index;
  for (const auto& v : rows.ScanIds(snapshot, 0, SIZE_MAX, ids, IsComment)) {
    const bj::value* origin = v.row->if_contains("origin");
    const bj::value* target =
        origin && origin->is_object() ? origin->get_object().if_contains("id") : nullptr;
    if (target && target->is_string()) index[std::string(target->get_string())].push_back(*v.row);
  }
  return index;
}

bj::object Present(const bj::object& row, const Query& q, const CommentIndex& comments) {
  bj::object out = row;
  out["is_root"] = IsRoot(row);
  if (const bj::value* id = row.if_contains("id"); id && id->is_string()) {
    auto it = comments.find(std::string(id->get_string()));
    if (it != comments.end()) out["comments"] = it->second;
  }
  if (q.select.empty()) return out;
  bj::object projected;
  for (const SelectItem& item : q.select) projected[item.alias] = Evaluate(item.expr, out);
  return projected;
}

// An index lookup instead of a scan: the ids a filter pins its result to, when it is (or a
// top-level AND contains) `id = 'x'`, `id IN [...]` or `root_span_id = 'x'`.
std::optional<std::vector<std::string>> CandidateIds(const std::optional<Expr>& filter,
                                                     const storage::ObjectRows& rows) {
  if (!filter) return std::nullopt;
  std::vector<const Expr*> conjuncts;
  if (filter->op == ExprOp::kAnd) {
    for (const Expr& c : filter->children) conjuncts.push_back(&c);
  } else {
    conjuncts.push_back(&*filter);
  }
  for (const Expr* e : conjuncts) {
    if ((e->op != ExprOp::kEq && e->op != ExprOp::kIn) || e->children.size() != 2) continue;
    const Expr& l = e->children[0];
    const Expr& r = e->children[1];
    if (l.op != ExprOp::kIdent || r.op != ExprOp::kLiteral || l.path.size() != 1) continue;
    std::vector<std::string> values;
    if (e->op == ExprOp::kEq && r.literal.is_string()) {
      values.emplace_back(r.literal.get_string());
    } else if (e->op == ExprOp::kIn && r.literal.is_array()) {
      for (const auto& v : r.literal.get_array()) {
        if (v.is_string()) values.emplace_back(v.get_string());
      }
    } else {
      continue;
    }
    if (l.path[0] == "id") return values;
    if (l.path[0] == "root_span_id") {
      std::vector<std::string> ids;
      for (const std::string& root : values) {
        for (std::string& id : rows.IdsOfTrace(root)) ids.push_back(std::move(id));
      }
      return ids;
    }
  }
  return std::nullopt;
}

// Rows of one object matching the query, in first-write order after `after_seq`.
std::vector<storage::VisibleRow> Select(const storage::ObjectRows& rows, const Query& q,
                                        std::uint64_t snapshot, std::uint64_t after_seq,
                                        std::size_t limit) {
  auto keep = [&](const bj::object& r) {
    return !IsComment(r) && (!q.filter || Matches(*q.filter, r));
  };
  if (auto ids = CandidateIds(q.filter, rows)) {
    return rows.ScanIds(snapshot, after_seq, limit, *ids, keep);
  }
  return rows.ScanIf(snapshot, after_seq, limit, keep);
}

bool SortLess(const Query& q, const bj::object& a, const bj::object& b) {
  for (const SortItem& s : q.sort) {
    int c = json::Compare(Evaluate(s.expr, a), Evaluate(s.expr, b));
    if (c != 0) return s.descending ? c > 0 : c < 0;
  }
  return false;
}

}  // namespace

Status Engine::CheckObject(const std::string& org_id, const ingest::ObjectRef& object) {
  if (object.type == ingest::ObjectType::kPlaygroundLogs) return Status::Ok();
  auto found = catalog_.GetObject(org_id, CatalogKind(object.type), object.id);
  if (!found.ok()) {
    return NotFound(std::string(ingest::ObjectTypeName(object.type)) + " " + object.id +
                    " does not exist in this organization");
  }
  return Status::Ok();
}

std::vector<storage::VisibleRow> Engine::AllRows(const std::string& org_id,
                                                 const ingest::ObjectRef& object) {
  const storage::ObjectRows* rows = store_.Find(ingest::ObjectKey(org_id, object));
  if (rows == nullptr) return {};
  return rows->ScanIf(writer_.visible_xact(), 0, SIZE_MAX,
                      [](const bj::object& r) { return !IsComment(r); });
}

StatusOr<QueryResult> Engine::Run(const std::string& org_id, const Query& q,
                                  std::optional<std::uint64_t> version) {
  for (const std::string& id : q.object_ids) RETURN_IF_ERROR(CheckObject(org_id, {q.source, id}));
  Cursor start{.snapshot = writer_.visible_xact()};
  if (version) start.snapshot = std::min(start.snapshot, *version);
  if (!q.cursor.empty()) {
    ASSIGN_OR_RETURN(start, DecodeCursor(q.cursor));
    if (start.object_index > q.object_ids.size()) return InvalidArgument("cursor out of range");
  }
  QueryResult result;
  if (!q.sort.empty()) {
    std::vector<bj::object> all;
    for (const std::string& id : q.object_ids) {
      const storage::ObjectRows* rows = store_.Find(ingest::ObjectKey(org_id, {q.source, id}));
      if (rows == nullptr) continue;
      CommentIndex comments = IndexComments(*rows, start.snapshot);
      for (auto& v : Select(*rows, q, start.snapshot, 0, SIZE_MAX)) {
        all.push_back(Present(*v.row, Query{}, comments));
      }
    }
    std::stable_sort(all.begin(), all.end(),
                     [&](const bj::object& a, const bj::object& b) { return SortLess(q, a, b); });
    std::size_t end = std::min<std::size_t>(all.size(), start.position + q.limit);
    for (std::size_t i = start.position; i < end; ++i) {
      result.data.push_back(q.select.empty() ? bj::value(std::move(all[i]))
                                             : bj::value(Present(all[i], q, {})));
    }
    if (end < all.size()) result.cursor = EncodeCursor({start.snapshot, 0, end});
    return result;
  }
  Cursor at = start;
  for (; at.object_index < q.object_ids.size(); ++at.object_index, at.position = 0) {
    const storage::ObjectRows* rows =
        store_.Find(ingest::ObjectKey(org_id, {q.source, q.object_ids[at.object_index]}));
    if (rows == nullptr) continue;
    std::size_t want = q.limit - result.data.size();
    // One extra row tells whether another page exists.
    auto page = Select(*rows, q, at.snapshot, at.position, want + 1);
    CommentIndex comments = page.empty() ? CommentIndex{} : IndexComments(*rows, at.snapshot);
    for (std::size_t i = 0; i < page.size() && i < want; ++i) {
      result.data.push_back(Present(*page[i].row, q, comments));
      at.position = page[i].seq;
    }
    if (page.size() > want) {
      result.cursor = EncodeCursor(at);
      return result;
    }
    if (result.data.size() == q.limit) {
      Cursor next{at.snapshot, at.object_index + 1, 0};
      if (next.object_index < q.object_ids.size()) result.cursor = EncodeCursor(next);
      return result;
    }
  }
  return result;
}

StatusOr<std::size_t> Engine::CountRows(const std::string& org_id,
                                        const ingest::ObjectRef& object) {
  RETURN_IF_ERROR(CheckObject(org_id, object));
  return AllRows(org_id, object).size();
}

StatusOr<std::optional<std::uint64_t>> Engine::MaxXact(const std::string& org_id,
                                                       const ingest::ObjectRef& object) {
  RETURN_IF_ERROR(CheckObject(org_id, object));
  std::optional<std::uint64_t> best;
  for (const auto& v : AllRows(org_id, object)) best = std::max(best.value_or(0), v.xact);
  return best;
}

}  // namespace arbor::query
