// arbor_pg_baseline: the PostgreSQL baseline for the ingest benchmark (I1, I2).
//
// Sends exactly the rows arbor_load sends (same generator, same seed; bench/workload.h) into one
// PostgreSQL table with JSONB columns and the indexes of shared/design/benchmarks.md, over the
// same number of connections, one multi-row INSERT of `--batch` rows per transaction, with
// synchronous_commit=on (a commit returns after the WAL fsync, like Arbor's ack).
//
//   arbor_pg_baseline --conninfo "host=127.0.0.1 port=55432 user=postgres dbname=postgres" [flags]
#include <libpq-fe.h>

#include "workload.h"

namespace {

// Same rows as /logs3 receives. _is_merge rows are upserts that merge the object columns one
// level deep (enough for this workload: metrics.start + metrics.end, etc.) and keep the stored
// value of any column the merge row leaves out. The batch travels as one JSON array parameter
// and is unpacked by the server, as Arbor parses the /logs3 body.
constexpr const char* kSchema = R"SQL(
DROP TABLE IF EXISTS spans;
CREATE TABLE spans (
  object_id       text NOT NULL,
  id              text NOT NULL,
  log_id          text,
  span_id         text,
  root_span_id    text,
  span_parents    jsonb,
  created         timestamptz,
  input           jsonb,
  output          jsonb,
  expected        jsonb,
  error           jsonb,
  metadata        jsonb,
  scores          jsonb,
  metrics         jsonb,
  tags            jsonb,
  span_attributes jsonb,
  context         jsonb,
  xact_id         bigint NOT NULL DEFAULT txid_current(),
  PRIMARY KEY (object_id, id)
);
CREATE INDEX spans_object_created ON spans (object_id, created);
CREATE INDEX spans_root_span_id ON spans (root_span_id);
)SQL";

constexpr const char* kGinIndexes = R"SQL(
CREATE INDEX spans_metadata_gin ON spans USING gin (metadata jsonb_path_ops);
)SQL";

// The expensive one: jsonb_to_tsvector over every string in input and output, recomputed on the
// merge update as well. 'simple' is the cheapest text search configuration (no stemming).
constexpr const char* kFtsIndex = R"SQL(
CREATE INDEX spans_text_fts ON spans USING gin (
  (jsonb_to_tsvector('simple'::regconfig, coalesce(input, 'null'::jsonb), '["string"]') ||
   jsonb_to_tsvector('simple'::regconfig, coalesce(output, 'null'::jsonb), '["string"]')));
)SQL";

constexpr const char* kInsert = R"SQL(
INSERT INTO spans AS s (object_id, id, log_id, span_id, root_span_id, span_parents, created, input, output,
                        expected, error, metadata, scores, metrics, tags, span_attributes, context)
SELECT 'project_logs:' || (r->>'project_id'), r->>'id', r->>'log_id', r->>'span_id', r->>'root_span_id',
       r->'span_parents', (r->>'created')::timestamptz, r->'input', r->'output', r->'expected', r->'error',
       r->'metadata', r->'scores', r->'metrics', r->'tags', r->'span_attributes', r->'context'
FROM jsonb_array_elements($1::jsonb) AS r
ON CONFLICT (object_id, id) DO UPDATE SET
  log_id          = coalesce(EXCLUDED.log_id, s.log_id),
  span_id         = coalesce(EXCLUDED.span_id, s.span_id),
  root_span_id    = coalesce(EXCLUDED.root_span_id, s.root_span_id),
  span_parents    = coalesce(s.span_parents, EXCLUDED.span_parents),
  created         = coalesce(s.created, EXCLUDED.created),
  input           = coalesce(EXCLUDED.input, s.input),
  output          = coalesce(EXCLUDED.output, s.output),
  expected        = coalesce(EXCLUDED.expected, s.expected),
  error           = coalesce(EXCLUDED.error, s.error),
  metadata        = CASE WHEN EXCLUDED.metadata IS NULL THEN s.metadata
                         ELSE coalesce(s.metadata, '{}') || EXCLUDED.metadata END,
  scores          = CASE WHEN EXCLUDED.scores IS NULL THEN s.scores
                         ELSE coalesce(s.scores, '{}') || EXCLUDED.scores END,
  metrics         = CASE WHEN EXCLUDED.metrics IS NULL THEN s.metrics
                         ELSE coalesce(s.metrics, '{}') || EXCLUDED.metrics END,
  tags            = coalesce(EXCLUDED.tags, s.tags),
  span_attributes = CASE WHEN EXCLUDED.span_attributes IS NULL THEN s.span_attributes
                         ELSE coalesce(s.span_attributes, '{}') || EXCLUDED.span_attributes END,
  context         = coalesce(EXCLUDED.context, s.context),
  xact_id         = txid_current()
)SQL";

constexpr const char* kLookup =
    "SELECT to_jsonb(s)::text FROM spans s WHERE object_id = $1 AND id = $2";

PGconn* connect_or_die(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::fprintf(stderr, "error: cannot connect to PostgreSQL (%s): %s\n", conninfo.c_str(),
                 PQerrorMessage(c));
    std::exit(1);
  }
  return c;
}

void exec_or_die(PGconn* c, const char* sql) {
  PGresult* r = PQexec(c, sql);
  const auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::fprintf(stderr, "error: %s\n  in: %.200s\n", PQerrorMessage(c), sql);
    std::exit(1);
  }
  PQclear(r);
}

void prepare_or_die(PGconn* c, const char* name, const char* sql, int nparams) {
  PGresult* r = PQprepare(c, name, sql, nparams, nullptr);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    std::fprintf(stderr, "error: prepare %s: %s\n", name, PQerrorMessage(c));
    std::exit(1);
  }
  PQclear(r);
}

std::string query_one(PGconn* c, const char* sql) {
  PGresult* r = PQexec(c, sql);
  std::string v =
      (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) ? PQgetvalue(r, 0, 0) : "?";
  PQclear(r);
  return v;
}

class PgSink : public bench::Sink {
 public:
  explicit PgSink(const std::string& conninfo) : c_(connect_or_die(conninfo)) {
    exec_or_die(c_, "SET synchronous_commit = on");
    prepare_or_die(c_, "ins", kInsert, 1);
  }
  ~PgSink() override { PQfinish(c_); }
  bool post(const bench::Row* rows, size_t n, std::string* err) override {
    std::string arr;
    arr.reserve(bench::batch_json_bytes(rows, n));
    bench::append_batch_array(arr, rows, n);
    const char* params[1] = {arr.c_str()};
    for (int attempt = 0;; ++attempt) {
      PGresult* r = PQexecPrepared(c_, "ins", 1, params, nullptr, nullptr, 0);  // autocommit: 1 txn
      const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      if (ok) {
        PQclear(r);
        return true;
      }
      // A span's open row and merge row in two concurrent transactions can deadlock on the
      // primary key when one of them stalls (GIN pending-list cleanup); retry like an app would.
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      const bool retry =
          state && (std::strcmp(state, "40P01") == 0 || std::strcmp(state, "40001") == 0);
      *err = PQresultErrorMessage(r);
      PQclear(r);
      if (!retry || attempt >= 5) return false;
      ++retries_;
    }
  }
  uint64_t retries() const override { return retries_; }

 private:
  PGconn* c_;
  uint64_t retries_ = 0;
};

class PgReader : public bench::Reader {
 public:
  PgReader(const std::string& conninfo, std::string object_id)
      : c_(connect_or_die(conninfo)), object_id_(std::move(object_id)) {
    prepare_or_die(c_, "get", kLookup, 2);
  }
  ~PgReader() override { PQfinish(c_); }
  int lookup(const std::string& id, std::string* row, std::string* err) override {
    const char* params[2] = {object_id_.c_str(), id.c_str()};
    PGresult* r = PQexecPrepared(c_, "get", 2, params, nullptr, nullptr, 0);
    int out;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      *err = PQresultErrorMessage(r);
      out = -1;
    } else if (PQntuples(r) == 0) {
      out = 0;
    } else {
      *row = PQgetvalue(r, 0, 0);
      out = 1;
    }
    PQclear(r);
    return out;
  }

 private:
  PGconn* c_;
  std::string object_id_;
};

}  // namespace

int main(int argc, char** argv) {
  bench::Args args(argc, argv);
  if (args.flag("help")) {
    std::printf(
        "usage: arbor_pg_baseline --conninfo \"host=... port=... user=... dbname=...\" [flags]\n"
        "  --conninfo STR        libpq connection string (default $PG_CONNINFO)\n"
        "  --no-setup            keep the existing spans table (default: drop and recreate it)\n"
        "  --project-id ID       project_id put in the rows (default: a fixed UUID)\n"
        "  --indexes SET         full (default: btrees + GIN jsonb_path_ops on metadata + tsvector "
        "GIN on\n"
        "                        input/output), no-fts (without the tsvector GIN), btree (btrees "
        "only)\n%s",
        bench::kCommonHelp);
    return 0;
  }
  const char* env_ci = std::getenv("PG_CONNINFO");
  const std::string conninfo =
      args.get("conninfo", env_ci ? env_ci : "host=127.0.0.1 user=postgres dbname=postgres");
  const bool setup = !args.flag("no-setup");
  const std::string indexes = args.get("indexes", "full");
  if (indexes != "full" && indexes != "no-fts" && indexes != "btree")
    bench::Args::bad("bad --indexes " + indexes);
  // Same length as a UUID project id from Arbor, so both systems get the same bytes per row.
  const std::string project_id = args.get("project-id", "4f2c1a9e-8d3b-4c7e-9a61-0b5d2e8f7c34");
  const bench::WorkloadConfig wcfg = bench::workload_from_args(args);
  const bench::RunOptions opt = bench::run_options_from_args(args, "postgres");
  args.check_all_used();

  PGconn* admin = connect_or_die(conninfo);
  exec_or_die(admin, "SET client_min_messages = warning");
  std::printf("[%s] machine: %s; %s\n", opt.system.c_str(), bench::machine_summary().c_str(),
              query_one(admin, "SELECT version()").c_str());
  std::printf("[%s] synchronous_commit=%s fsync=%s wal_sync_method=%s shared_buffers=%s\n",
              opt.system.c_str(), query_one(admin, "SHOW synchronous_commit").c_str(),
              query_one(admin, "SHOW fsync").c_str(),
              query_one(admin, "SHOW wal_sync_method").c_str(),
              query_one(admin, "SHOW shared_buffers").c_str());
  if (setup) {
    exec_or_die(admin, kSchema);
    if (indexes != "btree") exec_or_die(admin, kGinIndexes);
    if (indexes == "full") exec_or_die(admin, kFtsIndex);
    std::printf("[%s] schema: spans table, indexes=%s\n", opt.system.c_str(), indexes.c_str());
  }

  const auto g0 = bench::Clock::now();
  const bench::Dataset ds = bench::Generator(wcfg, project_id).build();
  std::printf("[%s] generated in %.1fs\n", opt.system.c_str(),
              bench::ms_between(g0, bench::Clock::now()) / 1000);
  bench::print_dataset(wcfg, ds);

  const std::string object_id = "project_logs:" + project_id;
  const int rc = bench::run_ingest(
      wcfg, ds, opt, [&] { return std::make_unique<PgSink>(conninfo); },
      [&] { return std::make_unique<PgReader>(conninfo, object_id); });
  std::printf("[%s] table+indexes: %s (heap+toast %s, indexes %s)\n", opt.system.c_str(),
              query_one(admin, "SELECT pg_size_pretty(pg_total_relation_size('spans'))").c_str(),
              query_one(admin, "SELECT pg_size_pretty(pg_table_size('spans'))").c_str(),
              query_one(admin, "SELECT pg_size_pretty(pg_indexes_size('spans'))").c_str());
  PQfinish(admin);
  return rc;
}
