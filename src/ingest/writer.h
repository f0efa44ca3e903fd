// The write path: validate objects, assign one _xact_id per request, resolve merges and
// deletes against the current row versions, append one WAL record, then publish the
// versions once the record is durable.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "ingest/rows.h"
#include "ingest/xact.h"
#include "storage/row_store.h"
#include "storage/wal.h"

namespace arbor::ingest {

class Writer {
 public:
  Writer(catalog::Catalog& catalog, storage::RowStore& store) : catalog_(catalog), store_(store) {}

  // Applies one WAL record to the row store (called while the WAL is opened).
  Status Replay(std::string_view payload);
  // Records at or below `xact` are already in segments: Replay skips them (they are still
  // in the WAL when a crash came between publishing a segment and deleting old WAL files).
  void SkipReplayUpTo(std::uint64_t xact);
  // Starts accepting writes through `wal`, after replay.
  void Attach(storage::Wal* wal) {
    wal_ = wal;
    wal_->MarkReplayedDurable(replayed_xact_);
  }
  // Back-pressure: while more than `bytes` of WAL wait for a flush (the memtable is that big),
  // writes wait for the flusher, and give up with Unavailable (503) after `wait_ms`.
  void LimitMemtable(std::uint64_t bytes, int wait_ms) {
    memtable_bytes_limit_ = bytes;
    memtable_wait_ms_ = wait_ms;
  }

  // Writes a request's rows atomically: all rows or none. Returns the request's _xact_id.
  StatusOr<std::uint64_t> Write(const std::string& org_id, std::vector<IncomingRow> rows);

  // Readers must not see versions above this: everything at or below it is durable.
  std::uint64_t visible_xact() const;

 private:
  // The project each written object belongs to; NotFound for objects not in the org.
  using Owners = std::map<std::pair<ObjectType, std::string>, std::string>;
  StatusOr<Owners> ResolveOwners(const std::string& org_id, const std::vector<IncomingRow>& rows);
  storage::RowPtr Resolve(IncomingRow& in, const storage::RowPtr& old, std::uint64_t xact,
                          const std::string& org_id, const std::string& project_id) const;

  Status WaitForMemtableRoom() const;
  static void CountIngest(std::size_t rows, std::size_t bytes, std::uint64_t xact);
  static std::string EncodeRecord(std::uint64_t xact, const std::vector<storage::RowWrite>& writes);

  catalog::Catalog& catalog_;
  storage::RowStore& store_;
  storage::Wal* wal_ = nullptr;
  XactClock clock_;
  std::mutex write_mu_;  // orders xact assignment, merge resolution and WAL enqueue
  std::atomic<std::uint64_t> replayed_xact_{0};
  std::uint64_t skip_replay_upto_ = 0;
  std::uint64_t memtable_bytes_limit_ = 0;  // 0: no limit
  int memtable_wait_ms_ = 0;
  std::atomic<bool> failed_{false};
};

}  // namespace arbor::ingest
