#include "storage/text_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include "base/tokenize.h"
#include "base/util.h"
#include "json/json.h"
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

// splitmix64's finalizer: term keys from pairs of hashes.
std::uint64_t Mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Top-level fields whose objects get no subfield terms (part of the format): the big free
// text of a span, where subfield lists would nearly double the field's (measured: 18 of the
// 21 MB of subfield lists on the query benchmark's data) and MATCH names the field itself.
bool HasSubfieldTerms(std::string_view field) {
  return field != "input" && field != "output" && field != "expected";
}

// A path step json::FindPath may take as an array index (the same parse): under such a step
// the index has no subfield, so the MATCH is answered from the top-level field.
bool MayBeArrayIndex(const std::string& step) {
  long long index = 0;
  auto [p, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
  return ec == std::errc() && p == step.data() + step.size();
}

// One varint of `s` at `pos` (advancing it); false past the end or when it runs too long.
bool GetVarint(std::string_view s, std::size_t& pos, std::uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= s.size()) return false;
    const auto b = static_cast<std::uint8_t>(s[pos++]);
    out |= std::uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// A version 2 row key after `last` (0 before the first): within the same block, the index
// delta times two; in a later block, the block delta times two plus one, then the index. Row
// keys are block << 24 | index, so a plain delta across blocks would take four bytes, and
// most lists skip from block to block.
void PutRowKey(std::string& out, std::uint64_t last, std::uint64_t key) {
  const std::uint64_t block = key >> 24, last_block = last >> 24;
  const std::uint64_t index = key & (text_index_block_rows_max - 1);
  if (block == last_block) {
    PutVarint(out, (index - (last & (text_index_block_rows_max - 1))) << 1);
  } else {
    PutVarint(out, ((block - last_block) << 1) | 1);
    PutVarint(out, index);
  }
}

// Reads what PutRowKey wrote; false when it is torn or does not ascend past `last` (the
// first key of a list, `first`, may equal 0).
bool GetRowKey(std::string_view s, std::size_t& pos, bool first, std::uint64_t& key) {
  std::uint64_t head = 0, index = 0;
  if (!GetVarint(s, pos, head)) return false;
  std::uint64_t block = key >> 24;
  if ((head & 1) == 0) {
    const std::uint64_t delta = head >> 1;
    if (delta == 0 && !first) return false;
    index = (key & (text_index_block_rows_max - 1)) + delta;
  } else {
    const std::uint64_t delta = head >> 1;
    if (delta == 0 || delta > 0xffffffffull - block || !GetVarint(s, pos, index)) return false;
    block += delta;
  }
  if (index >= text_index_block_rows_max) return false;
  key = TextIndexRowKey(static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(index));
  return true;
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

std::uint64_t TextFieldKey(std::string_view field) {
  return Mix(TokenHash(field) ^ 0x41524254'49584649ull);
}

std::uint64_t TextSubfieldKey(std::string_view field, std::string_view key) {
  return Mix(TextFieldKey(field) ^ Mix(TokenHash(key) + 0x9e3779b97f4a7c15ull));
}

std::uint64_t TextFieldTerm(std::uint64_t field_key, std::uint64_t token_hash) {
  return Mix(field_key ^ Mix(token_hash)) | 1u;
}

std::uint64_t TextSubfieldTerm(std::uint64_t subfield_key, std::uint64_t token_hash) {
  return Mix(subfield_key ^ Mix(token_hash)) & ~std::uint64_t{1};
}

void TextIndexBuilder::AddValue(const boost::json::value& v, std::uint64_t field_key,
                                const std::uint64_t* subfield_key, std::uint32_t& position,
                                std::vector<std::uint64_t>& row_tokens) {
  // CollectText ends every leaf with a space, so tokenizing a field value by value gives the
  // tokens (and positions) of tokenizing the field's whole text, as MATCH does.
  text_.clear();
  json::CollectText(v, text_);
  ForEachToken(text_, [&](std::string_view token) {
    const std::uint64_t h = TokenHash(token);
    row_tokens.push_back(h);
    terms_.emplace_back(TextFieldTerm(field_key, h), position++);
    if (subfield_key != nullptr) terms_.emplace_back(TextSubfieldTerm(*subfield_key, h), 0);
  });
}

void TextIndexBuilder::AddRow(std::uint64_t row_key, const boost::json::object& row,
                              std::vector<std::uint64_t>& row_tokens) {
  ++rows_;
  terms_.clear();
  for (const auto& kv : row) {
    const std::uint64_t field_key = TextFieldKey(kv.key());
    std::uint32_t position = 0;  // positions run on across the field's leaves, as its text does
    if (kv.value().is_object() && HasSubfieldTerms(kv.key())) {
      for (const auto& sub : kv.value().get_object()) {
        const std::uint64_t subfield_key = TextSubfieldKey(kv.key(), sub.key());
        AddValue(sub.value(), field_key, &subfield_key, position, row_tokens);
      }
    } else {
      AddValue(kv.value(), field_key, nullptr, position, row_tokens);
    }
  }
  std::sort(terms_.begin(), terms_.end());
  terms_.erase(std::unique(terms_.begin(), terms_.end()), terms_.end());
  for (std::size_t i = 0; i < terms_.size();) {
    const std::uint64_t term = terms_[i].first;
    std::size_t end = i;
    while (end < terms_.size() && terms_[end].first == term) ++end;
    Postings& p = postings_[term];
    ARBOR_CHECK(p.rows == 0 || row_key > p.last_key);
    PutRowKey(p.bytes, p.last_key, row_key);
    p.last_key = row_key;
    ++p.rows;
    if (term & 1) {
      // A field term: its positions in the row, ascending, as deltas times two, plus one on
      // the last (most tokens occur once in a field: no count to store).
      std::uint32_t last = 0;
      for (std::size_t k = i; k < end; ++k) {
        PutVarint(p.bytes, (std::uint64_t{terms_[k].second - last} << 1) | (k + 1 == end));
        last = terms_[k].second;
      }
    }
    i = end;
  }
}

Status TextIndexBuilder::Write(const std::string& path) const {
  std::vector<std::uint64_t> order;
  order.reserve(postings_.size());
  for (const auto& [term, p] : postings_) order.push_back(term);
  std::sort(order.begin(), order.end());

  std::string file(kTextIndexMagic, sizeof(kTextIndexMagic));
  PutU32(file, kTextIndexVersion);
  PutU32(file, 0);
  std::string dictionary;
  for (std::uint64_t term : order) {
    const Postings& p = postings_.at(term);
    ARBOR_CHECK(p.bytes.size() <= std::numeric_limits<std::uint32_t>::max());
    PutU64(dictionary, term);
    PutVarint(dictionary, p.bytes.size());
    PutVarint(dictionary, p.rows);
    PutU32(dictionary, Crc32c(p.bytes));
    file += p.bytes;
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
  r->version_ = GetU32(header.data() + 8);
  if (r->version_ != 1 && r->version_ != kTextIndexVersion) {
    return DataLoss("text index " + path + " has unknown version " + std::to_string(r->version_));
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
  if (dict_offset < kTextIndexHeaderBytes || dict_offset > dict_end) {
    return DataLoss("text index " + path + " has a dictionary out of bounds");
  }
  std::string dictionary(dict_end - dict_offset, '\0');
  RETURN_IF_ERROR(ReadRange(r->fd_, dictionary.data(), dictionary.size(), dict_offset, path));
  if (Crc32c(dictionary) != GetU32(footer.data() + 24)) {
    return DataLoss("text index " + path + " has a damaged dictionary");
  }
  if (r->version_ == 1) {
    RETURN_IF_ERROR(r->ReadDictionaryV1(dictionary, count, dict_offset));
  } else {
    RETURN_IF_ERROR(r->ReadDictionaryV2(dictionary, count, dict_offset));
  }
  return r;
}

Status TextIndexReader::ReadDictionaryV1(const std::string& dictionary, std::uint64_t count,
                                         std::uint64_t dict_offset) {
  if (dictionary.size() / kTextIndexEntryBytesV1 != count ||
      dictionary.size() % kTextIndexEntryBytesV1 != 0) {
    return DataLoss("text index " + path_ + " has a dictionary out of bounds");
  }
  entries_.resize(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const char* p = dictionary.data() + i * kTextIndexEntryBytesV1;
    Entry& e = entries_[i];
    e = {GetU64(p), GetU64(p + 8), GetU32(p + 16), GetU32(p + 20), GetU32(p + 24)};
    if (e.offset < kTextIndexHeaderBytes || e.offset + e.bytes > dict_offset ||
        (i > 0 && e.term <= entries_[i - 1].term)) {
      return DataLoss("text index " + path_ + " has a damaged dictionary entry");
    }
  }
  return Status::Ok();
}

// Version 2 entries are variable-length and lists are contiguous in dictionary order: a list's
// offset is the sum of the sizes before it, and the sizes must fill the postings exactly.
Status TextIndexReader::ReadDictionaryV2(const std::string& dictionary, std::uint64_t count,
                                         std::uint64_t dict_offset) {
  if (count > dictionary.size() / kTextIndexEntryBytesMin) {
    return DataLoss("text index " + path_ + " has a dictionary out of bounds");
  }
  const auto damaged = [&] {
    return DataLoss("text index " + path_ + " has a damaged dictionary entry");
  };
  entries_.resize(count);
  std::uint64_t offset = kTextIndexHeaderBytes;
  std::size_t pos = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    Entry& e = entries_[i];
    std::uint64_t bytes = 0, rows = 0;
    if (dictionary.size() - pos < 8) return damaged();
    e.term = GetU64(dictionary.data() + pos);
    pos += 8;
    if (!GetVarint(dictionary, pos, bytes) || !GetVarint(dictionary, pos, rows) ||
        dictionary.size() - pos < 4) {
      return damaged();
    }
    e.crc = GetU32(dictionary.data() + pos);
    pos += 4;
    if (bytes > dict_offset - offset || rows == 0 || rows > bytes ||
        (i > 0 && e.term <= entries_[i - 1].term)) {
      return damaged();
    }
    e.offset = offset;
    e.bytes = static_cast<std::uint32_t>(bytes);
    e.rows = static_cast<std::uint32_t>(rows);
    offset += bytes;
  }
  if (pos != dictionary.size() || offset != dict_offset) return damaged();
  return Status::Ok();
}

const TextIndexReader::Entry* TextIndexReader::Find(std::uint64_t term) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), term,
                             [](const Entry& e, std::uint64_t t) { return e.term < t; });
  return it != entries_.end() && it->term == term ? &*it : nullptr;
}

StatusOr<TextIndexReader::List> TextIndexReader::ReadList(const Entry& e, bool positions) const {
  std::string bytes(e.bytes, '\0');
  RETURN_IF_ERROR(ReadRange(fd_, bytes.data(), bytes.size(), e.offset, path_));
  if (Crc32c(bytes) != e.crc) return DataLoss("text index " + path_ + " has a damaged list");
  const auto torn = [&] { return DataLoss("text index " + path_ + " has a torn list"); };
  const bool has_positions = version_ >= 2 && (e.term & 1) != 0;
  List list;
  list.keys.reserve(e.rows);
  std::size_t pos = 0;
  std::uint64_t key = 0;
  for (std::uint32_t i = 0; i < e.rows; ++i) {
    std::uint64_t delta = 0;
    if (version_ == 1) {
      if (!GetVarint(bytes, pos, delta) || (i > 0 && delta == 0) || key + delta < key) {
        return torn();
      }
      key += delta;
    } else if (!GetRowKey(bytes, pos, i == 0, key)) {
      return torn();
    }
    list.keys.push_back(key);
    if (!has_positions) continue;
    if (positions) list.starts.push_back(static_cast<std::uint32_t>(list.positions.size()));
    std::uint64_t at = 0, head = 0;
    for (bool first = true, last = false; !last; first = false) {
      if (!GetVarint(bytes, pos, head)) return torn();
      delta = head >> 1;
      last = (head & 1) != 0;
      if ((!first && delta == 0) || delta > std::numeric_limits<std::uint32_t>::max() - at) {
        return torn();
      }
      at += delta;
      if (positions) list.positions.push_back(static_cast<std::uint32_t>(at));
    }
  }
  if (version_ >= 2 && pos != bytes.size()) return torn();
  if (positions) list.starts.push_back(static_cast<std::uint32_t>(list.positions.size()));
  return list;
}

StatusOr<std::vector<std::uint64_t>> TextIndexReader::RowsWithAll(
    const std::vector<std::uint64_t>& keys) const {
  std::vector<const Entry*> lists;
  for (std::uint64_t t : keys) {
    const Entry* e = Find(t);
    if (e == nullptr) return std::vector<std::uint64_t>{};  // some term occurs nowhere
    lists.push_back(e);
  }
  if (lists.empty()) return InvalidArgument("RowsWithAll needs at least one term");
  std::sort(lists.begin(), lists.end(),
            [](const Entry* a, const Entry* b) { return a->rows < b->rows; });
  lists.erase(std::unique(lists.begin(), lists.end()), lists.end());
  ASSIGN_OR_RETURN(List first, ReadList(*lists.front(), false));
  std::vector<std::uint64_t> rows = std::move(first.keys);
  for (std::size_t i = 1; i < lists.size() && !rows.empty(); ++i) {
    ASSIGN_OR_RETURN(List next, ReadList(*lists[i], false));
    rows = Intersect(rows, next.keys);
  }
  return rows;
}

StatusOr<std::vector<std::uint64_t>> TextIndexReader::RowsWithPhrase(
    std::uint64_t field_key, const std::vector<std::uint64_t>& tokens) const {
  if (version_ < 2) return FailedPrecondition("text index version 1 has no positions");
  if (tokens.empty()) return InvalidArgument("RowsWithPhrase needs at least one token");
  std::vector<const Entry*> entries;
  for (std::uint64_t t : tokens) {
    const Entry* e = Find(TextFieldTerm(field_key, t));
    if (e == nullptr) return std::vector<std::uint64_t>{};
    entries.push_back(e);
  }
  // Each distinct list once; the rarest decides which rows are worth looking at.
  std::vector<const Entry*> distinct = entries;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<List> lists;
  std::vector<std::uint64_t> rows;
  for (const Entry* e : distinct) {
    ASSIGN_OR_RETURN(List list, ReadList(*e, true));
    rows = lists.empty() ? list.keys : Intersect(rows, list.keys);
    lists.push_back(std::move(list));
    if (rows.empty()) return rows;
  }
  std::vector<const List*> of_token;  // the list of each phrase token, in phrase order
  for (const Entry* e : entries) {
    auto at = std::lower_bound(distinct.begin(), distinct.end(), e) - distinct.begin();
    of_token.push_back(&lists[static_cast<std::size_t>(at)]);
  }
  // A row's positions of token i in the list of token i.
  const auto positions = [](const List& l, std::uint64_t key) {
    const auto row = static_cast<std::size_t>(std::lower_bound(l.keys.begin(), l.keys.end(), key) -
                                              l.keys.begin());
    return std::pair(l.positions.begin() + l.starts[row], l.positions.begin() + l.starts[row + 1]);
  };
  std::vector<std::uint64_t> out;
  for (std::uint64_t key : rows) {
    const auto [begin, end] = positions(*of_token[0], key);
    const bool found = std::any_of(begin, end, [&](std::uint32_t p) {
      for (std::size_t i = 1; i < of_token.size(); ++i) {
        const auto [b, e] = positions(*of_token[i], key);
        if (!std::binary_search(b, e, static_cast<std::uint64_t>(p) + i)) return false;
      }
      return true;
    });
    if (found) out.push_back(key);
  }
  return out;
}

StatusOr<std::vector<std::uint64_t>> TextIndexReader::RowsMatching(
    const std::vector<std::string>& path, const std::vector<std::uint64_t>& tokens,
    bool phrase) const {
  if (version_ < 2) return FailedPrecondition("text index version 1 has no fields");
  if (path.empty() || tokens.empty()) {
    return InvalidArgument("RowsMatching needs a field and at least one token");
  }
  const std::uint64_t field = TextFieldKey(path[0]);
  const bool phrase_check = phrase && tokens.size() > 1;
  std::vector<std::uint64_t> terms;
  if (path.size() >= 2 && HasSubfieldTerms(path[0]) && !MayBeArrayIndex(path[1])) {
    // A path into an object: its first-level key narrows the rows; the MATCH text (the
    // subfield's or deeper) is a contiguous run of the field's, so a phrase in it is a phrase
    // in the field.
    const std::uint64_t subfield = TextSubfieldKey(path[0], path[1]);
    for (std::uint64_t t : tokens) terms.push_back(TextSubfieldTerm(subfield, t));
    ASSIGN_OR_RETURN(std::vector<std::uint64_t> rows, RowsWithAll(terms));
    if (!phrase_check || rows.empty()) return rows;
    ASSIGN_OR_RETURN(std::vector<std::uint64_t> phrased, RowsWithPhrase(field, tokens));
    return Intersect(rows, phrased);
  }
  if (phrase_check) return RowsWithPhrase(field, tokens);
  for (std::uint64_t t : tokens) terms.push_back(TextFieldTerm(field, t));
  return RowsWithAll(terms);
}

}  // namespace arbor::storage
