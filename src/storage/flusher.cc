#include "storage/flusher.h"

#include <chrono>

#include "base/log.h"

namespace arbor::storage {
namespace {

// Compactions run back to back before the flusher looks at the WAL again.
constexpr int kCompactionsPerRoundMax = 4;

}  // namespace

Flusher::Flusher(Wal& wal, RowStore& store, Segments& segments, FlusherOptions options)
    : wal_(wal), store_(store), segments_(segments), options_(options) {}

Flusher::~Flusher() { Stop(); }

void Flusher::Start() {
  ARBOR_CHECK(!thread_.joinable());
  thread_ = std::thread([this] { Loop(); });
}

void Flusher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Flusher::FlushNow() {
  std::lock_guard<std::mutex> lock(flush_mu_);
  ASSIGN_OR_RETURN(WalRotation cut, wal_.Rotate());
  RETURN_IF_ERROR(segments_.Flush(store_, cut.tag));
  // Files before the cut hold only records up to cut.tag; they may go once that is flushed.
  ARBOR_CHECK(segments_.flushed_xact() >= cut.tag);
  RETURN_IF_ERROR(wal_.DropFilesBefore(cut.first_file));
  std::lock_guard<std::mutex> stats_lock(mu_);
  ++stats_.flushes;
  return Status::Ok();
}

StatusOr<bool> Flusher::CompactOnce() {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);  // not during a backup's WithCut
  const HistoryClock clock = options_.history_clock ? options_.history_clock() : HistoryClock{};
  auto plan = PickCompaction(segments_.List(), options_.compaction, clock);
  if (!plan) return false;
  RETURN_IF_ERROR(segments_.Compact(store_, *plan, clock.horizon));
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.compactions;
  return true;
}

Status Flusher::WithCut(const std::function<Status(const WalRotation& cut)>& copy) {
  std::lock_guard<std::mutex> lock(flush_mu_);
  ASSIGN_OR_RETURN(WalRotation cut, wal_.Rotate());
  return copy(cut);
}

FlusherStats Flusher::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Status Flusher::CompactRound() {
  for (int i = 0; i < kCompactionsPerRoundMax; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    ASSIGN_OR_RETURN(bool compacted, CompactOnce());
    if (!compacted) break;
  }
  return Status::Ok();
}

void Flusher::Loop() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_compaction = Clock::now();
  Clock::time_point last_flush = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms));
    if (stopping_) break;
    const std::uint64_t unflushed = wal_.bytes_since_rotation();
    const bool flush =
        unflushed >= options_.memtable_bytes_max ||
        (unflushed > 0 && options_.flush_interval_ms > 0 &&
         Clock::now() - last_flush >= std::chrono::milliseconds(options_.flush_interval_ms));
    const bool idle_due = Clock::now() - last_compaction >=
                          std::chrono::milliseconds(options_.idle_compaction_interval_ms);
    if (!flush && !idle_due) continue;
    lock.unlock();
    Status st = flush ? FlushNow() : Status::Ok();
    if (flush && st.ok()) last_flush = Clock::now();
    if (st.ok()) st = CompactRound();
    last_compaction = Clock::now();
    lock.lock();
    if (!st.ok()) {
      // The WAL still holds everything; retry on the next tick.
      ++stats_.failures;
      log::Error("flush or compaction failed", {{"error", st.message()}});
    }
  }
}

}  // namespace arbor::storage
