// Retention: a background sweep deletes the rows of project logs (and experiments) that are
// older than their project's policy (catalog::RetentionPolicy), by `created`. Deletes go
// through the normal write path as tombstones, so queries stop returning the rows at once
// and compaction can drop them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "catalog/catalog.h"
#include "ingest/writer.h"
#include "query/engine.h"

namespace arbor::ops {

struct SweepStats {
  std::size_t policies = 0;
  std::size_t rows_deleted = 0;
};

// One pass over every policy of every org, against the clock `now_us`.
StatusOr<SweepStats> SweepRetention(catalog::Catalog& catalog, query::Engine& engine,
                                    ingest::Writer& writer, std::int64_t now_us);

// Runs SweepRetention every `interval_s` seconds (the first pass right after start).
class RetentionSweeper {
 public:
  RetentionSweeper(catalog::Catalog& catalog, query::Engine& engine, ingest::Writer& writer,
                   int interval_s);
  ~RetentionSweeper();
  void Start();
  void Stop();
  std::uint64_t rows_deleted() const;

 private:
  void Loop();
  catalog::Catalog& catalog_;
  query::Engine& engine_;
  ingest::Writer& writer_;
  const int interval_s_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::uint64_t rows_deleted_ = 0;
  std::thread thread_;
};

}  // namespace arbor::ops
