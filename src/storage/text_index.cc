#include "storage/text_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/util.h"
#include "storage/encoding.h"

namespace arbor::storage {

namespace {

// An exact byte range of the index file; errors name the file.
Status ReadRange(int fd, char* out, std::size_t bytes, std::uint64_t offset,
                 const std::string& path) {
  Status st = PreadAll(fd, out, bytes, offset);
  if (st.ok()) return st;
  if (st.code() == StatusCode::kDataLoss) return DataLoss("text index " + path + " is truncated");
  return Internal("text index " + path + ": " + st.message());
}

// Keys in `a` that are also in `b` (both ascending).
std::vector<std::uint64_t> Intersect(const std::vector<std::uint64_t>& a,
                                     const std::vector<std::uint64_t>& b) {
  std::vector<std::uint64_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

std::string TextIndexPathFor(const std::string& segment_path) {
  const std::string suffix = ".arbseg";
  if (segment_path.size() >= suffix.size() &&
      segment_path.compare(segment_path.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return segment_path.substr(0, segment_path.size() - suffix.size()) + ".arbtix";
  }
  return segment_path + ".arbtix";
}

void TextIndexBuilder::AddRow(std::uint64_t row_key, const std::uint64_t* begin,
                              const std::uint64_t* end) {
  ++rows_;
  row_tokens_.assign(begin, end);
  std::sort(row_tokens_.begin(), row_tokens_.end());
  row_tokens_.erase(std::unique(row_tokens_.begin(), row_tokens_.end()), row_tokens_.end());
  for (std::uint64_t token : row_tokens_) {
    Postings& p = postings_[token];
    ARBOR_CHECK(p.rows == 0 || row_key > p.last_key);
    PutVarint(p.deltas, row_key - p.last_key);
    p.last_key = row_key;
    ++p.rows;
  }
}

Status TextIndexBuilder::Write(const std::string& path) const {
  std::vector<std::uint64_t> order;
  order.reserve(postings_.size());
  for (const auto& [token, p] : postings_) order.push_back(token);
  std::sort(order.begin(), order.end());

  std::string file(kTextIndexMagic, sizeof(kTextIndexMagic));
  PutU32(file, kTextIndexVersion);
  PutU32(file, 0);
  std::string dictionary;
  for (std::uint64_t token : order) {
    const Postings& p = postings_.at(token);
    PutU64(dictionary, token);
    PutU64(dictionary, file.size());
    PutU32(dictionary, static_cast<std::uint32_t>(p.deltas.size()));
    PutU32(dictionary, p.rows);
    PutU32(dictionary, Crc32c(p.deltas));
    file += p.deltas;
  }
  std::string footer;
  PutU64(footer, file.size());
  PutU64(footer, order.size());
  PutU64(footer, rows_);
  PutU32(footer, Crc32c(dictionary));
  PutU32(footer, Crc32c(footer));
  footer.append(kTextIndexMagic, sizeof(kTextIndexMagic));
  file += dictionary;
  file += footer;
  return WriteFileAtomic(path, file);
}

TextIndexReader::~TextIndexReader() {
  if (fd_ >= 0) ::close(fd_);
}

StatusOr<std::unique_ptr<TextIndexReader>> TextIndexReader::Open(const std::string& path) {
  std::unique_ptr<TextIndexReader> r(new TextIndexReader());
  r->path_ = path;
  r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) return NotFound("cannot open text index " + path + ": " + std::strerror(errno));
  const off_t size = ::lseek(r->fd_, 0, SEEK_END);
  if (size < static_cast<off_t>(kTextIndexHeaderBytes + kTextIndexFooterBytes)) {
    return DataLoss("text index " + path + " is too short");
  }
  const auto file_bytes = static_cast<std::uint64_t>(size);
  std::string header(kTextIndexHeaderBytes, '\0');
  RETURN_IF_ERROR(ReadRange(r->fd_, header.data(), header.size(), 0, path));
  if (std::memcmp(header.data(), kTextIndexMagic, sizeof(kTextIndexMagic)) != 0) {
    return DataLoss("text index " + path + " has a bad magic number");
  }
  if (GetU32(header.data() + 12) != 0) {
    return DataLoss("text index " + path + " has a damaged header");
  }
  if (GetU32(header.data() + 8) != kTextIndexVersion) {
    return DataLoss("text index " + path + " has unknown version " +
                    std::to_string(GetU32(header.data() + 8)));
  }
  std::string footer(kTextIndexFooterBytes, '\0');
  RETURN_IF_ERROR(
      ReadRange(r->fd_, footer.data(), footer.size(), file_bytes - kTextIndexFooterBytes, path));
  if (std::memcmp(footer.data() + 32, kTextIndexMagic, sizeof(kTextIndexMagic)) != 0 ||
      GetU32(footer.data() + 28) != Crc32c(std::string_view(footer.data(), 28))) {
    return DataLoss("text index " + path + " has a damaged footer");
  }
  const std::uint64_t dict_offset = GetU64(footer.data());
  const std::uint64_t count = GetU64(footer.data() + 8);
  const std::uint64_t dict_end = file_bytes - kTextIndexFooterBytes;
  if (dict_offset < kTextIndexHeaderBytes || dict_offset > dict_end ||
      (dict_end - dict_offset) != count * kTextIndexEntryBytes) {
    return DataLoss("text index " + path + " has a dictionary out of bounds");
  }
  std::string dictionary(dict_end - dict_offset, '\0');
  RETURN_IF_ERROR(ReadRange(r->fd_, dictionary.data(), dictionary.size(), dict_offset, path));
  if (Crc32c(dictionary) != GetU32(footer.data() + 24)) {
    return DataLoss("text index " + path + " has a damaged dictionary");
  }
  r->entries_.resize(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const char* p = dictionary.data() + i * kTextIndexEntryBytes;
    Entry& e = r->entries_[i];
    e = {GetU64(p), GetU64(p + 8), GetU32(p + 16), GetU32(p + 20), GetU32(p + 24)};
    if (e.offset < kTextIndexHeaderBytes || e.offset + e.bytes > dict_offset ||
        (i > 0 && e.token <= r->entries_[i - 1].token)) {
      return DataLoss("text index " + path + " has a damaged dictionary entry");
    }
  }
  return r;
}

const TextIndexReader::Entry* TextIndexReader::Find(std::uint64_t token) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), token,
                             [](const Entry& e, std::uint64_t t) { return e.token < t; });
  return it != entries_.end() && it->token == token ? &*it : nullptr;
}

StatusOr<std::vector<std::uint64_t>> TextIndexReader::ReadPostings(const Entry& e) const {
  std::string bytes(e.bytes, '\0');
  RETURN_IF_ERROR(ReadRange(fd_, bytes.data(), bytes.size(), e.offset, path_));
  if (Crc32c(bytes) != e.crc) return DataLoss("text index " + path_ + " has a damaged list");
  std::vector<std::uint64_t> keys;
  keys.reserve(e.rows);
  ByteReader in(bytes);
  std::uint64_t key = 0;
  for (std::uint32_t i = 0; i < e.rows; ++i) {
    std::uint64_t delta = 0;
    if (!in.Varint(delta)) return DataLoss("text index " + path_ + " has a truncated list");
    key += delta;
    keys.push_back(key);
  }
  return keys;
}

StatusOr<std::vector<std::uint64_t>> TextIndexReader::RowsWithAll(
    const std::vector<std::uint64_t>& tokens) const {
  std::vector<const Entry*> lists;
  for (std::uint64_t t : tokens) {
    const Entry* e = Find(t);
    if (e == nullptr) return std::vector<std::uint64_t>{};  // some token occurs nowhere
    lists.push_back(e);
  }
  if (lists.empty()) return InvalidArgument("RowsWithAll needs at least one token");
  std::sort(lists.begin(), lists.end(),
            [](const Entry* a, const Entry* b) { return a->rows < b->rows; });
  ASSIGN_OR_RETURN(std::vector<std::uint64_t> rows, ReadPostings(*lists.front()));
  for (std::size_t i = 1; i < lists.size() && !rows.empty(); ++i) {
    ASSIGN_OR_RETURN(std::vector<std::uint64_t> next, ReadPostings(*lists[i]));
    rows = Intersect(rows, next);
  }
  return rows;
}

}  // namespace arbor::storage
