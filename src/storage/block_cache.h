// A least-recently-used cache of decoded segment blocks, bounded in bytes.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "storage/segment.h"

namespace arbor::storage {

struct BlockCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t bytes = 0;
};

class BlockCache {
 public:
  explicit BlockCache(std::size_t bytes_max) : bytes_max_(bytes_max) {}

  std::shared_ptr<const BlockRows> Get(std::uint64_t key) { return GetAs<BlockRows>(key); }
  // `bytes` is the block's estimated in-memory size. Evicts the least recently used blocks
  // past the budget (a block bigger than the whole budget is returned but not kept).
  void Put(std::uint64_t key, std::shared_ptr<const BlockRows> rows, std::size_t bytes) {
    PutAny(key, std::move(rows), bytes);
  }
  // Other decoded forms of a block (columns.h ColumnBlock) share the budget; the caller keeps
  // keys of different types apart.
  template <typename T>
  std::shared_ptr<const T> GetAs(std::uint64_t key) {
    return std::static_pointer_cast<const T>(GetAny(key));
  }
  void PutAny(std::uint64_t key, std::shared_ptr<const void> value, std::size_t bytes);
  // Drops every block of a segment (after compaction retires it).
  void EraseSegment(std::uint32_t segment);
  BlockCacheStats stats() const;

 private:
  struct Entry {
    std::uint64_t key = 0;
    std::shared_ptr<const void> value;
    std::size_t bytes = 0;
  };
  std::shared_ptr<const void> GetAny(std::uint64_t key);
  void EvictOverBudget();

  const std::size_t bytes_max_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front: most recently used
  std::unordered_map<std::uint64_t, std::list<Entry>::iterator> index_;
  BlockCacheStats stats_;
};

}  // namespace arbor::storage
