// Little-endian fixed-width integers, LEB128 varints and length-prefixed strings: the
// primitives of the segment and text index formats; and reading an exact byte range of a file.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/status.h"

namespace arbor::storage {

// Reads `bytes` bytes at `offset` of `fd`; DataLoss when the file ends first.
inline Status PreadAll(int fd, char* out, std::size_t bytes, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < bytes) {
    ssize_t n = ::pread(fd, out + done, bytes - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal(std::string("file read: ") + std::strerror(errno));
    if (n == 0) return DataLoss("file is shorter than its index says");
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

inline void PutU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline void PutU64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline std::uint32_t GetU32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return v;
}

inline std::uint64_t GetU64(const char* p) {
  return std::uint64_t{GetU32(p)} | (std::uint64_t{GetU32(p + 4)} << 32);
}

inline void PutVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

// Reads what the Put functions wrote; every method returns false on truncated input.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ == data_.size(); }
  std::size_t pos() const { return pos_; }  // bytes read so far

  bool Byte(std::uint8_t& out) {
    if (pos_ >= data_.size()) return false;
    out = static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }

  bool Varint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = 0;
      if (!Byte(b)) return false;
      out |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }

  bool StringView(std::string_view& out) {
    std::uint64_t n = 0;
    if (!Varint(n) || n > data_.size() - pos_) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool String(std::string& out) {
    std::string_view v;
    if (!StringView(v)) return false;
    out.assign(v);
    return true;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace arbor::storage
