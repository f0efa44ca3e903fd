#include "storage/row_store.h"

#include <algorithm>
#include <iterator>

#include "base/query_budget.h"
#include "base/tokenize.h"
#include "json/json.h"

namespace arbor::storage {
namespace {

// Histories examined per lock hold during a scan; bodies are loaded with the lock released.
constexpr std::size_t kScanBatch = 512;

std::string RootOf(const boost::json::object& row) {
  const boost::json::value* root = row.if_contains("root_span_id");
  return root != nullptr && root->is_string() ? std::string(root->get_string()) : "";
}

bool IsCommentRow(const boost::json::object& row) {
  const boost::json::value* comment = row.if_contains("comment");
  return comment != nullptr && comment->is_object();
}

// Copies what `path` reaches from `from` into `to` (ProjectRow, one path).
void ProjectPath(const boost::json::object& from, const FieldPath& path, std::size_t depth,
                 boost::json::object& to) {
  const boost::json::value* v = from.if_contains(path[depth]);
  if (v == nullptr) return;
  if (depth + 1 == path.size() || !v->is_object()) {
    to[path[depth]] = *v;
    return;
  }
  boost::json::value& slot = to[path[depth]];
  if (!slot.is_object()) slot.emplace_object();
  ProjectPath(v->get_object(), path, depth + 1, slot.get_object());
}

// Sorted distinct token hashes of the text MATCH reads at `field` (the whole row when empty);
// none when the field is absent or null, where MATCH is false.
std::vector<std::uint64_t> FieldTokens(const boost::json::object& row, const FieldPath& field) {
  std::string text;
  if (field.empty()) {
    json::CollectText(row, text);
  } else {
    const boost::json::value* v = json::FindPath(row, field);
    if (v == nullptr || v->is_null()) return {};
    json::CollectText(*v, text);
  }
  std::vector<std::uint64_t> hashes;
  ForEachToken(text, [&](std::string_view token) { hashes.push_back(TokenHash(token)); });
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  return hashes;
}

}  // namespace

boost::json::object ProjectRow(const boost::json::object& row,
                               const std::vector<FieldPath>& paths) {
  // Shorter paths first: a path whose prefix is also asked for is already copied whole.
  std::vector<const FieldPath*> order;
  for (const FieldPath& p : paths) {
    if (!p.empty()) order.push_back(&p);
  }
  std::sort(order.begin(), order.end(),
            [](const FieldPath* a, const FieldPath* b) { return *a < *b; });
  boost::json::object out;
  const FieldPath* covering = nullptr;
  for (const FieldPath* p : order) {
    if (covering != nullptr && p->size() >= covering->size() &&
        std::equal(covering->begin(), covering->end(), p->begin())) {
      continue;
    }
    covering = p;
    ProjectPath(row, *p, 0, out);
  }
  return out;
}

ObjectRows::History& ObjectRows::Entry(const std::string& id, std::uint64_t seq, bool& inserted) {
  auto [it, fresh] = rows_.try_emplace(id);
  inserted = fresh;
  if (fresh) {
    it->second.seq = seq != 0 ? seq : next_seq_;
    next_seq_ = std::max(next_seq_, it->second.seq + 1);
    order_.emplace(it->second.seq, &*it);
  }
  return it->second;
}

StatusOr<RowPtr> ObjectRows::Latest(const std::string& id) const {
  RowVersion v;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end() || it->second.versions.empty()) return RowPtr();
    v = it->second.versions.back();
  }
  if (v.deleted) return RowPtr();
  return Body(v);
}

void ObjectRows::Apply(const std::string& id, std::uint64_t xact, RowPtr row) {
  std::lock_guard<std::mutex> lock(mu_);
  bool inserted = false;
  History& h = Entry(id, 0, inserted);
  const std::string* key = &order_.at(h.seq)->first;
  if (row != nullptr) IndexRow(*key, inserted, RootOf(*row), IsCommentRow(*row));
  bool deleted = row == nullptr;
  h.versions.push_back(RowVersion{.xact = xact, .deleted = deleted, .row = std::move(row)});
  memtable_seqs_.insert(h.seq);
  max_xact_ = std::max(max_xact_, xact);
}

void ObjectRows::ApplyFlushed(const FlushedVersion& v) {
  std::lock_guard<std::mutex> lock(mu_);
  bool inserted = false;
  History& h = Entry(v.id, v.seq, inserted);
  const std::string* key = &order_.at(h.seq)->first;
  if (!v.deleted) IndexRow(*key, inserted, v.root_span_id, v.comment);
  h.versions.push_back(RowVersion{.xact = v.xact, .deleted = v.deleted, .ref = v.ref});
  max_xact_ = std::max(max_xact_, v.xact);
}

void ObjectRows::IndexRow(const std::string& id, bool first_version, const std::string& root,
                          bool comment) {
  if (!root.empty()) {
    auto& ids = by_root_[root];
    if (ids.empty() || ids.back() != &id) ids.push_back(&id);
  }
  if (comment && (first_version || comment_ids_.empty() || comment_ids_.back() != &id)) {
    comment_ids_.push_back(&id);
  }
}

std::vector<std::string> ObjectRows::IdsOfTrace(const std::string& root) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  auto it = by_root_.find(root);
  if (it == by_root_.end()) return out;
  // A row rewritten after other spans of its trace appears more than once in the list.
  std::vector<const std::string*> ids = it->second;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (const std::string* id : ids) out.push_back(*id);
  return out;
}

std::vector<std::string> ObjectRows::CommentIds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const std::string* id : comment_ids_) out.push_back(*id);
  return out;
}

const RowVersion* ObjectRows::VisibleAt(const History& h, std::uint64_t snapshot) {
  for (auto it = h.versions.rbegin(); it != h.versions.rend(); ++it) {
    if (it->xact <= snapshot) return it->deleted ? nullptr : &*it;
  }
  return nullptr;
}

StatusOr<RowPtr> ObjectRows::Body(const RowVersion& v) const {
  if (v.row != nullptr) return v.row;
  if (!v.ref.on_disk() || loader_ == nullptr) return Internal("row version has no body");
  return loader_->Load(v.ref);
}

StatusOr<RowPtr> ObjectRows::LightBody(const RowVersion& v) const {
  if (v.row != nullptr) return v.row;
  if (!v.ref.on_disk() || loader_ == nullptr) return Internal("row version has no body");
  return loader_->LoadLight(v.ref);
}

StatusOr<RowPtr> ObjectRows::ProjectedBody(const RowVersion& v,
                                           const std::vector<FieldPath>& paths) const {
  if (v.row != nullptr) return v.row;
  if (!v.ref.on_disk() || loader_ == nullptr) return Internal("row version has no body");
  return loader_->LoadProjected(v.ref, paths);
}

StatusOr<RowPtr> ObjectRows::FullBody(const VisibleRow& v) const {
  if (!v.light) return v.row;
  if (!v.ref.on_disk() || loader_ == nullptr) return Internal("row version has no body");
  return loader_->Load(v.ref);
}

bool ObjectRows::MemtableMayMatch(const RowPtr& row, const ScanFilter& filter) const {
  // Terms name their fields (MATCH's left side); bare tokens are looked for in the whole row.
  if (filter.required_terms.empty()) return HasTokens(row, {}, filter.required_tokens);
  return std::all_of(filter.required_terms.begin(), filter.required_terms.end(),
                     [&](const TextTerm& t) { return HasTokens(row, t.field, t.tokens); });
}

bool ObjectRows::HasTokens(const RowPtr& row, const FieldPath& field,
                           const std::vector<std::uint64_t>& tokens) const {
  std::shared_ptr<const std::vector<std::uint64_t>> have = KeptTokens(row.get(), field);
  if (have == nullptr) {
    // Tokenized without the lock, so searches do not wait for each other's first reads.
    have = std::make_shared<const std::vector<std::uint64_t>>(FieldTokens(*row, field));
    std::lock_guard<std::mutex> lock(tokens_mu_);
    if (memtable_tokens_.size() < memtable_token_rows_max) {
      MemtableTokens& kept = memtable_tokens_[row.get()];
      kept.row = row;
      kept.fields.emplace_back(field, have);
    }
  }
  return std::all_of(tokens.begin(), tokens.end(), [&](std::uint64_t t) {
    return std::binary_search(have->begin(), have->end(), t);
  });
}

std::shared_ptr<const std::vector<std::uint64_t>> ObjectRows::KeptTokens(
    const boost::json::object* row, const FieldPath& field) const {
  std::lock_guard<std::mutex> lock(tokens_mu_);
  auto it = memtable_tokens_.find(row);
  if (it == memtable_tokens_.end()) return nullptr;
  for (const auto& [path, hashes] : it->second.fields) {
    if (path == field) return hashes;
  }
  return nullptr;
}

void ObjectRows::ForgetTokens(const boost::json::object* row) {
  if (row == nullptr) return;
  std::lock_guard<std::mutex> lock(tokens_mu_);
  memtable_tokens_.erase(row);
}

Status ObjectRows::Filter(const std::vector<Candidate>& batch, std::size_t limit,
                          const ScanFilter& filter, std::vector<VisibleRow>& out) const {
  const bool light_first = filter.light || !filter.full;
  for (const Candidate& c : batch) {
    if (out.size() >= limit) break;
    const bool flushed = c.version.row == nullptr;
    // Asked per row: a segment's text index answers for single rows (the loader keeps its
    // answers for the scan), older segments' block filters for whole blocks.
    if (!filter.required_tokens.empty() && flushed && loader_ != nullptr &&
        !loader_->MayMatchText(c.version.ref, filter.required_terms, filter.required_tokens)) {
      continue;
    }
    if (!filter.required_tokens.empty() && !flushed && !MemtableMayMatch(c.version.row, filter)) {
      continue;
    }
    if (!filter.ranges.empty() && flushed && loader_ != nullptr &&
        !loader_->BlockMayMatch(c.version.ref, filter.ranges)) {
      continue;
    }
    VisibleRow v{.seq = c.seq,
                 .xact = c.version.xact,
                 .light = flushed && light_first,
                 .ref = c.version.ref};
    if (v.light && !filter.columns.empty()) {
      ASSIGN_OR_RETURN(v.row, ProjectedBody(c.version, filter.columns));
    } else {
      ASSIGN_OR_RETURN(v.row, v.light ? LightBody(c.version) : Body(c.version));
    }
    if (filter.light && !filter.light(*v.row)) continue;
    if (filter.full) {
      ASSIGN_OR_RETURN(v.row, FullBody(v));
      v.light = false;
      if (!filter.full(*v.row)) continue;
    }
    out.push_back(std::move(v));
  }
  return Status::Ok();
}

StatusOr<std::vector<VisibleRow>> ObjectRows::ScanIds(
    std::uint64_t snapshot, std::uint64_t after_seq, std::size_t limit,
    const std::vector<std::string>& ids,
    const std::function<bool(const boost::json::object&)>& keep) const {
  return ScanIds(snapshot, after_seq, limit, ids, ScanFilter{.full = keep});
}

StatusOr<std::vector<VisibleRow>> ObjectRows::ScanIds(std::uint64_t snapshot,
                                                      std::uint64_t after_seq, std::size_t limit,
                                                      const std::vector<std::string>& ids,
                                                      const ScanFilter& filter) const {
  std::vector<Candidate> found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& id : ids) {
      auto it = rows_.find(id);
      if (it == rows_.end() || it->second.seq <= after_seq) continue;
      const RowVersion* v = VisibleAt(it->second, snapshot);
      if (v != nullptr) found.push_back(Candidate{.seq = it->second.seq, .version = *v});
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const auto& a, const auto& b) { return a.seq == b.seq; }),
              found.end());
  std::vector<VisibleRow> out;
  RETURN_IF_ERROR(Filter(found, limit, filter, out));
  RETURN_IF_ERROR(ChargeQueryBudget(out.size()));
  return out;
}

StatusOr<std::vector<VisibleRow>> ObjectRows::Scan(std::uint64_t snapshot, std::uint64_t after_seq,
                                                   std::size_t limit) const {
  return ScanIf(snapshot, after_seq, limit, [](const boost::json::object&) { return true; });
}

StatusOr<std::vector<VisibleRow>> ObjectRows::ScanIf(
    std::uint64_t snapshot, std::uint64_t after_seq, std::size_t limit,
    const std::function<bool(const boost::json::object&)>& keep,
    const std::vector<std::uint64_t>& required_tokens) const {
  return ScanIf(snapshot, after_seq, limit,
                ScanFilter{.full = keep, .required_tokens = required_tokens});
}

StatusOr<std::vector<VisibleRow>> ObjectRows::ScanIf(std::uint64_t snapshot,
                                                     std::uint64_t after_seq, std::size_t limit,
                                                     const ScanFilter& filter) const {
  std::vector<VisibleRow> out;
  std::vector<Candidate> batch;
  std::uint64_t position = after_seq;
  bool done = false;
  while (!done && out.size() < limit) {
    batch.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = order_.upper_bound(position);
      for (std::size_t n = 0; it != order_.end() && n < kScanBatch; ++it, ++n) {
        const History& h = it->second->second;
        position = h.seq;
        const RowVersion* v = VisibleAt(h, snapshot);
        if (v != nullptr) batch.push_back(Candidate{.seq = h.seq, .version = *v});
      }
      done = it == order_.end();
    }
    std::size_t before = out.size();
    RETURN_IF_ERROR(Filter(batch, limit, filter, out));
    // Once per batch: the query's deadline and row budget (base/query_budget.h).
    RETURN_IF_ERROR(ChargeQueryBudget(out.size() - before));
  }
  return out;
}

StatusOr<std::vector<VisibleRow>> ObjectRows::ScanAll(std::uint64_t snapshot) const {
  return Scan(snapshot, 0, SIZE_MAX);
}

std::uint64_t ObjectRows::MaxXact() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_xact_;
}

std::vector<UnflushedVersion> ObjectRows::CollectUnflushed(std::uint64_t upto) const {
  std::vector<UnflushedVersion> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (std::uint64_t seq : memtable_seqs_) {
    const auto* entry = order_.at(seq);
    bool on_disk_before = false;
    for (const RowVersion& v : entry->second.versions) {
      if (v.ref.on_disk()) on_disk_before = true;
      if (v.ref.on_disk() || v.xact > upto) continue;
      out.push_back(UnflushedVersion{.id = entry->first,
                                     .seq = seq,
                                     .xact = v.xact,
                                     .row = v.row,
                                     .overwrites_flushed = on_disk_before});
      on_disk_before = false;  // only the row's first new version overwrites a segment's
    }
  }
  return out;
}

void ObjectRows::MarkFlushed(const std::vector<UnflushedVersion>& flushed,
                             const std::vector<RowRef>& refs) {
  ARBOR_CHECK(flushed.size() == refs.size());
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < flushed.size(); ++i) {
    History& h = rows_.at(flushed[i].id);
    for (auto it = h.versions.rbegin(); it != h.versions.rend(); ++it) {
      if (it->xact != flushed[i].xact) continue;
      it->ref = refs[i];
      ForgetTokens(it->row.get());
      it->row = nullptr;
      break;
    }
    if (std::all_of(h.versions.begin(), h.versions.end(),
                    [](const RowVersion& v) { return v.ref.on_disk(); })) {
      memtable_seqs_.erase(h.seq);
    }
  }
}

void ObjectRows::MoveFlushed(const std::vector<Move>& moves) {
  std::lock_guard<std::mutex> lock(mu_);
  MoveLocked(moves);
}

void ObjectRows::ApplyCompaction(const std::vector<Move>& moves, const std::vector<Drop>& drops) {
  std::lock_guard<std::mutex> lock(mu_);
  MoveLocked(moves);
  std::vector<std::string> emptied;
  for (const Drop& d : drops) {
    auto h = rows_.find(d.id);
    if (h == rows_.end()) continue;
    std::vector<RowVersion>& versions = h->second.versions;
    auto it = std::find_if(versions.begin(), versions.end(), [&](const RowVersion& v) {
      return v.xact == d.xact && v.ref.on_disk();
    });
    if (it == versions.end()) continue;
    versions.erase(it);
    if (versions.empty()) emptied.push_back(d.id);
  }
  EraseRowsLocked(emptied);
}

void ObjectRows::EraseRowsLocked(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  std::set<const std::string*> gone;
  for (const std::string& id : ids) {
    auto h = rows_.find(id);
    if (h != rows_.end()) gone.insert(&h->first);
  }
  auto is_gone = [&](const std::string* id) { return gone.count(id) != 0; };
  // The trace and comment indexes hold pointers to rows_ keys: clear them before erasing.
  for (auto it = by_root_.begin(); it != by_root_.end();) {
    std::erase_if(it->second, is_gone);
    it = it->second.empty() ? by_root_.erase(it) : std::next(it);
  }
  std::erase_if(comment_ids_, is_gone);
  for (const std::string* id : gone) {
    auto h = rows_.find(*id);
    order_.erase(h->second.seq);
    memtable_seqs_.erase(h->second.seq);
    rows_.erase(h);
  }
}

void ObjectRows::MoveLocked(const std::vector<Move>& moves) {
  for (const Move& m : moves) {
    auto h = rows_.find(m.id);
    if (h == rows_.end()) continue;
    for (RowVersion& v : h->second.versions) {
      if (v.xact == m.xact && v.ref.on_disk()) {
        v.ref = m.ref;
        break;
      }
    }
  }
}

ObjectRows& RowStore::GetOrCreate(const std::string& object_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = objects_[object_key];
  if (!slot) slot = std::make_unique<ObjectRows>(loader_);
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

std::vector<std::string> RowStore::ObjectKeys() const {
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, rows] : objects_) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace arbor::storage
