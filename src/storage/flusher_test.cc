#include "storage/flusher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
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

}  // namespace
}  // namespace arbor::storage
