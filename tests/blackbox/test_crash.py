"""Durability under SIGKILL and a damaged WAL tail.

Contract under test (architecture: "durable before acknowledged"; /logs3 is atomic):
- every row of a batch that got a 2xx is present after a crash, exactly once, with its exact content;
- a batch that got no 2xx is either entirely present or entirely absent;
- merges (_is_merge) applied to earlier rows survive too;
- a torn or garbage WAL tail does not stop the server from starting, and loses at most the final record.
"""
import collections
import json
import os
import random
import signal
import threading
import time
import uuid

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import TIMEOUT, auth, describe, keep_log, norm_created, read_all, register_objects

N_THREADS = 8
WRITE_SECONDS = 3.0
CYCLES = 3
MAX_BATCHES_PER_THREAD = 2000
START_TIMEOUT_S = 120

USER_FIELDS = ("input", "output", "expected", "error", "metadata", "scores", "metrics", "tags",
               "span_id", "root_span_id", "span_parents", "created")


def view(row):
    """The user-visible content of a row that the test compares exactly."""
    out = {}
    for k in USER_FIELDS:
        v = row.get(k)
        if v is None or v == [] or v == {}:
            continue
        out[k] = norm_created(v) if k == "created" else v
    return out


def deep_merge(base, patch):
    out = dict(base)
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


class Target:
    def __init__(self, source, oid):
        self.source, self.oid = source, oid

    def routing(self):
        if self.source == "experiment":
            return {"experiment_id": self.oid}
        return {"project_id": self.oid, "log_id": "g"}


class Batch:
    def __init__(self, label):
        self.label = label
        self.items = []  # (kind, key, sent_row, expect_applied_view, expect_unapplied_view|None)
        self.status = None
        self.error = None
        self.acked = False

    def body(self):
        return json.dumps({"rows": [it[2] for it in self.items], "api_version": 2})


def insert_row(rng, target, rid, tag):
    span = uuid.uuid4().hex[:16]
    root = uuid.uuid4().hex
    row = {
        "id": rid,
        **target.routing(),
        "span_id": span,
        "root_span_id": root,
        "created": "2026-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
            rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
            rng.randint(0, 59), rng.randint(0, 999)),
        "input": {"q": f"question {rid}", "n": rng.randint(-1000, 1000), "nested": {"list": [1, "two", None, True],
                                                                                      "u": "héllo ✓ 日本 😀"}},
        "output": f"answer \"{rid}\"\n\twith escapes \\ and unicode ✓",
        "metadata": {"writer": tag, "model": rng.choice(["gpt", "claude", "llama"])},
        "scores": {"acc": rng.choice([0, 0.25, 0.5, 1]), "f1": rng.choice([0.1, 0.3, None, 1])},
        "metrics": {"start": 1795813652.892 + rng.randint(0, 10_000), "end": 1795813700.5, "tokens": rng.randint(1, 999)},
        "tags": sorted(rng.sample(["a", "b", "c", "d"], rng.randint(1, 3))),
    }
    if rng.random() < 0.5:
        row["span_parents"] = [uuid.uuid4().hex[:16]]
    if rng.random() < 0.3:
        row["_is_merge"] = False
    if row["scores"]["f1"] is None:
        del row["scores"]["f1"]
    return row


def merge_patch(cycle, tag, n):
    return {
        "output": {"merged_in_cycle": cycle, "by": tag, "n": n},
        "metadata": {f"m{cycle}": {"by": tag, "mark": "✓"}},
        "scores": {f"merge_c{cycle}": 0.75},
    }


class Ctx:
    """One data dir, one experiment and one project's logs, and the model of what must be there."""

    def __init__(self, srv):
        self.srv = srv
        ids = register_objects(srv, srv.api_key, "crash-proj", "-crash")
        self.targets = [Target("experiment", ids["experiment_id"]), Target("project_logs", ids["project_id"])]
        self.model = {}  # (source, id) -> view

    def read_actual(self):
        actual, dups = {}, []
        for t in self.targets:
            for row in read_all(self.srv.url, self.srv.api_key, t.source, t.oid):
                k = (t.source, row.get("id"))
                if k in actual:
                    dups.append((k, actual[k], row))
                actual[k] = row
        return actual, dups


def run_writers(ctx, cycle, seconds, kill, until=None):
    """N threads posting /logs3 batches until the server is killed; returns every batch sent."""
    srv = ctx.srv
    stop = threading.Event()
    batches_by_thread = [[] for _ in range(N_THREADS)]
    # Merge targets (rows from earlier cycles), partitioned so no row is merged twice per cycle.
    targets = sorted(ctx.model)
    partitions = [collections.deque(targets[i::N_THREADS]) for i in range(N_THREADS)]
    by_source = {t.source: t for t in ctx.targets}

    def writer(ti):
        rng = random.Random(f"{cycle}-{ti}")
        sess = requests.Session()
        tag = f"c{cycle}t{ti}"
        for n in range(MAX_BATCHES_PER_THREAD):
            if stop.is_set():
                break
            b = Batch(f"{tag}b{n}")
            mode = n % 3
            nrows = rng.randint(1, 20)
            for i in range(nrows):
                if cycle > 1 and partitions[ti] and rng.random() < 0.5:
                    key = partitions[ti].popleft()
                    patch = merge_patch(cycle, tag, n)
                    row = {"id": key[1], **by_source[key[0]].routing(), "_is_merge": True, **patch}
                    base = ctx.model[key]
                    b.items.append(("merge", key, row, deep_merge(base, patch), base))
                    continue
                t = ctx.targets[0] if mode == 0 else ctx.targets[1] if mode == 1 else ctx.targets[i % 2]
                rid = f"{tag}-b{n}-r{i}-{uuid.uuid4().hex[:8]}"
                row = insert_row(rng, t, rid, tag)
                b.items.append(("insert", (t.source, rid), row, view(row), None))
            try:
                r = sess.post(srv.url + "/logs3", data=b.body(),
                              headers={**auth(srv.api_key), "Content-Type": "application/json"}, timeout=TIMEOUT)
                b.status = r.status_code
                b.acked = 200 <= r.status_code < 300
                if not b.acked:
                    b.error = r.text[:500]
            except requests.RequestException as e:
                b.error = repr(e)[:300]
            batches_by_thread[ti].append(b)

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(N_THREADS)]
    for th in threads:
        th.start()
    deadline = time.time() + seconds
    while time.time() < deadline and not (until and until()):
        time.sleep(0.05)
    if kill == "term":
        srv.proc.send_signal(signal.SIGTERM)  # graceful: in-flight writes must finish
        ctx.term_exit_code = srv.proc.wait(timeout=60)
    elif kill:
        srv.kill()
    stop.set()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "writer threads hung"
    return [b for bs in batches_by_thread for b in bs]


def verify(ctx, batches, what):
    """Checks the read-back state against the model and this round's batches; updates the model."""
    actual, dups = ctx.read_actual()
    problems = []
    for k, first, second in dups[:5]:
        problems.append(f"duplicate row {k}: returned twice:\n  {json.dumps(first)[:400]}\n  {json.dumps(second)[:400]}")
    if dups:
        problems.append(f"{len(dups)} duplicate rows in total")
    touched = set()
    applied_batches = []
    for b in batches:
        states = []
        for kind, key, sent, applied, unapplied in b.items:
            touched.add(key)
            got = actual.get(key)
            gv = view(got) if got is not None else None
            if kind == "insert":
                if gv is None:
                    states.append("absent")
                elif gv == applied:
                    states.append("applied")
                else:
                    states.append("corrupt")
                    problems.append(f"batch {b.label} (status {b.status}) row {key}: content differs\n"
                                    f"  sent: {json.dumps(sent, sort_keys=True)[:600]}\n"
                                    f"  read: {json.dumps(got, sort_keys=True)[:600]}")
            else:
                if gv == applied:
                    states.append("applied")
                elif gv == unapplied:
                    states.append("absent")
                else:
                    states.append("corrupt")
                    problems.append(f"batch {b.label} (status {b.status}) merge into {key}: row is neither the "
                                    f"pre-merge nor the merged version\n"
                                    f"  merge row: {json.dumps(sent, sort_keys=True)[:400]}\n"
                                    f"  expected merged: {json.dumps(applied, sort_keys=True, default=str)[:600]}\n"
                                    f"  read: {json.dumps(got, sort_keys=True)[:600]}")
        count = collections.Counter(states)
        if b.acked and set(count) != {"applied"}:
            problems.append(f"ACKED batch {b.label} (status {b.status}, {len(b.items)} rows) lost rows: {dict(count)}")
        if not b.acked and "applied" in count and "absent" in count:
            problems.append(f"unacknowledged batch {b.label} ({b.error or b.status}) is PARTIALLY present: "
                            f"{dict(count)}")
        if set(count) == {"applied"}:
            applied_batches.append(b)
    # Rows from earlier rounds that this round did not touch must be unchanged.
    for key, want in ctx.model.items():
        if key in touched:
            continue
        got = actual.get(key)
        if got is None:
            problems.append(f"row {key} from an earlier round is gone")
        elif view(got) != want:
            problems.append(f"row {key} from an earlier round changed\n"
                            f"  expected: {json.dumps(want, sort_keys=True, default=str)[:600]}\n"
                            f"  read:     {json.dumps(got, sort_keys=True)[:600]}")
    phantoms = [k for k in actual if k not in ctx.model and k not in touched]
    if phantoms:
        problems.append(f"{len(phantoms)} rows that no batch wrote (or resurrected from a batch already "
                        f"seen absent): {phantoms[:5]}")
    assert not problems, f"{what}: {len(problems)} problems\n" + "\n".join(problems[:40])
    for b in applied_batches:
        for kind, key, sent, applied, unapplied in b.items:
            ctx.model[key] = applied
    return actual


def summarize(batches):
    c = collections.Counter("acked" if b.acked else (f"status {b.status}" if b.status else "no response")
                            for b in batches)
    return dict(c)


def segment_count(data_dir):
    path = os.path.join(data_dir, "segments", "MANIFEST.json")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(json.load(f)["segments"])


# memtable_mb=1: the server flushes to a segment every MiB of WAL, so the kills land before,
# during and after flushes, and later cycles read and merge rows that live in segments.
@pytest.mark.parametrize("memtable_mb", [None, 1])
def test_sigkill_during_ingest_loses_no_acked_row(memtable_mb):
    extra = ["--memtable-mb", str(memtable_mb)] if memtable_mb else []
    srv = ArborServer(org_name="crash-org", extra_args=extra)
    try:
        srv.start(timeout_s=START_TIMEOUT_S)
        ctx = Ctx(srv)
        for cycle in range(1, CYCLES + 1):
            batches = run_writers(ctx, cycle, WRITE_SECONDS, kill=True)
            acked = [b for b in batches if b.acked]
            rejected = [b for b in batches if b.status is not None and not b.acked]
            assert acked, f"cycle {cycle}: no batch was acknowledged in {WRITE_SECONDS}s: {summarize(batches)}"
            # 4xx means the test's own rows were refused: the crash check would be vacuous.
            bad = [b for b in rejected if 400 <= b.status < 500]
            assert not bad, (f"cycle {cycle}: valid batches refused: " +
                             "; ".join(f"{b.label}: {b.status} {b.error}" for b in bad[:5]))
            if cycle > 1:
                merges_acked = sum(1 for b in acked for it in b.items if it[0] == "merge")
                assert merges_acked, f"cycle {cycle}: no merge row was acknowledged"
            srv.start(timeout_s=START_TIMEOUT_S)
            verify(ctx, batches, f"cycle {cycle} after SIGKILL + restart ({summarize(batches)})")
            print(f"cycle {cycle}: batches {summarize(batches)}; rows now {len(ctx.model)}")
        # Finally a clean stop/start keeps everything too.
        srv.stop()
        srv.start(timeout_s=START_TIMEOUT_S)
        verify(ctx, [], "after a final clean restart")
        if memtable_mb:
            assert segment_count(srv.data_dir) > 0, "no flush happened: the test proved nothing"
    finally:
        srv.kill()
        keep_log(srv, f"crash_sigkill_{memtable_mb or 'default'}")
        srv.cleanup()


# The crash points of a flush (after the segment file is durable but before the manifest
# names it; after the manifest but before the old WAL files are deleted) and of a compaction
# (after the merged segment is durable; after the manifest swap, before the inputs are deleted).
@pytest.mark.parametrize("point", ["flush-segment-written", "flush-manifest-written",
                                   "compact-segment-written", "compact-manifest-written"])
def test_crash_inside_a_flush_or_compaction_loses_and_duplicates_nothing(point):
    srv = ArborServer(org_name="flush-crash-org",
                      extra_args=["--memtable-mb", "1", "--compaction-inputs-min", "2"],
                      env={"ARBOR_CRASH_AT": point})
    try:
        srv.start(timeout_s=START_TIMEOUT_S)
        ctx = Ctx(srv)
        batches = run_writers(ctx, 1, 40.0, kill=False, until=lambda: srv.proc.poll() is not None)
        code = srv.proc.wait(timeout=60)
        assert code == 86, f"the server did not stop at {point} (exit {code})"
        assert any(b.acked for b in batches), summarize(batches)
        srv.env = {}
        srv.start(timeout_s=START_TIMEOUT_S)
        verify(ctx, batches, f"after a crash at {point} ({summarize(batches)})")
        # The next cycle merges into the recovered rows and flushes for real.
        batches = run_writers(ctx, 2, 3.0, kill=True)
        srv.start(timeout_s=START_TIMEOUT_S)
        verify(ctx, batches, f"cycle 2 after a crash at {point}")
        assert segment_count(srv.data_dir) > 0
    finally:
        srv.kill()
        keep_log(srv, f"crash_{point}")
        srv.cleanup()


def test_sigterm_during_ingest_finishes_in_flight_writes():
    srv = ArborServer(org_name="term-org")
    try:
        srv.start(timeout_s=START_TIMEOUT_S)
        ctx = Ctx(srv)
        batches = run_writers(ctx, 1, WRITE_SECONDS, kill="term")
        assert ctx.term_exit_code == 0, f"arbor exited with {ctx.term_exit_code} on SIGTERM"
        assert any(b.acked for b in batches), summarize(batches)
        # Requests that arrived after the signal get a clear 503 or a refused connection.
        refused = [b for b in batches if b.status is not None and not b.acked]
        assert all(b.status == 503 for b in refused), [(b.status, b.error) for b in refused[:5]]
        srv.start(timeout_s=START_TIMEOUT_S)
        verify(ctx, batches, f"after SIGTERM + restart ({summarize(batches)})")
    finally:
        srv.kill()
        keep_log(srv, "crash_sigterm")
        srv.cleanup()


# ---------------------------------------------------------------------------------------------
# Torn / damaged WAL tail

def wal_files(data_dir):
    root = os.path.join(data_dir, "wal")
    out = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            if os.path.isfile(p):
                st = os.stat(p)
                out.append((st.st_mtime_ns, p, st.st_size))
    out.sort()
    return root, out


def tree(data_dir):
    lines = []
    for dirpath, _, names in os.walk(data_dir):
        for n in names:
            p = os.path.join(dirpath, n)
            lines.append(f"{os.path.relpath(p, data_dir)} {os.path.getsize(p)}")
    return "\n".join(sorted(lines))


DAMAGES = ["append_random_garbage", "append_zeros", "append_ff", "truncate_tail_5", "truncate_tail_1",
           "flip_byte_near_end"]


def damage_wal(data_dir, how):
    root, files = wal_files(data_dir)
    assert os.path.isdir(root), f"no WAL directory {root}; data dir holds:\n{tree(data_dir)}"
    nonempty = [f for f in files if f[2] > 0]
    if not nonempty:
        return None
    if how.startswith("append"):
        path = files[-1][1]
        data = {"append_random_garbage": random.Random(7).randbytes(137),
                "append_zeros": b"\0" * 4096,
                "append_ff": b"\xff" * 64}[how]
        with open(path, "ab") as f:
            f.write(data)
        return f"appended {len(data)} bytes ({how}) to {path}"
    path, size = nonempty[-1][1], nonempty[-1][2]
    if how.startswith("truncate"):
        cut = int(how.rsplit("_", 1)[1])
        os.truncate(path, size - cut)
        return f"truncated {cut} bytes of {path} (was {size})"
    with open(path, "r+b") as f:
        f.seek(size - 10)
        b = f.read(1)
        f.seek(size - 10)
        f.write(bytes([b[0] ^ 0x5A]))
    return f"flipped byte {size - 10} of {path} (size {size})"


def post_batch(srv, ctx, rng, label, nrows, big=False):
    b = Batch(label)
    for i in range(nrows):
        t = ctx.targets[i % 2]
        rid = f"{label}-r{i}-{uuid.uuid4().hex[:8]}"
        row = insert_row(rng, t, rid, label)
        if big:
            row["input"]["blob"] = "x" * 4096
        b.items.append(("insert", (t.source, rid), row, view(row), None))
    r = requests.post(srv.url + "/logs3", data=b.body(),
                      headers={**auth(srv.api_key), "Content-Type": "application/json"}, timeout=TIMEOUT)
    assert r.status_code == 200, describe(r)
    b.status, b.acked = r.status_code, True
    return b


@pytest.mark.parametrize("stop_mode", ["clean", "sigkill"])
@pytest.mark.parametrize("how", DAMAGES)
def test_damaged_wal_tail(how, stop_mode):
    srv = ArborServer(org_name="torn-org")
    try:
        srv.start(timeout_s=START_TIMEOUT_S)
        ctx = Ctx(srv)
        rng = random.Random(how)
        batches = [post_batch(srv, ctx, rng, f"pre{n}", 3) for n in range(10)]
        # A merge into an earlier row, then the final (big) record.
        k = batches[0].items[0][1]
        patch = merge_patch(1, "torn", 0)
        mb = Batch("merge")
        row = {"id": k[1], **ctx.targets[0 if k[0] == "experiment" else 1].routing(), "_is_merge": True, **patch}
        mb.items.append(("merge", k, row, deep_merge(batches[0].items[0][3], patch), batches[0].items[0][3]))
        r = requests.post(srv.url + "/logs3", data=mb.body(), headers=auth(srv.api_key), timeout=TIMEOUT)
        assert r.status_code == 200, describe(r)
        mb.status, mb.acked = 200, True
        last = post_batch(srv, ctx, rng, "last", 4, big=True)
        if stop_mode == "clean":
            srv.stop()
        else:
            srv.kill()
        did = damage_wal(srv.data_dir, how)
        assert did is not None, (f"no non-empty WAL file after {stop_mode} stop; "
                                 f"data dir:\n{tree(srv.data_dir)}")
        try:
            srv.start(timeout_s=START_TIMEOUT_S)
        except RuntimeError as e:
            raise AssertionError(f"server did not start after the WAL was damaged ({did}): {e}\n"
                                 f"log tail:\n{open(srv.log_path, errors='replace').read()[-3000:]}")
        # Everything before the final record must be intact; the final batch is all-or-nothing,
        # and must be fully intact when only bytes after it were touched.
        for b in batches:
            for kind, key, sent, applied, _ in b.items:
                ctx.model[key] = applied
        # The merge is intact only if it is not the final record: the last batch is after it.
        ctx.model[mb.items[0][1]] = mb.items[0][3]
        last.acked = how.startswith("append")
        verify(ctx, [last], f"restart after {stop_mode} stop and WAL damage: {did}")
        kept = all(it[1] in ctx.model for it in last.items)
        print(f"{did}: final batch {'kept' if kept else 'dropped whole'}")
        # The server keeps working, and what it writes now survives another crash.
        after = post_batch(srv, ctx, rng, "after", 3)
        srv.kill()
        srv.start(timeout_s=START_TIMEOUT_S)
        verify(ctx, [after], f"SIGKILL + restart after writing past a repaired WAL tail ({did})")
    finally:
        srv.kill()
        keep_log(srv, f"torn_{how}_{stop_mode}")
        srv.cleanup()
