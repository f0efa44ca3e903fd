#include "query/engine.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
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
                                                           const ingest::ObjectRef& object,
                                                           const ReadPaths& reads) {
  const storage::ObjectRows* rows = store_.Find(ingest::ObjectKey(org_id, object));
  if (rows == nullptr) return std::vector<storage::VisibleRow>{};
  // Light rows: counts and _xact_ids need no bodies (summary.cc reads what else it needs).
  auto live = [](const bj::object& r) { return !IsComment(r); };
  if (!light_rows_) {
    return rows->ScanIf(writer_.visible_xact(), 0, SIZE_MAX, storage::ScanFilter{.full = live});
  }
  storage::ScanFilter filter{.light = live};
  if (columns_) {
    ReadPaths columns;
    columns.AddField({"comment"});  // IsComment
    columns.Add(reads);
    if (auto paths = columns.Paths()) filter.columns = std::move(*paths);
  }
  return rows->ScanIf(writer_.visible_xact(), 0, SIZE_MAX, filter);
}

bool Engine::ColumnsByDefault() {
  const char* setting = std::getenv("ARBOR_QUERY_COLUMNS");
  return setting == nullptr || std::string_view(setting) != "off";
}

RowReads Engine::Reads(bool light_ok) const {
  if (!light_rows_) return RowReads::kBodiesOnly;
  return light_ok ? RowReads::kLightOk : RowReads::kBodies;
}

// Sorted spans: every matching row is ranked on its sort key (evaluated once), only the
// requested page is ordered (partial sort) and presented; rows off the page are never copied.
// Keys that read only light fields are taken from light rows: only the page needs bodies.
StatusOr<QueryResult> Engine::RunSorted(const std::string& org_id, const Query& q,
                                        const Cursor& start) {
  struct Ranked {
    SortKey key;
    std::size_t ordinal = 0;  // selection order, for a stable result
    storage::VisibleRow row;
    const storage::ObjectRows* rows = nullptr;
    const CommentIndex* comments = nullptr;
  };
  const bool light_keys = ReadsOnlyLight(q.sort);
  const bool presented_keys = SortNeedsPresented(q);
  // Keys are read from the selected rows (through Present: is_root, and comments by id).
  ReadPaths key_reads;
  key_reads.Add(q.sort);
  if (presented_keys) key_reads.AddField({"id"});
  std::vector<std::unique_ptr<CommentIndex>> comment_indexes;
  std::vector<Ranked> ranked;
  for (const std::string& id : q.object_ids) {
    const storage::ObjectRows* rows = store_.Find(ingest::ObjectKey(org_id, {q.source, id}));
    if (rows == nullptr) continue;
    ASSIGN_OR_RETURN(CommentIndex comments, IndexComments(*rows, start.snapshot));
    comment_indexes.push_back(std::make_unique<CommentIndex>(std::move(comments)));
    const CommentIndex* index = comment_indexes.back().get();
    ASSIGN_OR_RETURN(auto selected, Select(*rows, q, start.snapshot, 0, SIZE_MAX, Reads(light_keys),
                                           Returned(key_reads)));
    for (auto& v : selected) {
      SortKey key =
          presented_keys ? SortKeyOf(q, Present(*v.row, Query{}, *index)) : SortKeyOf(q, *v.row);
      ranked.push_back({std::move(key), ranked.size(), std::move(v), rows, index});
    }
  }
  std::size_t begin = std::min<std::size_t>(ranked.size(), start.position);
  std::size_t end = std::min<std::size_t>(ranked.size(), start.position + q.limit);
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(end), ranked.end(),
                    [&q](const Ranked& a, const Ranked& b) {
                      int c = CompareSortKeys(q, a.key, b.key);
                      return c != 0 ? c < 0 : a.ordinal < b.ordinal;
                    });
  QueryResult result;
  for (std::size_t i = begin; i < end; ++i) {
    ASSIGN_OR_RETURN(storage::RowPtr row, ranked[i].rows->FullBody(ranked[i].row));
    result.data.push_back(Present(*row, q, *ranked[i].comments));
  }
  if (end < ranked.size()) result.cursor = EncodeCursor({start.snapshot, 0, end});
  return result;
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
  if (!q.sort.empty()) return RunSorted(org_id, q, start);
  Cursor at = start;
  for (; at.object_index < q.object_ids.size(); ++at.object_index, at.position = 0) {
    const storage::ObjectRows* rows =
        store_.Find(ingest::ObjectKey(org_id, {q.source, q.object_ids[at.object_index]}));
    if (rows == nullptr) continue;
    std::size_t want = q.limit - result.data.size();
    // One extra row tells whether another page exists.
    // Of the selected rows only their place (seq) is read before their bodies are.
    const ReadPaths nothing;
    ASSIGN_OR_RETURN(auto page, Select(*rows, q, at.snapshot, at.position, want + 1, Reads(true),
                                       Returned(nothing)));
    CommentIndex comments;
    if (!page.empty()) {
      ASSIGN_OR_RETURN(comments, IndexComments(*rows, at.snapshot));
    }
    for (std::size_t i = 0; i < page.size() && i < want; ++i) {
      ASSIGN_OR_RETURN(storage::RowPtr row, rows->FullBody(page[i]));
      result.data.push_back(Present(*row, q, comments));
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
  ASSIGN_OR_RETURN(auto rows, AllRows(org_id, object, ReadPaths()));
  return rows.size();
}

StatusOr<std::optional<std::uint64_t>> Engine::MaxXact(const std::string& org_id,
                                                       const ingest::ObjectRef& object) {
  RETURN_IF_ERROR(CheckObject(org_id, object));
  std::optional<std::uint64_t> best;
  ASSIGN_OR_RETURN(auto rows, AllRows(org_id, object, ReadPaths()));
  for (const auto& v : rows) best = std::max(best.value_or(0), v.xact);
  return best;
}

}  // namespace arbor::query
