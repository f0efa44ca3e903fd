// Background storage upkeep. Flush: when the WAL has grown past a budget since the last flush
// (or holds anything an interval after it),
// cut the WAL (Rotate), flush every version up to the cut into a new segment, publish it, then
// delete the WAL files before the cut. Compaction: after each flush, and every
// `idle_compaction_interval_ms` without one (the history horizon moves with the clock), merge
// segments as the policy (compaction.h) picks them, until it picks nothing (a few at a time).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "storage/compaction.h"
#include "storage/row_store.h"
#include "storage/segments.h"
#include "storage/wal.h"

namespace arbor::storage {

struct FlusherOptions {
  // Flush once this many WAL bytes arrived since the last flush (the memtable budget).
  std::uint64_t memtable_bytes_max = 64ull << 20;
  // Also flush once this long passed since the last flush and the WAL holds anything, so a
  // quiet server's deletes reach segments, and compaction can drop what they hide (0: off).
  std::int64_t flush_interval_ms = 3600 * 1000;
  int poll_interval_ms = 100;
  int idle_compaction_interval_ms = 10000;
  CompactionPolicy compaction;
  // The history horizon now (Segments::Compact); unset keeps every version forever.
  std::function<HistoryClock()> history_clock;
};

struct FlusherStats {
  std::uint64_t flushes = 0;
  std::uint64_t compactions = 0;
  std::uint64_t failures = 0;
};

class Flusher {
 public:
  Flusher(Wal& wal, RowStore& store, Segments& segments, FlusherOptions options);
  ~Flusher();
  void Start();
  void Stop();
  // Flushes everything durable now (also used by tests and `arbor` at shutdown).
  Status FlushNow();
  // Runs one compaction if the policy picks one; false when there was nothing to do.
  StatusOr<bool> CompactOnce();
  // Online backup: cuts the WAL (Rotate) and runs `copy` with flushes and compactions held
  // off, so the manifest, the segments it names and every WAL file below the cut stay put
  // while `copy` reads them. Writes go on into the files after the cut.
  Status WithCut(const std::function<Status(const WalRotation& cut)>& copy);
  FlusherStats stats() const;

 private:
  void Loop();
  // Up to kCompactionsPerRoundMax compactions, while the policy picks one.
  Status CompactRound();

  Wal& wal_;
  RowStore& store_;
  Segments& segments_;
  const FlusherOptions options_;
  std::mutex flush_mu_;  // FlushNow from several threads runs one at a time
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  FlusherStats stats_;
  std::thread thread_;
};

}  // namespace arbor::storage
