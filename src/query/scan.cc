#include "query/scan.h"

#include <algorithm>
#include <charconv>

#include "base/tokenize.h"
#include "json/json.h"
#include "query/functions.h"
#include "query/ranges.h"
#include "storage/segment.h"

namespace arbor::query {

namespace bj = boost::json;

bool IsComment(const bj::object& row) {
  const bj::value* c = row.if_contains("comment");
  return c != nullptr && c->is_object();
}

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

StatusOr<CommentIndex> IndexComments(const storage::ObjectRows& rows, std::uint64_t snapshot) {
  CommentIndex index;
  std::vector<std::string> ids = rows.CommentIds();
  if (ids.empty()) return index;
  ASSIGN_OR_RETURN(auto comments, rows.ScanIds(snapshot, 0, SIZE_MAX, ids, IsComment));
  for (const auto& v : comments) {
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
namespace {

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

// The MATCH conjuncts every matching row meets: top-level `field MATCH 'text'` terms. Only
// plain stored fields count (the text index and block filters hold every token of each field);
// MATCH over a computed value or the virtual is_root may see text the row does not hold. A
// query without tokens matches nothing, so leaving it out only keeps more rows.
std::vector<storage::TextTerm> RequiredTerms(const std::optional<Expr>& filter) {
  std::vector<storage::TextTerm> out;
  if (!filter) return out;
  std::vector<const Expr*> conjuncts;
  if (filter->op == ExprOp::kAnd) {
    for (const Expr& c : filter->children) conjuncts.push_back(&c);
  } else {
    conjuncts.push_back(&*filter);
  }
  for (const Expr* e : conjuncts) {
    if (e->op != ExprOp::kMatch || e->children.size() != 2) continue;
    const Expr& l = e->children[0];
    const Expr& r = e->children[1];
    if (l.op != ExprOp::kIdent || l.path.empty() || l.path[0] == "is_root") continue;
    if (r.op != ExprOp::kLiteral || !r.literal.is_string()) continue;
    storage::TextTerm term{.field = l.path, .phrase = IsPhraseQuery(r.literal.get_string())};
    for (const std::string& token : QueryTokens(r.literal.get_string())) {
      term.tokens.push_back(TokenHash(token));
    }
    if (!term.tokens.empty()) out.push_back(std::move(term));
  }
  return out;
}

// Every token of the terms, whatever their fields (for block filters and older text indexes).
std::vector<std::uint64_t> RequiredTokens(const std::vector<storage::TextTerm>& terms) {
  std::vector<std::uint64_t> out;
  for (const storage::TextTerm& t : terms) out.insert(out.end(), t.tokens.begin(), t.tokens.end());
  return out;
}

// Column projections and ranges for a scan (storage::ScanFilter::columns, ranges). Rows are
// read as projections only when the light filter reads known paths, and so does the caller
// where the rows come back as they were read (no `full` stage).
void UseColumns(const Query& q, const std::vector<const Expr*>& light, const ReadPaths& returned,
                storage::ScanFilter& filter) {
  filter.ranges = RangesOf(q.filter);
  if (!filter.light) return;  // nothing is read light
  ReadPaths reads;
  reads.AddField({"comment"});  // IsComment
  for (const Expr* e : light) reads.Add(*e);
  if (!filter.full) reads.Add(returned);
  if (auto paths = reads.Paths()) filter.columns = std::move(*paths);
}

}  // namespace

bool ReadsOnlyLight(const Expr& e) {
  if (e.op == ExprOp::kIdent && (e.path.empty() || storage::IsHeavyField(e.path[0]))) {
    return false;
  }
  return std::all_of(e.children.begin(), e.children.end(),
                     [](const Expr& c) { return ReadsOnlyLight(c); });
}

bool ReadsOnlyLight(const std::vector<SortItem>& sort) {
  return std::all_of(sort.begin(), sort.end(),
                     [](const SortItem& s) { return ReadsOnlyLight(s.expr); });
}

bool ReadsOnlyLight(const std::vector<SelectItem>& items) {
  return std::all_of(items.begin(), items.end(),
                     [](const SelectItem& s) { return ReadsOnlyLight(s.expr); });
}

// Rows of one object matching the query, in first-write order after `after_seq`.
StatusOr<std::vector<storage::VisibleRow>> Select(const storage::ObjectRows& rows, const Query& q,
                                                  std::uint64_t snapshot, std::uint64_t after_seq,
                                                  std::size_t limit, RowReads reads,
                                                  const ReadPaths* returned) {
  storage::ScanFilter filter{.required_terms = RequiredTerms(q.filter)};
  filter.required_tokens = RequiredTokens(filter.required_terms);
  std::vector<const Expr*> light;  // what filter.light evaluates (beside IsComment)
  if (reads == RowReads::kBodiesOnly) {
    filter.full = [&](const bj::object& r) {
      return !IsComment(r) && (!q.filter || Matches(*q.filter, r));
    };
  } else if (!q.filter || ReadsOnlyLight(*q.filter)) {
    if (q.filter) light.push_back(&*q.filter);
    filter.light = [&](const bj::object& r) {
      return !IsComment(r) && (!q.filter || Matches(*q.filter, r));
    };
    if (reads == RowReads::kBodies) filter.full = [](const bj::object&) { return true; };
  } else {
    // A filter reading heavy fields: its light conjuncts (a row passes an AND only when every
    // conjunct is true) rule rows out before their bodies are read, the whole filter decides.
    if (q.filter->op == ExprOp::kAnd) {
      for (const Expr& c : q.filter->children) {
        if (ReadsOnlyLight(c)) light.push_back(&c);
      }
    }
    if (!light.empty()) {
      filter.light = [light](const bj::object& r) {
        return !IsComment(r) && std::all_of(light.begin(), light.end(),
                                            [&](const Expr* c) { return Matches(*c, r); });
      };
    }
    filter.full = [&](const bj::object& r) { return !IsComment(r) && Matches(*q.filter, r); };
  }
  if (returned != nullptr && reads != RowReads::kBodiesOnly) {
    UseColumns(q, light, *returned, filter);
  }
  if (auto ids = CandidateIds(q.filter, rows)) {
    filter.required_tokens.clear();  // an index lookup reads few rows; no block filters needed
    filter.required_terms.clear();
    return rows.ScanIds(snapshot, after_seq, limit, *ids, filter);
  }
  return rows.ScanIf(snapshot, after_seq, limit, filter);
}

namespace {

// json::Compare's total order, except that two timestamps compare as times and timestamps
// come before other strings (keeping the order total, which std::sort requires).
int OrderValues(const bj::value& a, const bj::value& b) {
  if (a.is_string() && b.is_string()) {
    auto ta = ParseTimestampMicros(a.get_string());
    auto tb = ParseTimestampMicros(b.get_string());
    if (ta && tb) return *ta < *tb ? -1 : (*ta > *tb ? 1 : 0);
    if (ta || tb) return ta ? -1 : 1;
  }
  return json::Compare(a, b);
}

bool ReadsPresentedField(const Expr& e) {
  if (e.op == ExprOp::kIdent && !e.path.empty() &&
      (e.path[0] == "is_root" || e.path[0] == "comments")) {
    return true;
  }
  return std::any_of(e.children.begin(), e.children.end(), ReadsPresentedField);
}

}  // namespace

SortKey SortKeyOf(const Query& q, const bj::object& row) {
  SortKey key;
  key.reserve(q.sort.size());
  for (const SortItem& s : q.sort) key.push_back(Evaluate(s.expr, row));
  return key;
}

int CompareSortKeys(const Query& q, const SortKey& a, const SortKey& b) {
  for (std::size_t i = 0; i < q.sort.size(); ++i) {
    int c = OrderValues(a[i], b[i]);
    if (c != 0) return q.sort[i].descending ? -c : c;
  }
  return 0;
}

bool SortNeedsPresented(const Query& q) {
  return std::any_of(q.sort.begin(), q.sort.end(),
                     [](const SortItem& s) { return ReadsPresentedField(s.expr); });
}

bool SortLess(const Query& q, const bj::object& a, const bj::object& b) {
  return CompareSortKeys(q, SortKeyOf(q, a), SortKeyOf(q, b)) < 0;
}

}  // namespace arbor::query
