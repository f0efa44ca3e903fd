#include "storage/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "base/limits.h"
#include "base/metrics.h"
#include "base/util.h"

namespace arbor::storage {
namespace {

void PutU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t GetU32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string FileHeader() {
  std::string h(kWalMagic, sizeof(kWalMagic));
  PutU32(h, kWalVersion);
  PutU32(h, 0);
  return h;
}

std::string FileName(const std::string& dir, std::uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%010llu.wal", static_cast<unsigned long long>(number));
  return dir + "/" + buf;
}

Status WriteAll(int fd, std::string_view data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal(std::string("wal write: ") + std::strerror(errno));
    off += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

std::vector<std::uint64_t> ListWalFiles(const std::string& dir) {
  std::vector<std::uint64_t> numbers;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() == 14 && name.ends_with(".wal")) {
      numbers.push_back(std::stoull(name.substr(0, 10)));
    }
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

}  // namespace

std::string EncodeWalRecord(std::uint8_t type, std::string_view payload) {
  ARBOR_CHECK(payload.size() <= limits::wal_record_bytes_max);
  std::string body;
  body.reserve(payload.size() + 1);
  body.push_back(static_cast<char>(type));
  body.append(payload);
  std::string out;
  out.reserve(kWalRecordHeaderBytes + payload.size());
  PutU32(out, static_cast<std::uint32_t>(payload.size()));
  PutU32(out, Crc32c(body));
  out.append(body);
  return out;
}

StatusOr<WalScan> ScanWalFile(std::string_view image,
                              const std::function<Status(std::string_view payload)>& on_record) {
  if (image.size() < kWalFileHeaderBytes ||
      std::memcmp(image.data(), kWalMagic, sizeof(kWalMagic)) != 0) {
    // A file that crashed before its header was durable holds nothing acknowledged.
    if (image.size() < kWalFileHeaderBytes)
      return WalScan{.valid_bytes = 0, .torn = !image.empty()};
    return DataLoss("WAL file has a bad magic number");
  }
  std::uint32_t version = GetU32(image.data() + 8);
  if (version != kWalVersion) {
    return DataLoss("WAL file version " + std::to_string(version) + " is not supported");
  }
  std::size_t off = kWalFileHeaderBytes;
  while (off < image.size()) {
    if (image.size() - off < kWalRecordHeaderBytes) break;
    std::uint32_t length = GetU32(image.data() + off);
    std::uint32_t crc = GetU32(image.data() + off + 4);
    if (length > limits::wal_record_bytes_max) break;
    if (image.size() - off - 8 < std::size_t{length} + 1) break;
    std::string_view body = image.substr(off + 8, std::size_t{length} + 1);
    if (Crc32c(body) != crc) break;
    if (static_cast<std::uint8_t>(body[0]) == kWalRecordBatch) {
      RETURN_IF_ERROR(on_record(body.substr(1)));
    }
    off += 8 + body.size();
  }
  return WalScan{.valid_bytes = off, .torn = off != image.size()};
}

Wal::Wal(WalOptions options) : options_(std::move(options)) {}

Wal::~Wal() { Close(); }

StatusOr<std::unique_ptr<Wal>> Wal::Open(const WalOptions& options, const ReplayFn& replay) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Internal("cannot create WAL dir " + options.dir + ": " + ec.message());
  std::unique_ptr<Wal> wal(new Wal(options));
  std::vector<std::uint64_t> files = ListWalFiles(options.dir);
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::string path = FileName(options.dir, files[i]);
    ASSIGN_OR_RETURN(std::string image, ReadFile(path));
    ASSIGN_OR_RETURN(WalScan scan, ScanWalFile(image, replay));
    // Replayed records are in the memtable until the next flush: count them toward it.
    if (scan.valid_bytes > kWalFileHeaderBytes) {
      wal->bytes_since_rotation_ += scan.valid_bytes - kWalFileHeaderBytes;
    }
    bool last = i + 1 == files.size();
    if (scan.torn && !last) {
      return DataLoss("WAL file " + path + " is damaged in the middle of the log");
    }
    if (scan.torn) {
      // Only the unacknowledged tail of the newest file can be torn: cut it off.
      if (::truncate(path.c_str(), static_cast<off_t>(scan.valid_bytes)) != 0) {
        return Internal("cannot truncate torn WAL tail of " + path);
      }
    }
  }
  std::uint64_t next = files.empty() ? 1 : files.back() + 1;
  RETURN_IF_ERROR(wal->OpenNextFile(next));
  wal->writer_ = std::thread([w = wal.get()] { w->WriterLoop(); });
  return wal;
}

Status Wal::OpenNextFile(std::uint64_t number) {
  if (fd_ >= 0) ::close(fd_);
  std::string path = FileName(options_.dir, number);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) return Internal("cannot create WAL file " + path + ": " + std::strerror(errno));
  std::string header = FileHeader();
  RETURN_IF_ERROR(WriteAll(fd_, header));
  if (::fdatasync(fd_) != 0) return Internal("fdatasync of new WAL file failed");
  RETURN_IF_ERROR(FsyncDirectory(options_.dir));
  file_number_ = number;
  file_bytes_ = header.size();
  return Status::Ok();
}

std::uint64_t Wal::Reserve(std::uint64_t tag) {
  std::lock_guard<std::mutex> lock(mu_);
  ARBOR_CHECK(tag > last_tag_);
  last_tag_ = tag;
  queue_.push_back(Slot{.tag = tag});
  return queue_front_slot_ + queue_.size() - 1;
}

void Wal::Fill(std::uint64_t slot, std::string payload) {
  std::lock_guard<std::mutex> lock(mu_);
  ARBOR_CHECK(slot >= queue_front_slot_ && slot < queue_front_slot_ + queue_.size());
  Slot& s = queue_[slot - queue_front_slot_];
  ARBOR_CHECK(!s.filled);
  s.payload = std::move(payload);
  s.filled = true;
  if (slot == queue_front_slot_) queue_cv_.notify_one();
}

Status Wal::WaitDurable(std::uint64_t tag) {
  std::unique_lock<std::mutex> lock(mu_);
  durable_cv_.wait(lock, [&] { return durable_tag_ >= tag || !error_.ok(); });
  return error_;
}

std::uint64_t Wal::durable_tag() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_tag_;
}

void Wal::MarkReplayedDurable(std::uint64_t tag) {
  std::lock_guard<std::mutex> lock(mu_);
  durable_tag_ = std::max(durable_tag_, tag);
  last_tag_ = std::max(last_tag_, tag);
}

StatusOr<WalRotation> Wal::Rotate() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!error_.ok()) return error_;
  if (stopped_) return Unavailable("the WAL is closed");
  rotate_requested_ = true;
  queue_cv_.notify_one();
  durable_cv_.wait(lock, [&] { return !rotate_requested_ || !error_.ok() || stopped_; });
  if (!error_.ok()) return error_;
  if (rotate_requested_) return Unavailable("the WAL closed before rotating");
  return rotation_;
}

Status Wal::DropFilesBefore(std::uint64_t first_file) {
  // The file being appended to is numbered first_file or later.
  for (std::uint64_t number : ListWalFiles(options_.dir)) {
    if (number >= first_file) break;
    std::error_code ec;
    std::filesystem::remove(FileName(options_.dir, number), ec);
    if (ec) return Internal("cannot delete WAL file: " + ec.message());
  }
  return FsyncDirectory(options_.dir);
}

std::uint64_t Wal::bytes_since_rotation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_since_rotation_;
}

Status Wal::WriteGroup(const std::vector<Slot>& group) {
  std::string buffer;
  for (const Slot& s : group) buffer += EncodeWalRecord(kWalRecordBatch, s.payload);
  if (file_bytes_ > kWalFileHeaderBytes && file_bytes_ + buffer.size() > options_.file_bytes_max) {
    RETURN_IF_ERROR(OpenNextFile(file_number_ + 1));
  }
  RETURN_IF_ERROR(WriteAll(fd_, buffer));
  static metrics::Histogram& fsync_seconds =
      metrics::Global().GetHistogram("arbor_wal_fsync_duration_seconds",
                                     "Time of one WAL group fdatasync.", metrics::LatencyBuckets());
  std::int64_t fsync_start_us = NowMicros();
  if (::fdatasync(fd_) != 0) return Internal(std::string("wal fdatasync: ") + std::strerror(errno));
  fsync_seconds.Observe(static_cast<double>(NowMicros() - fsync_start_us) / 1e6);
  file_bytes_ += buffer.size();
  std::lock_guard<std::mutex> lock(mu_);
  bytes_since_rotation_ += buffer.size();
  return Status::Ok();
}

void Wal::WriterLoop() {
  for (;;) {
    std::vector<Slot> group;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // On close, reserved places are still written once filled: their producers wait.
      queue_cv_.wait(lock, [&] {
        return rotate_requested_ || (!queue_.empty() && queue_.front().filled) ||
               (closing_ && queue_.empty());
      });
      if (rotate_requested_) {
        // Between groups: every record up to durable_tag_ is in the current file.
        lock.unlock();
        Status st = OpenNextFile(file_number_ + 1);
        lock.lock();
        if (!st.ok()) error_ = st;
        rotation_ = WalRotation{.tag = durable_tag_, .first_file = file_number_};
        bytes_since_rotation_ = 0;
        rotate_requested_ = false;
        durable_cv_.notify_all();
        if (!error_.ok()) return Stop();
        continue;
      }
      if (queue_.empty()) return Stop();
      while (!queue_.empty() && queue_.front().filled &&
             group.size() < limits::wal_group_requests_max) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
        ++queue_front_slot_;
      }
    }
    Status st = WriteGroup(group);
    std::lock_guard<std::mutex> lock(mu_);
    if (!st.ok()) {
      error_ = st;  // After a failed fsync nothing later may be acknowledged.
    } else {
      durable_tag_ = group.back().tag;
    }
    durable_cv_.notify_all();
    if (!error_.ok()) {
      stopped_ = true;
      return;
    }
  }
}

void Wal::Stop() {
  // Called with mu_ held by the writer thread as it exits; wakes a waiting Rotate().
  stopped_ = true;
  durable_cv_.notify_all();
}

void Wal::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return;
    closing_ = true;
    queue_cv_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace arbor::storage
