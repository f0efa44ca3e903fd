#include "storage/wal.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "base/util.h"

namespace arbor::storage {
namespace {

std::string TempDir() {
  std::string dir = std::filesystem::temp_directory_path() / ("arbor-wal-" + NewUuid());
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<std::string> ReplayAll(const std::string& dir) {
  std::vector<std::string> out;
  auto wal = Wal::Open({.dir = dir}, [&](std::string_view p) {
    out.emplace_back(p);
    return Status::Ok();
  });
  EXPECT_TRUE(wal.ok()) << wal.status().ToString();
  return out;
}

std::string OnlyFile(const std::string& dir) {
  std::vector<std::string> files;
  for (auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files.front();
}

TEST(WalRecord, RoundTripsThroughScan) {
  std::string image(kWalMagic, 8);
  image += std::string("\x01\0\0\0\0\0\0\0", 8);
  image += EncodeWalRecord(kWalRecordBatch, "hello");
  image += EncodeWalRecord(kWalRecordBatch, "");
  std::vector<std::string> got;
  auto scan = ScanWalFile(image, [&](std::string_view p) {
    got.emplace_back(p);
    return Status::Ok();
  });
  ASSERT_TRUE(scan.ok());
  EXPECT_FALSE(scan->torn);
  EXPECT_EQ(got, (std::vector<std::string>{"hello", ""}));
}

TEST(WalRecord, EveryTruncationPointIsDetectedNotMisread) {
  std::string image(kWalMagic, 8);
  image += std::string("\x01\0\0\0\0\0\0\0", 8);
  std::string first = EncodeWalRecord(kWalRecordBatch, "first");
  image += first;
  image += EncodeWalRecord(kWalRecordBatch, "second-record");
  for (std::size_t cut = kWalFileHeaderBytes + first.size(); cut < image.size(); ++cut) {
    std::vector<std::string> got;
    auto scan = ScanWalFile(image.substr(0, cut), [&](std::string_view p) {
      got.emplace_back(p);
      return Status::Ok();
    });
    ASSERT_TRUE(scan.ok());
    EXPECT_EQ(got, std::vector<std::string>{"first"}) << "cut at " << cut;
    EXPECT_EQ(scan->valid_bytes, kWalFileHeaderBytes + first.size());
    EXPECT_EQ(scan->torn, cut != kWalFileHeaderBytes + first.size());
  }
}

TEST(WalRecord, FlippedBitFailsChecksum) {
  std::string image(kWalMagic, 8);
  image += std::string("\x01\0\0\0\0\0\0\0", 8);
  image += EncodeWalRecord(kWalRecordBatch, "payload");
  image[image.size() - 2] ^= 0x10;
  int count = 0;
  auto scan = ScanWalFile(image, [&](std::string_view) {
    ++count;
    return Status::Ok();
  });
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(count, 0);
  EXPECT_TRUE(scan->torn);
}

TEST(WalRecord, BadMagicIsDataLoss) {
  std::string image(32, 'x');
  auto scan = ScanWalFile(image, [](std::string_view) { return Status::Ok(); });
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.status().code(), StatusCode::kDataLoss);
}

TEST(Wal, AppendsAreReplayedAfterReopen) {
  std::string dir = TempDir();
  {
    auto wal = Wal::Open({.dir = dir}, [](std::string_view) { return Status::Ok(); });
    ASSERT_TRUE(wal.ok());
    for (std::uint64_t i = 1; i <= 3; ++i) (*wal)->Enqueue("rec" + std::to_string(i), i);
    ASSERT_TRUE((*wal)->WaitDurable(3).ok());
    EXPECT_EQ((*wal)->durable_tag(), 3u);
  }
  EXPECT_EQ(ReplayAll(dir), (std::vector<std::string>{"rec1", "rec2", "rec3"}));
}

TEST(Wal, TornTailIsTruncatedAndLaterAppendsSurvive) {
  std::string dir = TempDir();
  {
    auto wal = Wal::Open({.dir = dir}, [](std::string_view) { return Status::Ok(); });
    ASSERT_TRUE(wal.ok());
    (*wal)->Enqueue("kept", 1);
    ASSERT_TRUE((*wal)->WaitDurable(1).ok());
  }
  std::string file = OnlyFile(dir);
  {
    std::ofstream out(file, std::ios::app | std::ios::binary);
    out << "\x40\x00\x00\x00garbage";  // a record header promising more than exists
  }
  {
    std::vector<std::string> seen;
    auto wal = Wal::Open({.dir = dir}, [&](std::string_view p) {
      seen.emplace_back(p);
      return Status::Ok();
    });
    ASSERT_TRUE(wal.ok());
    EXPECT_EQ(seen, std::vector<std::string>{"kept"});
    (*wal)->Enqueue("after", 2);
    ASSERT_TRUE((*wal)->WaitDurable(2).ok());
  }
  EXPECT_EQ(ReplayAll(dir), (std::vector<std::string>{"kept", "after"}));
}

TEST(Wal, RotatesFilesAndReplaysInOrder) {
  std::string dir = TempDir();
  {
    auto wal = Wal::Open({.dir = dir, .file_bytes_max = 64},
                         [](std::string_view) { return Status::Ok(); });
    ASSERT_TRUE(wal.ok());
    for (std::uint64_t i = 1; i <= 5; ++i) {
      (*wal)->Enqueue(std::string(40, static_cast<char>('a' + i)), i);
      ASSERT_TRUE((*wal)->WaitDurable(i).ok());
    }
  }
  std::size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_GE(files, 3u);
  auto got = ReplayAll(dir);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[4], std::string(40, 'f'));
}

TEST(Wal, PlacesFilledOutOfOrderAreWrittenInReservedOrder) {
  std::string dir = TempDir();
  {
    auto wal = Wal::Open({.dir = dir}, [](std::string_view) { return Status::Ok(); });
    ASSERT_TRUE(wal.ok());
    std::uint64_t a = (*wal)->Reserve(1), b = (*wal)->Reserve(2), c = (*wal)->Reserve(3);
    (*wal)->Fill(c, "third");
    (*wal)->Fill(a, "first");
    ASSERT_TRUE((*wal)->WaitDurable(1).ok());
    std::thread late([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      (*wal)->Fill(b, "second");
    });
    ASSERT_TRUE((*wal)->WaitDurable(3).ok());  // waits for the gap to be filled
    late.join();
  }
  EXPECT_EQ(ReplayAll(dir), (std::vector<std::string>{"first", "second", "third"}));
}

TEST(Wal, ConcurrentProducersAllBecomeDurable) {
  std::string dir = TempDir();
  std::size_t total = 0;
  {
    auto wal = Wal::Open({.dir = dir}, [](std::string_view) { return Status::Ok(); });
    ASSERT_TRUE(wal.ok());
    std::mutex order_mu;  // Enqueue order must follow tag order, as ingest guarantees.
    std::uint64_t next_tag = 1;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          std::uint64_t tag;
          {
            std::lock_guard<std::mutex> lock(order_mu);
            tag = next_tag++;
            (*wal)->Enqueue("t" + std::to_string(t) + "-" + std::to_string(i), tag);
          }
          EXPECT_TRUE((*wal)->WaitDurable(tag).ok());
          EXPECT_GE((*wal)->durable_tag(), tag);
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  total = ReplayAll(dir).size();
  EXPECT_EQ(total, 400u);
}

// The checked-in fixture was written by format version 1; the current reader must open it.
TEST(Wal, ReadsVersion1Fixture) {
  std::string path = std::string(ARBOR_SOURCE_DIR) + "/src/storage/testdata/wal_v1.wal";
  auto image = ReadFile(path);
  ASSERT_TRUE(image.ok()) << path;
  std::vector<std::string> got;
  auto scan = ScanWalFile(*image, [&](std::string_view p) {
    got.emplace_back(p);
    return Status::Ok();
  });
  ASSERT_TRUE(scan.ok());
  EXPECT_FALSE(scan->torn);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], R"({"x":"1000805000000000001","w":[]})");
  EXPECT_EQ(got[1], "fixture record two");
}

}  // namespace
}  // namespace arbor::storage
