#include "storage/segments.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <tuple>

#include "base/util.h"
#include "json/json.h"

namespace arbor::storage {
namespace {

namespace bj = boost::json;

constexpr char kManifestName[] = "MANIFEST.json";

std::uint64_t CacheKey(std::uint32_t segment, std::uint32_t block) {
  return (std::uint64_t{segment} << 32) | block;
}

// Parsed rows take roughly twice their text in memory.
constexpr std::size_t kParsedBytesPerRawByte = 2;

bool ParseU64(const bj::value* v, std::uint64_t& out) {
  if (v == nullptr || !v->is_string()) return false;
  const std::string s(v->get_string());
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s.c_str(), &end, 10);
  return !s.empty() && end != nullptr && *end == '\0' && errno == 0;
}

bool ParseSegmentNumber(const std::string& name, std::uint32_t& out) {
  unsigned long long n = 0;
  char tail[8] = {0};
  if (std::sscanf(name.c_str(), "seg-%10llu.%7s", &n, tail) != 2) return false;
  if (std::strcmp(tail, "arbseg") != 0 || n == 0 || n > 0xffffffffull) return false;
  out = static_cast<std::uint32_t>(n);
  return true;
}

}  // namespace

void CrashPoint(const char* point) {
  const char* want = std::getenv("ARBOR_CRASH_AT");
  if (want != nullptr && std::strcmp(want, point) == 0) {
    std::fprintf(stderr, "arbor: crashing at %s (ARBOR_CRASH_AT)\n", point);
    ::_exit(86);
  }
}

Segments::Segments(SegmentsOptions options)
    : options_(std::move(options)), cache_(options_.block_cache_bytes_max) {}

std::string Segments::PathOf(std::uint32_t number) const {
  char name[32];
  std::snprintf(name, sizeof(name), "seg-%010u.arbseg", number);
  return options_.dir + "/" + name;
}

StatusOr<std::unique_ptr<Segments>> Segments::Open(SegmentsOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Internal("cannot create segment dir " + options.dir + ": " + ec.message());
  std::unique_ptr<Segments> s(new Segments(std::move(options)));
  RETURN_IF_ERROR(s->ReadManifest());
  RETURN_IF_ERROR(s->DeleteOrphans());
  for (const SegmentMeta& m : s->segments_) {
    ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(s->PathOf(m.number)));
    s->readers_[m.number] = std::move(reader);
  }
  return s;
}

Status Segments::ReadManifest() {
  std::string path = options_.dir + "/" + kManifestName;
  if (!std::filesystem::exists(path)) return Status::Ok();
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto parsed = json::Parse(text);
  if (!parsed.ok() || !parsed->is_object()) return DataLoss("segment manifest is not JSON");
  const bj::object& m = parsed->get_object();
  const bj::value* version = m.if_contains("format_version");
  if (version == nullptr || !version->is_int64() || version->get_int64() != kManifestVersion) {
    return DataLoss("segment manifest format version is not supported");
  }
  const bj::value* next = m.if_contains("next_segment");
  const bj::value* list = m.if_contains("segments");
  if (!ParseU64(m.if_contains("flushed_xact"), flushed_xact_) || next == nullptr ||
      !next->is_int64() || list == nullptr || !list->is_array()) {
    return DataLoss("segment manifest is missing fields");
  }
  next_number_ = static_cast<std::uint32_t>(next->get_int64());
  for (const bj::value& e : list->get_array()) {
    const bj::object* o = e.if_object();
    SegmentMeta meta;
    const bj::value* number = o ? o->if_contains("number") : nullptr;
    if (number == nullptr || !number->is_int64() ||
        !ParseU64(o->if_contains("min_xact"), meta.info.min_xact) ||
        !ParseU64(o->if_contains("max_xact"), meta.info.max_xact) ||
        !ParseU64(o->if_contains("bytes"), meta.info.bytes) ||
        !ParseU64(o->if_contains("versions"), meta.info.versions)) {
      return DataLoss("segment manifest has a malformed segment entry");
    }
    meta.number = static_cast<std::uint32_t>(number->get_int64());
    segments_.push_back(meta);
  }
  return Status::Ok();
}

Status Segments::WriteManifest(const std::vector<SegmentMeta>& segments, std::uint64_t flushed_xact,
                               std::uint32_t next_number) const {
  bj::array list;
  for (const SegmentMeta& m : segments) {
    list.push_back(bj::object{{"number", m.number},
                              {"min_xact", std::to_string(m.info.min_xact)},
                              {"max_xact", std::to_string(m.info.max_xact)},
                              {"bytes", std::to_string(m.info.bytes)},
                              {"versions", std::to_string(m.info.versions)}});
  }
  bj::object manifest{{"format_version", kManifestVersion},
                      {"flushed_xact", std::to_string(flushed_xact)},
                      {"next_segment", next_number},
                      {"segments", std::move(list)}};
  return WriteFileAtomic(options_.dir + "/" + kManifestName, json::Serialize(manifest) + "\n");
}

Status Segments::DeleteOrphans() const {
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir)) {
    std::string name = entry.path().filename().string();
    std::uint32_t number = 0;
    bool named = false;
    if (ParseSegmentNumber(name, number)) {
      for (const SegmentMeta& m : segments_) named = named || m.number == number;
    } else if (name == kManifestName) {
      named = true;
    }
    if (!named) std::filesystem::remove(entry.path());
  }
  return FsyncDirectory(options_.dir);
}

Status Segments::LoadInto(RowStore& store) const {
  std::vector<SegmentMeta> segments = List();
  for (const SegmentMeta& m : segments) {
    std::shared_ptr<SegmentReader> reader;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reader = readers_.at(m.number);
    }
    ASSIGN_OR_RETURN(std::vector<SegmentVersion> versions, reader->ReadVersions());
    ObjectRows* rows = nullptr;
    const std::string* rows_key = nullptr;
    for (const SegmentVersion& v : versions) {
      if (rows_key == nullptr || *rows_key != v.object_key) {
        rows = &store.GetOrCreate(v.object_key);
        rows_key = &v.object_key;
      }
      rows->ApplyFlushed(
          FlushedVersion{.id = v.id,
                         .seq = v.seq,
                         .xact = v.xact,
                         .deleted = v.deleted,
                         .comment = v.comment,
                         .root_span_id = v.root_span_id,
                         .ref = RowRef{.segment = m.number, .block = v.block, .index = v.index}});
    }
  }
  return Status::Ok();
}

Status Segments::Flush(RowStore& store, std::uint64_t upto) {
  std::lock_guard<std::mutex> change(change_mu_);
  std::uint32_t number = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (upto <= flushed_xact_) return Status::Ok();
    number = next_number_;
  }
  struct Flushed {
    ObjectRows* rows;
    std::vector<UnflushedVersion> versions;
    std::vector<RowRef> refs;
  };
  std::vector<Flushed> flushed;
  SegmentWriter writer(PathOf(number), options_.writer);
  std::string body;
  for (const std::string& key : store.ObjectKeys()) {
    ObjectRows& rows = store.GetOrCreate(key);
    Flushed f{.rows = &rows, .versions = rows.CollectUnflushed(upto), .refs = {}};
    if (f.versions.empty()) continue;
    for (const UnflushedVersion& u : f.versions) {
      SegmentVersion v{.object_key = key, .id = u.id, .seq = u.seq, .xact = u.xact};
      body.clear();
      if (u.row == nullptr) {
        v.deleted = true;
      } else {
        const bj::value* root = u.row->if_contains("root_span_id");
        if (root != nullptr && root->is_string()) v.root_span_id = root->get_string();
        const bj::value* comment = u.row->if_contains("comment");
        v.comment = comment != nullptr && comment->is_object();
        json::SerializeTo(*u.row, body);
      }
      ASSIGN_OR_RETURN(SegmentWriter::Place place, writer.Add(std::move(v), body, u.row.get()));
      f.refs.push_back(RowRef{.segment = number, .block = place.block, .index = place.index});
    }
    flushed.push_back(std::move(f));
  }

  std::vector<SegmentMeta> next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    next = segments_;
  }
  std::shared_ptr<SegmentReader> reader;
  if (!flushed.empty()) {
    ASSIGN_OR_RETURN(SegmentInfo info, writer.Finish());
    RETURN_IF_ERROR(FsyncDirectory(options_.dir));
    ASSIGN_OR_RETURN(reader, SegmentReader::Open(PathOf(number)));
    next.push_back(SegmentMeta{.number = number, .info = info});
    CrashPoint("flush-segment-written");
  }
  RETURN_IF_ERROR(WriteManifest(next, upto, number + 1));
  CrashPoint("flush-manifest-written");
  {
    std::lock_guard<std::mutex> lock(mu_);
    segments_ = std::move(next);
    if (reader != nullptr) readers_[number] = std::move(reader);
    flushed_xact_ = upto;
    next_number_ = number + 1;
  }
  for (Flushed& f : flushed) f.rows->MarkFlushed(f.versions, f.refs);
  return Status::Ok();
}

StatusOr<RowPtr> Segments::Load(const RowRef& ref) const {
  std::uint64_t key = CacheKey(ref.segment, ref.block);
  std::shared_ptr<const BlockRows> rows = cache_.Get(key);
  if (rows == nullptr) {
    std::shared_ptr<SegmentReader> reader;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = readers_.find(ref.segment);
      if (it == readers_.end()) {
        return Internal("segment " + std::to_string(ref.segment) + " is not open");
      }
      reader = it->second;
    }
    ASSIGN_OR_RETURN(BlockRows block, reader->ReadBlock(ref.block));
    rows = std::make_shared<const BlockRows>(std::move(block));
    cache_.Put(key, rows, std::size_t{reader->BlockRawBytes(ref.block)} * kParsedBytesPerRawByte);
  }
  if (ref.index >= rows->size()) return DataLoss("row position is outside its segment block");
  return (*rows)[ref.index];
}

bool Segments::MayContainAll(const RowRef& ref, const std::vector<std::uint64_t>& tokens) const {
  std::shared_ptr<SegmentReader> reader;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = readers_.find(ref.segment);
    if (it == readers_.end()) return true;
    reader = it->second;
  }
  return reader->BlockMayContainAll(ref.block, tokens);
}

std::uint64_t Segments::flushed_xact() const {
  std::lock_guard<std::mutex> lock(mu_);
  return flushed_xact_;
}

std::vector<SegmentMeta> Segments::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segments_;
}

}  // namespace arbor::storage

namespace arbor::storage {
namespace {

// How long a retired segment's reader stays open after compaction replaced it.
constexpr std::int64_t kRetiredReaderGraceMicros = 60'000'000;

// Streams one input segment's versions with their bodies, block by block.
class InputCursor {
 public:
  InputCursor(std::shared_ptr<SegmentReader> reader, std::vector<SegmentVersion> versions)
      : reader_(std::move(reader)), versions_(std::move(versions)) {}

  bool done() const { return pos_ == versions_.size(); }
  const SegmentVersion& current() const { return versions_[pos_]; }
  void Next() { ++pos_; }

  // The current version's body (nullptr for a delete).
  StatusOr<RowPtr> Body() {
    const SegmentVersion& v = current();
    if (v.deleted) return RowPtr();
    if (block_rows_.empty() || block_ != v.block) {
      ASSIGN_OR_RETURN(block_rows_, reader_->ReadBlock(v.block));
      block_ = v.block;
    }
    if (v.index >= block_rows_.size()) return DataLoss("row position is outside its block");
    return block_rows_[v.index];
  }

 private:
  std::shared_ptr<SegmentReader> reader_;
  std::vector<SegmentVersion> versions_;
  std::size_t pos_ = 0;
  std::uint32_t block_ = kNoBlock;
  BlockRows block_rows_;
};

bool VersionLess(const SegmentVersion& a, const SegmentVersion& b) {
  return std::tie(a.object_key, a.seq, a.xact) < std::tie(b.object_key, b.seq, b.xact);
}

}  // namespace

void Segments::CloseRetiredReaders() {
  std::int64_t now = NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(retired_, [&](const auto& r) {
    if (now - r.first < kRetiredReaderGraceMicros) return false;
    readers_.erase(r.second);
    cache_.EraseSegment(r.second);
    return true;
  });
}

Status Segments::Compact(RowStore& store, const std::vector<std::uint32_t>& numbers) {
  std::lock_guard<std::mutex> change(change_mu_);
  CloseRetiredReaders();
  if (numbers.size() < 2) return InvalidArgument("compaction needs at least two segments");
  std::vector<SegmentMeta> current = List();
  auto first = std::find_if(current.begin(), current.end(),
                            [&](const SegmentMeta& m) { return m.number == numbers[0]; });
  if (first == current.end() || current.end() - first < static_cast<long>(numbers.size())) {
    return InvalidArgument("compaction inputs are not live segments");
  }
  std::vector<InputCursor> inputs;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (first[static_cast<long>(i)].number != numbers[i]) {
      return InvalidArgument("compaction inputs must be adjacent, oldest first");
    }
    std::shared_ptr<SegmentReader> reader;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reader = readers_.at(numbers[i]);
    }
    ASSIGN_OR_RETURN(auto versions, reader->ReadVersions());
    inputs.emplace_back(std::move(reader), std::move(versions));
  }

  std::uint32_t number = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    number = next_number_;
  }
  // k-way merge in (object, seq, xact) order; the inputs are each sorted that way.
  SegmentWriter writer(PathOf(number), options_.writer);
  std::map<std::string, std::vector<ObjectRows::Move>> moves;  // object key -> moves
  for (;;) {
    InputCursor* next = nullptr;
    for (InputCursor& in : inputs) {
      if (!in.done() && (next == nullptr || VersionLess(in.current(), next->current()))) {
        next = &in;
      }
    }
    if (next == nullptr) break;
    ASSIGN_OR_RETURN(RowPtr row, next->Body());
    std::string body = row != nullptr ? json::Serialize(*row) : std::string();
    SegmentVersion v = next->current();
    std::string key = v.object_key;
    std::string id = v.id;
    std::uint64_t xact = v.xact;
    ASSIGN_OR_RETURN(SegmentWriter::Place place, writer.Add(std::move(v), body, row.get()));
    moves[key].push_back(ObjectRows::Move{
        .id = std::move(id),
        .xact = xact,
        .ref = RowRef{.segment = number, .block = place.block, .index = place.index}});
    next->Next();
  }
  ASSIGN_OR_RETURN(SegmentInfo info, writer.Finish());
  RETURN_IF_ERROR(FsyncDirectory(options_.dir));
  ASSIGN_OR_RETURN(std::shared_ptr<SegmentReader> reader, SegmentReader::Open(PathOf(number)));
  CrashPoint("compact-segment-written");

  std::vector<SegmentMeta> next_list;
  for (const SegmentMeta& m : current) {
    if (m.number == numbers[0]) next_list.push_back(SegmentMeta{.number = number, .info = info});
    if (std::find(numbers.begin(), numbers.end(), m.number) == numbers.end()) {
      next_list.push_back(m);
    }
  }
  std::uint64_t flushed = flushed_xact();
  RETURN_IF_ERROR(WriteManifest(next_list, flushed, number + 1));
  CrashPoint("compact-manifest-written");
  {
    std::lock_guard<std::mutex> lock(mu_);
    segments_ = std::move(next_list);
    readers_[number] = std::move(reader);
    next_number_ = number + 1;
    for (std::uint32_t old : numbers) retired_.emplace_back(NowMicros(), old);
  }
  for (auto& [key, list] : moves) store.GetOrCreate(key).MoveFlushed(list);
  // Open readers keep the retired files readable until CloseRetiredReaders.
  for (std::uint32_t old : numbers) std::filesystem::remove(PathOf(old));
  return FsyncDirectory(options_.dir);
}

}  // namespace arbor::storage
