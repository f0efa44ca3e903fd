// any_span(p) in a filter (brainstore.md §1.9): true for every span of a trace in which some
// span satisfies p. Each any_span() is resolved before the query runs, into the set of traces
// where its predicate holds at the query's snapshot, so every shape (and aggregation) then
// evaluates the filter span by span: `any_span(a) AND any_span(b)` finds traces where a and b
// hold on possibly different spans, while `a AND b` needs one span satisfying both.
#include "query/engine.h"
#include "query/scan.h"

namespace arbor::query {

StatusOr<QueryResult> Engine::RunWithAnySpan(const std::string& org_id, const Query& q,
                                             std::optional<std::uint64_t> version) {
  // The snapshot Run will read at: the cursor's, else the newest durable state (or `version`).
  std::uint64_t snapshot = writer_.visible_xact();
  if (version) snapshot = std::min(snapshot, *version);
  if (!q.cursor.empty()) {
    ASSIGN_OR_RETURN(Cursor c, DecodeCursor(q.cursor));
    snapshot = c.snapshot;
  }
  Status scan_error;  // a segment read failure inside the callback
  ReadPaths keys_read;
  keys_read.AddTraceScopeKey();
  auto traces_matching = [&](const Expr& predicate) {
    auto keys = std::make_shared<std::unordered_set<std::string>>();
    Query scan;
    scan.source = q.source;
    scan.filter = predicate;
    for (const std::string& id : q.object_ids) {
      const storage::ObjectRows* rows = store_.Find(ingest::ObjectKey(org_id, {q.source, id}));
      if (rows == nullptr) continue;
      // Trace keys are light fields.
      auto selected = Select(*rows, scan, snapshot, 0, SIZE_MAX, Reads(true), Returned(keys_read));
      if (!selected.ok()) {
        scan_error = selected.status();
        continue;
      }
      for (const auto& v : *selected) keys->insert(TraceScopeKey(*v.row));
    }
    return std::shared_ptr<const std::unordered_set<std::string>>(std::move(keys));
  };
  Query resolved = q;
  resolved.filter = ResolveAnySpan(*q.filter, traces_matching);
  RETURN_IF_ERROR(scan_error);
  return Run(org_id, resolved, version);  // no any_span() is left, so this does not come back
}

}  // namespace arbor::query
