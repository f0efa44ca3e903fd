// The in-memory index of every row version, per object (experiment, dataset, project logs).
//
// Until the segment engine lands, this holds all rows: the WAL is the durable copy and is
// replayed into it at start. Each row keeps its full version history so `version` reads
// (snapshot at an _xact_id) work. Rows are ordered by the sequence in which their id was
// first written, which gives cursors a stable order while writes continue.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace arbor::storage {

using RowPtr = std::shared_ptr<const boost::json::object>;

struct RowVersion {
  std::uint64_t xact = 0;
  RowPtr row;  // nullptr: deleted at this xact
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
};

class ObjectRows {
 public:
  // The newest version regardless of durability; used to resolve merges under the ingest lock.
  RowPtr Latest(const std::string& id) const;
  void Apply(const std::string& id, std::uint64_t xact, RowPtr row);
  // Rows visible at `snapshot` with seq > after_seq, in seq order, at most `limit`.
  std::vector<VisibleRow> Scan(std::uint64_t snapshot, std::uint64_t after_seq,
                               std::size_t limit) const;
  // As Scan, keeping only rows for which `keep` is true. `keep` runs under the object's lock.
  std::vector<VisibleRow> ScanIf(std::uint64_t snapshot, std::uint64_t after_seq, std::size_t limit,
                                 const std::function<bool(const boost::json::object&)>& keep) const;
  // As ScanIf, over only the rows with the given ids (an index lookup, not a scan).
  std::vector<VisibleRow> ScanIds(
      std::uint64_t snapshot, std::uint64_t after_seq, std::size_t limit,
      const std::vector<std::string>& ids,
      const std::function<bool(const boost::json::object&)>& keep) const;
  // Ids of the rows whose root_span_id is `root` (every version ever written).
  std::vector<std::string> IdsOfTrace(const std::string& root) const;
  // Ids of the rows that were ever written as comments.
  std::vector<std::string> CommentIds() const;
  // Every row visible at `snapshot` (for summaries).
  std::vector<VisibleRow> ScanAll(std::uint64_t snapshot) const;
  std::uint64_t MaxXact() const;

 private:
  struct History {
    std::uint64_t seq = 0;
    std::vector<RowVersion> versions;
  };
  static const RowVersion* VisibleAt(const History& h, std::uint64_t snapshot);
  void IndexRow(const std::string& id, bool first_version, const boost::json::object& row);

  mutable std::mutex mu_;
  std::unordered_map<std::string, History> rows_;
  std::map<std::uint64_t, const std::string*> order_;                         // seq -> key in rows_
  std::unordered_map<std::string, std::vector<const std::string*>> by_root_;  // trace -> ids
  std::vector<const std::string*> comment_ids_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t max_xact_ = 0;
};

class RowStore {
 public:
  ObjectRows& GetOrCreate(const std::string& object_key);
  // nullptr when nothing was ever written to the object.
  const ObjectRows* Find(const std::string& object_key) const;
  void Apply(const std::vector<RowWrite>& writes, std::uint64_t xact);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<ObjectRows>> objects_;
};

}  // namespace arbor::storage
