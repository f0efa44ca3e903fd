#include "storage/block_cache.h"

namespace arbor::storage {

std::shared_ptr<const void> BlockCache::GetAny(std::uint64_t key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->value;
}

void BlockCache::PutAny(std::uint64_t key, std::shared_ptr<const void> value, std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes > bytes_max_ || index_.count(key) != 0) return;
  lru_.push_front(Entry{.key = key, .value = std::move(value), .bytes = bytes});
  index_[key] = lru_.begin();
  stats_.bytes += bytes;
  EvictOverBudget();
}

void BlockCache::EvictOverBudget() {
  while (stats_.bytes > bytes_max_ && !lru_.empty()) {
    stats_.bytes -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void BlockCache::EraseSegment(std::uint32_t segment) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if ((it->key >> 32) == segment) {
      stats_.bytes -= it->bytes;
      index_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace arbor::storage
