#include "query/engine.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "json/json.h"
#include "query/scan.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

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

StatusOr<std::vector<storage::VisibleRow>> Engine::AllRows(const std::string& org_id,
                                                           const ingest::ObjectRef& object) {
  const storage::ObjectRows* rows = store_.Find(ingest::ObjectKey(org_id, object));
  if (rows == nullptr) return std::vector<storage::VisibleRow>{};
  return rows->ScanIf(writer_.visible_xact(), 0, SIZE_MAX,
                      [](const bj::object& r) { return !IsComment(r); });
}

StatusOr<QueryResult> Engine::Run(const std::string& org_id, const Query& q,
                                  std::optional<std::uint64_t> version) {
  for (const std::string& id : q.object_ids) RETURN_IF_ERROR(CheckObject(org_id, {q.source, id}));
  if (q.filter && ContainsOp(*q.filter, ExprOp::kAnySpan)) {
    return RunWithAnySpan(org_id, q, version);
  }
  Cursor start{.snapshot = writer_.visible_xact()};
  if (version) start.snapshot = std::min(start.snapshot, *version);
  if (!q.cursor.empty()) {
    ASSIGN_OR_RETURN(start, DecodeCursor(q.cursor));
    if (start.object_index > q.object_ids.size()) return InvalidArgument("cursor out of range");
  }
  if (!q.dimensions.empty() || !q.measures.empty()) {
    return RunAggregate(org_id, q, start.snapshot, start.position);
  }
  if (q.shape != Shape::kSpans) return RunTraces(org_id, q, start.snapshot, start.position);
  QueryResult result;
  if (!q.sort.empty()) {
    std::vector<bj::object> all;
    for (const std::string& id : q.object_ids) {
      const storage::ObjectRows* rows = store_.Find(ingest::ObjectKey(org_id, {q.source, id}));
      if (rows == nullptr) continue;
      ASSIGN_OR_RETURN(CommentIndex comments, IndexComments(*rows, start.snapshot));
      ASSIGN_OR_RETURN(auto selected, Select(*rows, q, start.snapshot, 0, SIZE_MAX));
      for (auto& v : selected) {
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
    ASSIGN_OR_RETURN(auto page, Select(*rows, q, at.snapshot, at.position, want + 1));
    CommentIndex comments;
    if (!page.empty()) {
      ASSIGN_OR_RETURN(comments, IndexComments(*rows, at.snapshot));
    }
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
  ASSIGN_OR_RETURN(auto rows, AllRows(org_id, object));
  return rows.size();
}

StatusOr<std::optional<std::uint64_t>> Engine::MaxXact(const std::string& org_id,
                                                       const ingest::ObjectRef& object) {
  RETURN_IF_ERROR(CheckObject(org_id, object));
  std::optional<std::uint64_t> best;
  ASSIGN_OR_RETURN(auto rows, AllRows(org_id, object));
  for (const auto& v : rows) best = std::max(best.value_or(0), v.xact);
  return best;
}

}  // namespace arbor::query
