#!/usr/bin/env python3
"""Query benchmark (Q1..Q8, S1, R1 of shared/design/benchmarks.md): Arbor vs PostgreSQL 15,
SQLite 3 (FTS5), DuckDB and ClickHouse (in-process, chdb) on the same deterministic dataset, in
one run.

Run through bench/queries.sh, which builds the venv, starts a private PostgreSQL cluster and
passes the binaries; see bench/README.md ("Queries"). This program:
  1. starts `arbor serve` on a fresh data dir, loads the span workload with `arbor_load`
     (bench/workload.h, seeded) and an experiment + base experiment (generated here, seeded);
  2. dumps the same rows with `arbor_load --dump`, merges each span's open and `_is_merge` rows
     (as Arbor does) and loads the merged spans + experiments into PostgreSQL, SQLite, DuckDB and
     ClickHouse;
  3. runs Q1..Q8 in every system (warm-up, then repetitions), checks that every system returns
     the same answer (ids / counts / aggregates), restarts Arbor and runs its queries again
     (segments, empty block cache), and prints the table + writes JSON.
"""
import argparse
import collections
import datetime as dt
import http.client
import json
import math
import os
import platform
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time

import chdb
import duckdb
import psycopg

P_LOGS = "project_logs"
SCORE_NAMES = ["Factuality", "Relevance", "ExactMatch"]


def log(*a):
    print(*a, flush=True)


def pct(v, p):
    if not v:
        return float("nan")
    s = sorted(v)
    i = min(len(s), max(1, math.ceil(p / 100.0 * len(s))))
    return s[i - 1]


# ----------------------------------------------------------------------------------- memory
def rss_reset(pid):
    """Reset the peak RSS (VmHWM) of a process to its current RSS (Linux clear_refs 5)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_kb(pid, key="VmHWM"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ----------------------------------------------------------------------------------- text
# Arbor's MATCH tokens (src/base/tokenize.h): runs of letters/digits, lower-cased; every CJK
# ideograph is a token of its own. Only used to pick the common term and to build the text
# columns of the baselines (which tokenize with their own rules).
def strings_of(v, out):
    if isinstance(v, str):
        out.append(v)
    elif isinstance(v, dict):
        for x in v.values():
            strings_of(x, out)
    elif isinstance(v, list):
        for x in v:
            strings_of(x, out)
    return out


def text_of(v):
    if v is None:
        return None
    return "\n".join(strings_of(v, []))


def deep_merge(a, b):
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            deep_merge(a[k], v)
        else:
            a[k] = v
    return a


# ----------------------------------------------------------------------------------- experiments
WORDS = None


def exp_rows(seed, cases, which, start_epoch):
    """Rows of one experiment: per case a trace = root `eval` span (input shared by both
    experiments, output, expected, scores Factuality/Relevance, metrics start/end), an `llm`
    child (tokens, cost) and a `score` span (ExactMatch). `which` 0 = base, 1 = current."""
    global WORDS
    if WORDS is None:
        wr = random.Random(seed ^ 0x5EED)
        cons, vow = "bcdfghklmnprstvwz", "aeiou"
        WORDS = ["".join(wr.choice(cons) + wr.choice(vow) for _ in range(wr.randint(1, 3)))
                 for _ in range(3000)]
    shared = random.Random(seed * 7 + 1)  # inputs: identical in both experiments
    own = random.Random(seed * 7 + 2 + which)
    ids = random.Random(seed * 7 + 10 + which)

    def hexid(n):
        return "%0*x" % (n, ids.getrandbits(4 * n))

    def words(r, n):
        return " ".join(r.choice(WORDS) for _ in range(n))

    rows = []
    for i in range(cases):
        question = words(shared, shared.randint(8, 40))
        expected = words(shared, shared.randint(3, 12))
        inp = {"question": question, "case": i}
        root, root_sid = hexid(32), hexid(16)
        t0 = start_epoch + i * 0.5
        llm_dur = 0.3 + own.random() * (2.0 if which else 2.4)
        pt = 200 + own.randint(0, 800)
        ct = 20 + own.randint(0, 300)
        fact = round(own.random() ** (0.8 if which else 1.0), 4)
        rel = round(own.random(), 4)
        exact = 1.0 if own.random() < (0.55 if which else 0.5) else 0.0
        created = dt.datetime.fromtimestamp(t0, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        llm_sid, score_sid = hexid(16), hexid(16)
        rows.append({"id": hexid(16), "span_id": root_sid, "root_span_id": root,
                     "created": created, "input": inp, "output": words(own, own.randint(5, 30)),
                     "expected": expected, "scores": {"Factuality": fact, "Relevance": rel},
                     "metadata": {"model": "gpt-4o" if which else "gpt-4o-mini", "case": i},
                     "metrics": {"start": round(t0, 3), "end": round(t0 + llm_dur + 0.05, 3)},
                     "span_attributes": {"name": "eval", "type": "eval"}})
        rows.append({"id": hexid(16), "span_id": llm_sid, "root_span_id": root,
                     "span_parents": [root_sid], "created": created,
                     "input": [{"role": "user", "content": question}],
                     "output": [{"role": "assistant", "content": words(own, 10)}],
                     "metrics": {"start": round(t0 + 0.01, 3), "end": round(t0 + 0.01 + llm_dur, 3),
                                 "prompt_tokens": pt, "completion_tokens": ct, "tokens": pt + ct,
                                 "estimated_cost": round((pt + 4 * ct) * 2.5e-6, 8)},
                     "span_attributes": {"name": "Chat Completion", "type": "llm"}})
        rows.append({"id": hexid(16), "span_id": score_sid, "root_span_id": root,
                     "span_parents": [root_sid], "created": created,
                     "scores": {"ExactMatch": exact},
                     "metrics": {"start": round(t0 + llm_dur, 3), "end": round(t0 + llm_dur + 0.02, 3)},
                     "span_attributes": {"name": "ExactMatch", "type": "score", "purpose": "scorer"}})
    return rows


# ----------------------------------------------------------------------------------- Arbor
class Arbor:
    def __init__(self, binary, data_dir, port, key, log_path, extra):
        self.binary, self.data_dir, self.port, self.key = binary, data_dir, port, key
        self.log_path, self.extra = log_path, extra
        self.proc = None
        self.conn = None

    def start(self):
        env = dict(os.environ, ARBOR_BOOTSTRAP_API_KEY=self.key)
        logf = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}",
             "--org-name", "bench", "--otlp-grpc-listen", "off"] + self.extra,
            env=env, stdout=logf, stderr=logf)
        t0 = time.time()
        while time.time() - t0 < 120:
            if self.proc.poll() is not None:
                raise RuntimeError(f"arbor exited ({self.proc.returncode}); see {self.log_path}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("arbor did not become ready")
        self.conn = None
        return time.time() - t0

    def stop(self):
        if self.conn:
            self.conn.close()
            self.conn = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid

    def call_raw(self, method, path, body=None):
        """Returns (status, body bytes). Times only this, callers parse afterwards."""
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            try:
                data = None if body is None else json.dumps(body).encode()
                self.conn.request(method, path, body=data, headers={
                    "Authorization": "Bearer " + self.key, "Content-Type": "application/json"})
                r = self.conn.getresponse()
                return r.status, r.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError

    def call(self, method, path, body=None):
        st, raw = self.call_raw(method, path, body)
        if st != 200:
            raise RuntimeError(f"{method} {path} -> {st}: {raw[:500]!r}")
        return json.loads(raw)

    def btql(self, text):
        return self.call("POST", "/btql", {"query": text})


# ----------------------------------------------------------------------------------- loading
DUMP_PID = "00000000-0000-4000-8000-000000000000"


def load_logs(arbor, dump, pid, connections, batch):
    """POST /logs3 the dumped rows in batches, in order, over `connections` keep-alive
    connections (as arbor_load does), retrying a batch that Arbor refuses with 503/429
    (write back-pressure while the flusher catches up) after a pause, as the SDKs do."""
    import threading
    old, new = f'"project_id":"{DUMP_PID}"'.encode(), f'"project_id":"{pid}"'.encode()
    with open(dump, "rb") as f:
        lines = [ln.rstrip(b"\n").replace(old, new) for ln in f]
    batches = [lines[i:i + batch] for i in range(0, len(lines), batch)]
    nxt = [0]
    lock = threading.Lock()
    stats = {"rows": 0, "retries": 0, "errors": []}

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", arbor.port, timeout=600)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(batches):
                break
            body = b'{"rows":[' + b",".join(batches[i]) + b'],"api_version":2}'
            for attempt in range(100):
                c.request("POST", "/logs3", body=body, headers={
                    "Authorization": "Bearer " + arbor.key, "Content-Type": "application/json"})
                r = c.getresponse()
                raw = r.read()
                if r.status == 200:
                    with lock:
                        stats["rows"] += len(batches[i])
                    break
                if r.status in (429, 503):
                    with lock:
                        stats["retries"] += 1
                    time.sleep(1 + attempt * 0.5)
                    continue
                with lock:
                    stats["errors"].append(f"batch {i}: HTTP {r.status} {raw[:200]!r}")
                break
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if stats["errors"] or stats["rows"] != len(lines):
        raise RuntimeError(f"loading Arbor failed: {stats['rows']}/{len(lines)} rows; {stats['errors'][:3]}")
    return stats
SPAN_COLS = ["object_id", "id", "span_id", "root_span_id", "span_parents", "created", "input",
             "output", "expected", "error", "metadata", "scores", "metrics", "tags",
             "span_attributes", "context"]
JSON_COLS = {"span_parents", "input", "output", "expected", "error", "metadata", "scores",
             "metrics", "tags", "span_attributes", "context"}


def merged_spans(dump_path, object_id):
    """Streams the dump (open rows, then `_is_merge` rows later) and yields merged spans."""
    pending = {}
    order = collections.deque()
    with open(dump_path, "rb") as f:
        for line in f:
            r = json.loads(line)
            merge = r.pop("_is_merge", False)
            for k in ("project_id", "log_id"):
                r.pop(k, None)
            rid = r["id"]
            if merge and rid in pending:
                deep_merge(pending[rid], r)
            elif rid in pending:
                pending[rid] = r
            else:
                pending[rid] = r
                order.append(rid)
            # A span is complete once its merge row has been seen: emit in open order, in a
            # bounded window (merge rows follow their open rows by 3200 rows).
            while len(order) > 8000:
                oid = order.popleft()
                yield dict(pending.pop(oid), object_id=object_id)
    for oid in order:
        yield dict(pending.pop(oid), object_id=object_id)


def span_tuple(s):
    out = []
    for c in SPAN_COLS:
        v = s.get(c)
        if c in JSON_COLS:
            out.append(None if v is None else json.dumps(v, ensure_ascii=False,
                                                         separators=(",", ":")))
        else:
            out.append(v)
    return out


PG_SCHEMA = """
DROP TABLE IF EXISTS spans;
CREATE TABLE spans (
  object_id text NOT NULL, id text NOT NULL, span_id text, root_span_id text, span_parents jsonb,
  created timestamptz, input jsonb, output jsonb, expected jsonb, error jsonb, metadata jsonb,
  scores jsonb, metrics jsonb, tags jsonb, span_attributes jsonb, context jsonb,
  PRIMARY KEY (object_id, id));
"""
# The indexes of benchmarks.md (the same as bench/pg_baseline.cc), built after the COPY.
PG_INDEXES = [
    "CREATE INDEX spans_object_created ON spans (object_id, created)",
    "CREATE INDEX spans_root_span_id ON spans (root_span_id)",
    "CREATE INDEX spans_metadata_gin ON spans USING gin (metadata jsonb_path_ops)",
    "CREATE INDEX spans_text_fts ON spans USING gin ("
    "(jsonb_to_tsvector('simple'::regconfig, coalesce(input, 'null'::jsonb), '[\"string\"]') || "
    "jsonb_to_tsvector('simple'::regconfig, coalesce(output, 'null'::jsonb), '[\"string\"]')))",
]

SQLITE_SCHEMA = """
CREATE TABLE spans (object_id TEXT NOT NULL, id TEXT NOT NULL, span_id TEXT, root_span_id TEXT,
  span_parents TEXT, created TEXT, input TEXT, output TEXT, expected TEXT, error TEXT,
  metadata TEXT, scores TEXT, metrics TEXT, tags TEXT, span_attributes TEXT, context TEXT,
  PRIMARY KEY (object_id, id));
CREATE VIRTUAL TABLE spans_fts USING fts5(input_text, output_text, content='');
"""
SQLITE_INDEXES = [
    "CREATE INDEX spans_object_created ON spans (object_id, created)",
    "CREATE INDEX spans_root_span_id ON spans (root_span_id)",
]

DUCK_SCHEMA = """
CREATE TABLE spans (object_id VARCHAR NOT NULL, id VARCHAR NOT NULL, span_id VARCHAR,
  root_span_id VARCHAR, span_parents JSON, created TIMESTAMP, input JSON, output JSON,
  expected JSON, error JSON, metadata JSON, scores JSON, metrics JSON, tags JSON,
  span_attributes JSON, context JSON, input_text VARCHAR);
"""


# ClickHouse (chdb): one MergeTree table, JSON columns as String (read with JSONExtract*; '' when
# absent, so roots are span_parents = ''). Laid out as trace stores on ClickHouse do (Langfuse's
# observations: sorted by project and time, bloom filter on trace_id): sorted by
# (object_id, created), so "newest first" (Q2/Q4/Q6) reads the tail of the object's range in order
# and a trace's spans lie in a narrow time range (tens of seconds here, interleaved with other
# traces: ~15 granules of ~800); a bloom filter on root_span_id finds those granules (Q1, Q2's 50
# traces). Granules are capped at
# 256 KiB (index_granularity_bytes; default 10 MiB): spans carry up to 200 KB of JSON, and with
# 10 MiB granules a point read (Q1, Q2's 50 rows) decompresses up to 10 MiB per column (Q1 and Q2
# were 2-5x slower; sorting by (object_id, root_span_id) instead made Q2 ~7x slower, its 50
# newest roots being spread over the whole table). A text index (ClickHouse's inverted index, GA
# in 26.x) on lower(input_text), queried with hasToken/hasAllTokens of lower(input_text): the
# index and a scan then agree, and MATCH is case-insensitive as in Arbor.
CH_SCHEMA = """
CREATE TABLE spans (object_id LowCardinality(String), id String, span_id String,
  root_span_id String, span_parents String, created DateTime64(6, 'UTC'), input String,
  output String, expected String, error String, metadata String, scores String, metrics String,
  tags String, span_attributes String, context String, input_text String,
  INDEX input_tokens lower(input_text) TYPE text(tokenizer = 'splitByNonAlpha'),
  INDEX root_bf root_span_id TYPE bloom_filter(0.001) GRANULARITY 1)
ENGINE = MergeTree ORDER BY (object_id, created) SETTINGS index_granularity_bytes = 262144
"""


class Loader:
    """One pass over the merged spans: COPY into PostgreSQL, batched INSERT into SQLite (+ FTS5),
    and an NDJSON file that DuckDB (read_json) and ClickHouse (file(), JSONEachRow) read at the
    end."""

    def __init__(self, pg, sq, dk, ch, tmp_ndjson, systems):
        self.pg, self.sq, self.dk, self.ch, self.tmp = pg, sq, dk, ch, tmp_ndjson
        # Only the systems of this run are loaded (an M run can be split in two by disk space).
        self.use_pg, self.use_sq = "postgres" in systems, "sqlite" in systems
        self.use_dk, self.use_ch = "duckdb" in systems, "clickhouse" in systems
        self.n = 0
        self.batch_sq, self.batch_fts = [], []

    def begin(self):
        if self.use_pg:
            self.pg.execute(PG_SCHEMA)
            self.pg.commit()
            self.pg_cur = self.pg.cursor()
            self.pg_copy_cm = self.pg_cur.copy("COPY spans (" + ",".join(SPAN_COLS) + ") FROM STDIN")
            self.pg_copy = self.pg_copy_cm.__enter__()
        if self.use_sq:
            self.sq.executescript(SQLITE_SCHEMA)
        self.nd = open(self.tmp, "w") if self.use_dk or self.use_ch else None

    def add(self, s):
        t = span_tuple(s)
        if self.use_pg:
            self.pg_copy.write_row(t)
        self.n += 1
        itext = text_of(s.get("input"))
        if self.use_sq:
            self.batch_sq.append((self.n, *t))
            self.batch_fts.append((self.n, itext, text_of(s.get("output"))))
        if self.nd is not None:
            d = {c: s.get(c) for c in SPAN_COLS}
            d["input_text"] = itext
            self.nd.write(json.dumps(d, ensure_ascii=False, separators=(",", ":")))
            self.nd.write("\n")
        if len(self.batch_sq) >= 2000:
            self.flush()

    def flush(self):
        if self.batch_sq:
            q = ",".join("?" * (len(SPAN_COLS) + 1))
            self.sq.executemany(f"INSERT INTO spans (rowid, {','.join(SPAN_COLS)}) VALUES ({q})",
                                self.batch_sq)
            self.sq.executemany(
                "INSERT INTO spans_fts (rowid, input_text, output_text) VALUES (?,?,?)",
                self.batch_fts)
        self.batch_sq, self.batch_fts = [], []

    def end(self):
        self.flush()
        if self.use_pg:
            self.pg_copy_cm.__exit__(None, None, None)
            self.pg.commit()
            t0 = time.time()
            for ddl in PG_INDEXES:
                self.pg.execute(ddl)
            self.pg.commit()
            self.pg.autocommit = True
            self.pg.execute("VACUUM ANALYZE spans")
            self.pg.autocommit = False
            log(f"  postgres: indexes + analyze {time.time() - t0:.1f}s")
        if self.use_sq:
            t0 = time.time()
            for ddl in SQLITE_INDEXES:
                self.sq.execute(ddl)
            self.sq.commit()
            self.sq.execute("ANALYZE")
            self.sq.commit()
            log(f"  sqlite: indexes {time.time() - t0:.1f}s")
        if self.nd is None:
            return
        self.nd.close()
        if self.use_dk:
            self.load_duckdb()
        if self.use_ch:
            self.load_clickhouse()
        os.unlink(self.tmp)

    def load_duckdb(self):
        t0 = time.time()
        cols = {c: ("JSON" if c in JSON_COLS else "VARCHAR") for c in SPAN_COLS}
        cols["input_text"] = "VARCHAR"
        colspec = "{" + ",".join(f"'{k}':'{v}'" for k, v in cols.items()) + "}"
        sel = ",".join(
            "CAST(replace(replace(created, 'T', ' '), 'Z', '') AS TIMESTAMP) AS created"
            if c == "created" else f'"{c}"' for c in list(cols))
        self.dk.execute(f"CREATE TABLE spans AS SELECT {sel} FROM read_json('{self.tmp}', "
                        f"format='newline_delimited', columns={colspec}, "
                        "maximum_object_size=67108864)")
        self.dk.execute("CHECKPOINT")
        log(f"  duckdb: read_json {time.time() - t0:.1f}s")

    def load_clickhouse(self):
        t0 = time.time()
        # JSONEachRow reads a nested object/array into a String column as its JSON text; null
        # becomes ''. OPTIMIZE merges the insert's parts into one (as DuckDB's CHECKPOINT).
        struct = ", ".join(f"{c} String" for c in list(SPAN_COLS) + ["input_text"])
        sel = ", ".join("parseDateTime64BestEffort(created, 6, 'UTC')" if c == "created" else c
                        for c in list(SPAN_COLS) + ["input_text"])
        self.ch.execute(CH_SCHEMA)
        self.ch.execute(f"INSERT INTO spans SELECT {sel} FROM file('{self.tmp}', JSONEachRow, "
                        f"'{struct}')")
        self.ch.execute("OPTIMIZE TABLE spans FINAL")
        log(f"  clickhouse: file() + OPTIMIZE {time.time() - t0:.1f}s")


# ----------------------------------------------------------------------------------- queries
FTS_PG = ("(jsonb_to_tsvector('simple'::regconfig, coalesce(input, 'null'::jsonb), '[\"string\"]') || "
          "jsonb_to_tsvector('simple'::regconfig, coalesce(output, 'null'::jsonb), '[\"string\"]'))")
IN_TSV_PG = "jsonb_to_tsvector('simple'::regconfig, coalesce(input, 'null'::jsonb), '[\"string\"]')"


def q7_sql(d, cur, base):
    """Experiment comparison with Arbor's semantics (src/query/summary.cc): per trace, each score
    averaged over the spans carrying it, token/cost metrics summed, duration from the root; then
    means over traces, diff vs base, improvements/regressions over cases matched by input."""
    if d == "ch":
        return q7_ch(cur, base)
    if d == "pg":
        num = lambda k: f"(metrics->>'{k}')::float8"  # noqa: E731
        each, key, val, itxt = "jsonb_each_text(sp.scores) AS j(k, v)", "j.k", "j.v::float8", "input::text"
    elif d == "sqlite":
        num = lambda k: f"json_extract(metrics, '$.{k}')"  # noqa: E731
        each, key, val, itxt = "json_each(sp.scores) AS j", "j.key", "j.value", "input"
    else:
        num = lambda k: f"CAST(json_extract_string(metrics, '$.{k}') AS DOUBLE)"  # noqa: E731
        each, key, val, itxt = ("json_each(sp.scores) AS j", "j.key",
                                "CAST(j.value AS DOUBLE)", "CAST(input AS VARCHAR)")
    summed = " UNION ALL ".join(
        f"SELECT o, r, '{m}' AS name, sum({num(m)}) AS v FROM sp GROUP BY o, r"
        for m in ["prompt_tokens", "completion_tokens", "tokens", "estimated_cost"])
    return f"""
WITH sp AS (SELECT object_id AS o, root_span_id AS r, span_parents IS NULL AS is_root, input,
                   scores, metrics FROM spans WHERE object_id IN ('{cur}', '{base}')),
tr AS (SELECT o, r, max(CASE WHEN is_root THEN {itxt} END) AS ik FROM sp GROUP BY o, r),
ts AS (SELECT o, r, {key} AS name, avg({val}) AS v FROM sp, {each} GROUP BY o, r, {key}),
tm AS (SELECT * FROM (
         SELECT o, r, 'duration' AS name,
                max(CASE WHEN is_root THEN {num('end')} - {num('start')} END) AS v FROM sp GROUP BY o, r
         UNION ALL {summed}) x WHERE v IS NOT NULL),
allv AS (SELECT 'score' AS kind, o, r, name, v FROM ts UNION ALL SELECT 'metric', o, r, name, v FROM tm),
agg AS (SELECT kind, name, o, avg(v) AS mean FROM allv GROUP BY kind, name, o),
byin AS (SELECT a.kind, a.name, a.o, tr.ik, avg(a.v) AS v FROM allv a
         JOIN tr ON tr.o = a.o AND tr.r = a.r GROUP BY a.kind, a.name, a.o, tr.ik),
ch AS (SELECT c.kind, c.name,
         sum(CASE WHEN abs(c.v - b.v) >= 1e-12 AND ((c.kind = 'score') = (c.v > b.v)) THEN 1 ELSE 0 END) AS imp,
         sum(CASE WHEN abs(c.v - b.v) >= 1e-12 AND ((c.kind = 'score') <> (c.v > b.v)) THEN 1 ELSE 0 END) AS reg
       FROM byin c JOIN byin b ON b.kind = c.kind AND b.name = c.name AND b.ik = c.ik AND b.o = '{base}'
       WHERE c.o = '{cur}' GROUP BY c.kind, c.name)
SELECT c.kind, c.name, c.mean, c.mean - b.mean, coalesce(ch.imp, 0), coalesce(ch.reg, 0)
FROM agg c LEFT JOIN agg b ON b.kind = c.kind AND b.name = c.name AND b.o = '{base}'
LEFT JOIN ch ON ch.kind = c.kind AND ch.name = c.name WHERE c.o = '{cur}'
"""


def q7_ch(cur, base):
    """q7_sql in ClickHouse SQL. ClickHouse inlines a CTE at every use (PG and DuckDB materialize
    one used twice), so this is written the way a ClickHouse user would: one GROUP BY pass per
    trace for the metrics (unpivoted with ARRAY JOIN) and one for the scores, then conditional
    aggregates (avgIf by experiment) instead of self-joins. The semantics are q7_sql's: NULL (json
    null or absent) is skipped by avg and sum (and avgIf over no value is NULL, so a missing base
    gives a NULL diff), a metric that is NULL for a trace gives no row, traces are matched by the
    root span's input text."""
    n = lambda k: f"JSONExtract(metrics, '{k}', 'Nullable(Float64)')"  # noqa: E731
    summed = ["prompt_tokens", "completion_tokens", "tokens", "estimated_cost"]
    return f"""
WITH per AS (
  SELECT object_id AS o, root_span_id AS r, maxIf(toNullable(input), span_parents = '') AS ik,
         maxIf({n('end')} - {n('start')}, span_parents = '') AS duration,
         {', '.join(f"sum({n(k)}) AS {k}" for k in summed)}
  FROM spans WHERE object_id IN ('{cur}', '{base}') GROUP BY o, r),
tm AS (SELECT o, ik, 'metric' AS kind, m.1 AS name, m.2 AS v FROM per
       ARRAY JOIN [{', '.join(f"('{k}', {k})" for k in ['duration'] + summed)}] AS m
       WHERE v IS NOT NULL),
ts AS (SELECT object_id AS o, root_span_id AS r, kv.1 AS name, avg(kv.2) AS v
       FROM spans ARRAY JOIN JSONExtractKeysAndValues(scores, 'Nullable(Float64)') AS kv
       WHERE object_id IN ('{cur}', '{base}') GROUP BY o, r, name),
allv AS (SELECT o, ik, kind, name, v FROM tm
         UNION ALL SELECT ts.o, per.ik, 'score', ts.name, ts.v FROM ts
         JOIN per ON per.o = ts.o AND per.r = ts.r),
agg AS (SELECT kind, name, countIf(o = '{cur}') AS cur_n, avgIf(v, o = '{cur}') AS mean,
               avgIf(v, o = '{base}') AS base_mean
        FROM allv GROUP BY kind, name),
byin AS (SELECT kind, name, ik, countIf(o = '{cur}') AS cn, countIf(o = '{base}') AS bn,
                avgIf(v, o = '{cur}') AS cv, avgIf(v, o = '{base}') AS bv
         FROM allv WHERE ik IS NOT NULL GROUP BY kind, name, ik),
chg AS (SELECT kind, name,
          countIf(cn > 0 AND bn > 0 AND abs(cv - bv) >= 1e-12 AND ((kind = 'score') = (cv > bv))) AS imp,
          countIf(cn > 0 AND bn > 0 AND abs(cv - bv) >= 1e-12 AND ((kind = 'score') != (cv > bv))) AS reg
        FROM byin GROUP BY kind, name)
SELECT a.kind, a.name, a.mean, a.mean - a.base_mean, chg.imp, chg.reg
FROM agg a LEFT JOIN chg ON chg.kind = a.kind AND chg.name = a.name
WHERE a.cur_n > 0
"""


def sql_queries(d, p):
    """SQL text of Q1..Q8 for dialect d ('pg', 'sqlite', 'duck', 'ch'); p holds the parameters."""
    L = P_LOGS
    if d == "pg":
        num = lambda c, k: f"({c}->>'{k}')::float8"  # noqa: E731
        jstr = lambda c, k: f"{c}->>'{k}'"  # noqa: E731
        idd = 'id COLLATE "C" DESC'
        hour = "date_trunc('hour', created)"
        left = lambda c: f"left({c}::text, 125)"  # noqa: E731
        scores_of = ("(SELECT jsonb_object_agg(k, av) FROM (SELECT j.k, avg(j.v::float8) AS av "
                     "FROM spans s2, jsonb_each_text(s2.scores) AS j(k, v) WHERE s2.root_span_id = "
                     f"r.root_span_id AND s2.object_id = '{L}' GROUP BY j.k) x)")
        text = {
            "Q3": f"{FTS_PG} @@ to_tsquery('simple', '{p['needle']}') AND {IN_TSV_PG} @@ to_tsquery('simple', '{p['needle']}')",
            "Q4": f"{FTS_PG} @@ to_tsquery('simple', '{p['word']}') AND {IN_TSV_PG} @@ to_tsquery('simple', '{p['word']}')"
                  f" AND metadata @> '{{\"model\": \"{p['model']}\"}}'",
            "Q5": f"{FTS_PG} @@ phraseto_tsquery('simple', '{p['phrase']}') AND {IN_TSV_PG} @@ phraseto_tsquery('simple', '{p['phrase']}')",
        }
        s_from = "spans"
    elif d == "sqlite":
        num = lambda c, k: f"json_extract({c}, '$.{k}')"  # noqa: E731
        jstr = num
        idd = "id DESC"
        hour = "substr(created, 1, 13)"
        left = lambda c: f"substr({c}, 1, 125)"  # noqa: E731
        scores_of = ("(SELECT json_group_object(k, av) FROM (SELECT j.key AS k, avg(j.value) AS av "
                     "FROM spans s2, json_each(s2.scores) AS j WHERE s2.root_span_id = "
                     f"r.root_span_id AND s2.object_id = '{L}' GROUP BY j.key))")
        fts = "rowid IN (SELECT rowid FROM spans_fts WHERE spans_fts MATCH '{}')"
        text = {
            "Q3": fts.format(f"input_text: {p['needle']}"),
            "Q4": fts.format(f"input_text: {p['word']}") + f" AND json_extract(metadata, '$.model') = '{p['model']}'",
            "Q5": fts.format(f"input_text: \"{p['phrase']}\""),
        }
        s_from = "spans"
    elif d == "ch":
        # Nullable extraction: an absent key (or a span without metrics: '') is NULL, as in SQL.
        num = lambda c, k: f"JSONExtract({c}, '{k}', 'Nullable(Float64)')"  # noqa: E731
        jstr = lambda c, k: f"JSONExtract({c}, '{k}', 'Nullable(String)')"  # noqa: E731
        idd = "id DESC"
        hour = "toStartOfHour(created)"
        left = lambda c: f"leftUTF8({c}, 125)"  # noqa: E731
        scores_of = None  # Q2 below
        low = "lower(input_text)"  # the expression of the text index
        words = ", ".join(f"'{w}'" for w in p["phrase"].split())
        text = {
            "Q3": f"hasToken({low}, '{p['needle']}')",
            "Q4": f"hasToken({low}, '{p['word']}') AND {jstr('metadata', 'model')} = '{p['model']}'",
            "Q5": f"hasAllTokens({low}, [{words}]) AND {low} LIKE '%{p['phrase']}%'",
        }
        s_from = "spans"
    else:
        num = lambda c, k: f"CAST(json_extract_string({c}, '$.{k}') AS DOUBLE)"  # noqa: E731
        jstr = lambda c, k: f"json_extract_string({c}, '$.{k}')"  # noqa: E731
        idd = "id DESC"
        hour = "date_trunc('hour', created)"
        left = lambda c: f"left(CAST({c} AS VARCHAR), 125)"  # noqa: E731
        scores_of = ("(SELECT json_group_object(k, av) FROM (SELECT j.key AS k, avg(CAST(j.value AS DOUBLE)) AS av "
                     "FROM spans s2, json_each(s2.scores) AS j WHERE s2.root_span_id = "
                     f"r.root_span_id AND s2.object_id = '{L}' GROUP BY j.key) x)")
        text = {  # no FTS extension offline: substring / regex scans of the input's text
            "Q3": f"contains(input_text, '{p['needle']}')",
            "Q4": f"regexp_matches(input_text, '\\b{p['word']}\\b') AND {jstr('metadata', 'model')} = '{p['model']}'",
            "Q5": f"contains(input_text, '{p['phrase']}')",
        }
        s_from = "spans"
    q = {}
    q["Q1"] = f"SELECT * FROM {s_from} WHERE root_span_id = '{{root}}' AND object_id = '{L}'"
    q["Q2"] = f"""
WITH r AS (SELECT root_span_id, id, created, input, output, metadata FROM spans
           WHERE object_id = '{L}' AND span_parents IS NULL ORDER BY created DESC, {idd} LIMIT 50)
SELECT r.root_span_id, r.id, r.created, {left('r.input')}, {left('r.output')}, r.metadata,
       a.n, a.tokens, a.cost, a.llm, a.t0, a.t1, {scores_of}
FROM r, LATERAL (SELECT count(*) AS n, sum({num('s.metrics', 'tokens')}) AS tokens,
                        sum({num('s.metrics', 'estimated_cost')}) AS cost,
                        sum(CASE WHEN {jstr('s.span_attributes', 'type')} = 'llm' THEN 1 ELSE 0 END) AS llm,
                        min({num('s.metrics', 'start')}) AS t0, max({num('s.metrics', 'end')}) AS t1
                 FROM spans s WHERE s.root_span_id = r.root_span_id AND s.object_id = '{L}') a
ORDER BY r.created DESC, r.{idd}"""
    if d == "sqlite":  # no LATERAL in SQLite 3.40: join and group
        q["Q2"] = f"""
WITH r AS (SELECT root_span_id, id, created, input, output, metadata FROM spans
           WHERE object_id = '{L}' AND span_parents IS NULL ORDER BY created DESC, {idd} LIMIT 50)
SELECT r.root_span_id, r.id, r.created, {left('r.input')}, {left('r.output')}, r.metadata,
       count(*) AS n, sum({num('s.metrics', 'tokens')}) AS tokens,
       sum({num('s.metrics', 'estimated_cost')}) AS cost,
       sum(CASE WHEN {jstr('s.span_attributes', 'type')} = 'llm' THEN 1 ELSE 0 END) AS llm,
       min({num('s.metrics', 'start')}) AS t0, max({num('s.metrics', 'end')}) AS t1, {scores_of}
FROM r JOIN spans s ON s.root_span_id = r.root_span_id AND s.object_id = '{L}'
GROUP BY r.root_span_id ORDER BY r.created DESC, r.{idd}"""
    if d == "ch":
        # The span's columns, as PostgreSQL returns them: input_text (the input's strings, for
        # the text index) is not part of the span and can be as big as the input.
        q["Q1"] = q["Q1"].replace("SELECT *", "SELECT " + ", ".join(SPAN_COLS))
        # No LATERAL: the 50 roots' traces aggregated by root_span_id, joined back. The IN sets
        # come from `top` (ids only): ClickHouse evaluates a CTE at each use, and `r` reads input
        # and output (~20% faster than IN (SELECT root_span_id FROM r), measured).
        roots = "root_span_id IN top"
        newest = (f"FROM spans WHERE object_id = '{L}' AND span_parents = '' "
                  f"ORDER BY created DESC, {idd} LIMIT 50")
        q["Q2"] = f"""
WITH top AS (SELECT root_span_id {newest}),
r AS (SELECT root_span_id, id, created, input, output, metadata {newest}),
a AS (SELECT root_span_id, count() AS n, sum({num('metrics', 'tokens')}) AS tokens,
             sum({num('metrics', 'estimated_cost')}) AS cost,
             countIf({jstr('span_attributes', 'type')} = 'llm') AS llm,
             min({num('metrics', 'start')}) AS t0, max({num('metrics', 'end')}) AS t1
      FROM spans WHERE object_id = '{L}' AND {roots} GROUP BY root_span_id),
sc AS (SELECT root_span_id, groupArray((k, av)) AS scores FROM (
         SELECT root_span_id, kv.1 AS k, avg(kv.2) AS av FROM spans
         ARRAY JOIN JSONExtractKeysAndValues(scores, 'Nullable(Float64)') AS kv
         WHERE object_id = '{L}' AND {roots} GROUP BY root_span_id, k) GROUP BY root_span_id)
SELECT r.root_span_id, r.id, r.created, {left('r.input')}, {left('r.output')}, r.metadata,
       a.n, a.tokens, a.cost, a.llm, a.t0, a.t1, sc.scores
FROM r JOIN a ON a.root_span_id = r.root_span_id LEFT JOIN sc ON sc.root_span_id = r.root_span_id
ORDER BY r.created DESC, r.{idd}"""
    for k in ("Q3", "Q5"):
        q[k] = f"SELECT id FROM spans WHERE object_id = '{L}' AND {text[k]}"
    q["Q4"] = (f"SELECT id FROM spans WHERE object_id = '{L}' AND {text['Q4']} "
               f"ORDER BY created DESC, {idd} LIMIT 50")
    q["Q6"] = (f"SELECT id FROM spans WHERE object_id = '{L}' AND {num('metrics', 'prompt_tokens')} > 1000 "
               f"AND {num('metrics', 'time_to_first_token')} < 0.3 ORDER BY created DESC, {idd} LIMIT 100")
    q["Q7"] = q7_sql(d, "experiment:current", "experiment:base")
    q["Q8"] = (f"SELECT {hour} AS h, {jstr('metadata', 'model')} AS m, count(*) AS n, "
               f"avg({num('metrics', 'end')} - {num('metrics', 'start')}) AS dur, "
               f"sum({num('metrics', 'tokens')}) AS tokens FROM spans WHERE object_id = '{L}' GROUP BY 1, 2")
    return q


def hour_key(h):
    """Normalize an hour bucket (datetime, 'YYYY-MM-DDTHH' or an ISO string) to 'YYYY-MM-DDTHH'."""
    if isinstance(h, dt.datetime):
        if h.tzinfo is not None:
            h = h.astimezone(dt.timezone.utc)
        return h.strftime("%Y-%m-%dT%H")
    if isinstance(h, (int, float)):
        return dt.datetime.fromtimestamp(h, dt.timezone.utc).strftime("%Y-%m-%dT%H")
    return str(h).replace(" ", "T")[:13]


def normalize(qid, rows, system):
    """Canonical answer of a query, comparable across systems."""
    if qid == "Q1":
        return len(rows)
    if qid == "Q2":
        return [(r[0], int(r[1])) for r in rows]
    if qid in ("Q3", "Q5"):
        return sorted(rows)
    if qid in ("Q4", "Q6"):
        return list(rows)
    if qid == "Q7":
        return {(k, n): (round(m, 9), None if df is None else round(df, 9), int(i), int(g))
                for k, n, m, df, i, g in rows}
    if qid == "Q8":
        return {(hour_key(h), m): (int(n), None if d is None else round(d, 6), round(t or 0, 3))
                for h, m, n, d, t in rows}
    raise AssertionError(qid)


def arbor_queries(pid, cur, base, p):
    f = f"from: project_logs('{pid}')"
    return {
        "Q1": f"{f} spans | filter: root_span_id = '{{root}}' | limit: 1000",
        "Q2": f"{f} summary | sort: created desc, id desc | limit: 50",
        "Q3": f"{f} spans | filter: input MATCH '{p['needle']}' | limit: 1000",
        "Q4": f"{f} spans | filter: input MATCH '{p['word']}' AND metadata.model = '{p['model']}' "
              "| sort: created desc, id desc | limit: 50",
        "Q5": f"{f} spans | filter: input MATCH '\"{p['phrase']}\"' | limit: 1000",
        "Q6": f"{f} spans | filter: metrics.prompt_tokens > 1000 AND metrics.time_to_first_token < 0.3 "
              "| sort: created desc, id desc | limit: 100",
        "Q7": f"/experiment-comparison2?experiment_id={cur}&base_experiment_id={base}",
        "Q8": f"{f} | dimensions: date_trunc('hour', created) AS hour, metadata.model AS model "
              "| measures: count(1) AS n, avg(metrics.end - metrics.start) AS dur, "
              "sum(metrics.tokens) AS tokens",
    }


def arbor_rows(qid, resp):
    """Arbor's answer in the same row layout as the SQL queries', for normalize()."""
    if qid == "Q7":
        out = []
        for kind, sect in (("score", "scores"), ("metric", "metrics")):
            for name, e in resp[sect].items():
                out.append((kind, name, e["score" if kind == "score" else "metric"], e.get("diff"),
                            e["improvements"], e["regressions"]))
        return out
    data = resp["data"]
    if qid == "Q2":
        return [(r["root_span_id"], r["num_spans"]) for r in data]
    if qid == "Q8":
        return [(r.get("hour"), r.get("model"), r.get("n"), r.get("dur"), r.get("tokens"))
                for r in data]
    if qid == "Q1":
        return data
    return [r["id"] for r in data]


# ----------------------------------------------------------------------------------- harness
class Runner:
    def __init__(self, args, params):
        self.args, self.p = args, params
        self.results = []  # dicts: system, phase, query, n, p50, p99, rss...
        self.answers = {}  # (phase, system, query) -> normalized answer

    def run(self, system, phase, qid, fn, reps, mem_pid, q1_roots=None, perf=None):
        """fn(i) runs one repetition and returns the normalized answer."""
        if mem_pid:
            before = rss_kb(mem_pid, "VmRSS")
            rss_reset(mem_pid)
        first_ms, _ = fn(0)  # warm-up (after a restart: the cold first run)
        times = []
        answer = None
        bad = []
        perf_proc = None
        if perf:
            perf_proc = subprocess.Popen(["perf", "record", "-g", "-F", "499", "-p", str(perf[0]),
                                          "-o", perf[1]], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        t_all = time.perf_counter()
        for i in range(reps):
            ms, a = fn(i)
            times.append(ms)
            if q1_roots is not None:
                if a != q1_roots[i % len(q1_roots)][1]:
                    bad.append((q1_roots[i % len(q1_roots)][0], a))
            else:
                answer = a
            # Slow queries (a first run over 5 s) get fewer repetitions: at least 1, else 3.
            min_reps = 1 if first_ms > 5000 else 3
            if time.perf_counter() - t_all > self.args.query_budget_s and i + 1 >= min_reps:
                break
        if perf_proc:
            perf_proc.send_signal(signal.SIGINT)
            perf_proc.wait()
        rss = rss_kb(mem_pid) if mem_pid else None
        r = {"system": system, "phase": phase, "query": qid, "n": len(times),
             "first_ms": first_ms, "p50_ms": pct(times, 50), "p99_ms": pct(times, 99), "max_ms": max(times),
             "peak_rss_mib": None if rss is None else rss / 1024,
             "rss_before_mib": None if not mem_pid or before is None else before / 1024}
        if q1_roots is not None:
            r["wrong_traces"] = len(bad)
            answer = ("q1", len(bad), bad[:3])
        self.answers[(phase, system, qid)] = answer
        self.results.append(r)
        log(f"  {phase:5} {system:9} {qid}: n={len(times):4} p50={r['p50_ms']:9.2f} ms "
            f"p99={r['p99_ms']:9.2f} ms  peak RSS {r['peak_rss_mib'] or 0:7.0f} MiB")
        return r


def timed(f):
    t0 = time.perf_counter()
    out = f()
    return (time.perf_counter() - t0) * 1000, out


def sql_fn(system, conn, qid, sql, q1_roots):
    def execute(s):
        if system == "postgres":
            with conn.cursor() as c:
                c.execute(s)
                return c.fetchall()
        if system == "clickhouse":  # a chdb cursor: execute() returns None
            conn.execute(s)
            return conn.fetchall()
        return conn.execute(s).fetchall()

    def fn(i):
        s = sql.replace("{root}", q1_roots[i % len(q1_roots)][0]) if qid == "Q1" else sql
        ms, rows = timed(lambda: execute(s))
        if qid == "Q1":
            return ms, len(rows)
        if qid == "Q2":
            rows = [(r[0], r[6]) for r in rows]
        elif qid in ("Q3", "Q4", "Q5", "Q6"):
            rows = [r[0] for r in rows]
        return ms, normalize(qid, rows, system)
    return fn


def arbor_fn(arbor, qid, q, q1_roots):
    def fn(i):
        if qid == "Q7":
            ms, (st, raw) = timed(lambda: arbor.call_raw("GET", q))
        else:
            text = q.replace("{root}", q1_roots[i % len(q1_roots)][0]) if qid == "Q1" else q
            ms, (st, raw) = timed(lambda: arbor.call_raw("POST", "/btql", {"query": text}))
        if st != 200:
            raise RuntimeError(f"arbor {qid} -> HTTP {st}: {raw[:400]!r}")
        rows = arbor_rows(qid, json.loads(raw))
        if qid == "Q1":
            return ms, len(rows)
        return ms, normalize(qid, rows, "arbor")
    return fn


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 1048576
    return {"cores": os.cpu_count(), "ram_gib": round(mem, 1), "cpu": cpu,
            "kernel": platform.release(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "duckdb": duckdb.__version__,
            "chdb": chdb.__version__, "clickhouse": chdb.engine_version}


def compare_answers(runner, queries, systems, phases):
    """Every system's answer against the reference's (hot): PostgreSQL's, or in a run without it
    the first baseline's; returns {query: [mismatch notes]}. A run of Arbor alone checks Arbor's
    restart answers against its hot ones."""
    refsys = next((s for s in ["postgres"] + systems if s in systems and s != "arbor"), "arbor")
    out = {}
    for qid in queries:
        ref = runner.answers.get(("hot", refsys, qid))
        notes = []
        for phase in phases:
            for s in systems:
                a = runner.answers.get((phase, s, qid))
                if a is None or (phase, s) == ("hot", refsys):
                    continue
                if qid == "Q1":
                    if a[1]:
                        notes.append(f"{s}/{phase}: {a[1]} traces with a wrong span count, e.g. {a[2]}")
                    continue
                if a != ref:
                    notes.append(f"{s}/{phase}: " + diff_note(qid, ref, a))
        if qid == "Q1":
            a = runner.answers.get(("hot", refsys, qid))
            if a and a[1]:
                notes.append(f"{refsys}/hot: {a[1]} traces with a wrong span count, e.g. {a[2]}")
        out[qid] = notes
    return out


def diff_note(qid, ref, a):
    if isinstance(ref, dict) and isinstance(a, dict):
        ks = sorted(set(ref) | set(a), key=str)
        d = [(k, ref.get(k), a.get(k)) for k in ks if ref.get(k) != a.get(k)]
        return f"{len(d)} of {len(ks)} groups differ, e.g. " + "; ".join(
            f"{k}: ref={x} vs {y}" for k, x, y in d[:3])
    if isinstance(ref, list) and isinstance(a, list):
        sr, sa = set(map(str, ref)), set(map(str, a))
        return (f"{len(ref)} rows (ref) vs {len(a)}; {len(sr - sa)} missing, {len(sa - sr)} extra"
                + ("; same set, different order" if sr == sa else "")
                + f"; first ref {ref[:2]} vs {a[:2]}")
    return f"ref={str(ref)[:200]} vs {str(a)[:200]}"


QUERIES = ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8"]
SYSTEMS = ["arbor", "postgres", "sqlite", "duckdb", "clickhouse"]
WHAT = {
    "Q1": "load one trace (all spans of a root_span_id)",
    "Q2": "newest 50 traces, summary shape",
    "Q3": "input MATCH unique needle token",
    "Q4": "input MATCH common term AND metadata.model, newest 50",
    "Q5": "input MATCH 3-word phrase",
    "Q6": "prompt_tokens > 1000 AND ttft < 0.3, newest 100",
    "Q7": "experiment vs base: scores, metrics, diffs, improvements/regressions",
    "Q8": "by hour x model: count, avg duration, sum tokens",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arbor-bin", required=True)
    ap.add_argument("--arbor-load", required=True)
    ap.add_argument("--work", required=True, help="scratch dir (data of every system)")
    ap.add_argument("--pg", required=True, help="PostgreSQL conninfo")
    ap.add_argument("--spans", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cases", type=int, default=10000, help="cases per experiment (Q7)")
    ap.add_argument("--q1-traces", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--query-budget-s", type=float, default=60,
                    help="stop a query's repetitions after this long (at least 3 reps)")
    ap.add_argument("--systems", default=" ".join(SYSTEMS))
    ap.add_argument("--queries", default=" ".join(QUERIES))
    ap.add_argument("--no-cold", action="store_true", help="skip the Arbor restart phase")
    ap.add_argument("--perf", default="", help="queries to profile in Arbor (perf record -g), e.g. 'Q2 Q4'")
    ap.add_argument("--arbor-args", default="")
    ap.add_argument("--json-out", default="")
    a = ap.parse_args()
    systems = a.systems.split()
    queries = a.queries.split()
    work = os.path.abspath(a.work)
    started = dt.datetime.now(dt.timezone.utc)
    m = machine()
    log(f"== Arbor query benchmark (Q1-Q8, S1, R1): {started:%Y-%m-%dT%H:%M:%SZ}")
    log(f"machine: {m['cores']} cores, {m['ram_gib']} GiB, {m['cpu']}, kernel {m['kernel']}; "
        f"sqlite {m['sqlite']}, duckdb {m['duckdb']}, clickhouse {m['clickhouse']} (chdb "
        f"{m['chdb']}), python {m['python']}")
    log(f"dataset: {a.spans} spans (rows={2 * a.spans}), seed={a.seed}, experiments 2 x {a.cases} cases")

    # -- Arbor: start, load the logs with arbor_load, then the experiments.
    key = "bench-" + os.urandom(8).hex()
    arbor = Arbor(a.arbor_bin, os.path.join(work, "arbor"), free_port(), key,
                  os.path.join(work, "arbor.log"), a.arbor_args.split())
    os.makedirs(arbor.data_dir, exist_ok=True)
    pg = None
    try:
        arbor.start()
        project = f"arbor-query-bench-{a.seed}"
        # The rows of the seeded workload, written once by arbor_load --dump (with a placeholder
        # project id), sent to Arbor by load_logs() and merged into the baselines below.
        dump = os.path.join(work, "logs.ndjson")
        t0 = time.time()
        out = subprocess.run([a.arbor_load, "--dump", dump, "--rows", str(2 * a.spans), "--seed",
                              str(a.seed), "--project-id", DUMP_PID], capture_output=True, text=True,
                             check=True)
        log("\n".join("  " + l for l in out.stdout.strip().splitlines()))
        dump_fp = re.search(r"fingerprint=([0-9a-f]+)", out.stdout).group(1)
        logs_json_bytes = os.path.getsize(dump) - (2 * a.spans)  # minus the newlines
        log(f"  generated in {time.time() - t0:.1f}s")
        pid = arbor.call("POST", "/api/project/register", {"project_name": project})["project"]["id"]
        t0 = time.time()
        stats = load_logs(arbor, dump, pid, connections=4, batch=100)
        log(f"  arbor: {stats['rows']} log rows loaded in {time.time() - t0:.1f}s "
            f"({stats['rows'] / (time.time() - t0):.0f} rows/s; {stats['retries']} batches retried "
            f"after 503/429 back-pressure)")
        pid = arbor.call("POST", "/api/project/register", {"project_name": project})["project"]["id"]
        exp_ids = {}
        exp_json_bytes = 0
        exps = {}
        for which, name in ((0, "base"), (1, "current")):
            body = {"project_id": pid, "experiment_name": name}
            if which:
                body["base_experiment"] = "base"
            exp_ids[name] = arbor.call("POST", "/api/experiment/register", body)["experiment"]["id"]
            exps[name] = exp_rows(a.seed, a.cases, which, 1735689600.0 + 86400 * 30 + which * 86400)
            rows = exps[name]
            for i in range(0, len(rows), 500):
                batch = [dict(r, experiment_id=exp_ids[name]) for r in rows[i:i + 500]]
                exp_json_bytes += sum(len(json.dumps(r, separators=(",", ":"))) for r in batch)
                arbor.call("POST", "/logs3", {"rows": batch, "api_version": 2})
        log(f"  arbor: experiments loaded ({len(exps['base'])} + {len(exps['current'])} spans)")

        pg = psycopg.connect(a.pg)
        pg.adapters.register_loader("jsonb", psycopg.types.string.TextLoader)
        pg.execute("SET TimeZone = 'UTC'")
        pg.commit()
        sq_path = os.path.join(work, "sqlite.db")
        sq = sqlite3.connect(sq_path)
        sq.execute("PRAGMA journal_mode = WAL")
        sq.execute("PRAGMA cache_size = -262144")  # 256 MiB, like Arbor's default block cache
        dk_path = os.path.join(work, "duck.db")
        dk = duckdb.connect(dk_path)
        dk.execute("SET threads = 2")
        dk.execute("SET TimeZone = 'UTC'")
        # ClickHouse in-process (chdb): a persistent session on its own data dir; its DB-API
        # cursor returns rows as tuples, as the other drivers do. 2 threads, as DuckDB.
        ch_path = os.path.join(work, "chdb")
        ch_conn = chdb.connect(ch_path)
        ch = ch_conn.cursor()
        ch.execute("SET max_threads = 2")
        ch.execute("SET session_timezone = 'UTC'")
        t0 = time.time()
        loader = Loader(pg, sq, dk, ch, os.path.join(work, "merged.ndjson"), systems)
        loader.begin()
        roots = {}
        needles = []
        word_count = {}
        for s in merged_spans(dump, P_LOGS):
            roots[s["root_span_id"]] = roots.get(s["root_span_id"], 0) + 1
            if not s.get("span_parents"):
                q = (s.get("input") or {}).get("query", "")
                mt = re.search(r"\b(needle\d+)\b", q)
                if mt:
                    needles.append(mt.group(1))
                if len(word_count) < 200000 and loader.n < 20000:
                    for w in re.findall(r"[a-z]{5,}", q):
                        word_count[w] = word_count.get(w, 0) + 1
            loader.add(s)
        for name in ("base", "current"):
            for r in exps[name]:
                loader.add(dict(r, object_id="experiment:" + name))
        loader.end()
        os.unlink(dump)
        log(f"  baselines loaded in {time.time() - t0:.1f}s ({loader.n} spans)")

        rng = random.Random(a.seed)
        root_list = sorted(roots.items())
        q1_roots = [root_list[rng.randrange(len(root_list))] for _ in range(a.q1_traces)]
        common = sorted(word_count.items(), key=lambda kv: (-kv[1], kv[0]))
        params = {"needle": needles[len(needles) // 2] if needles else "needle500", "word": common[3][0], "model": "gpt-4o",
                  "phrase": "quantum marmalade orbit"}
        log(f"  parameters: {params}; {len(needles)} needle traces; {len(roots)} traces")

        aq = arbor_queries(pid, exp_ids["current"], exp_ids["base"], params)
        sqls = {"postgres": sql_queries("pg", params), "sqlite": sql_queries("sqlite", params),
                "duckdb": sql_queries("duck", params), "clickhouse": sql_queries("ch", params)}
        conns = {"postgres": pg, "sqlite": sq, "duckdb": dk, "clickhouse": ch}
        pg_pid = pg.execute("SELECT pg_backend_pid()").fetchone()[0]
        pg.commit()
        pg.autocommit = True
        mem_pids = {"postgres": pg_pid, "sqlite": os.getpid(), "duckdb": os.getpid(),
                    "clickhouse": os.getpid()}

        sizes = {"logs_json_bytes": logs_json_bytes, "exp_json_bytes": exp_json_bytes}
        sizes["arbor_bytes"] = du(arbor.data_dir)
        if "postgres" in systems:
            sizes["postgres_bytes"] = pg.execute(
                "SELECT pg_total_relation_size('spans')").fetchone()[0]
        sq.commit()
        if "sqlite" in systems:
            sq.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes["sqlite_bytes"] = os.path.getsize(sq_path)
        if "duckdb" in systems:
            sizes["duckdb_bytes"] = os.path.getsize(dk_path)
        if "clickhouse" in systems:
            # The table's active parts (columns, marks, primary and text index): the parts that
            # OPTIMIZE replaced stay in the data dir until ClickHouse removes them (minutes later).
            ch.execute("SELECT sum(bytes_on_disk) FROM system.parts WHERE table = 'spans' AND active")
            sizes["clickhouse_bytes"] = int(ch.fetchall()[0][0])
            sizes["clickhouse_dir_bytes"] = du(ch_path)
        segs = [f for f in os.listdir(os.path.join(arbor.data_dir, "segments"))
                if f.endswith(".arbseg")] if os.path.isdir(os.path.join(arbor.data_dir, "segments")) else []
        log(f"  arbor data dir: {len(segs)} segments, WAL {du(os.path.join(arbor.data_dir, 'wal')) / 1e6:.1f} MB")

        runner = Runner(a, params)
        perf_q = set(a.perf.split())
        perf_files = {}

        def run_arbor(phase, qid):
            perf = None
            if qid in perf_q:
                perf = (arbor.pid, os.path.join(work, f"perf-{qid}-{phase}.data"))
                perf_files[f"{qid}/{phase}"] = perf[1]
            reps = a.q1_traces if qid == "Q1" else a.reps
            runner.run("arbor", phase, qid, arbor_fn(arbor, qid, aq[qid], q1_roots), reps, arbor.pid,
                       q1_roots if qid == "Q1" else None, perf)

        log("\n-- hot: right after ingest (Arbor: memtable + segments; every system's cache warm)")
        for qid in queries:
            for s in systems:
                if s == "arbor":
                    run_arbor("hot", qid)
                else:
                    reps = a.q1_traces if qid == "Q1" else a.reps
                    runner.run(s, "hot", qid, sql_fn(s, conns[s], qid, sqls[s][qid], q1_roots), reps,
                               mem_pids[s], q1_roots if qid == "Q1" else None)
        phases = ["hot"]
        restart_s = None
        if not a.no_cold and "arbor" in systems:
            log("\n-- restart: Arbor restarted (segments + WAL replay, empty block cache; OS page cache as is)")
            arbor.stop()
            restart_s = arbor.start()
            log(f"  arbor ready after {restart_s:.1f}s, RSS {rss_kb(arbor.pid, 'VmRSS') / 1024:.0f} MiB")
            for qid in queries:
                run_arbor("restart", qid)
            phases.append("restart")
        sizes["arbor_bytes_after_restart"] = du(arbor.data_dir)

        checks = compare_answers(runner, queries, systems, phases)
        profiles = {}
        for k, f in perf_files.items():
            rep = subprocess.run(["perf", "report", "-i", f, "--no-children", "--stdio",
                                  "--percent-limit", "1.5", "-g", "none", "--sort", "dso,symbol"],
                                 capture_output=True, text=True)
            profiles[k] = [re.sub(r"\s+", " ", l.strip())[:200] for l in rep.stdout.splitlines()
                           if l.strip() and not l.startswith("#")][:25]
    finally:
        arbor.stop()
        if pg is not None:
            pg.close()

    return report(a, m, started, sizes, runner, checks, queries, systems, phases, params, profiles,
                  restart_s, dump_fp, len(roots), stats)


def report(a, m, started, sizes, runner, checks, queries, systems, phases, params, profiles,
           restart_s, fingerprint, traces, load_stats):
    res = {(r["phase"], r["system"], r["query"]): r for r in runner.results}
    base_systems = [s for s in systems if s != "arbor"]
    log(f"\n== Results: {a.spans} spans ({traces} traces) + 2 x {a.cases}-case experiments, seed {a.seed}, "
        f"{m['cores']} cores / {m['ram_gib']} GiB; latencies in ms (p50 / p99)")
    log("   hot = right after ingest, caches warm; restart = Arbor restarted (first run = cold, "
        "then the same repetitions); ratio = baseline p50 / Arbor p50 (> 1: Arbor faster)")
    hdr = f"{'query':5} {'phase':8}" + "".join(f" {s:>19}" for s in systems) + "".join(
        f" {'vs ' + s:>13}" for s in base_systems) + "  check"
    log(hdr)
    for qid in queries:
        for phase in phases:
            if phase != "hot" and not res.get((phase, "arbor", qid)):
                continue
            line = f"{qid:5} {phase:8}"
            for s in systems:
                r = res.get((phase, s, qid)) or (res.get(("hot", s, qid)) if phase != "hot" and s != "arbor" else None)
                if r is None or (phase != "hot" and s != "arbor"):
                    line += f" {'':>19}"
                else:
                    line += f" {r['p50_ms']:8.2f} /{r['p99_ms']:9.2f}"
            ar = res.get((phase, "arbor", qid))
            for s in base_systems:
                r = res.get(("hot", s, qid))
                line += f" {(r['p50_ms'] / ar['p50_ms']) if r and ar else float('nan'):12.2f}x"
            if phase == "hot":
                line += "  " + ("same answer" if not checks[qid] else "MISMATCH")
            log(line)
        if res.get(("restart", "arbor", qid)):
            log(f"{'':5} {'(cold first run: ' + format(res[('restart', 'arbor', qid)]['first_ms'], '.2f') + ' ms)':>40}")
    for qid in queries:
        for n in checks[qid]:
            log(f"!! {qid} {n}")
    log("\nR1 peak RSS during each query's repetitions (MiB; VmHWM reset before the query; "
        "sqlite, duckdb and clickhouse run inside the Python driver):")
    log(f"{'query':5} {'phase':8}" + "".join(f" {s:>10}" for s in systems))
    for qid in queries:
        for phase in phases:
            if phase != "hot" and not res.get((phase, "arbor", qid)):
                continue
            line = f"{qid:5} {phase:8}"
            for s in systems:
                r = res.get((phase, s, qid))
                line += f" {r['peak_rss_mib']:10.0f}" if r and r["peak_rss_mib"] else f" {'':>10}"
            log(line)
    js = sizes["logs_json_bytes"] + sizes["exp_json_bytes"]
    log(f"\nS1 bytes on disk / JSON bytes ingested ({js / 1e6:.1f} MB of JSON rows):")
    for s in systems:
        b = sizes.get(f"{s}_bytes")
        if b:
            log(f"  {s:9} {b / 1e6:9.1f} MB  {b / js:.2f}")
    log("  (arbor: data dir incl. WAL, segments, catalog; postgres: table + TOAST + indexes; sqlite, duckdb: db file;\n"
        "   clickhouse: the table's active parts incl. primary and text index)")
    if restart_s is not None:
        log(f"  arbor restart to ready: {restart_s:.1f}s")
    for k, lines in profiles.items():
        log(f"\nperf profile of arbor during {k} (self time, dso + symbol, >= 1.5%):")
        for l in lines:
            log("  " + l)
    out = {"started": started.strftime("%Y-%m-%dT%H:%M:%SZ"), "machine": m, "spans": a.spans,
           "traces": traces, "cases": a.cases, "seed": a.seed, "fingerprint": fingerprint,
           "params": params, "queries": WHAT, "results": runner.results, "checks": checks,
           "sizes": sizes, "arbor_restart_s": restart_s, "arbor_load": load_stats, "profiles": profiles}
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(out, f, indent=1, default=str)
        log(f"\nwrote {a.json_out}")
    return 0 if not any(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
