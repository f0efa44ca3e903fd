#include "ingest/writer.h"

#include <chrono>
#include <map>
#include <thread>

#include "base/metrics.h"
#include "base/util.h"

namespace arbor::ingest {
namespace {

namespace bj = boost::json;

catalog::ObjectKind CatalogKind(ObjectType type) {
  switch (type) {
    case ObjectType::kExperiment:
      return catalog::ObjectKind::kExperiment;
    case ObjectType::kDataset:
      return catalog::ObjectKind::kDataset;
    default:
      return catalog::ObjectKind::kProject;
  }
}

// Dataset rows carry no span ids from the SDKs; the REST schema requires them.
void FillDatasetSpanIds(bj::object& row, const std::string& id) {
  if (!row.contains("span_id")) row["span_id"] = id;
  if (!row.contains("root_span_id")) row["root_span_id"] = id;
}

}  // namespace

StatusOr<Writer::Owners> Writer::ResolveOwners(const std::string& org_id,
                                               const std::vector<IncomingRow>& rows) {
  Owners owners;
  for (const IncomingRow& r : rows) {
    if (r.object.type == ObjectType::kPlaygroundLogs) continue;  // sessions are client-named
    if (owners.count({r.object.type, r.object.id})) continue;
    auto found = catalog_.GetObject(org_id, CatalogKind(r.object.type), r.object.id);
    if (!found.ok()) {
      return NotFound(std::string(ObjectTypeName(r.object.type)) + " " + r.object.id +
                      " does not exist in this organization");
    }
    owners[{r.object.type, r.object.id}] =
        r.object.type == ObjectType::kProjectLogs ? found->id : found->project_id;
  }
  return owners;
}

storage::RowPtr Writer::Resolve(IncomingRow& in, const storage::RowPtr& old, std::uint64_t xact,
                                const std::string& org_id, const std::string& project_id) const {
  if (in.is_delete) return nullptr;
  bj::object row;
  if (in.is_merge && old) {
    row = *old;
    json::MergeInto(row, in.fields, in.merge_paths);
  } else {
    row = std::move(in.fields);  // each incoming row is resolved once
    if (!row.contains("created") || row.at("created").is_null()) {
      row["created"] = old && old->contains("created") ? old->at("created")
                                                       : bj::value(FormatIsoTime(NowMicros()));
    }
  }
  UpdateAuditTrail(row, old.get(), in, xact);
  if (in.object.type == ObjectType::kDataset) FillDatasetSpanIds(row, in.id);
  // Rows name their project (and logs their org), as the REST event schemas require.
  if (!project_id.empty()) row["project_id"] = project_id;
  if (in.object.type == ObjectType::kProjectLogs) row["org_id"] = org_id;
  row["_xact_id"] = XactToString(xact);
  return std::make_shared<const bj::object>(std::move(row));
}

std::string Writer::EncodeRecord(std::uint64_t xact, const std::vector<storage::RowWrite>& writes) {
  // Format: docs/formats/wal.md.
  std::string record = "{\"x\":\"" + XactToString(xact) + "\",\"w\":[";
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const storage::RowWrite& w = writes[i];
    if (i > 0) record.push_back(',');
    record += "{\"k\":";
    json::SerializeString(w.object_key, record);
    record += ",\"id\":";
    json::SerializeString(w.id, record);
    record += ",\"r\":";
    if (w.row) {
      json::SerializeTo(*w.row, record);
    } else {
      record += "null";
    }
    record.push_back('}');
  }
  record += "]}";
  return record;
}

StatusOr<std::uint64_t> Writer::Write(const std::string& org_id, std::vector<IncomingRow> rows) {
  ARBOR_CHECK(wal_ != nullptr);
  if (failed_) return Unavailable("the write-ahead log failed; restart the server");
  if (rows.empty()) return visible_xact();
  RETURN_IF_ERROR(WaitForMemtableRoom());
  ASSIGN_OR_RETURN(Owners owners, ResolveOwners(org_id, rows));

  std::uint64_t xact = 0;
  std::uint64_t slot = 0;
  std::vector<storage::RowWrite> writes;
  writes.reserve(rows.size());
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    xact = clock_.Next(static_cast<std::uint64_t>(NowMicros() / 1'000'000));
    std::map<std::pair<std::string, std::string>, storage::RowPtr> pending;  // same-request rows
    for (IncomingRow& in : rows) {
      std::string key = ObjectKey(org_id, in.object);
      auto seen = pending.find({key, in.id});
      storage::RowPtr old;
      if (seen != pending.end()) {
        old = seen->second;
      } else {
        ASSIGN_OR_RETURN(old, store_.GetOrCreate(key).Latest(in.id));
      }
      auto owner = owners.find({in.object.type, in.object.id});
      storage::RowPtr now =
          Resolve(in, old, xact, org_id, owner == owners.end() ? "" : owner->second);
      pending[{key, in.id}] = now;
      writes.push_back({.object_key = std::move(key), .id = in.id, .row = std::move(now)});
    }
    slot = wal_->Reserve(xact);
    // Applied now so later requests merge against it; readers only see it once durable.
    store_.Apply(writes, xact);
  }
  // Serialized outside the lock, so requests encode their records in parallel.
  std::string record = EncodeRecord(xact, writes);
  const std::size_t record_bytes = record.size();
  wal_->Fill(slot, std::move(record));
  Status durable = wal_->WaitDurable(xact);
  if (!durable.ok()) {
    failed_ = true;
    return Internal("write was not made durable: " + durable.message());
  }
  CountIngest(writes.size(), record_bytes, xact);
  return xact;
}

// Ingest counters for /metrics, and the indexing-lag clock (base/metrics.h).
void Writer::CountIngest(std::size_t rows, std::size_t bytes, std::uint64_t xact) {
  static metrics::Counter& rows_total =
      metrics::Global().GetCounter("arbor_ingest_rows_total", "Rows written (acknowledged).");
  static metrics::Counter& bytes_total = metrics::Global().GetCounter(
      "arbor_ingest_bytes_total", "Bytes of WAL records written for acknowledged rows.");
  rows_total.Add(rows);
  bytes_total.Add(bytes);
  metrics::IndexingLag().NoteWrite(xact, NowMicros());
}

Status Writer::WaitForMemtableRoom() const {
  if (memtable_bytes_limit_ == 0) return Status::Ok();
  std::int64_t deadline = NowMicros() + std::int64_t{memtable_wait_ms_} * 1000;
  while (wal_->bytes_since_rotation() > memtable_bytes_limit_) {
    if (NowMicros() >= deadline) {
      return Unavailable("ingest is ahead of flushing to segments; retry shortly");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Ok();
}

Status Writer::Replay(std::string_view payload) {
  auto parsed = json::Parse(payload);
  if (!parsed.ok() || !parsed->is_object()) return DataLoss("WAL record is not a JSON object");
  const bj::object& record = parsed->get_object();
  const bj::value* x = record.if_contains("x");
  const bj::value* w = record.if_contains("w");
  if (!x || !x->is_string() || !w || !w->is_array()) return DataLoss("WAL record lacks x or w");
  auto xact = ParseXact(x->get_string());
  if (!xact) return DataLoss("WAL record has a bad _xact_id");
  if (*xact <= skip_replay_upto_) return Status::Ok();
  std::vector<storage::RowWrite> writes;
  for (const auto& e : w->get_array()) {
    if (!e.is_object()) return DataLoss("WAL row is not an object");
    const bj::object& o = e.get_object();
    const bj::value* k = o.if_contains("k");
    const bj::value* id = o.if_contains("id");
    const bj::value* r = o.if_contains("r");
    if (!k || !k->is_string() || !id || !id->is_string() || !r) return DataLoss("bad WAL row");
    storage::RowPtr row =
        r->is_object() ? std::make_shared<const bj::object>(r->get_object()) : nullptr;
    writes.push_back({std::string(k->get_string()), std::string(id->get_string()), row});
  }
  store_.Apply(writes, *xact);
  clock_.Observe(*xact);
  if (*xact > replayed_xact_) replayed_xact_ = *xact;
  return Status::Ok();
}

void Writer::SkipReplayUpTo(std::uint64_t xact) {
  skip_replay_upto_ = xact;
  clock_.Observe(xact);
  if (xact > replayed_xact_) replayed_xact_ = xact;
}

std::uint64_t Writer::visible_xact() const {
  std::uint64_t durable = wal_ ? wal_->durable_tag() : 0;
  return std::max<std::uint64_t>(durable, replayed_xact_.load());
}

}  // namespace arbor::ingest
