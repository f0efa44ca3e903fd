#include "storage/segments.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "base/log.h"
#include "base/tokenize.h"
#include "base/util.h"
#include "json/json.h"

namespace arbor::storage {
namespace {

namespace bj = boost::json;

constexpr char kManifestName[] = "MANIFEST.json";

// A block, its light twin and its columns are cached apart (the low two bits); the segment
// number stays in the high half (BlockCache::EraseSegment). Block numbers stay far below 2^30
// (that many blocks would take a 50 GB block index).
std::uint64_t CacheKey(std::uint32_t segment, std::uint32_t block, bool light = false) {
  return (std::uint64_t{segment} << 32) | (std::uint64_t{block} << 2) | (light ? 1 : 0);
}
std::uint64_t ColumnsCacheKey(std::uint32_t segment, std::uint32_t block) {
  return (std::uint64_t{segment} << 32) | (std::uint64_t{block} << 2) | 2;
}
constexpr std::uint32_t kCachedBlocksMax = 1u << 30;

// Projected rows (LoadProjected) may take this fraction (1/n) of the block cache's budget
// again: they are a few fields per row, so half of it holds a query's projections of data many
// times larger than the parsed light rows that would fit (100k spans: Q2, Q6, Q8 run 2-5x
// faster with their projections cached than rebuilt per query).
constexpr std::size_t kProjectionCacheShare = 2;

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

bool SameRanges(const std::vector<ColumnRange>& a, const std::vector<ColumnRange>& b) {
  return std::equal(
      a.begin(), a.end(), b.begin(), b.end(), [](const ColumnRange& x, const ColumnRange& y) {
        return x.lo == y.lo && x.hi == y.hi && x.equals == y.equals && x.path == y.path;
      });
}

bool ParseSegmentNumber(const std::string& name, std::uint32_t& out) {
  unsigned long long n = 0;
  char tail[8] = {0};
  if (std::sscanf(name.c_str(), "seg-%10llu.%7s", &n, tail) != 2) return false;
  // The segment itself, its text index (storage/text_index.h) or its columns (columns.h).
  if ((std::strcmp(tail, "arbseg") != 0 && std::strcmp(tail, "arbtix") != 0 &&
       std::strcmp(tail, "arbcol") != 0) ||
      n == 0 || n > 0xffffffffull) {
    return false;
  }
  out = static_cast<std::uint32_t>(n);
  return true;
}

// Counts a segment's garbage (SegmentGarbage) from its versions in (object, seq, xact) order.
class GarbageCounter {
 public:
  void Add(const SegmentVersion& v, bool overwrites_older) {
    if (v.deleted) ++garbage_.deletes;
    if (overwrites_older) ++garbage_.overwrites;
    // The previous version is the same row: it is shadowed by this one.
    if (seq_ == v.seq && object_ == v.object_key) ++garbage_.shadowed;
    seq_ = v.seq;
    if (object_ != v.object_key) object_ = v.object_key;
  }
  const SegmentGarbage& garbage() const { return garbage_; }

 private:
  SegmentGarbage garbage_;
  std::string object_;
  std::uint64_t seq_ = 0;  // seqs start at 1
};

}  // namespace

// Segments whose MATCH answers a scanning thread keeps (Segments::MayContainAll).
inline constexpr std::size_t text_index_answers_max = 64;
// Blocks whose column projections (Segments::LoadProjected) and range answers
// (Segments::BlockMayMatch) a scanning thread keeps.
inline constexpr std::size_t column_projections_max = 16;
inline constexpr std::size_t block_answers_max = 1u << 16;

void CrashPoint(const char* point) {
  const char* want = std::getenv("ARBOR_CRASH_AT");
  if (want != nullptr && std::strcmp(want, point) == 0) {
    std::fprintf(stderr, "arbor: crashing at %s (ARBOR_CRASH_AT)\n", point);
    ::_exit(86);
  }
}

Segments::Segments(SegmentsOptions options)
    : options_(std::move(options)),
      cache_(options_.block_cache_bytes_max),
      projections_(options_.block_cache_bytes_max / kProjectionCacheShare) {
  static std::atomic<std::uint64_t> instances{0};
  instance_ = ++instances;
}

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
  RETURN_IF_ERROR(s->CountLegacyGarbage());
  return s;
}

Status Segments::CountLegacyGarbage() {
  for (SegmentMeta& m : segments_) {
    if (std::find(uncounted_.begin(), uncounted_.end(), m.number) == uncounted_.end()) continue;
    ASSIGN_OR_RETURN(std::vector<SegmentVersion> versions, readers_.at(m.number)->ReadVersions());
    GarbageCounter counter;
    for (const SegmentVersion& v : versions) counter.Add(v, false);
    m.garbage = counter.garbage();  // the manifest records it at the next flush
  }
  uncounted_.clear();
  return Status::Ok();
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
    // Garbage counts came later (history horizon); older manifests lack them.
    if (!ParseU64(o->if_contains("deletes"), meta.garbage.deletes) ||
        !ParseU64(o->if_contains("shadowed"), meta.garbage.shadowed) ||
        !ParseU64(o->if_contains("overwrites"), meta.garbage.overwrites)) {
      meta.garbage = {};
      uncounted_.push_back(meta.number);
    }
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
                              {"versions", std::to_string(m.info.versions)},
                              {"deletes", std::to_string(m.garbage.deletes)},
                              {"shadowed", std::to_string(m.garbage.shadowed)},
                              {"overwrites", std::to_string(m.garbage.overwrites)}});
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
  GarbageCounter garbage;
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
      garbage.Add(v, u.overwrites_flushed);
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
    next.push_back(SegmentMeta{.number = number, .info = info, .garbage = garbage.garbage()});
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

StatusOr<RowPtr> Segments::Load(const RowRef& ref) const { return LoadFrom(ref, false); }

StatusOr<RowPtr> Segments::LoadLight(const RowRef& ref) const { return LoadFrom(ref, true); }

StatusOr<RowPtr> Segments::LoadFrom(const RowRef& ref, bool light) const {
  if (ref.block >= kCachedBlocksMax) return DataLoss("segment block number out of range");
  std::shared_ptr<const BlockRows> rows = cache_.Get(CacheKey(ref.segment, ref.block, light));
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
    // A version 1 segment has no light blocks: its light rows are the full bodies.
    if (light && !reader->has_light()) return LoadFrom(ref, false);
    ASSIGN_OR_RETURN(BlockRows block,
                     light ? reader->ReadLightBlock(ref.block) : reader->ReadBlock(ref.block));
    rows = std::make_shared<const BlockRows>(std::move(block));
    std::size_t raw =
        light ? reader->LightBlockRawBytes(ref.block) : reader->BlockRawBytes(ref.block);
    cache_.Put(CacheKey(ref.segment, ref.block, light), rows, raw * kParsedBytesPerRawByte);
  }
  if (ref.index >= rows->size()) return DataLoss("row position is outside its segment block");
  return (*rows)[ref.index];
}

namespace {

// The rows of a segment's text index that may meet every term (version 2: per field, phrases
// by position) or hold every token (version 1: any field), ascending.
StatusOr<std::vector<std::uint64_t>> IndexedRows(const TextIndexReader& index,
                                                 const std::vector<TextTerm>& terms,
                                                 const std::vector<std::uint64_t>& tokens) {
  if (index.version() == 1) return index.RowsWithAll(tokens);
  if (terms.empty()) return FailedPrecondition("a version 2 text index answers MATCH terms only");
  std::vector<std::uint64_t> rows;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const TextTerm& t = terms[i];
    ASSIGN_OR_RETURN(std::vector<std::uint64_t> next,
                     index.RowsMatching(t.field, t.tokens, t.phrase));
    if (i == 0) {
      rows = std::move(next);
    } else {
      std::vector<std::uint64_t> both;
      std::set_intersection(rows.begin(), rows.end(), next.begin(), next.end(),
                            std::back_inserter(both));
      rows = std::move(both);
    }
    if (rows.empty()) break;
  }
  return rows;
}

}  // namespace

bool Segments::MayContainAll(const RowRef& ref, const std::vector<std::uint64_t>& tokens) const {
  return MayMatchText(ref, {}, tokens);
}

bool Segments::MayMatchText(const RowRef& ref, const std::vector<TextTerm>& terms,
                            const std::vector<std::uint64_t>& tokens) const {
  // A scan asks about every row it passes, with the same terms: each segment's answer (the
  // rows its text index lists for all of them) is looked up once and kept, per thread, until
  // the terms change. Segments are immutable and, within one open data dir (`instance_`),
  // their numbers are never reused.
  struct Answer {
    std::uint64_t instance = 0;
    std::uint32_t segment = 0;
    std::shared_ptr<SegmentReader> reader;
    bool exact = false;               // from the text index: `rows` lists every match
    std::vector<std::uint64_t> rows;  // TextIndexRowKey, ascending
  };
  thread_local std::vector<std::uint64_t> asked;
  thread_local std::vector<TextTerm> asked_terms;
  thread_local std::vector<Answer> answers;
  if (asked != tokens || asked_terms != terms) {
    asked = tokens;
    asked_terms = terms;
    answers.clear();
  }
  auto it = std::find_if(answers.begin(), answers.end(), [&](const Answer& a) {
    return a.segment == ref.segment && a.instance == instance_;
  });
  if (it == answers.end()) {
    Answer a{.instance = instance_, .segment = ref.segment};
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto r = readers_.find(ref.segment);
      if (r == readers_.end()) return true;
      a.reader = r->second;
    }
    if (const TextIndexReader* index = a.reader->text_index(); index != nullptr) {
      if (auto rows = IndexedRows(*index, terms, tokens); rows.ok()) {
        a.rows = std::move(*rows);
        a.exact = true;
      }
    }
    if (answers.size() >= text_index_answers_max) answers.erase(answers.begin());
    answers.push_back(std::move(a));
    it = answers.end() - 1;
  }
  if (it->exact) {
    return std::binary_search(it->rows.begin(), it->rows.end(),
                              TextIndexRowKey(ref.block, ref.index));
  }
  return it->reader->BlockMayContainAll(ref.block, tokens);
}

std::shared_ptr<SegmentReader> Segments::ReaderOf(std::uint32_t segment) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = readers_.find(segment);
  return it == readers_.end() ? nullptr : it->second;
}

std::shared_ptr<const ColumnBlock> Segments::ColumnsOf(const RowRef& ref) const {
  if (ref.block >= kCachedBlocksMax) return nullptr;
  const std::uint64_t key = ColumnsCacheKey(ref.segment, ref.block);
  if (auto cached = cache_.GetAs<ColumnBlock>(key)) return cached;
  std::shared_ptr<SegmentReader> reader = ReaderOf(ref.segment);
  const ColumnsReader* columns = reader != nullptr ? reader->columns() : nullptr;
  if (columns == nullptr || !columns->HasColumns(ref.block)) return nullptr;
  auto block = columns->ReadBlock(ref.block);
  if (!block.ok()) {
    log::Warn("columns not used", {{"segment", std::to_string(ref.segment)},
                                   {"block", std::to_string(ref.block)},
                                   {"error", block.status().message()}});
    return nullptr;
  }
  cache_.PutAny(key, *block, (*block)->bytes());
  return *block;
}

// Projected rows of one block for one set of paths, built once and shared by the scans that
// ask for the same paths (a repeated query then allocates nothing per row).
struct ProjectedBlock {
  std::uint32_t segment = 0;
  std::uint32_t block = 0;
  std::vector<FieldPath> paths;
  std::vector<RowPtr> rows;
};

namespace {

std::uint64_t HashPaths(const std::vector<FieldPath>& paths) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const FieldPath& p : paths) {
    for (const std::string& key : p) h = (h ^ TokenHash(key)) * 0x100000001b3ull;
    h = (h ^ 0x2f) * 0x100000001b3ull;
  }
  return h;
}

std::uint64_t ProjectionKey(std::uint64_t paths_hash, std::uint32_t segment, std::uint32_t block) {
  std::uint64_t x = paths_hash ^ ((std::uint64_t{segment} << 32) | block);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// What a parsed JSON value roughly takes in memory (for the cache's byte budget).
std::size_t ApproxBytes(const bj::value& v) {
  std::size_t bytes = sizeof(bj::value);
  if (v.is_string()) bytes += v.get_string().size();
  if (v.is_array()) {
    for (const bj::value& x : v.get_array()) bytes += ApproxBytes(x);
  }
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) bytes += 16 + kv.key().size() + ApproxBytes(kv.value());
  }
  return bytes;
}

}  // namespace

std::shared_ptr<const ProjectedBlock> Segments::ProjectedRowsOf(const RowRef& ref,
                                                                const std::vector<FieldPath>& paths,
                                                                std::uint64_t paths_hash) const {
  const std::uint64_t key = ProjectionKey(paths_hash, ref.segment, ref.block);
  if (auto cached = projections_.GetAs<ProjectedBlock>(key);
      cached != nullptr && cached->segment == ref.segment && cached->block == ref.block &&
      cached->paths == paths) {
    return cached;
  }
  std::shared_ptr<const ColumnBlock> columns = ColumnsOf(ref);
  if (columns == nullptr) return nullptr;
  std::optional<ColumnProjection> projection = ColumnProjection::Make(*columns, paths);
  if (!projection) return nullptr;
  auto built = std::make_shared<ProjectedBlock>();
  built->segment = ref.segment;
  built->block = ref.block;
  built->paths = paths;
  built->rows.reserve(columns->rows());
  std::size_t bytes = sizeof(ProjectedBlock);
  for (std::uint32_t row = 0; row < columns->rows(); ++row) {
    auto object = std::make_shared<const bj::object>(projection->Build(*columns, row));
    bytes += 64 + ApproxBytes(bj::value(*object));
    built->rows.push_back(std::move(object));
  }
  projections_.PutAny(key, built, bytes);
  return built;
}

StatusOr<RowPtr> Segments::LoadProjected(const RowRef& ref,
                                         const std::vector<FieldPath>& paths) const {
  // A scan asks for every row it passes, with the same paths: each block's projected rows are
  // kept per thread, with the block, until the paths change (and in a shared cache beyond).
  struct Memo {
    std::uint64_t instance = 0;
    std::uint32_t segment = 0;
    std::uint32_t block = 0;
    std::shared_ptr<const ProjectedBlock> projected;  // nullptr: read light rows
  };
  thread_local std::vector<FieldPath> asked;
  thread_local std::uint64_t asked_hash = 0;
  thread_local std::vector<Memo> memos;
  if (asked != paths) {
    asked = paths;
    asked_hash = HashPaths(paths);
    memos.clear();
  }
  auto it = std::find_if(memos.begin(), memos.end(), [&](const Memo& m) {
    return m.block == ref.block && m.segment == ref.segment && m.instance == instance_;
  });
  if (it == memos.end()) {
    Memo m{.instance = instance_, .segment = ref.segment, .block = ref.block};
    if (ref.block < kCachedBlocksMax) {
      m.projected =
          std::static_pointer_cast<const ProjectedBlock>(ProjectedRowsOf(ref, paths, asked_hash));
    }
    if (memos.size() >= column_projections_max) memos.erase(memos.begin());
    memos.push_back(std::move(m));
    it = memos.end() - 1;
  }
  if (it->projected == nullptr || ref.index >= it->projected->rows.size()) return LoadLight(ref);
  return it->projected->rows[ref.index];
}

bool Segments::BlockMayMatch(const RowRef& ref, const std::vector<ColumnRange>& ranges) const {
  // Asked for every row a scan passes, with the same ranges: each block's answer is kept per
  // thread until the ranges (or the Segments object) change.
  thread_local std::vector<ColumnRange> asked;
  thread_local std::uint64_t asked_instance = 0;
  thread_local std::unordered_map<std::uint64_t, bool> answers;  // segment << 32 | block
  if (asked_instance != instance_ || !SameRanges(asked, ranges)) {
    asked = ranges;
    asked_instance = instance_;
    answers.clear();
  }
  const std::uint64_t key = (std::uint64_t{ref.segment} << 32) | ref.block;
  if (auto it = answers.find(key); it != answers.end()) return it->second;
  std::shared_ptr<SegmentReader> reader = ReaderOf(ref.segment);
  const ColumnsReader* columns = reader != nullptr ? reader->columns() : nullptr;
  const bool may = columns == nullptr || columns->MayMatch(ref.block, ranges);
  if (answers.size() >= block_answers_max) answers.clear();
  answers.emplace(key, may);
  return may;
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
  // The version after the current one, if any.
  const SegmentVersion* peek() const {
    return pos_ + 1 < versions_.size() ? &versions_[pos_ + 1] : nullptr;
  }
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

// The input whose current version comes first in (object, seq, xact) order.
InputCursor* Smallest(std::vector<InputCursor>& inputs) {
  InputCursor* next = nullptr;
  for (InputCursor& in : inputs) {
    if (!in.done() && (next == nullptr || VersionLess(in.current(), next->current()))) next = &in;
  }
  return next;
}

// The version that follows `cur.current()` in the merged order, if any.
const SegmentVersion* Following(const std::vector<InputCursor>& inputs, const InputCursor& cur) {
  const SegmentVersion* after = cur.peek();
  for (const InputCursor& in : inputs) {
    if (&in == &cur || in.done()) continue;
    if (after == nullptr || VersionLess(in.current(), *after)) after = &in.current();
  }
  return after;
}

enum class Fate { kKeep, kShadowed, kDeletedRow };

// What compaction does with `v` (docs/formats/segment.md, "Compaction and history"): a
// version at or below the horizon goes when a newer one of its row is also at or below it
// (no snapshot at or after the horizon can see it); a tombstone that is the newest there
// ends its row when no older segment outside the inputs can hold a version it hides.
Fate FateOf(const SegmentVersion& v, const SegmentVersion* after, std::uint64_t horizon,
            bool bottommost) {
  if (v.xact > horizon) return Fate::kKeep;
  bool same_row = after != nullptr && after->seq == v.seq && after->object_key == v.object_key;
  if (same_row && after->xact <= horizon) return Fate::kShadowed;
  return v.deleted && bottommost ? Fate::kDeletedRow : Fate::kKeep;
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

Status Segments::Compact(RowStore& store, const std::vector<std::uint32_t>& numbers,
                         std::uint64_t history_horizon) {
  std::lock_guard<std::mutex> change(change_mu_);
  CloseRetiredReaders();
  // One segment is a valid input: rewriting it alone drops its garbage below the horizon.
  if (numbers.empty()) return InvalidArgument("compaction needs at least one segment");
  std::vector<SegmentMeta> current = List();
  auto first = std::find_if(current.begin(), current.end(),
                            [&](const SegmentMeta& m) { return m.number == numbers[0]; });
  if (first == current.end() || current.end() - first < static_cast<long>(numbers.size())) {
    return InvalidArgument("compaction inputs are not live segments");
  }
  // Nothing older than the inputs: a tombstone there hides nothing outside them.
  const bool bottommost = first == current.begin();
  std::uint64_t overwrites_in = 0;
  std::vector<InputCursor> inputs;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    overwrites_in += first[static_cast<long>(i)].garbage.overwrites;
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
  std::map<std::string, std::vector<ObjectRows::Drop>> drops;  // object key -> drops
  GarbageCounter garbage;
  auto write = [&](const SegmentVersion& version, const RowPtr& row) -> Status {
    std::string body = row != nullptr ? json::Serialize(*row) : std::string();
    garbage.Add(version, false);
    ASSIGN_OR_RETURN(SegmentWriter::Place place, writer.Add(version, body, row.get()));
    moves[version.object_key].push_back(ObjectRows::Move{
        .id = version.id,
        .xact = version.xact,
        .ref = RowRef{.segment = number, .block = place.block, .index = place.index}});
    return Status::Ok();
  };
  auto drop = [&](const SegmentVersion& v) {
    drops[v.object_key].push_back(ObjectRows::Drop{.id = v.id, .xact = v.xact});
  };
  // A deleted row is dropped only once a later row (higher seq) of its object is written:
  // the object's highest seq stays on disk, so rows written after a restart continue the
  // sequence instead of reusing a seq some cursor already passed.
  std::optional<SegmentVersion> pending;
  for (InputCursor* next = Smallest(inputs); next != nullptr; next = Smallest(inputs)) {
    const SegmentVersion& cur = next->current();
    if (pending && pending->object_key != cur.object_key) {
      RETURN_IF_ERROR(write(*pending, nullptr));
      pending.reset();
    }
    Fate fate = FateOf(cur, Following(inputs, *next), history_horizon, bottommost);
    if (fate == Fate::kShadowed) {
      drop(cur);
    } else if (fate == Fate::kDeletedRow) {
      if (pending) drop(*pending);
      pending = cur;
    } else {
      if (pending) drop(*pending);
      pending.reset();
      ASSIGN_OR_RETURN(RowPtr row, next->Body());
      RETURN_IF_ERROR(write(cur, row));
    }
    next->Next();
  }
  if (pending) RETURN_IF_ERROR(write(*pending, nullptr));
  ASSIGN_OR_RETURN(SegmentInfo info, writer.Finish());
  RETURN_IF_ERROR(FsyncDirectory(options_.dir));
  ASSIGN_OR_RETURN(std::shared_ptr<SegmentReader> reader, SegmentReader::Open(PathOf(number)));
  SegmentMeta output{.number = number, .info = info, .garbage = garbage.garbage()};
  // Shadowing of older segments is resolved once nothing older is left; else an estimate.
  output.garbage.overwrites = bottommost ? 0 : overwrites_in;
  CrashPoint("compact-segment-written");

  std::vector<SegmentMeta> next_list;
  for (const SegmentMeta& m : current) {
    if (m.number == numbers[0]) next_list.push_back(output);
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
  static const std::vector<ObjectRows::Drop> kNoDrops;
  for (auto& [key, list] : moves) {
    auto d = drops.find(key);
    store.GetOrCreate(key).ApplyCompaction(list, d == drops.end() ? kNoDrops : d->second);
    if (d != drops.end()) drops.erase(d);
  }
  // Drops of objects with no version written (none today: each keeps its highest row).
  for (auto& [key, list] : drops) store.GetOrCreate(key).ApplyCompaction({}, list);
  // Open readers keep the retired files readable until CloseRetiredReaders.
  for (std::uint32_t old : numbers) {
    std::filesystem::remove(PathOf(old));
    std::filesystem::remove(TextIndexPathFor(PathOf(old)));
    std::filesystem::remove(ColumnsPathFor(PathOf(old)));
  }
  return FsyncDirectory(options_.dir);
}

}  // namespace arbor::storage
