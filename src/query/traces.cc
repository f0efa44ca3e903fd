// The `traces` and `summary` shapes (brainstore.md §1.9): a trace matches when any of its
// spans matches the filter; `traces` returns every span of each matching trace, `summary` one
// row per matching trace with the root span's previews and metrics aggregated over spans.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "json/json.h"
#include "query/engine.h"
#include "query/scan.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

struct TraceRef {
  const storage::ObjectRows* rows;
  std::string root;  // root_span_id, or the row id for rows outside any trace
  std::shared_ptr<const CommentIndex> comments;  // of the trace's object, built once per query
  // Without a filter every visible span was selected, so the trace's spans are already in
  // hand (seq order, possibly light) and need not be looked up again; empty otherwise.
  std::vector<storage::VisibleRow> spans;
  storage::RowPtr root_span;  // the selected span that is the trace's root, if any (light)
};

// How much of each span TraceSpans reads: the `traces` shape returns whole spans; a summary
// reads heavy fields (input, output, expected previews) from its root span only; summaries
// used just for sort keys that read no heavy field need no bodies at all.
enum class SpanBodies { kAll, kRoot, kNone };

std::string TraceKey(const bj::object& row) {
  for (const char* key : {"root_span_id", "id"}) {
    const bj::value* v = row.if_contains(key);
    if (v != nullptr && v->is_string()) return std::string(v->get_string());
  }
  return "";
}

StatusOr<std::vector<bj::object>> TraceSpans(const TraceRef& t, std::uint64_t snapshot,
                                             SpanBodies bodies) {
  std::vector<storage::VisibleRow> looked_up;
  if (t.spans.empty()) {
    std::vector<std::string> ids = t.rows->IdsOfTrace(t.root);
    if (ids.empty()) ids.push_back(t.root);  // a row without root_span_id is its own trace
    auto live = [](const bj::object& r) { return !IsComment(r); };
    storage::ScanFilter spans = bodies == SpanBodies::kAll ? storage::ScanFilter{.full = live}
                                                           : storage::ScanFilter{.light = live};
    ASSIGN_OR_RETURN(looked_up, t.rows->ScanIds(snapshot, 0, SIZE_MAX, ids, spans));
  }
  const std::vector<storage::VisibleRow>& spans = t.spans.empty() ? looked_up : t.spans;
  // The span Summarize takes as the root: the first root span, else the first span.
  std::size_t root = 0;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (IsRoot(*spans[i].row)) {
      root = i;
      break;
    }
  }
  std::vector<bj::object> out;
  out.reserve(spans.size());
  for (std::size_t i = 0; i < spans.size(); ++i) {
    storage::RowPtr row = spans[i].row;
    if (bodies == SpanBodies::kAll || (bodies == SpanBodies::kRoot && i == root)) {
      ASSIGN_OR_RETURN(row, t.rows->FullBody(spans[i]));
    }
    out.push_back(Present(*row, Query{}, *t.comments));
  }
  return out;
}

std::optional<double> Num(const bj::object& o, const char* key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_number() ? std::optional<double>(v->to_number<double>())
                                        : std::nullopt;
}

std::string SpanType(const bj::object& span) {
  const bj::value* attrs = span.if_contains("span_attributes");
  const bj::value* type =
      attrs && attrs->is_object() ? attrs->get_object().if_contains("type") : nullptr;
  return type && type->is_string() ? std::string(type->get_string()) : "";
}

// Long values become a text preview of at most `length` characters.
bj::value Preview(const bj::value& v, std::size_t length) {
  std::string text = v.is_string() ? std::string(v.get_string()) : json::Serialize(v);
  if (text.size() <= length) return v;
  std::size_t cut = length;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return bj::value(text.substr(0, cut) + "...");
}

bj::object MetricsOf(const std::vector<bj::object>& spans) {
  std::map<std::string, double> sums;
  std::optional<double> start, end;
  double max_duration = 0, llm_duration = 0;
  int llm_calls = 0, tool_calls = 0, errors = 0;
  for (const bj::object& span : spans) {
    std::string type = SpanType(span);
    llm_calls += type == "llm";
    tool_calls += type == "tool";
    if (const bj::value* e = span.if_contains("error"); e && !e->is_null()) ++errors;
    const bj::value* m = span.if_contains("metrics");
    if (m == nullptr || !m->is_object()) continue;
    const bj::object& metrics = m->get_object();
    for (const char* key : {"prompt_tokens", "completion_tokens", "tokens", "estimated_cost"}) {
      if (auto v = Num(metrics, key)) sums[key] += *v;
    }
    auto s = Num(metrics, "start"), e = Num(metrics, "end");
    if (s) start = std::min(start.value_or(*s), *s);
    if (e) end = std::max(end.value_or(*e), *e);
    if (s && e) {
      max_duration = std::max(max_duration, *e - *s);
      if (type == "llm") llm_duration += *e - *s;
    }
  }
  bj::object out;
  for (const auto& [k, v] : sums) out[k == "tokens" ? "total_tokens" : k] = v;
  if (start) out["start"] = *start;
  if (end) out["end"] = *end;
  if (start && end) out["duration"] = max_duration;  // the longest span, not the whole trace
  out["llm_duration"] = llm_duration;
  out["llm_calls"] = llm_calls;
  out["tool_calls"] = tool_calls;
  out["errors"] = errors;
  return out;
}

bj::object ScoresOf(const std::vector<bj::object>& spans) {
  std::map<std::string, std::pair<double, int>> acc;
  for (const bj::object& span : spans) {
    const bj::value* s = span.if_contains("scores");
    if (s == nullptr || !s->is_object()) continue;
    for (const auto& [name, v] : s->get_object()) {
      if (!v.is_number()) continue;
      auto& [sum, n] = acc[std::string(name)];
      sum += v.to_number<double>();
      ++n;
    }
  }
  bj::object out;
  for (const auto& [name, sn] : acc) out[name] = sn.first / sn.second;
  return out;
}

bj::object Summarize(const std::vector<bj::object>& spans, std::size_t preview_length) {
  const bj::object* root = &spans.front();
  for (const bj::object& s : spans) {
    if (IsRoot(s)) {
      root = &s;
      break;
    }
  }
  bj::object out;
  for (const char* key :
       {"id", "span_id", "root_span_id", "created", "tags", "span_attributes", "experiment_id",
        "dataset_id", "project_id", "log_id", "org_id", "origin", "comments"}) {
    if (const bj::value* v = root->if_contains(key)) out[key] = *v;
  }
  for (const char* key : {"input", "output", "expected", "error", "metadata"}) {
    const bj::value* v = root->if_contains(key);
    out[key] = v ? Preview(*v, preview_length) : bj::value(nullptr);
  }
  std::string newest;
  for (const bj::object& s : spans) {
    if (const bj::value* x = s.if_contains("_xact_id"); x && x->is_string()) {
      newest = std::max(newest, std::string(x->get_string()));
    }
  }
  out["_xact_id"] = newest;
  out["scores"] = ScoresOf(spans);
  out["metrics"] = MetricsOf(spans);
  out["span_type_info"] =
      bj::object{{"has_error", out["metrics"].as_object()["errors"].as_int64() > 0}};
  out["num_spans"] = spans.size();
  return out;
}

// True when every sort expression reads only fields a summary copies unchanged from the
// root span, so traces can be ranked on their root span without being summarized.
bool SortsOnRootFields(const Query& q) {
  static const std::unordered_set<std::string> kCopied = {
      "id",         "span_id",         "root_span_id",  "created",
      "tags",       "span_attributes", "experiment_id", "dataset_id",
      "project_id", "log_id",          "org_id",        "origin"};
  std::function<bool(const Expr&)> reads_copied_only = [&](const Expr& e) {
    if (e.op == ExprOp::kIdent && (e.path.empty() || kCopied.count(e.path[0]) == 0)) {
      return false;
    }
    return std::all_of(e.children.begin(), e.children.end(), reads_copied_only);
  };
  return std::all_of(q.sort.begin(), q.sort.end(),
                     [&](const SortItem& s) { return reads_copied_only(s.expr); });
}

// Without a filter the selected spans are the traces' spans, kept for the summaries. With
// columns, when only a page of traces is summarized (unsorted, or ranked on root fields),
// they are projected onto just what grouping and ranking read, and the page's summaries read
// their spans' bodies (from cached blocks) instead of every span being projected onto what a
// summary reads.
bool SummarizesPageOnly(const Query& q) {
  return !q.filter && q.shape == Shape::kSummary && (q.sort.empty() || SortsOnRootFields(q));
}

// What RunTraces reads from the spans Select returns, which may be column projections: trace
// keys and roots, the sort keys of root spans, and spans kept for other summaries (whole).
ReadPaths SelectedSpanReads(const Query& q) {
  ReadPaths reads;
  for (const char* field : {"root_span_id", "id", "span_parents"}) reads.AddField({field});
  if (q.shape != Shape::kSummary) return reads;  // `traces` reads whole spans, from bodies
  if (SortsOnRootFields(q)) reads.Add(q.sort);
  if (!q.filter && !SummarizesPageOnly(q)) reads.AddWholeRow();
  return reads;
}

}  // namespace

StatusOr<QueryResult> Engine::RunTraces(const std::string& org_id, const Query& q,
                                        std::uint64_t snapshot, std::uint64_t offset) {
  // With light rows off, every span is read whole (the reference path of the tests); spans
  // projected for ranking only are read whole for the page's summaries (SummarizesPageOnly).
  const bool page_bodies = columns_ && SummarizesPageOnly(q);
  auto bodies = [&](SpanBodies b) {
    return !light_rows_ || (page_bodies && b == SpanBodies::kRoot) ? SpanBodies::kAll : b;
  };
  // Matching traces in the order their first matching span was written.
  std::vector<TraceRef> traces;
  const ReadPaths selected_reads = SelectedSpanReads(q);
  for (const std::string& id : q.object_ids) {
    const storage::ObjectRows* rows = store_.Find(ingest::ObjectKey(org_id, {q.source, id}));
    if (rows == nullptr) continue;
    std::unordered_map<std::string, std::size_t> index;  // trace key -> position in traces
    // Light rows: grouping by trace and ranking on root fields read no heavy field.
    ASSIGN_OR_RETURN(auto selected, Select(*rows, q, snapshot, 0, SIZE_MAX, Reads(true),
                                           Returned(selected_reads)));
    if (selected.empty()) continue;
    ASSIGN_OR_RETURN(CommentIndex comments, IndexComments(*rows, snapshot));
    auto shared = std::make_shared<const CommentIndex>(std::move(comments));
    for (auto& v : selected) {
      std::string key = TraceKey(*v.row);
      auto [it, fresh] = index.try_emplace(key, traces.size());
      if (fresh) traces.push_back({rows, std::move(key), shared, {}, nullptr});
      TraceRef& t = traces[it->second];
      if (t.root_span == nullptr && IsRoot(*v.row)) t.root_span = v.row;
      if (!q.filter) t.spans.push_back(std::move(v));
    }
  }
  QueryResult result;
  if (q.shape == Shape::kSummary && q.sort.empty()) {
    // Unsorted: summarize only the page's traces, not every matching trace.
    std::size_t i = offset;
    for (; i < traces.size() && result.data.size() < q.limit; ++i) {
      ASSIGN_OR_RETURN(std::vector<bj::object> spans,
                       TraceSpans(traces[i], snapshot, bodies(SpanBodies::kRoot)));
      if (!spans.empty()) result.data.push_back(Summarize(spans, q.preview_length));
    }
    if (i < traces.size()) result.cursor = EncodeCursor({snapshot, 0, i});
    return result;
  }
  if (q.shape == Shape::kSummary && SortsOnRootFields(q) &&
      std::all_of(traces.begin(), traces.end(),
                  [](const TraceRef& t) { return t.root_span != nullptr; })) {
    // Rank traces on their root spans; summarize only the page.
    std::vector<SortKey> keys;
    keys.reserve(traces.size());
    for (const TraceRef& t : traces) keys.push_back(SortKeyOf(q, *t.root_span));
    std::size_t end = std::min<std::size_t>(traces.size(), offset + q.limit);
    std::vector<std::size_t> order(traces.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(end), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        int c = CompareSortKeys(q, keys[a], keys[b]);
                        return c != 0 ? c < 0 : a < b;
                      });
    for (std::size_t i = offset; i < end; ++i) {
      ASSIGN_OR_RETURN(std::vector<bj::object> spans,
                       TraceSpans(traces[order[i]], snapshot, bodies(SpanBodies::kRoot)));
      if (!spans.empty()) result.data.push_back(Summarize(spans, q.preview_length));
    }
    if (end < traces.size()) result.cursor = EncodeCursor({snapshot, 0, end});
    return result;
  }
  if (q.shape == Shape::kSummary) {
    // Keys evaluated once per summary; only the page is ordered (ties keep trace order).
    // Keys reading no heavy field come from summaries of light spans; the page's summaries
    // are then made again with the root spans' bodies.
    const bool light_keys = light_rows_ && ReadsOnlyLight(q.sort);
    const SpanBodies key_bodies = light_keys ? SpanBodies::kNone : bodies(SpanBodies::kRoot);
    std::vector<std::pair<SortKey, bj::object>> summaries;
    std::vector<const TraceRef*> summarized;
    for (const TraceRef& t : traces) {
      ASSIGN_OR_RETURN(std::vector<bj::object> spans, TraceSpans(t, snapshot, key_bodies));
      if (spans.empty()) continue;
      bj::object summary = Summarize(spans, q.preview_length);
      SortKey key = SortKeyOf(q, summary);
      summaries.emplace_back(std::move(key), std::move(summary));
      summarized.push_back(&t);
    }
    std::size_t end = std::min<std::size_t>(summaries.size(), offset + q.limit);
    std::vector<std::size_t> order(summaries.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(end), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        int c = CompareSortKeys(q, summaries[a].first, summaries[b].first);
                        return c != 0 ? c < 0 : a < b;
                      });
    for (std::size_t i = offset; i < end; ++i) {
      if (light_keys) {
        ASSIGN_OR_RETURN(std::vector<bj::object> spans,
                         TraceSpans(*summarized[order[i]], snapshot, bodies(SpanBodies::kRoot)));
        summaries[order[i]].second = Summarize(spans, q.preview_length);
      }
      result.data.push_back(std::move(summaries[order[i]].second));
    }
    if (end < summaries.size()) result.cursor = EncodeCursor({snapshot, 0, end});
    return result;
  }
  std::size_t end = std::min<std::size_t>(traces.size(), offset + q.limit);  // limit counts traces
  for (std::size_t i = offset; i < end; ++i) {
    ASSIGN_OR_RETURN(std::vector<bj::object> spans,
                     TraceSpans(traces[i], snapshot, bodies(SpanBodies::kAll)));
    for (bj::object& span : spans) {
      result.data.push_back(q.select.empty() ? bj::value(std::move(span))
                                             : bj::value(Present(span, q, {})));
    }
  }
  if (end < traces.size()) result.cursor = EncodeCursor({snapshot, 0, end});
  return result;
}

}  // namespace arbor::query
