#include "storage/row_store.h"

#include <algorithm>

namespace arbor::storage {

RowPtr ObjectRows::Latest(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rows_.find(id);
  if (it == rows_.end() || it->second.versions.empty()) return nullptr;
  return it->second.versions.back().row;
}

void ObjectRows::Apply(const std::string& id, std::uint64_t xact, RowPtr row) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = rows_.try_emplace(id);
  if (inserted) {
    it->second.seq = next_seq_++;
    order_.emplace(it->second.seq, &it->first);
  }
  it->second.versions.push_back(RowVersion{.xact = xact, .row = std::move(row)});
  max_xact_ = std::max(max_xact_, xact);
}

const RowVersion* ObjectRows::VisibleAt(const History& h, std::uint64_t snapshot) {
  for (auto it = h.versions.rbegin(); it != h.versions.rend(); ++it) {
    if (it->xact <= snapshot) return &*it;
  }
  return nullptr;
}

std::vector<VisibleRow> ObjectRows::Scan(std::uint64_t snapshot, std::uint64_t after_seq,
                                         std::size_t limit) const {
  return ScanIf(snapshot, after_seq, limit, [](const boost::json::object&) { return true; });
}

std::vector<VisibleRow> ObjectRows::ScanIf(
    std::uint64_t snapshot, std::uint64_t after_seq, std::size_t limit,
    const std::function<bool(const boost::json::object&)>& keep) const {
  std::vector<VisibleRow> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = order_.upper_bound(after_seq); it != order_.end() && out.size() < limit; ++it) {
    const History& h = rows_.at(*it->second);
    const RowVersion* v = VisibleAt(h, snapshot);
    if (v != nullptr && v->row != nullptr && keep(*v->row)) {
      out.push_back(VisibleRow{.seq = h.seq, .xact = v->xact, .row = v->row});
    }
  }
  return out;
}

std::vector<VisibleRow> ObjectRows::ScanAll(std::uint64_t snapshot) const {
  return Scan(snapshot, 0, SIZE_MAX);
}

std::uint64_t ObjectRows::MaxXact() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_xact_;
}

ObjectRows& RowStore::GetOrCreate(const std::string& object_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = objects_[object_key];
  if (!slot) slot = std::make_unique<ObjectRows>();
  return *slot;
}

const ObjectRows* RowStore::Find(const std::string& object_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(object_key);
  return it == objects_.end() ? nullptr : it->second.get();
}

void RowStore::Apply(const std::vector<RowWrite>& writes, std::uint64_t xact) {
  for (const RowWrite& w : writes) GetOrCreate(w.object_key).Apply(w.id, xact, w.row);
}

}  // namespace arbor::storage
