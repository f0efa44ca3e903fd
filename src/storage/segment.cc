#include "storage/segment.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>
#include <unordered_map>

#include "base/log.h"
#include "base/tokenize.h"
#include "base/util.h"
#include "json/json.h"
#include "storage/encoding.h"

namespace arbor::storage {
namespace {

// Version table flags.
constexpr std::uint8_t kFlagDeleted = 1;
constexpr std::uint8_t kFlagComment = 2;
constexpr std::uint8_t kFlagHasRoot = 4;
constexpr std::uint8_t kFlagRootIsId = 8;

// Bodies and tables are compressed with zstd; refuse to inflate anything absurd.
constexpr std::size_t kRawBytesMax = 512u << 20;

StatusOr<std::string> Compress(std::string_view raw, int level) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) return Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

StatusOr<std::string> Decompress(std::string_view compressed, std::size_t raw_bytes) {
  if (raw_bytes > kRawBytesMax) return DataLoss("segment block claims an absurd size");
  // One context per thread: light blocks are small, and a fresh context per call would cost
  // about as much as decompressing them.
  thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(),
                                                                         &ZSTD_freeDCtx);
  if (dctx == nullptr) return Internal("zstd: cannot create a decompression context");
  std::string out(raw_bytes, '\0');
  std::size_t n =
      ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != raw_bytes) return DataLoss("segment block does not decompress");
  return out;
}

std::string EncodeTable(const std::vector<SegmentVersion>& versions) {
  std::vector<std::string_view> keys;
  std::unordered_map<std::string_view, std::uint64_t> key_index;
  for (const SegmentVersion& v : versions) {
    if (key_index.try_emplace(v.object_key, keys.size()).second) keys.push_back(v.object_key);
  }
  std::string out;
  PutVarint(out, keys.size());
  for (std::string_view k : keys) PutString(out, k);
  PutVarint(out, versions.size());
  for (const SegmentVersion& v : versions) {
    PutVarint(out, key_index.at(v.object_key));
    PutString(out, v.id);
    PutVarint(out, v.seq);
    PutVarint(out, v.xact);
    std::uint8_t flags = (v.deleted ? kFlagDeleted : 0) | (v.comment ? kFlagComment : 0);
    if (!v.root_span_id.empty()) flags |= v.root_span_id == v.id ? kFlagRootIsId : kFlagHasRoot;
    out.push_back(static_cast<char>(flags));
    if (flags & kFlagHasRoot) PutString(out, v.root_span_id);
    PutVarint(out, v.block == kNoBlock ? 0 : std::uint64_t{v.block} + 1);
    PutVarint(out, v.index);
  }
  return out;
}

StatusOr<std::vector<SegmentVersion>> DecodeTable(std::string_view data) {
  ByteReader in(data);
  std::uint64_t key_count = 0;
  if (!in.Varint(key_count) || key_count > data.size()) return DataLoss("bad segment table");
  std::vector<std::string> keys(key_count);
  for (auto& k : keys) {
    if (!in.String(k)) return DataLoss("bad object key in segment table");
  }
  std::uint64_t count = 0;
  if (!in.Varint(count) || count > data.size()) return DataLoss("bad segment version count");
  std::vector<SegmentVersion> out(count);
  for (SegmentVersion& v : out) {
    std::uint64_t key = 0, block = 0, index = 0;
    std::uint8_t flags = 0;
    bool ok = in.Varint(key) && key < keys.size() && in.String(v.id) && in.Varint(v.seq) &&
              in.Varint(v.xact) && in.Byte(flags);
    if (ok && (flags & kFlagHasRoot)) ok = in.String(v.root_span_id);
    ok = ok && in.Varint(block) && in.Varint(index) && block <= 0xffffffffull &&
         index <= 0xffffffffull;
    if (!ok) return DataLoss("bad row version in segment table");
    v.object_key = keys[key];
    v.deleted = flags & kFlagDeleted;
    v.comment = flags & kFlagComment;
    if (flags & kFlagRootIsId) v.root_span_id = v.id;
    v.block = block == 0 ? kNoBlock : static_cast<std::uint32_t>(block - 1);
    v.index = static_cast<std::uint32_t>(index);
  }
  if (!in.done()) return DataLoss("trailing bytes in segment table");
  return out;
}

// Token filters: a bloom filter per block over the token hashes of its rows' text (every leaf,
// as MATCH sees it), 10 bits per distinct token, 6 probes, each a splitmix64 of the hash plus
// a multiple of the golden ratio (independent probes even for power-of-two filter sizes).
constexpr std::size_t kFilterBitsPerToken = 10;
constexpr int kFilterProbes = 6;

std::uint64_t ProbeBit(std::uint64_t h, int i, std::uint64_t bits) {
  std::uint64_t x = h + static_cast<std::uint64_t>(i + 1) * 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return (x ^ (x >> 31)) % bits;
}

std::string BuildFilter(std::vector<std::uint64_t>& hashes) {
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  std::size_t bits = std::max<std::size_t>(64, hashes.size() * kFilterBitsPerToken);
  std::string filter((bits + 7) / 8, '\0');
  bits = filter.size() * 8;
  for (std::uint64_t h : hashes) {
    for (int i = 0; i < kFilterProbes; ++i) {
      std::uint64_t bit = ProbeBit(h, i, bits);
      filter[bit / 8] = static_cast<char>(filter[bit / 8] | (1 << (bit % 8)));
    }
  }
  return filter;
}

bool FilterMayContain(const std::string& filter, std::uint64_t h) {
  if (filter.empty()) return false;
  std::uint64_t bits = filter.size() * 8;
  for (int i = 0; i < kFilterProbes; ++i) {
    std::uint64_t bit = ProbeBit(h, i, bits);
    if ((static_cast<unsigned char>(filter[bit / 8]) & (1 << (bit % 8))) == 0) return false;
  }
  return true;
}

void AddRowTokens(const boost::json::object& row, std::vector<std::uint64_t>& out) {
  std::string text;
  json::CollectText(row, text);
  ForEachToken(text, [&](std::string_view token) { out.push_back(TokenHash(token)); });
}

}  // namespace

bool IsHeavyField(std::string_view key) {
  return key == "input" || key == "output" || key == "expected";
}

boost::json::object LightRow(const boost::json::object& row) {
  boost::json::object light;
  light.reserve(row.size());
  for (const auto& [key, value] : row) {
    if (!IsHeavyField(key)) light.emplace(key, value);
  }
  return light;
}

StatusOr<std::string> ZstdCompress(std::string_view raw, int level) { return Compress(raw, level); }

StatusOr<std::string> ZstdDecompress(std::string_view compressed, std::size_t raw_bytes) {
  return Decompress(compressed, raw_bytes);
}

SegmentWriter::SegmentWriter(std::string path, SegmentWriterOptions options)
    : path_(std::move(path)), options_(options) {}

SegmentWriter::~SegmentWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status SegmentWriter::OpenIfNeeded() {
  if (fd_ >= 0) return Status::Ok();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) return Internal("cannot create segment " + path_ + ": " + std::strerror(errno));
  std::string header(kSegmentMagic, sizeof(kSegmentMagic));
  PutU32(header, kSegmentVersion);
  PutU32(header, 0);
  return Append(header);
}

Status SegmentWriter::Append(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal(std::string("segment write: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  offset_ += bytes.size();
  return Status::Ok();
}

StatusOr<SegmentWriter::Place> SegmentWriter::Add(SegmentVersion v, std::string_view body,
                                                  const boost::json::object* row) {
  RETURN_IF_ERROR(OpenIfNeeded());
  if (!versions_.empty()) {
    const SegmentVersion& last = versions_.back();
    ARBOR_CHECK(std::tie(last.object_key, last.seq, last.xact) <
                std::tie(v.object_key, v.seq, v.xact));
  }
  if (v.deleted) {
    v.block = kNoBlock;
    v.index = 0;
  } else {
    v.block = info_.blocks;
    boost::json::value parsed;
    if (row == nullptr) {
      auto p = json::Parse(body);
      if (!p.ok() || !p->is_object()) return InvalidArgument("row body is not an object");
      parsed = std::move(*p);
      row = &parsed.get_object();
    }
    v.index = block_rows_++;
    ARBOR_CHECK(v.index < text_index_block_rows_max);
    PutString(block_, body);
    // The index tokenizes the row field by field and hands the block filter the same tokens.
    if (options_.text_index) {
      text_index_.AddRow(TextIndexRowKey(v.block, v.index), *row, block_tokens_);
    } else {
      AddRowTokens(*row, block_tokens_);
    }
    // A row without heavy fields is its own light form: reuse its text.
    bool heavy = std::any_of(row->begin(), row->end(),
                             [](const auto& kv) { return IsHeavyField(kv.key()); });
    if (heavy) {
      std::string light;
      json::SerializeTo(LightRow(*row), light);
      PutString(light_block_, light);
    } else {
      PutString(light_block_, body);
    }
    if (options_.columns) columns_.AddRow(*row);  // the light fields, from the parsed row
  }
  if (info_.versions == 0 || v.xact < info_.min_xact) info_.min_xact = v.xact;
  if (v.xact > info_.max_xact) info_.max_xact = v.xact;
  ++info_.versions;
  Place place{.block = v.block, .index = v.index};
  versions_.push_back(std::move(v));
  if (block_.size() >= options_.block_raw_bytes_target) RETURN_IF_ERROR(FlushBlock());
  return place;
}

Status SegmentWriter::FlushBlock() {
  if (block_rows_ == 0) return Status::Ok();
  ASSIGN_OR_RETURN(std::string compressed, Compress(block_, options_.zstd_level));
  ASSIGN_OR_RETURN(std::string light, Compress(light_block_, options_.zstd_level));
  PutU64(block_index_, offset_);
  PutU32(block_index_, static_cast<std::uint32_t>(compressed.size()));
  PutU32(block_index_, static_cast<std::uint32_t>(block_.size()));
  PutU32(block_index_, block_rows_);
  PutU32(block_index_, Crc32c(compressed));
  RETURN_IF_ERROR(Append(compressed));
  PutU64(block_index_, offset_);  // the light block follows its body block
  PutU32(block_index_, static_cast<std::uint32_t>(light.size()));
  PutU32(block_index_, static_cast<std::uint32_t>(light_block_.size()));
  PutU32(block_index_, Crc32c(light));
  RETURN_IF_ERROR(Append(light));
  PutString(filters_, BuildFilter(block_tokens_));
  if (options_.columns) RETURN_IF_ERROR(columns_.FinishBlock(options_.zstd_level));
  block_tokens_.clear();
  block_.clear();
  light_block_.clear();
  block_rows_ = 0;
  ++info_.blocks;
  return Status::Ok();
}

StatusOr<SegmentInfo> SegmentWriter::Finish() {
  RETURN_IF_ERROR(OpenIfNeeded());
  RETURN_IF_ERROR(FlushBlock());
  std::uint64_t index_offset = offset_;
  RETURN_IF_ERROR(Append(block_index_));
  std::string table = EncodeTable(versions_);
  ASSIGN_OR_RETURN(std::string compressed, Compress(table, options_.zstd_level));
  std::uint64_t table_offset = offset_;
  RETURN_IF_ERROR(Append(compressed));
  std::uint64_t filters_offset = offset_;
  RETURN_IF_ERROR(Append(filters_));

  std::string footer;
  PutU64(footer, index_offset);
  PutU32(footer, info_.blocks);
  PutU32(footer, Crc32c(block_index_));
  PutU64(footer, table_offset);
  PutU32(footer, static_cast<std::uint32_t>(compressed.size()));
  PutU32(footer, static_cast<std::uint32_t>(table.size()));
  PutU32(footer, Crc32c(compressed));
  PutU64(footer, info_.versions);
  PutU64(footer, info_.min_xact);
  PutU64(footer, info_.max_xact);
  PutU64(footer, filters_offset);
  PutU32(footer, static_cast<std::uint32_t>(filters_.size()));
  PutU32(footer, Crc32c(filters_));
  PutU32(footer, Crc32c(footer));
  footer.append(kSegmentMagic, sizeof(kSegmentMagic));
  ARBOR_CHECK(footer.size() == kSegmentFooterBytes);
  RETURN_IF_ERROR(Append(footer));
  if (::fsync(fd_) != 0) return Internal("segment fsync: " + std::string(std::strerror(errno)));
  ::close(fd_);
  fd_ = -1;
  info_.bytes = offset_;
  // The index is written (and fsynced) before the caller publishes the segment.
  if (options_.text_index) RETURN_IF_ERROR(text_index_.Write(TextIndexPathFor(path_)));
  if (options_.columns) {
    RETURN_IF_ERROR(columns_.Write(ColumnsPathFor(path_), options_.zstd_level));
  }
  return info_;
}

SegmentReader::~SegmentReader() {
  if (fd_ >= 0) ::close(fd_);
}

StatusOr<std::string> SegmentReader::ReadAt(std::uint64_t offset, std::size_t bytes) const {
  if (offset + bytes > info_.bytes) return DataLoss("segment " + path_ + " is truncated");
  std::string out(bytes, '\0');
  if (Status st = PreadAll(fd_, out.data(), bytes, offset); !st.ok()) {
    return Status(st.code(), "segment " + path_ + ": " + st.message());
  }
  return out;
}

StatusOr<std::unique_ptr<SegmentReader>> SegmentReader::Open(const std::string& path) {
  std::unique_ptr<SegmentReader> r(new SegmentReader());
  r->path_ = path;
  r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) return NotFound("cannot open segment " + path + ": " + std::strerror(errno));
  off_t size = ::lseek(r->fd_, 0, SEEK_END);
  if (size < static_cast<off_t>(kSegmentHeaderBytes + kSegmentFooterBytes)) {
    return DataLoss("segment " + path + " is too short");
  }
  r->info_.bytes = static_cast<std::uint64_t>(size);
  ASSIGN_OR_RETURN(std::string header, r->ReadAt(0, kSegmentHeaderBytes));
  if (std::memcmp(header.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return DataLoss("segment " + path + " has a bad magic number");
  }
  r->version_ = GetU32(header.data() + 8);
  if (r->version_ < 1 || r->version_ > kSegmentVersion) {
    return DataLoss("segment format version " + std::to_string(r->version_) + " is not supported");
  }
  const std::size_t entry_bytes =
      r->has_light() ? kSegmentBlockIndexEntryBytes : kSegmentBlockIndexEntryBytesV1;
  ASSIGN_OR_RETURN(std::string footer,
                   r->ReadAt(r->info_.bytes - kSegmentFooterBytes, kSegmentFooterBytes));
  const char* f = footer.data();
  if (std::memcmp(f + 80, kSegmentMagic, sizeof(kSegmentMagic)) != 0 ||
      Crc32c(std::string_view(f, 76)) != GetU32(f + 76)) {
    return DataLoss("segment " + path + " has a damaged footer");
  }
  std::uint64_t index_offset = GetU64(f);
  r->info_.blocks = GetU32(f + 8);
  std::uint32_t index_crc = GetU32(f + 12);
  r->table_offset_ = GetU64(f + 16);
  r->table_bytes_ = GetU32(f + 24);
  r->table_raw_bytes_ = GetU32(f + 28);
  r->table_crc_ = GetU32(f + 32);
  r->info_.versions = GetU64(f + 36);
  r->info_.min_xact = GetU64(f + 44);
  r->info_.max_xact = GetU64(f + 52);
  std::uint64_t filters_offset = GetU64(f + 60);
  std::uint32_t filters_bytes = GetU32(f + 68);
  std::uint32_t filters_crc = GetU32(f + 72);
  std::uint64_t index_bytes = std::uint64_t{r->info_.blocks} * entry_bytes;
  if (index_offset + index_bytes > r->table_offset_ ||
      r->table_offset_ + r->table_bytes_ > filters_offset ||
      filters_offset + filters_bytes > r->info_.bytes - kSegmentFooterBytes) {
    return DataLoss("segment " + path + " has an inconsistent footer");
  }
  ASSIGN_OR_RETURN(std::string filters, r->ReadAt(filters_offset, filters_bytes));
  if (Crc32c(filters) != filters_crc) return DataLoss("segment " + path + " filters are damaged");
  ByteReader filter_reader(filters);
  r->filters_.resize(r->info_.blocks);
  for (std::string& filter : r->filters_) {
    if (!filter_reader.String(filter)) return DataLoss("segment " + path + " filters are torn");
  }
  if (!filter_reader.done()) return DataLoss("segment " + path + " has extra filter bytes");
  ASSIGN_OR_RETURN(std::string index, r->ReadAt(index_offset, index_bytes));
  if (Crc32c(index) != index_crc) return DataLoss("segment " + path + " block index is damaged");
  r->blocks_.resize(r->info_.blocks);
  auto inside = [&](const Extent& x) {
    return x.offset >= kSegmentHeaderBytes && x.offset + x.compressed_bytes <= index_offset;
  };
  for (std::uint32_t i = 0; i < r->info_.blocks; ++i) {
    const char* e = index.data() + std::size_t{i} * entry_bytes;
    BlockEntry& b = r->blocks_[i];
    b.body = Extent{.offset = GetU64(e),
                    .compressed_bytes = GetU32(e + 8),
                    .raw_bytes = GetU32(e + 12),
                    .crc = GetU32(e + 20)};
    b.rows = GetU32(e + 16);
    if (r->has_light()) {
      b.light = Extent{.offset = GetU64(e + 24),
                       .compressed_bytes = GetU32(e + 32),
                       .raw_bytes = GetU32(e + 36),
                       .crc = GetU32(e + 40)};
    }
    if (!inside(b.body) || (r->has_light() && !inside(b.light))) {
      return DataLoss("segment " + path + " block index points outside the file");
    }
  }
  // The index is an accelerator that can be rebuilt: without it, scans use the block filters.
  if (auto index = TextIndexReader::Open(TextIndexPathFor(path)); index.ok()) {
    r->text_index_ = std::move(*index);
  } else if (index.status().code() != StatusCode::kNotFound) {
    log::Warn("text index not used", {{"segment", path}, {"error", index.status().message()}});
  }
  r->OpenColumns();
  return r;
}

void SegmentReader::OpenColumns() {
  // Columns only accelerate scans: without them (or with damaged ones) rows are read light.
  std::vector<std::uint32_t> block_rows;
  for (const BlockEntry& b : blocks_) block_rows.push_back(b.rows);
  if (auto columns = ColumnsReader::Open(ColumnsPathFor(path_), block_rows); columns.ok()) {
    columns_ = std::move(*columns);
  } else if (columns.status().code() != StatusCode::kNotFound) {
    log::Warn("columns not used", {{"segment", path_}, {"error", columns.status().message()}});
  }
}

StatusOr<std::vector<SegmentVersion>> SegmentReader::ReadVersions() const {
  ASSIGN_OR_RETURN(std::string compressed, ReadAt(table_offset_, table_bytes_));
  if (Crc32c(compressed) != table_crc_) return DataLoss("segment " + path_ + " table is damaged");
  ASSIGN_OR_RETURN(std::string raw, Decompress(compressed, table_raw_bytes_));
  ASSIGN_OR_RETURN(auto versions, DecodeTable(raw));
  if (versions.size() != info_.versions) return DataLoss("segment version count mismatch");
  return versions;
}

std::uint32_t SegmentReader::BlockRawBytes(std::uint32_t block) const {
  return block < blocks_.size() ? blocks_[block].body.raw_bytes : 0;
}

std::uint32_t SegmentReader::LightBlockRawBytes(std::uint32_t block) const {
  return block < blocks_.size() ? blocks_[block].light.raw_bytes : 0;
}

bool SegmentReader::BlockMayContainAll(std::uint32_t block,
                                       const std::vector<std::uint64_t>& tokens) const {
  if (block >= filters_.size()) return true;
  for (std::uint64_t h : tokens) {
    if (!FilterMayContain(filters_[block], h)) return false;
  }
  return true;
}

StatusOr<BlockRows> SegmentReader::ReadBlock(std::uint32_t block) const {
  if (block >= blocks_.size()) return DataLoss("segment block number out of range");
  return ReadRows(blocks_[block].body, blocks_[block].rows);
}

StatusOr<BlockRows> SegmentReader::ReadLightBlock(std::uint32_t block) const {
  if (!has_light()) return Internal("segment " + path_ + " has no light blocks (version 1)");
  if (block >= blocks_.size()) return DataLoss("segment block number out of range");
  return ReadRows(blocks_[block].light, blocks_[block].rows);
}

StatusOr<BlockRows> SegmentReader::ReadRows(const Extent& x, std::uint32_t count) const {
  ASSIGN_OR_RETURN(std::string compressed, ReadAt(x.offset, x.compressed_bytes));
  if (Crc32c(compressed) != x.crc) return DataLoss("segment " + path_ + " block is damaged");
  ASSIGN_OR_RETURN(std::string raw, Decompress(compressed, x.raw_bytes));
  BlockRows rows;
  rows.reserve(count);
  ByteReader in(raw);
  boost::json::parse_options options;
  options.max_depth = 1024;
  while (!in.done()) {
    std::string_view body;
    if (!in.StringView(body)) return DataLoss("segment block has a torn row");
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec, {}, options);
    if (ec || !v.is_object()) return DataLoss("segment block row is not a JSON object");
    rows.push_back(std::make_shared<const boost::json::object>(std::move(v.get_object())));
  }
  if (rows.size() != count) return DataLoss("segment block row count mismatch");
  return rows;
}

}  // namespace arbor::storage
