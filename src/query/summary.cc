// Experiment summaries (protocol §4.5): scores and metrics aggregated per trace, compared
// with a base experiment by input.
#include <cmath>
#include <map>

#include "json/json.h"
#include "query/engine.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

struct Mean {
  double sum = 0;
  int n = 0;
  void Add(double v) {
    sum += v;
    ++n;
  }
  double value() const { return n ? sum / n : 0; }
};

struct TraceStats {
  std::string input_key;
  std::map<std::string, Mean> scores;     // averaged over the spans carrying each score
  std::map<std::string, double> metrics;  // duration from the root, counts summed over spans
};

struct ExperimentStats {
  std::map<std::string, Mean> scores;   // mean over traces
  std::map<std::string, Mean> metrics;  // mean over traces
  std::map<std::string, std::map<std::string, Mean>> score_by_input;
  std::map<std::string, std::map<std::string, Mean>> metric_by_input;
};

// Metrics summed over the spans of a trace, with their units.
const std::map<std::string, std::string>& SummedMetrics() {
  static const std::map<std::string, std::string> m = {{"prompt_tokens", "tok"},
                                                       {"completion_tokens", "tok"},
                                                       {"tokens", "tok"},
                                                       {"estimated_cost", "$"}};
  return m;
}

std::string MetricUnit(const std::string& name) {
  if (name == "duration") return "s";
  auto it = SummedMetrics().find(name);
  return it == SummedMetrics().end() ? "" : it->second;
}

std::optional<double> Number(const bj::object& o, const char* key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

void AddSpan(TraceStats& t, const bj::object& row) {
  if (const bj::value* s = row.if_contains("scores"); s && s->is_object()) {
    for (const auto& [name, v] : s->get_object()) {
      if (v.is_number()) t.scores[std::string(name)].Add(v.to_number<double>());
    }
  }
  const bj::value* m = row.if_contains("metrics");
  const bj::object* metrics = m && m->is_object() ? &m->get_object() : nullptr;
  if (metrics) {
    for (const auto& [name, unit] : SummedMetrics()) {
      if (auto v = Number(*metrics, name.c_str())) t.metrics[name] += *v;
    }
  }
  if (!IsRoot(row)) return;
  const bj::value* input = row.if_contains("input");
  t.input_key = json::CanonicalString(input ? *input : bj::value(nullptr));
  if (metrics) {
    auto start = Number(*metrics, "start");
    auto end = Number(*metrics, "end");
    if (start && end) t.metrics["duration"] = *end - *start;
  }
}

// AllRows gives light rows; a summary reads a heavy field (input) of root spans only.
Status LoadRootBodies(const storage::RowStore& store, const std::string& key,
                      std::vector<storage::VisibleRow>& rows) {
  const storage::ObjectRows* object = store.Find(key);
  for (storage::VisibleRow& v : rows) {
    if (!v.light || !IsRoot(*v.row)) continue;
    ASSIGN_OR_RETURN(v.row, object->FullBody(v));
    v.light = false;
  }
  return Status::Ok();
}

// What LoadRootBodies and Summarize read from light spans (inputs come from root bodies).
ReadPaths SpanReads() {
  ReadPaths reads;
  for (const char* field : {"scores", "metrics", "span_parents", "root_span_id", "id"}) {
    reads.AddField({field});
  }
  return reads;
}

ExperimentStats Summarize(const std::vector<storage::VisibleRow>& rows) {
  std::map<std::string, TraceStats> traces;
  for (const auto& v : rows) {
    const bj::value* root = v.row->if_contains("root_span_id");
    const bj::value* id = v.row->if_contains("id");
    std::string key = root && root->is_string() ? std::string(root->get_string())
                      : id && id->is_string()   ? std::string(id->get_string())
                                                : "";
    AddSpan(traces[key], *v.row);
  }
  ExperimentStats stats;
  for (const auto& [key, t] : traces) {
    for (const auto& [name, mean] : t.scores) {
      stats.scores[name].Add(mean.value());
      stats.score_by_input[name][t.input_key].Add(mean.value());
    }
    for (const auto& [name, value] : t.metrics) {
      stats.metrics[name].Add(value);
      stats.metric_by_input[name][t.input_key].Add(value);
    }
  }
  return stats;
}

struct Changes {
  int improvements = 0;
  int regressions = 0;
};

// Cases matched by input; `higher_is_better` is false for costs such as time and tokens.
Changes CountChanges(const std::map<std::string, Mean>& cur,
                     const std::map<std::string, Mean>& base, bool higher_is_better) {
  Changes c;
  for (const auto& [input, mean] : cur) {
    auto it = base.find(input);
    if (it == base.end()) continue;
    double delta = mean.value() - it->second.value();
    if (std::fabs(delta) < 1e-12) continue;
    bool better = higher_is_better ? delta > 0 : delta < 0;
    (better ? c.improvements : c.regressions)++;
  }
  return c;
}

bj::object Entry(const char* value_key, const std::string& name, double value,
                 const std::optional<double>& base_value, Changes changes) {
  bj::object e;
  e["name"] = name;
  e[value_key] = value;
  if (base_value) e["diff"] = value - *base_value;
  e["improvements"] = changes.improvements;
  e["regressions"] = changes.regressions;
  return e;
}

}  // namespace

StatusOr<bj::object> Engine::CompareExperiments(const std::string& org_id,
                                                const ComparisonOptions& options) {
  ingest::ObjectRef cur_ref{ingest::ObjectType::kExperiment, options.experiment_id};
  RETURN_IF_ERROR(CheckObject(org_id, cur_ref));
  ASSIGN_OR_RETURN(auto cur_rows, AllRows(org_id, cur_ref, SpanReads()));
  RETURN_IF_ERROR(LoadRootBodies(store_, ingest::ObjectKey(org_id, cur_ref), cur_rows));
  ExperimentStats cur = Summarize(cur_rows);
  std::optional<ExperimentStats> base;
  if (options.base_experiment_id) {
    ingest::ObjectRef base_ref{ingest::ObjectType::kExperiment, *options.base_experiment_id};
    RETURN_IF_ERROR(CheckObject(org_id, base_ref));
    ASSIGN_OR_RETURN(auto base_rows, AllRows(org_id, base_ref, SpanReads()));
    RETURN_IF_ERROR(LoadRootBodies(store_, ingest::ObjectKey(org_id, base_ref), base_rows));
    base = Summarize(base_rows);
  }
  bj::object scores, metrics;
  for (const auto& [name, mean] : cur.scores) {
    std::optional<double> base_value;
    Changes changes;
    if (base && base->scores.count(name)) {
      base_value = base->scores.at(name).value();
      changes = CountChanges(cur.score_by_input[name], base->score_by_input[name], true);
    }
    scores[name] = Entry("score", name, mean.value(), base_value, changes);
  }
  for (const auto& [name, mean] : cur.metrics) {
    std::optional<double> base_value;
    Changes changes;
    if (base && base->metrics.count(name)) {
      base_value = base->metrics.at(name).value();
      changes = CountChanges(cur.metric_by_input[name], base->metric_by_input[name], false);
    }
    bj::object e = Entry("metric", name, mean.value(), base_value, changes);
    e["unit"] = MetricUnit(name);
    metrics[name] = std::move(e);
  }
  bj::object out;
  out["scores"] = std::move(scores);
  out["metrics"] = std::move(metrics);
  return out;
}

}  // namespace arbor::query
