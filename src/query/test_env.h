// For tests: a complete read/write stack (SQLite catalog, segments, WAL, row store, writer,
// engine) in a fresh temporary directory, with one org and one experiment; Flush(), CompactAll()
// and Reopen() move rows to segments, merge segments and restart from disk.
#pragma once

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "base/util.h"
#include "catalog/catalog.h"
#include "ingest/writer.h"
#include "json/json.h"
#include "query/engine.h"
#include "storage/flusher.h"
#include "storage/row_store.h"
#include "storage/segments.h"
#include "storage/wal.h"

namespace arbor::query {

// The contract of storage::ColumnRange, written out: nothing or null at the path fails; a
// number must lie in [lo, hi] (no `equals`); a string must be `equals` (when set); any other
// value may meet the range.
inline bool MeetsRange(const boost::json::object& row, const storage::ColumnRange& r) {
  const boost::json::value* v = json::FindPath(row, r.path);
  if (v == nullptr || v->is_null()) return false;
  if (r.equals) return !v->is_string() || v->get_string() == *r.equals;
  if (v->is_number()) {
    const double d = v->to_number<double>();
    return r.lo <= d && d <= r.hi;
  }
  return true;
}

// A loader over segments that answers LoadProjected with the reference projection
// (storage::ProjectRow of the body) and BlockMayMatch for the one row at `ref` (the sharpest
// answer a loader may give), so that tests check the query side's columns and ranges
// independently of the segments' own column files.
class ReferenceColumns : public storage::RowLoader {
 public:
  explicit ReferenceColumns(const storage::RowLoader& base) : base_(base) {}
  StatusOr<storage::RowPtr> Load(const storage::RowRef& ref) const override {
    return base_.Load(ref);
  }
  StatusOr<storage::RowPtr> LoadLight(const storage::RowRef& ref) const override {
    return base_.LoadLight(ref);
  }
  bool MayContainAll(const storage::RowRef& ref,
                     const std::vector<std::uint64_t>& tokens) const override {
    return base_.MayContainAll(ref, tokens);
  }
  bool MayMatchText(const storage::RowRef& ref, const std::vector<storage::TextTerm>& terms,
                    const std::vector<std::uint64_t>& tokens) const override {
    return base_.MayMatchText(ref, terms, tokens);
  }
  StatusOr<storage::RowPtr> LoadProjected(
      const storage::RowRef& ref, const std::vector<storage::FieldPath>& paths) const override {
    ASSIGN_OR_RETURN(storage::RowPtr body, base_.Load(ref));
    ++projected;
    return std::make_shared<const boost::json::object>(storage::ProjectRow(*body, paths));
  }
  bool BlockMayMatch(const storage::RowRef& ref,
                     const std::vector<storage::ColumnRange>& ranges) const override {
    StatusOr<storage::RowPtr> body = base_.Load(ref);
    if (!body.ok()) return true;
    for (const storage::ColumnRange& r : ranges) {
      if (!MeetsRange(**body, r)) {
        ++skipped;
        return false;
      }
    }
    return true;
  }
  mutable std::atomic<std::uint64_t> projected{0};  // rows read as projections
  mutable std::atomic<std::uint64_t> skipped{0};    // rows ranges ruled out

 private:
  const storage::RowLoader& base_;
};

struct TestEnv {
  // `use_reference`: rows are read through ReferenceColumns rather than the segments'
  // own columns.
  explicit TestEnv(bool use_reference = false) : reference_columns(use_reference) {
    dir = std::filesystem::temp_directory_path() / ("arbor-test-" + NewUuid());
    std::filesystem::create_directories(dir);
    catalog = std::move(catalog::OpenSqliteCatalog(dir + "/catalog.db").value());
    org = catalog->CreateOrg("o")->id;
    exp = NewExperiment("e");
    Open();
  }

  // Opens the storage stack over `dir`: segments, then the WAL replayed on top of them.
  void Open() {
    // Small blocks and a small cache, so reads cross blocks and the cache evicts.
    segments = std::move(storage::Segments::Open({.dir = dir + "/segments",
                                                  .block_cache_bytes_max = 16u << 10,
                                                  .writer = {.block_raw_bytes_target = 512}})
                             .value());
    const storage::RowLoader* loader = segments.get();
    if (reference_columns) {
      reference = std::make_unique<ReferenceColumns>(*segments);
      loader = reference.get();
    }
    store = std::make_unique<storage::RowStore>(loader);
    ARBOR_CHECK(segments->LoadInto(*store).ok());
    writer = std::make_unique<ingest::Writer>(*catalog, *store);
    writer->SkipReplayUpTo(segments->flushed_xact());
    wal = std::move(storage::Wal::Open({.dir = dir + "/wal"}, [this](std::string_view p) {
                      return writer->Replay(p);
                    }).value());
    writer->Attach(wal.get());
    engine = std::make_unique<Engine>(*catalog, *store, *writer);
  }

  // Moves every durable row into a segment, as the background flusher does.
  void Flush() {
    storage::Flusher flusher(*wal, *store, *segments, {});
    ARBOR_CHECK(flusher.FlushNow().ok());
  }

  // Merges every segment into one, as background compaction does (any adjacent run works);
  // history at or below `history_horizon` may go (storage::Segments::Compact).
  void CompactAll(std::uint64_t history_horizon = 0) {
    CompactRun(0, segments->List().size(), history_horizon);
  }

  // Merges `count` adjacent segments starting at the `from`-th oldest (clamped).
  void CompactRun(std::size_t from, std::size_t count, std::uint64_t history_horizon) {
    std::vector<std::uint32_t> numbers;
    for (const storage::SegmentMeta& m : segments->List()) numbers.push_back(m.number);
    from = std::min(from, numbers.size());
    count = std::min(count, numbers.size() - from);
    std::vector<std::uint32_t> run(numbers.begin() + static_cast<long>(from),
                                   numbers.begin() + static_cast<long>(from + count));
    if (run.size() >= 2 || (run.size() == 1 && history_horizon != 0)) {
      ARBOR_CHECK(segments->Compact(*store, run, history_horizon).ok());
    }
  }

  // A restart: everything in memory is dropped and rebuilt from segments and the WAL.
  void Reopen() {
    engine.reset();
    wal->Close();
    wal.reset();
    writer.reset();
    store.reset();
    reference.reset();
    segments.reset();
    Open();
  }

  std::string NewExperiment(const std::string& name) {
    catalog::CatalogObject e{.id = NewUuid(),
                             .org_id = org,
                             .kind = catalog::ObjectKind::kExperiment,
                             .project_id = "p",
                             .name = name,
                             .created = "now"};
    return catalog->CreateObject(e)->id;
  }

  bool reference_columns = false;
  std::string dir, org, exp;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<storage::Segments> segments;
  std::unique_ptr<ReferenceColumns> reference;  // the store's loader when reference_columns
  std::unique_ptr<storage::RowStore> store;
  std::unique_ptr<ingest::Writer> writer;
  std::unique_ptr<storage::Wal> wal;
  std::unique_ptr<Engine> engine;
};

}  // namespace arbor::query
