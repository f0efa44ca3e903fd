#include "query/paths.h"

#include <algorithm>

#include "storage/segment.h"

namespace arbor::query {

void ReadPaths::Add(const Expr& e) {
  if (whole_row_) return;
  if (e.op == ExprOp::kIdent) {
    if (e.path.empty() || storage::IsHeavyField(e.path[0]) || e.path[0] == "comments") {
      whole_row_ = true;
    } else if (e.path.size() == 1 && e.path[0] == "is_root") {
      AddField({"span_parents"});  // a virtual column (IsRoot), never the stored field
    } else {
      AddField(e.path);
    }
    return;
  }
  if (e.op == ExprOp::kTraceIn) AddTraceScopeKey();
  for (const Expr& c : e.children) Add(c);
}

void ReadPaths::AddTraceScopeKey() {
  // The object id field that holds, then the trace root (else the row id).
  for (const char* field :
       {"experiment_id", "dataset_id", "prompt_session_id", "project_id", "root_span_id", "id"}) {
    AddField({field});
  }
}

void ReadPaths::Add(const std::vector<SortItem>& items) {
  for (const SortItem& s : items) Add(s.expr);
}

void ReadPaths::Add(const std::vector<SelectItem>& items) {
  for (const SelectItem& s : items) Add(s.expr);
}

void ReadPaths::AddField(storage::FieldPath path) {
  if (path.empty()) {
    whole_row_ = true;
    return;
  }
  paths_.push_back(std::move(path));
}

void ReadPaths::Add(const ReadPaths& other) {
  whole_row_ = whole_row_ || other.whole_row_;
  paths_.insert(paths_.end(), other.paths_.begin(), other.paths_.end());
}

std::optional<std::vector<storage::FieldPath>> ReadPaths::Paths() const {
  if (whole_row_) return std::nullopt;
  std::vector<storage::FieldPath> sorted = paths_;
  std::sort(sorted.begin(), sorted.end());
  // In sorted order a covering prefix comes right before the paths it covers.
  std::vector<storage::FieldPath> out;
  for (storage::FieldPath& p : sorted) {
    const bool covered = !out.empty() && out.back().size() <= p.size() &&
                         std::equal(out.back().begin(), out.back().end(), p.begin());
    if (!covered) out.push_back(std::move(p));
  }
  return out;
}

std::optional<std::vector<storage::FieldPath>> PathsOf(const Expr& e) {
  ReadPaths reads;
  reads.Add(e);
  return reads.Paths();
}

}  // namespace arbor::query
