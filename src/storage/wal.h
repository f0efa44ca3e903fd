// Write-ahead log with per-record CRC-32C and group commit. Format: docs/formats/wal.md.
//
// Threads: producers Reserve() a place in the log (in the order their records must be
// replayed), Fill() it when the payload is ready (payloads are built in parallel, outside
// any ordering lock), then WaitDurable(). One writer thread takes the longest filled prefix
// of the queue, writes it, fdatasyncs once, and wakes the producers of that group.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"

namespace arbor::storage {

inline constexpr char kWalMagic[8] = {'A', 'R', 'B', 'O', 'R', 'W', 'A', 'L'};
inline constexpr std::uint32_t kWalVersion = 1;
inline constexpr std::size_t kWalFileHeaderBytes = 16;
inline constexpr std::size_t kWalRecordHeaderBytes = 9;  // length u32, crc u32, type u8
inline constexpr std::uint8_t kWalRecordBatch = 1;

// Encodes one record (header + payload) as it sits on disk.
std::string EncodeWalRecord(std::uint8_t type, std::string_view payload);

// Result of scanning one WAL file image.
struct WalScan {
  std::size_t valid_bytes = 0;  // offset just past the last intact record
  bool torn = false;            // bytes after valid_bytes that do not form a record
};

// Calls `on_record` for each intact record of a file image, stopping at the first record
// that is incomplete or fails its checksum. A bad file header is an error.
StatusOr<WalScan> ScanWalFile(std::string_view image,
                              const std::function<Status(std::string_view payload)>& on_record);

// Where the log was cut by Rotate(): every record with tag <= `tag` is durable and sits in a
// file numbered below `first_file`; every later record goes to `first_file` or after.
struct WalRotation {
  std::uint64_t tag = 0;
  std::uint64_t first_file = 0;
};

struct WalOptions {
  std::string dir;
  std::size_t file_bytes_max = 256ull << 20;  // rotate to a new file past this size
};

class Wal {
 public:
  using ReplayFn = std::function<Status(std::string_view payload)>;

  // Replays every intact record in order, truncates a torn tail of the newest file, and
  // opens for appending.
  static StatusOr<std::unique_ptr<Wal>> Open(const WalOptions& options, const ReplayFn& replay);
  ~Wal();

  // Reserves the next place in the log. `tag` must increase with every call; durable_tag()
  // reports the tag of the newest record known to be on stable storage.
  std::uint64_t Reserve(std::uint64_t tag);
  // Supplies the payload of a reserved place; the writer waits for places in order.
  void Fill(std::uint64_t slot, std::string payload);
  // Reserve + Fill.
  void Enqueue(std::string payload, std::uint64_t tag) { Fill(Reserve(tag), std::move(payload)); }
  // Blocks until the record with `tag` is durable. Returns the writer's error, if any.
  Status WaitDurable(std::uint64_t tag);
  std::uint64_t durable_tag() const;

  // Records replayed at open are durable too: raises durable_tag() (and the floor for new
  // tags) to `tag`, the newest replayed one. Without it a Rotate() before any new write would
  // report tag 0 while older files still hold the replayed records.
  void MarkReplayedDurable(std::uint64_t tag);

  // Starts a new file between two groups, so a flush can later drop the older files.
  StatusOr<WalRotation> Rotate();
  // Deletes the files numbered below `first_file` (their records are all in segments).
  Status DropFilesBefore(std::uint64_t first_file);
  // Bytes appended since the last Rotate() (or open): roughly the memtable's size.
  std::uint64_t bytes_since_rotation() const;

  // Flushes what is queued and stops the writer thread.
  void Close();

 private:
  explicit Wal(WalOptions options);
  Status OpenNextFile(std::uint64_t number);
  void WriterLoop();
  void Stop();
  struct Slot {
    std::string payload;
    std::uint64_t tag = 0;
    bool filled = false;
  };
  Status WriteGroup(const std::vector<Slot>& group);

  const WalOptions options_;
  int fd_ = -1;
  std::uint64_t file_number_ = 0;
  std::size_t file_bytes_ = 0;

  mutable std::mutex mu_;
  std::condition_variable queue_cv_;    // writer waits for work
  std::condition_variable durable_cv_;  // producers wait for fsync
  std::deque<Slot> queue_;
  std::uint64_t queue_front_slot_ = 0;  // slot number of queue_.front()
  std::uint64_t last_tag_ = 0;
  std::uint64_t durable_tag_ = 0;
  Status error_;
  bool closing_ = false;
  bool stopped_ = false;  // the writer thread has exited
  bool rotate_requested_ = false;
  WalRotation rotation_;
  std::uint64_t bytes_since_rotation_ = 0;
  std::thread writer_;
};

}  // namespace arbor::storage
