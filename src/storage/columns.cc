#include "storage/columns.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "base/util.h"
#include "json/json.h"
#include "storage/encoding.h"
#include "storage/segment.h"

namespace arbor::storage {
namespace {

namespace bj = boost::json;

std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Integers beyond 2^53 have no exact double: widen the bounds by one step each way so a
// range test on the doubles never excludes the integer itself.
constexpr double kExactIntegerMax = 9007199254740992.0;  // 2^53

void WidenBounds(ColumnStats& s, double d, bool inexact) {
  double lo = d;
  double hi = d;
  if (inexact) {
    lo = std::nextafter(d, -std::numeric_limits<double>::infinity());
    hi = std::nextafter(d, std::numeric_limits<double>::infinity());
  }
  if ((s.flags & ColumnStats::kNumber) == 0) {
    s.flags |= ColumnStats::kNumber;
    s.min = lo;
    s.max = hi;
    return;
  }
  s.min = std::min(s.min, lo);
  s.max = std::max(s.max, hi);
}

// Compares `a` with the first `n` keys of `b` (lexicographically, as FieldPath's <).
int ComparePrefix(const FieldPath& a, const FieldPath& b, std::size_t n) {
  if (std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.begin() + n)) return -1;
  if (std::lexicographical_compare(b.begin(), b.begin() + n, a.begin(), a.end())) return 1;
  return 0;
}

bool StartsWith(const FieldPath& path, const FieldPath& prefix, std::size_t n) {
  return path.size() >= n && std::equal(prefix.begin(), prefix.begin() + n, path.begin());
}

// The number a reader of the segment gets for `v`: bodies are stored as JSON text (doubles
// with integral values written as integers) and read back with boost::json's default number
// parsing, which is not correctly rounded and makes integers up to 2^63-1 int64. Columns must
// hold what the body holds once read, kind included.
bj::value AsReadBack(const bj::value& v) {
  if (v.is_uint64() && v.get_uint64() <= std::numeric_limits<std::int64_t>::max()) {
    return bj::value(static_cast<std::int64_t>(v.get_uint64()));
  }
  if (!v.is_double()) return v;
  thread_local std::string text;
  thread_local bj::parser parser;
  text.clear();
  json::SerializeTo(v, text);
  parser.reset();
  boost::system::error_code ec;
  parser.write(text, ec);
  if (ec) return v;
  return parser.release();
}

bj::object& EnsureObject(bj::value& v) {
  if (!v.is_object()) v.emplace_object();
  return v.get_object();
}

// An exact byte range of the column file; errors name the file.
Status ReadRange(int fd, std::string& out, std::uint64_t offset, const std::string& path) {
  Status st = PreadAll(fd, out.data(), out.size(), offset);
  if (st.ok()) return st;
  if (st.code() == StatusCode::kDataLoss) return DataLoss("columns " + path + " are truncated");
  return Internal("columns " + path + ": " + st.message());
}

void PutStats(std::string& out, const ColumnStats& s) {
  out.push_back(static_cast<char>(s.flags));
  if (s.flags & ColumnStats::kNumber) {
    PutU64(out, std::bit_cast<std::uint64_t>(s.min));
    PutU64(out, std::bit_cast<std::uint64_t>(s.max));
  }
  if (s.flags & ColumnStats::kStrings) {
    PutVarint(out, s.strings.size());
    for (const std::string& str : s.strings) PutString(out, str);
  }
}

// Fixed-width little-endian integers from a ByteReader.
template <typename T>
bool ReadFixed(ByteReader& in, T& out) {
  out = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    std::uint8_t b = 0;
    if (!in.Byte(b)) return false;
    out |= static_cast<T>(T{b} << (8 * i));
  }
  return true;
}
bool ReadU32(ByteReader& in, std::uint32_t& out) { return ReadFixed(in, out); }
bool ReadU64(ByteReader& in, std::uint64_t& out) { return ReadFixed(in, out); }

bool GetStats(ByteReader& in, ColumnStats& s) {
  if (!in.Byte(s.flags) || s.flags >= 64) return false;
  if (s.flags & ColumnStats::kNumber) {
    std::uint64_t lo = 0, hi = 0;
    if (!ReadU64(in, lo) || !ReadU64(in, hi)) return false;
    s.min = std::bit_cast<double>(lo);
    s.max = std::bit_cast<double>(hi);
  }
  if (s.flags & ColumnStats::kStrings) {
    std::uint64_t n = 0;
    if (!in.Varint(n) || n > column_distinct_strings_max) return false;
    s.strings.resize(n);
    for (std::string& str : s.strings) {
      if (!in.String(str)) return false;
    }
    if (!std::is_sorted(s.strings.begin(), s.strings.end())) return false;
  }
  return true;
}

}  // namespace

std::string ColumnsPathFor(const std::string& segment_path) {
  const std::string suffix = ".arbseg";
  if (segment_path.ends_with(suffix)) {
    return segment_path.substr(0, segment_path.size() - suffix.size()) + ".arbcol";
  }
  return segment_path + ".arbcol";
}

// ---------------------------------------------------------------------------------------------
// Building

// The columns of the block being written.
class ColumnsBuilder::Block {
 public:
  void AddRow(const bj::object& row) {
    if (!overflow_) {
      path_.clear();
      key_.clear();
      AddObject(row, true);
    }
    ++rows_;
  }
  std::uint32_t rows() const { return rows_; }
  bool overflow() const { return overflow_; }

  // The raw column block, its paths (ascending) and statistics.
  void Encode(std::string& raw, std::vector<FieldPath>& paths, std::vector<ColumnStats>& stats) {
    std::vector<Col*> order;
    for (Col& c : cols_) order.push_back(&c);
    std::sort(order.begin(), order.end(),
              [](const Col* a, const Col* b) { return a->path < b->path; });
    PutVarint(raw, order.size());
    for (Col* c : order) {
      c->kinds.resize(rows_, ColumnKind::kAbsent);
      c->values.resize(rows_, 0);
      EncodeColumn(*c, raw);
      paths.push_back(c->path);
      stats.push_back(FinishStats(*c));
    }
  }

 private:
  struct Col {
    FieldPath path;
    std::vector<ColumnKind> kinds;
    std::vector<std::uint64_t> values;
    std::unordered_map<std::string, std::uint64_t> dictionary_index;  // kind byte + text
    std::vector<const std::string*> dictionary;
    ColumnStats stats;
    std::set<std::string> strings;
    bool strings_overflow = false;
  };

  void AddObject(const bj::object& o, bool top) {
    for (const auto& kv : o) {
      if (top && IsHeavyField(kv.key())) continue;
      const std::size_t key_mark = key_.size();
      PutString(key_, kv.key());
      path_.emplace_back(kv.key());
      Col* c = path_.size() <= column_path_depth_max ? ColumnFor() : nullptr;
      if (c == nullptr) {
        overflow_ = true;
        return;
      }
      Set(*c, kv.value());
      if (kv.value().is_object()) AddObject(kv.value().get_object(), false);
      if (overflow_) return;
      path_.pop_back();
      key_.resize(key_mark);
    }
  }

  Col* ColumnFor() {
    auto it = index_.find(key_);
    if (it != index_.end()) return &cols_[it->second];
    if (cols_.size() >= column_paths_per_block_max) return nullptr;
    index_.emplace(key_, cols_.size());
    cols_.push_back(Col{.path = path_});
    return &cols_.back();
  }

  void Set(Col& c, const bj::value& v) {
    c.kinds.resize(rows_, ColumnKind::kAbsent);
    c.values.resize(rows_, 0);
    auto [kind, bits] = Classify(c, v.is_number() ? AsReadBack(v) : v);
    c.kinds.push_back(kind);
    c.values.push_back(bits);
  }

  std::pair<ColumnKind, std::uint64_t> Classify(Col& c, const bj::value& v) {
    ColumnStats& s = c.stats;
    switch (v.kind()) {
      case bj::kind::null:
        s.flags |= ColumnStats::kNull;
        return {ColumnKind::kNull, 0};
      case bj::kind::bool_:
        s.flags |= ColumnStats::kOther;
        return {v.get_bool() ? ColumnKind::kTrue : ColumnKind::kFalse, 0};
      case bj::kind::int64: {
        const std::int64_t i = v.get_int64();
        WidenBounds(s, static_cast<double>(i), std::abs(static_cast<double>(i)) > kExactIntegerMax);
        return {ColumnKind::kInt64, static_cast<std::uint64_t>(i)};
      }
      case bj::kind::uint64: {
        const std::uint64_t u = v.get_uint64();
        WidenBounds(s, static_cast<double>(u), static_cast<double>(u) > kExactIntegerMax);
        return {ColumnKind::kUint64, u};
      }
      case bj::kind::double_: {
        const double d = v.get_double();
        if (std::isnan(d)) {
          s.flags |= ColumnStats::kOther;
        } else {
          WidenBounds(s, d, false);
        }
        return {ColumnKind::kDouble, std::bit_cast<std::uint64_t>(d)};
      }
      case bj::kind::string:
        s.flags |= ColumnStats::kString;
        NoteString(c, v.get_string());
        return {ColumnKind::kString, Intern(c, ColumnKind::kString, v.get_string())};
      case bj::kind::array:
        s.flags |= ColumnStats::kOther;
        return {ColumnKind::kArray, Intern(c, ColumnKind::kArray, json::Serialize(v))};
      case bj::kind::object: {
        // Its keys in stored order: a projection copies an object whole, in that order.
        s.flags |= ColumnStats::kObject;
        std::string keys;
        for (const auto& kv : v.get_object()) PutString(keys, kv.key());
        return {ColumnKind::kObject, Intern(c, ColumnKind::kObject, keys)};
      }
    }
    return {ColumnKind::kNull, 0};
  }

  static void NoteString(Col& c, std::string_view s) {
    if (c.strings_overflow) return;
    if (s.size() > column_distinct_string_bytes_max) {
      c.strings_overflow = true;
      return;
    }
    c.strings.emplace(s);
    if (c.strings.size() > column_distinct_strings_max) c.strings_overflow = true;
  }

  static std::uint64_t Intern(Col& c, ColumnKind kind, std::string_view text) {
    std::string key(1, static_cast<char>(kind));
    key.append(text);
    auto [it, fresh] = c.dictionary_index.try_emplace(std::move(key), c.dictionary.size());
    if (fresh) c.dictionary.push_back(&it->first);
    return it->second;
  }

  static ColumnStats FinishStats(Col& c) {
    ColumnStats s = c.stats;
    if ((s.flags & ColumnStats::kString) == 0 || !c.strings_overflow) {
      s.flags |= ColumnStats::kStrings;
      s.strings.assign(c.strings.begin(), c.strings.end());
    }
    return s;
  }

  static void EncodeColumn(const Col& c, std::string& raw) {
    for (ColumnKind k : c.kinds) raw.push_back(static_cast<char>(k));
    PutVarint(raw, c.dictionary.size());
    for (const std::string* entry : c.dictionary) PutString(raw, *entry);
    for (std::size_t r = 0; r < c.kinds.size(); ++r) {
      switch (c.kinds[r]) {
        case ColumnKind::kInt64:
          PutVarint(raw, ZigZag(static_cast<std::int64_t>(c.values[r])));
          break;
        case ColumnKind::kDouble:
          PutU64(raw, c.values[r]);
          break;
        case ColumnKind::kUint64:
        case ColumnKind::kString:
        case ColumnKind::kArray:
        case ColumnKind::kObject:
          PutVarint(raw, c.values[r]);
          break;
        default:
          break;
      }
    }
  }

  std::uint32_t rows_ = 0;
  bool overflow_ = false;
  FieldPath path_;   // scratch: the path being visited
  std::string key_;  // scratch: path_ encoded (length-prefixed keys), the index key
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<Col> cols_;
};

ColumnsBuilder::ColumnsBuilder() : block_(std::make_unique<Block>()) {}
ColumnsBuilder::~ColumnsBuilder() = default;

void ColumnsBuilder::AddRow(const bj::object& row) { block_->AddRow(row); }

Status ColumnsBuilder::FinishBlock(int zstd_level) {
  if (block_->rows() == 0) return Status::Ok();
  FinishedBlock f{.rows = block_->rows()};
  if (!block_->overflow()) {
    std::string raw;
    block_->Encode(raw, f.paths, f.stats);
    ASSIGN_OR_RETURN(f.compressed, ZstdCompress(raw, zstd_level));
    f.raw_bytes = static_cast<std::uint32_t>(raw.size());
  }
  block_bytes_ += f.compressed.size();
  finished_.push_back(std::move(f));
  block_ = std::make_unique<Block>();
  return Status::Ok();
}

Status ColumnsBuilder::Write(const std::string& path, int zstd_level) const {
  std::vector<FieldPath> paths;
  for (const FinishedBlock& f : finished_)
    paths.insert(paths.end(), f.paths.begin(), f.paths.end());
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());

  std::string file(kColumnsMagic, sizeof(kColumnsMagic));
  PutU32(file, kColumnsVersion);
  PutU32(file, 0);
  std::string dir;
  PutVarint(dir, paths.size());
  for (const FieldPath& p : paths) {
    PutVarint(dir, p.size());
    for (const std::string& key : p) PutString(dir, key);
  }
  PutVarint(dir, finished_.size());
  for (const FinishedBlock& f : finished_) {
    PutVarint(dir, f.rows);
    dir.push_back(f.raw_bytes != 0 ? 1 : 0);
    if (f.raw_bytes == 0) continue;
    PutVarint(dir, file.size());
    PutVarint(dir, f.compressed.size());
    PutVarint(dir, f.raw_bytes);
    PutU32(dir, Crc32c(f.compressed));
    file += f.compressed;
    PutVarint(dir, f.paths.size());
    for (std::size_t i = 0; i < f.paths.size(); ++i) {
      PutVarint(dir, std::lower_bound(paths.begin(), paths.end(), f.paths[i]) - paths.begin());
      PutStats(dir, f.stats[i]);
    }
  }
  ASSIGN_OR_RETURN(std::string compressed, ZstdCompress(dir, zstd_level));
  std::string footer;
  PutU64(footer, file.size());
  PutU32(footer, static_cast<std::uint32_t>(compressed.size()));
  PutU32(footer, static_cast<std::uint32_t>(dir.size()));
  PutU32(footer, Crc32c(compressed));
  PutU32(footer, static_cast<std::uint32_t>(finished_.size()));
  PutU32(footer, Crc32c(footer));
  footer.append(kColumnsMagic, sizeof(kColumnsMagic));
  file += compressed;
  file += footer;
  return WriteFileAtomic(path, file);
}

// ---------------------------------------------------------------------------------------------
// Reading

ColumnsReader::~ColumnsReader() {
  if (fd_ >= 0) ::close(fd_);
}

StatusOr<std::unique_ptr<ColumnsReader>> ColumnsReader::Open(
    const std::string& path, const std::vector<std::uint32_t>& block_rows) {
  ASSIGN_OR_RETURN(std::unique_ptr<ColumnsReader> r, Open(path));
  bool same = r->blocks_.size() == block_rows.size();
  for (std::size_t b = 0; same && b < block_rows.size(); ++b) {
    same = r->blocks_[b].rows == block_rows[b];
  }
  if (!same) return DataLoss("columns " + path + " do not match their segment's blocks");
  return r;
}

StatusOr<std::unique_ptr<ColumnsReader>> ColumnsReader::Open(const std::string& path) {
  std::unique_ptr<ColumnsReader> r(new ColumnsReader());
  r->path_ = path;
  r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) return NotFound("cannot open columns " + path + ": " + std::strerror(errno));
  const off_t size = ::lseek(r->fd_, 0, SEEK_END);
  if (size < static_cast<off_t>(kColumnsHeaderBytes + kColumnsFooterBytes)) {
    return DataLoss("columns " + path + " are too short");
  }
  const auto file_bytes = static_cast<std::uint64_t>(size);
  std::string header(kColumnsHeaderBytes, '\0');
  RETURN_IF_ERROR(ReadRange(r->fd_, header, 0, path));
  if (std::memcmp(header.data(), kColumnsMagic, sizeof(kColumnsMagic)) != 0 ||
      GetU32(header.data() + 12) != 0) {
    return DataLoss("columns " + path + " have a bad header");
  }
  if (GetU32(header.data() + 8) != kColumnsVersion) {
    return DataLoss("columns " + path + " have unknown version " +
                    std::to_string(GetU32(header.data() + 8)));
  }
  std::string footer(kColumnsFooterBytes, '\0');
  RETURN_IF_ERROR(ReadRange(r->fd_, footer, file_bytes - kColumnsFooterBytes, path));
  const char* f = footer.data();
  if (std::memcmp(f + 28, kColumnsMagic, sizeof(kColumnsMagic)) != 0 ||
      GetU32(f + 24) != Crc32c(std::string_view(f, 24))) {
    return DataLoss("columns " + path + " have a damaged footer");
  }
  const std::uint64_t dir_offset = GetU64(f);
  const std::uint32_t dir_bytes = GetU32(f + 8);
  const std::uint32_t dir_raw_bytes = GetU32(f + 12);
  if (dir_offset < kColumnsHeaderBytes ||
      dir_offset + dir_bytes != file_bytes - kColumnsFooterBytes ||
      dir_raw_bytes > column_raw_bytes_max) {
    return DataLoss("columns " + path + " have an inconsistent footer");
  }
  std::string compressed(dir_bytes, '\0');
  RETURN_IF_ERROR(ReadRange(r->fd_, compressed, dir_offset, path));
  if (Crc32c(compressed) != GetU32(f + 16)) {
    return DataLoss("columns " + path + " have a damaged directory");
  }
  ASSIGN_OR_RETURN(std::string raw, ZstdDecompress(compressed, dir_raw_bytes));
  RETURN_IF_ERROR(r->ReadDirectory(raw, dir_offset));
  if (r->blocks_.size() != GetU32(f + 20)) {
    return DataLoss("columns " + path + " have an inconsistent directory");
  }
  return r;
}

Status ColumnsReader::ReadDirectory(std::string_view raw, std::uint64_t blocks_end) {
  const Status bad = DataLoss("columns " + path_ + " have a malformed directory");
  ByteReader in(raw);
  std::uint64_t count = 0;
  if (!in.Varint(count) || count > raw.size()) return bad;
  auto paths = std::make_shared<std::vector<FieldPath>>(count);
  for (std::size_t i = 0; i < paths->size(); ++i) {
    FieldPath& p = (*paths)[i];
    std::uint64_t keys = 0;
    if (!in.Varint(keys) || keys == 0 || keys > column_path_depth_max) return bad;
    p.resize(keys);
    for (std::string& key : p) {
      if (!in.String(key)) return bad;
    }
    if (i > 0 && !((*paths)[i - 1] < p)) return bad;  // strictly ascending: binary search
  }
  paths_ = std::move(paths);
  if (!in.Varint(count) || count > raw.size()) return bad;
  blocks_.resize(count);
  for (Entry& e : blocks_) {
    if (!ReadEntry(in, blocks_end, e)) return bad;
  }
  if (!in.done()) return bad;
  return Status::Ok();
}

bool ColumnsReader::ReadEntry(ByteReader& in, std::uint64_t blocks_end, Entry& e) const {
  std::uint64_t rows = 0, offset = 0, bytes = 0, raw_bytes = 0, columns = 0;
  std::uint8_t has = 0;
  if (!in.Varint(rows) || rows > 0xffffffffull || !in.Byte(has) || has > 1) return false;
  e.rows = static_cast<std::uint32_t>(rows);
  if (has == 0) return true;
  if (!in.Varint(offset) || !in.Varint(bytes) || !in.Varint(raw_bytes) || !ReadU32(in, e.crc) ||
      !in.Varint(columns)) {
    return false;
  }
  if (offset < kColumnsHeaderBytes || bytes > blocks_end || offset > blocks_end - bytes ||
      raw_bytes == 0 || raw_bytes > column_raw_bytes_max || columns > column_paths_per_block_max) {
    return false;
  }
  e.offset = offset;
  e.compressed_bytes = static_cast<std::uint32_t>(bytes);
  e.raw_bytes = static_cast<std::uint32_t>(raw_bytes);
  e.path_ids.resize(columns);
  e.stats.resize(columns);
  for (std::size_t i = 0; i < columns; ++i) {
    std::uint64_t id = 0;
    if (!in.Varint(id) || id >= paths_->size() || (i > 0 && id <= e.path_ids[i - 1])) return false;
    e.path_ids[i] = static_cast<std::uint32_t>(id);
    if (!GetStats(in, e.stats[i])) return false;
  }
  e.has_columns = true;
  return true;
}

bool ColumnsReader::HasColumns(std::uint32_t block) const {
  return block < blocks_.size() && blocks_[block].has_columns;
}

StatusOr<std::shared_ptr<const ColumnBlock>> ColumnsReader::ReadBlock(std::uint32_t block) const {
  if (!HasColumns(block)) return NotFound("block has no columns");
  const Entry& e = blocks_[block];
  std::string compressed(e.compressed_bytes, '\0');
  RETURN_IF_ERROR(ReadRange(fd_, compressed, e.offset, path_));
  if (Crc32c(compressed) != e.crc) return DataLoss("columns " + path_ + " have a damaged block");
  ASSIGN_OR_RETURN(std::string raw, ZstdDecompress(compressed, e.raw_bytes));
  return Decode(block, std::move(raw));
}

StatusOr<std::shared_ptr<const ColumnBlock>> ColumnsReader::DecodeRawBlock(
    std::uint32_t block, std::string_view raw) const {
  if (!HasColumns(block)) return NotFound("block has no columns");
  return Decode(block, std::string(raw));
}

StatusOr<std::shared_ptr<const ColumnBlock>> ColumnsReader::Decode(std::uint32_t block,
                                                                   std::string raw) const {
  const Entry& e = blocks_[block];
  auto out = std::make_shared<ColumnBlock>();
  out->rows_ = e.rows;
  out->paths_ = paths_;
  if (!DecodeBlock(std::move(raw), e, *out)) {
    return DataLoss("columns " + path_ + " have a malformed block");
  }
  return std::shared_ptr<const ColumnBlock>(std::move(out));
}

StatusOr<std::unique_ptr<ColumnsReader>> ColumnsReader::FromRawDirectory(std::string_view raw) {
  std::unique_ptr<ColumnsReader> r(new ColumnsReader());
  r->path_ = "(raw)";
  RETURN_IF_ERROR(r->ReadDirectory(raw, std::numeric_limits<std::uint32_t>::max()));
  return r;
}

bool ColumnsReader::DecodeBlock(std::string raw, const Entry& e, ColumnBlock& out) {
  out.raw_ = std::move(raw);
  ByteReader in(out.raw_);
  std::uint64_t count = 0;
  if (!in.Varint(count) || count != e.path_ids.size()) return false;
  out.columns_.resize(count);
  out.values_.assign(count * e.rows, 0);
  for (std::size_t i = 0; i < count; ++i) {
    out.columns_[i].path_id = e.path_ids[i];
    if (!out.DecodeColumn(in, i)) return false;
  }
  for (const ColumnBlock::Column& c : out.columns_) {
    if (!out.ResolveChildren(c)) return false;
  }
  return in.done();
}

bool ColumnBlock::DecodeColumn(ByteReader& in, std::size_t index) {
  Column& c = columns_[index];
  c.kinds = in.pos();
  c.values = index * rows_;
  for (std::uint32_t r = 0; r < rows_; ++r) {
    std::uint8_t b = 0;
    if (!in.Byte(b) || b > static_cast<std::uint8_t>(ColumnKind::kObject)) return false;
  }
  std::uint64_t entries = 0;
  if (!in.Varint(entries) || entries > rows_) return false;
  c.entries = static_cast<std::uint32_t>(entries_.size());
  for (std::uint64_t i = 0; i < entries; ++i) {
    std::string_view text;
    if (!in.StringView(text) || text.empty()) return false;
    const auto kind = static_cast<ColumnKind>(text[0]);
    if (kind != ColumnKind::kString && kind != ColumnKind::kArray && kind != ColumnKind::kObject) {
      return false;
    }
    entries_.push_back(Entry{.kind = kind,
                             .offset = static_cast<std::size_t>(text.data() - raw_.data()) + 1,
                             .size = text.size() - 1});
  }
  c.entries_end = static_cast<std::uint32_t>(entries_.size());
  for (std::uint32_t r = 0; r < rows_; ++r) {
    if (!DecodeValue(in, c, kind(c, r), values_[c.values + r])) return false;
  }
  return true;
}

bool ColumnBlock::DecodeValue(ByteReader& in, const Column& c, ColumnKind kind,
                              std::uint64_t& out) const {
  switch (kind) {
    case ColumnKind::kInt64:
      if (!in.Varint(out)) return false;
      out = static_cast<std::uint64_t>(UnZigZag(out));
      return true;
    case ColumnKind::kDouble:
      return ReadU64(in, out);
    case ColumnKind::kUint64:
      return in.Varint(out);
    case ColumnKind::kString:
    case ColumnKind::kArray:
    case ColumnKind::kObject:
      if (!in.Varint(out) || out >= c.entries_end - c.entries) return false;
      out += c.entries;
      return entries_[out].kind == kind;
    default:
      return true;
  }
}

bool ColumnBlock::ResolveChildren(const Column& c) {
  FieldPath child;  // made for the first object entry only: most columns have none
  for (std::uint32_t i = c.entries; i < c.entries_end; ++i) {
    Entry& e = entries_[i];
    if (e.kind != ColumnKind::kObject) continue;
    if (child.empty()) {
      child = path(c);
      child.emplace_back();
    }
    // The object's keys in stored order, each the last key of a column below this one.
    e.children = static_cast<std::uint32_t>(children_.size());
    ByteReader in(Text(e));
    while (!in.done()) {
      if (!in.String(child.back())) return false;
      auto it = std::lower_bound(columns_.begin(), columns_.end(), child,
                                 [&](const Column& x, const FieldPath& p) { return path(x) < p; });
      if (it == columns_.end() || path(*it) != child) return false;
      children_.push_back(static_cast<std::uint32_t>(it - columns_.begin()));
    }
    e.children_end = static_cast<std::uint32_t>(children_.size());
  }
  return true;
}

std::pair<const std::uint32_t*, const std::uint32_t*> ColumnBlock::Children(
    const Column& c, std::uint32_t row) const {
  const Entry& e = entries_[values_[c.values + row]];
  return {children_.data() + e.children, children_.data() + e.children_end};
}

std::size_t ColumnBlock::bytes() const {
  return sizeof(*this) + raw_.capacity() + values_.capacity() * sizeof(std::uint64_t) +
         columns_.capacity() * sizeof(Column) + entries_.capacity() * sizeof(Entry) +
         children_.capacity() * sizeof(std::uint32_t);
}

bj::value ColumnBlock::Leaf(const Column& c, std::uint32_t row) const {
  const std::uint64_t bits = values_[c.values + row];
  switch (kind(c, row)) {
    case ColumnKind::kFalse:
      return bj::value(false);
    case ColumnKind::kTrue:
      return bj::value(true);
    case ColumnKind::kInt64:
      return bj::value(static_cast<std::int64_t>(bits));
    case ColumnKind::kUint64:
      return bj::value(bits);
    case ColumnKind::kDouble:
      return bj::value(std::bit_cast<double>(bits));
    case ColumnKind::kString:
      return bj::value(bj::string(Text(entries_[bits])));
    case ColumnKind::kArray: {
      // The writer's own JSON text (checksummed): it parses. Should it not, null, not a crash.
      auto parsed = json::Parse(Text(entries_[bits]));
      return parsed.ok() ? std::move(*parsed) : bj::value(nullptr);
    }
    default:
      return bj::value(nullptr);
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

const ColumnStats* ColumnsReader::StatsAt(const Entry& e, const FieldPath& path,
                                          std::size_t keys) const {
  const std::vector<FieldPath>& paths = *paths_;
  auto it = std::lower_bound(
      e.path_ids.begin(), e.path_ids.end(), path,
      [&](std::uint32_t id, const FieldPath& p) { return ComparePrefix(paths[id], p, keys) < 0; });
  if (it == e.path_ids.end() || ComparePrefix(paths[*it], path, keys) != 0) return nullptr;
  return &e.stats[static_cast<std::size_t>(it - e.path_ids.begin())];
}

bool ColumnsReader::RangeMayMatch(const Entry& e, const ColumnRange& range) const {
  // Heavy fields have no columns: nothing is known about them.
  if (range.path.empty() || IsHeavyField(range.path.front())) return true;
  // A leaf on the way (an array, above all) may hold the path's value: no conclusion.
  constexpr std::uint8_t kLeaf = ColumnStats::kNumber | ColumnStats::kString | ColumnStats::kOther;
  for (std::size_t keys = 1; keys < range.path.size(); ++keys) {
    const ColumnStats* s = StatsAt(e, range.path, keys);
    if (s == nullptr) return false;  // no row reaches the path
    if (s->flags & kLeaf) return true;
  }
  const ColumnStats* s = StatsAt(e, range.path, range.path.size());
  if (s == nullptr) return false;
  if (range.equals) {
    if (s->flags & (ColumnStats::kNumber | ColumnStats::kOther | ColumnStats::kObject)) return true;
    if ((s->flags & ColumnStats::kString) == 0) return false;
    if ((s->flags & ColumnStats::kStrings) == 0) return true;
    return std::binary_search(s->strings.begin(), s->strings.end(), *range.equals);
  }
  if (s->flags & (ColumnStats::kString | ColumnStats::kOther | ColumnStats::kObject)) return true;
  if ((s->flags & ColumnStats::kNumber) == 0) return false;
  return !(s->max < range.lo || s->min > range.hi);
}

bool ColumnsReader::MayMatch(std::uint32_t block, const std::vector<ColumnRange>& ranges) const {
  if (!HasColumns(block)) return true;
  const Entry& e = blocks_[block];
  return std::all_of(ranges.begin(), ranges.end(),
                     [&](const ColumnRange& r) { return RangeMayMatch(e, r); });
}

// ---------------------------------------------------------------------------------------------
// Projection

std::optional<ColumnProjection> ColumnProjection::Make(const ColumnBlock& block,
                                                       const std::vector<FieldPath>& paths) {
  ColumnProjection p;
  // As ProjectRow: shorter paths first, and a path below an asked one adds nothing.
  std::vector<const FieldPath*> sorted;
  for (const FieldPath& path : paths) {
    if (!path.empty()) sorted.push_back(&path);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const FieldPath* a, const FieldPath* b) { return *a < *b; });
  for (const FieldPath* path : sorted) {
    const FieldPath* last = p.paths_.empty() ? nullptr : &p.paths_.back();
    if (last == nullptr || !StartsWith(*path, *last, last->size())) p.paths_.push_back(*path);
  }
  const auto& columns = block.columns();
  for (std::size_t i = 0; i < p.paths_.size(); ++i) {
    const FieldPath& path = p.paths_[i];
    if (IsHeavyField(path.front())) return std::nullopt;
    PathPlan plan{.path = i};
    for (std::size_t keys = 1; keys <= path.size(); ++keys) {
      auto it = std::lower_bound(columns.begin(), columns.end(), path,
                                 [&](const ColumnBlock::Column& c, const FieldPath& want) {
                                   return ComparePrefix(block.path(c), want, keys) < 0;
                                 });
      const bool found = it != columns.end() && ComparePrefix(block.path(*it), path, keys) == 0;
      plan.columns.push_back(found ? static_cast<int>(it - columns.begin()) : -1);
    }
    p.plans_.push_back(std::move(plan));
  }
  return p;
}

bj::object ColumnProjection::Build(const ColumnBlock& block, std::uint32_t row) const {
  // As ProjectRow: objects on the way get only the keys on some path, in path order; the value
  // at a path's end (or the first non-object on the way) is copied whole.
  bj::object out;
  const auto& columns = block.columns();
  for (const PathPlan& plan : plans_) {
    const FieldPath& path = paths_[plan.path];
    bj::object* at = &out;
    for (std::size_t i = 0; i < path.size(); ++i) {
      if (plan.columns[i] < 0) break;
      const auto column = static_cast<std::uint32_t>(plan.columns[i]);
      const ColumnKind kind = block.kind(columns[column], row);
      if (kind == ColumnKind::kAbsent) break;
      if (kind != ColumnKind::kObject) {
        (*at)[path[i]] = block.Leaf(columns[column], row);
        break;
      }
      at = &EnsureObject((*at)[path[i]]);
      if (i + 1 == path.size()) BuildObject(block, column, row, *at);
    }
  }
  return out;
}

void ColumnProjection::BuildObject(const ColumnBlock& block, std::uint32_t column,
                                   std::uint32_t row, bj::object& at) {
  const auto& columns = block.columns();
  auto [child, end] = block.Children(columns[column], row);
  for (; child != end; ++child) {
    const ColumnBlock::Column& c = columns[*child];
    const ColumnKind kind = block.kind(c, row);
    if (kind == ColumnKind::kAbsent) continue;  // not written so; skipped, not trusted
    const std::string& key = block.path(c).back();
    if (kind == ColumnKind::kObject) {
      BuildObject(block, *child, row, EnsureObject(at[key]));
    } else {
      at[key] = block.Leaf(c, row);
    }
  }
}

}  // namespace arbor::storage
