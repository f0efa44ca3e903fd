// dimensions / measures: group the matching spans by the dimension values and compute each
// measure over its group.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "json/json.h"
#include "query/engine.h"
#include "query/scan.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

// One measure's running state over a group.
struct Accumulator {
  std::int64_t count = 0;  // non-null inputs (count(*) style when the argument is absent)
  double sum = 0;
  std::int64_t numbers = 0;
  std::optional<bj::value> min, max;
  std::set<std::string> distinct;
  std::vector<double> values;  // percentile only

  void Add(const Expr& m, const bj::object& row) {
    bj::value v = m.children.empty() ? bj::value(true) : Evaluate(m.children[0], row);
    if (v.is_null()) return;
    ++count;
    if (v.is_number()) {
      double d = v.to_number<double>();
      sum += d;
      ++numbers;
      if (m.function == "percentile") values.push_back(d);
    }
    if (!min || json::Compare(v, *min) < 0) min = v;
    if (!max || json::Compare(v, *max) > 0) max = v;
    if (m.function == "count_distinct") distinct.insert(json::CanonicalString(v));
  }

  bj::value Result(const Expr& m) {
    const std::string& f = m.function;
    if (f == "count") return count;
    if (f == "count_distinct") return static_cast<std::int64_t>(distinct.size());
    if (f == "sum") return numbers ? bj::value(sum) : bj::value(nullptr);
    if (f == "avg")
      return numbers ? bj::value(sum / static_cast<double>(numbers)) : bj::value(nullptr);
    if (f == "min") return min ? *min : bj::value(nullptr);
    if (f == "max") return max ? *max : bj::value(nullptr);
    return Percentile(m);
  }

  // Nearest-rank percentile; the second argument is a fraction (0.95) or a percent (95).
  bj::value Percentile(const Expr& m) {
    if (values.empty() || m.children.size() < 2) return nullptr;
    bj::value p = Evaluate(m.children[1], bj::object());
    if (!p.is_number()) return nullptr;
    double q = p.to_number<double>();
    if (q > 1) q /= 100;
    q = std::clamp(q, 0.0, 1.0);
    std::sort(values.begin(), values.end());
    std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[rank == 0 ? 0 : rank - 1];
  }
};

struct Group {
  bj::array dimension_values;
  std::vector<Accumulator> measures;
};

}  // namespace

StatusOr<QueryResult> Engine::RunAggregate(const std::string& org_id, const Query& q,
                                           std::uint64_t snapshot, std::uint64_t offset) {
  std::map<std::string, Group> groups;  // canonical dimension tuple -> group
  for (const std::string& id : q.object_ids) {
    const storage::ObjectRows* rows = store_.Find(ingest::ObjectKey(org_id, {q.source, id}));
    if (rows == nullptr) continue;
    // Groups and measures that read only light fields never need the rows' bodies.
    const bool light_ok = ReadsOnlyLight(q.dimensions) && ReadsOnlyLight(q.measures);
    ReadPaths reads;
    reads.Add(q.dimensions);
    reads.Add(q.measures);
    ASSIGN_OR_RETURN(auto selected,
                     Select(*rows, q, snapshot, 0, SIZE_MAX, Reads(light_ok), Returned(reads)));
    for (const auto& v : selected) {
      bj::array dims;
      for (const SelectItem& d : q.dimensions) dims.push_back(Evaluate(d.expr, *v.row));
      Group& g = groups[json::CanonicalString(dims)];
      if (g.measures.empty()) {
        g.dimension_values = std::move(dims);
        g.measures.resize(q.measures.size());
      }
      for (std::size_t i = 0; i < q.measures.size(); ++i)
        g.measures[i].Add(q.measures[i].expr, *v.row);
    }
  }
  std::vector<bj::object> out;
  const std::size_t shown = q.measures.size() - q.hidden_measures;
  for (auto& [key, g] : groups) {
    bj::object row;
    for (std::size_t i = 0; i < q.dimensions.size(); ++i)
      row[q.dimensions[i].alias] = g.dimension_values[i];
    for (std::size_t i = 0; i < q.measures.size(); ++i) {
      row[q.measures[i].alias] = g.measures[i].Result(q.measures[i].expr);
    }
    if (q.having && !Matches(*q.having, row)) continue;
    for (std::size_t i = shown; i < q.measures.size(); ++i) row.erase(q.measures[i].alias);
    out.push_back(std::move(row));
  }
  std::stable_sort(out.begin(), out.end(),
                   [&](const bj::object& a, const bj::object& b) { return SortLess(q, a, b); });
  QueryResult result;
  std::size_t end = std::min<std::size_t>(out.size(), offset + q.limit);
  for (std::size_t i = offset; i < end; ++i) result.data.push_back(std::move(out[i]));
  if (end < out.size()) result.cursor = EncodeCursor({snapshot, 0, end});
  return result;
}

}  // namespace arbor::query
