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
  if (row != nullptr) IndexRow(it->first, inserted, *row);
  it->second.versions.push_back(RowVersion{.xact = xact, .row = std::move(row)});
  max_xact_ = std::max(max_xact_, xact);
}

void ObjectRows::IndexRow(const std::string& id, bool first_version,
                          const boost::json::object& row) {
  const boost::json::value* root = row.if_contains("root_span_id");
  if (root != nullptr && root->is_string()) {
    auto& ids = by_root_[std::string(root->get_string())];
    if (ids.empty() || ids.back() != &id) ids.push_back(&id);
  }
  const boost::json::value* comment = row.if_contains("comment");
  if (comment != nullptr && comment->is_object() &&
      (first_version || comment_ids_.empty() || comment_ids_.back() != &id)) {
    comment_ids_.push_back(&id);
  }
}

std::vector<std::string> ObjectRows::IdsOfTrace(const std::string& root) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  auto it = by_root_.find(root);
  if (it == by_root_.end()) return out;
  for (const std::string* id : it->second) out.push_back(*id);
  return out;
}

std::vector<std::string> ObjectRows::CommentIds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const std::string* id : comment_ids_) out.push_back(*id);
  return out;
}

std::vector<VisibleRow> ObjectRows::ScanIds(
    std::uint64_t snapshot, std::uint64_t after_seq, std::size_t limit,
    const std::vector<std::string>& ids,
    const std::function<bool(const boost::json::object&)>& keep) const {
  std::vector<VisibleRow> out;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const History*> found;
  for (const std::string& id : ids) {
    auto it = rows_.find(id);
    if (it != rows_.end() && it->second.seq > after_seq) found.push_back(&it->second);
  }
  std::sort(found.begin(), found.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
  found.erase(std::unique(found.begin(), found.end()), found.end());
  for (const History* h : found) {
    if (out.size() >= limit) break;
    const RowVersion* v = VisibleAt(*h, snapshot);
    if (v != nullptr && v->row != nullptr && keep(*v->row)) {
      out.push_back(VisibleRow{.seq = h->seq, .xact = v->xact, .row = v->row});
    }
  }
  return out;
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
