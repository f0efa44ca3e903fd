#include "storage/flusher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

namespace arbor::storage {
namespace {

std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/flusher_test/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/wal");
  std::filesystem::create_directories(dir + "/segments");
  return dir;
}

RowPtr Row(const std::string& id) {
  boost::json::object o;
  o["id"] = id;
  return std::make_shared<const boost::json::object>(std::move(o));
}

// An online backup copies files under WithCut: the cut covers every durable record, and no
// flush (which would add a segment and delete WAL files) runs until the copy returns.
TEST(Flusher, WithCutCoversDurableRecordsAndHoldsOffFlushes) {
  std::string dir = FreshDir("cut");
  auto wal = Wal::Open({.dir = dir + "/wal"}, [](std::string_view) { return Status::Ok(); });
  ASSERT_TRUE(wal.ok());
  auto segs = Segments::Open({.dir = dir + "/segments"});
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  for (std::uint64_t xact = 1; xact <= 3; ++xact) {
    store.Apply({{"dataset:d", "r" + std::to_string(xact), Row("r")}}, xact);
    (*wal)->Enqueue("record", xact);
    ASSERT_TRUE((*wal)->WaitDurable(xact).ok());
  }
  Flusher flusher(**wal, store, **segs, {});
  std::atomic<bool> flushed{false};
  std::thread flush;
  Status st = flusher.WithCut([&](const WalRotation& cut) -> Status {
    EXPECT_EQ(cut.tag, 3u);
    EXPECT_GT(cut.first_file, 0u);
    flush = std::thread([&] {
      EXPECT_TRUE(flusher.FlushNow().ok());
      flushed = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(flushed.load()) << "a flush ran during the copy";
    EXPECT_TRUE((*segs)->List().empty());
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok());
  flush.join();
  EXPECT_TRUE(flushed.load());
  EXPECT_EQ((*segs)->flushed_xact(), 3u);
  // An error from the copy is the caller's.
  EXPECT_EQ(flusher.WithCut([](const WalRotation&) { return DataLoss("copy failed"); }).code(),
            StatusCode::kDataLoss);
  (*wal)->Close();
}

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// The background loop alone: a quiet WAL is flushed after flush_interval_ms (not only once a
// memtable fills), and with a history clock, compaction collects a deleted row's versions.
TEST(Flusher, QuietWalIsFlushedAndDeletedRowsAreCollected) {
  std::string dir = FreshDir("gc");
  auto wal = Wal::Open({.dir = dir + "/wal"}, [](std::string_view) { return Status::Ok(); });
  ASSERT_TRUE(wal.ok());
  auto segs = Segments::Open({.dir = dir + "/segments"});
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  std::atomic<std::uint64_t> horizon{0};
  Flusher flusher(**wal, store, **segs,
                  {.memtable_bytes_max = 1ull << 30,
                   .flush_interval_ms = 50,
                   .poll_interval_ms = 5,
                   .idle_compaction_interval_ms = 20,
                   .history_clock = [&] { return HistoryClock{.horizon = horizon.load()}; }});
  flusher.Start();
  auto write = [&](std::uint64_t xact, const std::string& id, RowPtr row) {
    store.Apply({{"dataset:d", id, std::move(row)}}, xact);
    (*wal)->Enqueue("record", xact);
    ASSERT_TRUE((*wal)->WaitDurable(xact).ok());
  };
  write(1, "gone", Row("gone"));
  write(2, "kept", Row("kept"));
  ASSERT_TRUE(WaitFor([&] { return (*segs)->flushed_xact() == 2; })) << "no interval flush";
  write(3, "gone", nullptr);
  ASSERT_TRUE(WaitFor([&] { return (*segs)->flushed_xact() == 3; }));
  EXPECT_EQ((*segs)->List().size(), 2u);  // no horizon: history stays
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ((*segs)->List().size(), 2u);

  horizon = 3;  // the clock moves on: both segments lie below the horizon, half garbage
  ASSERT_TRUE(WaitFor([&] { return (*segs)->List().size() == 1; })) << "no collection";
  flusher.Stop();
  const SegmentMeta only = (*segs)->List()[0];
  EXPECT_EQ(only.info.versions, 1u);  // "kept" alone: "gone" and its tombstone left the files
  EXPECT_EQ(only.garbage, SegmentGarbage{});
  EXPECT_GE(flusher.stats().compactions, 1u);
  const ObjectRows& rows = *store.Find("dataset:d");
  auto scan = rows.ScanAll(3);
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 1u);
  EXPECT_EQ((*scan)[0].row->at("id").as_string(), "kept");
  (*wal)->Close();
}

}  // namespace
}  // namespace arbor::storage
