#include "storage/flusher.h"

#include <chrono>

#include "base/log.h"

namespace arbor::storage {

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
  auto plan = PickCompaction(segments_.List(), options_.compaction);
  if (!plan) return false;
  RETURN_IF_ERROR(segments_.Compact(store_, *plan));
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

void Flusher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms));
    if (stopping_) break;
    if (wal_.bytes_since_rotation() < options_.memtable_bytes_max) continue;
    lock.unlock();
    Status st = FlushNow();
    if (st.ok()) st = CompactOnce().status();
    lock.lock();
    if (!st.ok()) {
      // The WAL still holds everything; retry on the next tick.
      ++stats_.failures;
      log::Error("flush or compaction failed", {{"error", st.message()}});
    }
  }
}

}  // namespace arbor::storage
