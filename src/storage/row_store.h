// The in-memory index of every row version, per object (experiment, dataset, project logs).
//
// Every version of every row has an entry here (id, seq, xact, trace root), so `version`
// reads (snapshot at an _xact_id), cursors and trace lookups never touch disk. Row bodies
// are either in memory (the memtable: written since the last flush) or in an immutable
// segment, read through a RowLoader (a block cache over segment files). Rows are ordered by
// the sequence in which their id was first written, which gives cursors a stable order while
// writes continue; the sequence survives flushes and restarts because segments store it.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace arbor::storage {

using RowPtr = std::shared_ptr<const boost::json::object>;

// Where a flushed version lives: segment number (0: still in the memtable), block, position.
// A flushed delete has a segment number and no body.
struct RowRef {
  std::uint32_t segment = 0;
  std::uint32_t block = 0;
  std::uint32_t index = 0;
  bool on_disk() const { return segment != 0; }
};

struct RowVersion {
  std::uint64_t xact = 0;
  bool deleted = false;
  RowPtr row;  // the body while it is in the memtable
  RowRef ref;  // the body once flushed
};

// A field's path from the top level of a row: {"metrics", "prompt_tokens"}.
using FieldPath = std::vector<std::string>;

// The part of `row` that `paths` reach: for each path, the value at its end with everything
// it contains, or else the first value along it that is not an object (an array, a scalar),
// whole. Objects on the way keep only the keys on some path. An expression that reads only
// fields on `paths` evaluates on the projection exactly as on the row. This is the reference
// for the projections a loader builds from segment columns (RowLoader::LoadProjected).
boost::json::object ProjectRow(const boost::json::object& row, const std::vector<FieldPath>& paths);

// A condition on one field that per-block column statistics (min/max, distinct strings) can
// rule out for a whole block. A row meets it when its value at `path` is a number in [lo, hi]
// (`equals` unset) or the string `equals` (set).
struct ColumnRange {
  FieldPath path;
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  std::optional<std::string> equals;
};

// A MATCH conjunct a segment's text index (storage/text_index.h, version 2) can answer per
// field: `field MATCH q` for a stored field, with the TokenHash of each of q's tokens in order
// (`phrase`: q is quoted, so they must occur consecutively).
struct TextTerm {
  FieldPath field;
  std::vector<std::uint64_t> tokens;
  bool phrase = false;
  bool operator==(const TextTerm&) const = default;
};

// Reads flushed row bodies.
class RowLoader {
 public:
  virtual ~RowLoader() = default;
  virtual StatusOr<RowPtr> Load(const RowRef& ref) const = 0;
  // The body's light form (storage/segment.h LightRow: without the heavy text fields), or the
  // whole body where the segment keeps no light form.
  virtual StatusOr<RowPtr> LoadLight(const RowRef& ref) const { return Load(ref); }
  // False only when the body at `ref` surely lacks one of the tokens (hashes of MATCH tokens),
  // so a scan can skip loading it. Asked for every flushed row a MATCH scan passes.
  virtual bool MayContainAll(const RowRef& ref, const std::vector<std::uint64_t>& tokens) const {
    (void)ref;
    (void)tokens;
    return true;
  }
  // False only when the body at `ref` surely fails one of `terms` or lacks one of `tokens`
  // (every token of the terms, any field: what older indexes and block filters can answer).
  virtual bool MayMatchText(const RowRef& ref, const std::vector<TextTerm>& terms,
                            const std::vector<std::uint64_t>& tokens) const {
    (void)terms;
    return MayContainAll(ref, tokens);
  }
  // The row at `ref`, holding at least what ProjectRow(body, paths) holds (equal to it as JSON
  // on those paths): a projection built from the segment's typed columns, or the light form
  // where the block has no usable columns. Cheaper than LoadLight when the paths are few.
  virtual StatusOr<RowPtr> LoadProjected(const RowRef& ref,
                                         const std::vector<FieldPath>& paths) const {
    (void)paths;
    return LoadLight(ref);
  }
  // False only when some range surely fails for every row of the block holding `ref`: every
  // row has at the range's path nothing, null, or (numeric range) a number outside [lo, hi],
  // (`equals`) a string other than it. Any other value there (another type, an object, an
  // array) may meet it. Asked for every flushed row a scan with ranges passes.
  virtual bool BlockMayMatch(const RowRef& ref, const std::vector<ColumnRange>& ranges) const {
    (void)ref;
    (void)ranges;
    return true;
  }
};

// What a write puts into the store: a full row version (merges already resolved).
struct RowWrite {
  std::string object_key;  // "<object type>:<object id>"
  std::string id;
  RowPtr row;  // nullptr for a delete
};

struct VisibleRow {
  std::uint64_t seq = 0;
  std::uint64_t xact = 0;
  RowPtr row;
  bool light = false;  // `row` may be the light form; ObjectRows::FullBody reads the body
  RowRef ref;          // where the body is, when it is flushed
};

// What a scan keeps. Flushed rows are read in light form (storage/segment.h LightRow) first
// when `light` is set or `full` is not: a filter that only reads light fields never pays for
// the heavy ones. Memtable rows are used as they are (their light form is the full body).
struct ScanFilter {
  // Evaluated on the light form; a row it rejects is dropped without reading its body.
  std::function<bool(const boost::json::object&)> light;
  // Evaluated on the full body of the rows `light` accepted. When unset, the rows come back
  // in light form (VisibleRow::light) and only those the caller shows need their body.
  std::function<bool(const boost::json::object&)> full;
  // Token hashes every kept row surely contains (from a MATCH filter); flushed bodies whose
  // segment block lacks one are skipped unread.
  std::vector<std::uint64_t> required_tokens;
  // The MATCH conjuncts every kept row meets, for text indexes that answer per field and
  // phrase (RowLoader::MayMatchText); `required_tokens` must then hold all of their tokens.
  std::vector<TextTerm> required_terms;
  // When set, flushed rows are read as projections onto these paths (RowLoader::LoadProjected)
  // where they would be read light: `light` must read only fields on these paths, and rows
  // returned with VisibleRow::light may be projections (FullBody reads the body).
  std::vector<FieldPath> columns;
  // Conditions every kept row meets (a conjunct of the filter): flushed rows in blocks whose
  // column statistics rule one out (RowLoader::BlockMayMatch) are skipped unread.
  std::vector<ColumnRange> ranges;
};

// A memtable version on its way into a segment.
struct UnflushedVersion {
  std::string id;
  std::uint64_t seq = 0;
  std::uint64_t xact = 0;
  RowPtr row;  // nullptr: a delete
  // The row already has a version in a segment, which this one shadows (garbage accounting
  // for the compaction policy).
  bool overwrites_flushed = false;
};

// A version already in a segment, as read back from the segment's version table.
struct FlushedVersion {
  std::string id;
  std::uint64_t seq = 0;
  std::uint64_t xact = 0;
  bool deleted = false;
  bool comment = false;
  std::string root_span_id;
  RowRef ref;
};

class ObjectRows {
 public:
  explicit ObjectRows(const RowLoader* loader) : loader_(loader) {}

  // The newest version regardless of durability; used to resolve merges under the ingest lock.
  StatusOr<RowPtr> Latest(const std::string& id) const;
  void Apply(const std::string& id, std::uint64_t xact, RowPtr row);
  // Adds a version read from a segment at start (versions of an id arrive in xact order).
  void ApplyFlushed(const FlushedVersion& v);

  // Rows visible at `snapshot` with seq > after_seq, in seq order, at most `limit`, for
  // which `keep` is true. Bodies are loaded outside the object's lock, a batch at a time.
  // `required_tokens`: token hashes every kept row surely contains (from a MATCH filter);
  // flushed bodies whose segment block lacks one are skipped unread.
  StatusOr<std::vector<VisibleRow>> ScanIf(
      std::uint64_t snapshot, std::uint64_t after_seq, std::size_t limit,
      const std::function<bool(const boost::json::object&)>& keep,
      const std::vector<std::uint64_t>& required_tokens = {}) const;
  StatusOr<std::vector<VisibleRow>> ScanIf(std::uint64_t snapshot, std::uint64_t after_seq,
                                           std::size_t limit, const ScanFilter& filter) const;
  // As ScanIf, over only the rows with the given ids (an index lookup, not a scan).
  StatusOr<std::vector<VisibleRow>> ScanIds(
      std::uint64_t snapshot, std::uint64_t after_seq, std::size_t limit,
      const std::vector<std::string>& ids,
      const std::function<bool(const boost::json::object&)>& keep) const;
  StatusOr<std::vector<VisibleRow>> ScanIds(std::uint64_t snapshot, std::uint64_t after_seq,
                                            std::size_t limit, const std::vector<std::string>& ids,
                                            const ScanFilter& filter) const;
  // The full body of a row a scan returned (read through the block cache if it came light).
  StatusOr<RowPtr> FullBody(const VisibleRow& v) const;
  StatusOr<std::vector<VisibleRow>> Scan(std::uint64_t snapshot, std::uint64_t after_seq,
                                         std::size_t limit) const;
  // Every row visible at `snapshot` (for summaries).
  StatusOr<std::vector<VisibleRow>> ScanAll(std::uint64_t snapshot) const;
  // Ids of the rows whose root_span_id is `root` in any version ever written, each once.
  std::vector<std::string> IdsOfTrace(const std::string& root) const;
  // Ids of the rows that were ever written as comments.
  std::vector<std::string> CommentIds() const;
  std::uint64_t MaxXact() const;

  // Memtable versions with xact <= upto, in (seq, xact) order.
  std::vector<UnflushedVersion> CollectUnflushed(std::uint64_t upto) const;
  // After a flush: the versions now live at `refs` (same order as CollectUnflushed returned);
  // their in-memory bodies are released.
  void MarkFlushed(const std::vector<UnflushedVersion>& flushed, const std::vector<RowRef>& refs);
  // After a compaction: version (id, xact) of this object moved to `ref`.
  struct Move {
    std::string id;
    std::uint64_t xact = 0;
    RowRef ref;
  };
  void MoveFlushed(const std::vector<Move>& moves);
  // After a compaction that dropped history (versions shadowed below the history horizon,
  // tombstones with nothing older left): moves as MoveFlushed, and forgets the flushed
  // version (id, xact) of each drop. A row left with no version leaves every index, so it
  // is as if it had never been written. One lock hold, so a scan sees all or none of it.
  struct Drop {
    std::string id;
    std::uint64_t xact = 0;
  };
  void ApplyCompaction(const std::vector<Move>& moves, const std::vector<Drop>& drops);

 private:
  struct History {
    std::uint64_t seq = 0;
    std::vector<RowVersion> versions;
  };
  struct Candidate {
    std::uint64_t seq = 0;
    RowVersion version;
  };
  static const RowVersion* VisibleAt(const History& h, std::uint64_t snapshot);
  History& Entry(const std::string& id, std::uint64_t seq, bool& inserted);
  void IndexRow(const std::string& id, bool first_version, const std::string& root, bool comment);
  StatusOr<RowPtr> Body(const RowVersion& v) const;
  StatusOr<RowPtr> LightBody(const RowVersion& v) const;
  StatusOr<RowPtr> ProjectedBody(const RowVersion& v, const std::vector<FieldPath>& paths) const;
  void MoveLocked(const std::vector<Move>& moves);
  // Removes rows (no version left) from rows_ and every index that points into it.
  void EraseRowsLocked(const std::vector<std::string>& ids);
  // False only when the memtable row surely fails one of the filter's text terms (or lacks
  // one of its bare tokens). A row's tokens per field are computed once and kept until the
  // row is flushed (then the segment's text index answers), so repeated text searches do not
  // tokenize the memtable again.
  bool MemtableMayMatch(const RowPtr& row, const ScanFilter& filter) const;
  // True when the row's text at `field` (the whole row when empty) holds every token.
  bool HasTokens(const RowPtr& row, const FieldPath& field,
                 const std::vector<std::uint64_t>& tokens) const;
  std::shared_ptr<const std::vector<std::uint64_t>> KeptTokens(const boost::json::object* row,
                                                               const FieldPath& field) const;
  void ForgetTokens(const boost::json::object* row);
  // Loads the bodies of `batch` and appends those `filter` accepts to `out`, up to `limit`.
  Status Filter(const std::vector<Candidate>& batch, std::size_t limit, const ScanFilter& filter,
                std::vector<VisibleRow>& out) const;

  const RowLoader* loader_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, History> rows_;
  // seq -> entry of rows_ (element addresses survive rehashing), so scans never hash ids.
  std::map<std::uint64_t, const std::pair<const std::string, History>*> order_;
  std::unordered_map<std::string, std::vector<const std::string*>> by_root_;  // trace -> ids
  std::vector<const std::string*> comment_ids_;
  // Rows (by seq) with a version still only in the memtable, so a flush visits just those.
  std::set<std::uint64_t> memtable_seqs_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t max_xact_ = 0;

  // Sorted distinct token hashes of fields of memtable rows that a text search has read, by
  // body; the entry keeps the body alive so its address is not reused. Bounded: rows past the
  // bound are tokenized per search.
  struct MemtableTokens {
    RowPtr row;
    std::vector<std::pair<FieldPath, std::shared_ptr<const std::vector<std::uint64_t>>>> fields;
  };
  static constexpr std::size_t memtable_token_rows_max = 200'000;
  mutable std::mutex tokens_mu_;
  mutable std::unordered_map<const boost::json::object*, MemtableTokens> memtable_tokens_;
};

class RowStore {
 public:
  // `loader` reads flushed bodies; nullptr for a store that never flushes (tests).
  explicit RowStore(const RowLoader* loader = nullptr) : loader_(loader) {}

  ObjectRows& GetOrCreate(const std::string& object_key);
  // nullptr when nothing was ever written to the object.
  const ObjectRows* Find(const std::string& object_key) const;
  void Apply(const std::vector<RowWrite>& writes, std::uint64_t xact);
  // Every object key, sorted.
  std::vector<std::string> ObjectKeys() const;

 private:
  const RowLoader* loader_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<ObjectRows>> objects_;
};

}  // namespace arbor::storage
