#!/usr/bin/env python3
"""OTLP ingest benchmark: Arbor /otel/v1/traces, Arbor /logs3 and Arize Phoenix, one run.

One deterministic set of spans (traces of 10 spans with GenAI attributes) is encoded once as
OTLP ExportTraceServiceRequest protobuf batches and once as Braintrust /logs3 rows (the same
ids, trace structure, input, output and metadata). Each system is started fresh on loopback,
gets the whole stream over C keep-alive connections, and is polled until every span is
queryable; then one-trace loads and newest-50-trace listings are timed (medians).
bench/otlp/run.sh sets up the venvs and calls this; see bench/README.md.
"""
import argparse
import gzip
import hashlib
import http.client
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

BASE_NS = 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z: fixed, so the dataset is deterministic
PROJECT = "bench-otlp"
MODELS = ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "claude-sonnet-4-5", "o3-mini"]
TOOLS = ["search_docs", "get_weather", "run_sql", "fetch_url", "calculator"]


# ------------------------------------------------------------------ dataset
class Text:
    """Deterministic pseudo-English: a Zipf-ish vocabulary of synthetic words."""

    def __init__(self, rng):
        syll = ["ka", "lo", "mi", "ren", "sta", "vo", "qui", "der", "an", "tor", "el", "bri",
                "su", "pha", "nex", "ol", "ti", "gra", "um", "zen"]
        self.words = ["".join(rng.choice(syll) for _ in range(rng.randint(1, 4)))
                      for _ in range(4000)]
        self.cum = list(itertools.accumulate(1.0 / (i + 1) ** 1.05 for i in range(len(self.words))))
        self.rng = rng

    def make(self, nbytes):
        # ~6.5 bytes per word with its space; a few extra words, then cut to size.
        words = self.rng.choices(self.words, cum_weights=self.cum, k=nbytes // 6 + 4)
        for i in range(12, len(words), 12 + self.rng.randrange(12)):
            words[i] += "." if i % 3 else ".\n"
        return " ".join(words)[:nbytes]


def hexid(rng, nbytes):
    return "%0*x" % (nbytes * 2, rng.getrandbits(nbytes * 8) or 1)


def generate(n_spans, seed):
    """Spans as plain dicts: ids, parent, name, type, times, OTLP attributes, and the row fields
    (input, output, metadata, metrics) that the same span has as a Braintrust row."""
    rng = random.Random(seed)
    text = Text(rng)
    spans = []
    trace_no = 0
    while len(spans) < n_spans:
        trace_id = hexid(rng, 16)
        t0 = BASE_NS + trace_no * 2 * 10**9
        root_id = hexid(rng, 8)
        question = text.make(rng.randint(300, 1200))
        answer = text.make(rng.randint(400, 1500))
        user = "user-%d" % rng.randint(1, 500)
        session = "session-%d" % rng.randint(1, 3000)
        root = {
            "trace_id": trace_id, "span_id": root_id, "parent": None, "name": "agent.run",
            "type": "task", "start": t0, "end": t0 + 1_900_000_000,
            "input": question, "output": answer,
            "metadata": {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helpdesk",
                         "user.id": user, "session.id": session},
            "attrs": {"openinference.span.kind": "AGENT", "input.value": question,
                      "output.value": answer, "gen_ai.operation.name": "invoke_agent",
                      "gen_ai.agent.name": "helpdesk", "user.id": user, "session.id": session},
            "metrics": {},
        }
        spans.append(root)
        # 6 llm calls and 3 tool calls under the root, in time order.
        kinds = ["llm", "tool", "llm", "tool", "llm", "llm", "tool", "llm", "llm"]
        t = t0 + 10_000_000
        system = "You are a helpful support agent. " + text.make(rng.randint(200, 600))
        for i, kind in enumerate(kinds):
            sid = hexid(rng, 8)
            dur = rng.randint(50, 180) * 1_000_000
            if kind == "llm":
                model = rng.choice(MODELS)
                user_msg = text.make(rng.randint(300, 1500))
                reply = text.make(rng.randint(200, 1200))
                in_tok, out_tok = len(system + user_msg) // 4, len(reply) // 4
                in_parts = [
                    {"role": "system", "parts": [{"type": "text", "content": system}]},
                    {"role": "user", "parts": [{"type": "text", "content": user_msg}]},
                ]
                out_parts = [{"role": "assistant", "parts": [{"type": "text", "content": reply}],
                              "finish_reason": "stop"}]
                resp_id = "chatcmpl-" + hexid(rng, 6)
                attrs = {
                    "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": model, "gen_ai.response.model": model,
                    "gen_ai.request.temperature": 0.2, "gen_ai.response.id": resp_id,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.usage.input_tokens": in_tok, "gen_ai.usage.output_tokens": out_tok,
                    "gen_ai.input.messages": json.dumps(in_parts),
                    "gen_ai.output.messages": json.dumps(out_parts),
                }
                spans.append({
                    "trace_id": trace_id, "span_id": sid, "parent": root_id,
                    "name": "chat " + model, "type": "llm", "start": t, "end": t + dur,
                    "input": [{"role": "system", "content": system},
                              {"role": "user", "content": user_msg}],
                    "output": [{"role": "assistant", "content": reply}],
                    "metadata": {"model": model, "gen_ai.operation.name": "chat",
                                 "gen_ai.provider.name": "openai",
                                 "gen_ai.request.temperature": 0.2, "gen_ai.response.id": resp_id,
                                 "gen_ai.response.finish_reasons": ["stop"]},
                    "metrics": {"prompt_tokens": in_tok, "completion_tokens": out_tok,
                                "tokens": in_tok + out_tok},
                    "attrs": attrs,
                })
            else:
                tool = rng.choice(TOOLS)
                args = json.dumps({"query": text.make(rng.randint(40, 200)), "limit": 5})
                result = text.make(rng.randint(600, 2500))
                spans.append({
                    "trace_id": trace_id, "span_id": sid, "parent": root_id,
                    "name": "execute_tool " + tool, "type": "tool", "start": t, "end": t + dur,
                    "input": args, "output": result,
                    "metadata": {"gen_ai.operation.name": "execute_tool",
                                 "gen_ai.tool.name": tool},
                    "metrics": {},
                    "attrs": {"openinference.span.kind": "TOOL", "input.value": args,
                              "output.value": result, "gen_ai.operation.name": "execute_tool",
                              "gen_ai.tool.name": tool, "tool.name": tool},
                })
            t += dur + 5_000_000
        trace_no += 1
    return spans[:n_spans]


def any_value(v):
    if isinstance(v, bool):
        return common_pb2.AnyValue(bool_value=v)
    if isinstance(v, int):
        return common_pb2.AnyValue(int_value=v)
    if isinstance(v, float):
        return common_pb2.AnyValue(double_value=v)
    if isinstance(v, list):
        return common_pb2.AnyValue(array_value=common_pb2.ArrayValue(values=[any_value(x) for x in v]))
    return common_pb2.AnyValue(string_value=str(v))


def encode_otlp(spans, batch):
    resource = resource_pb2.Resource(attributes=[
        common_pb2.KeyValue(key="service.name", value=any_value("helpdesk-agent")),
        common_pb2.KeyValue(key="openinference.project.name", value=any_value(PROJECT)),
    ])
    scope = common_pb2.InstrumentationScope(name="bench.otlp", version="1")
    out = []
    for i in range(0, len(spans), batch):
        pb = []
        for s in spans[i:i + batch]:
            pb.append(trace_pb2.Span(
                trace_id=bytes.fromhex(s["trace_id"]), span_id=bytes.fromhex(s["span_id"]),
                parent_span_id=bytes.fromhex(s["parent"]) if s["parent"] else b"",
                name=s["name"],
                kind=trace_pb2.Span.SPAN_KIND_CLIENT if s["type"] == "llm" else trace_pb2.Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=s["start"], end_time_unix_nano=s["end"],
                attributes=[common_pb2.KeyValue(key=k, value=any_value(v)) for k, v in s["attrs"].items()],
                status=trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_OK)))
        req = trace_service_pb2.ExportTraceServiceRequest(resource_spans=[
            trace_pb2.ResourceSpans(resource=resource, scope_spans=[
                trace_pb2.ScopeSpans(scope=scope, spans=pb)])])
        out.append(req.SerializeToString())
    return out


def encode_logs3(spans, batch, project_id):
    out = []
    for i in range(0, len(spans), batch):
        rows = []
        for s in spans[i:i + batch]:
            rows.append({
                "id": s["span_id"], "span_id": s["span_id"], "root_span_id": s["trace_id"],
                **({"span_parents": [s["parent"]]} if s["parent"] else {}),
                "project_id": project_id, "log_id": "g",
                "span_attributes": {"name": s["name"], "type": s["type"]},
                "input": s["input"], "output": s["output"], "metadata": s["metadata"],
                "metrics": {"start": s["start"] / 1e9, "end": s["end"] / 1e9, **s["metrics"]},
                "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s["start"] // 10**9)) + "Z",
            })
        out.append(json.dumps({"rows": rows, "api_version": 2}).encode())
    return out


# ------------------------------------------------------------------ HTTP
class Client:
    def __init__(self, port, headers=None):
        self.port = port
        self.headers = headers or {}
        self.conn = None

    def request(self, method, path, body=None, headers=None, timeout=120):
        h = dict(self.headers)
        h.update(headers or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data
            except (ConnectionError, http.client.HTTPException, socket.timeout):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, method, path, obj, headers=None):
        st, data = self.request(method, path, json.dumps(obj).encode(),
                                {"Content-Type": "application/json", **(headers or {})})
        if st >= 300:
            raise RuntimeError("%s %s -> %d %s" % (method, path, st, data[:300]))
        return json.loads(data)


def post_all(port, path, bodies, content_type, headers, conns):
    """Sends every body over `conns` keep-alive connections (shared counter); returns
    (seconds from the first send to the last acknowledgement, per-request latencies)."""
    lock = threading.Lock()
    nxt = [0]
    lat = []
    errors = []

    def worker():
        c = Client(port, {"Content-Type": content_type, **headers})
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(bodies):
                return
            t = time.perf_counter()
            try:
                st, data = c.request("POST", path, bodies[i])
            except Exception as e:  # noqa: BLE001 - a failed request is reported, not retried
                errors.append(repr(e))
                continue
            dt = time.perf_counter() - t
            with lock:
                lat.append(dt)
            if st >= 300:
                errors.append("HTTP %d: %s" % (st, data[:200]))
            elif b"rejected" in data[:2000].lower() and b'"rejectedSpans":0' not in data:
                errors.append("partial success: %s" % data[:200])

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t0, lat, errors, t0


def wait_visible(count_fn, want, t0, timeout, interval):
    """Polls count_fn() until it reaches `want`; returns seconds since t0 (None on timeout)."""
    deadline = time.perf_counter() + timeout
    last = -1
    while time.perf_counter() < deadline:
        try:
            last = count_fn()
        except Exception as e:  # noqa: BLE001 - a server busy ingesting may refuse a poll
            last = repr(e)
        if isinstance(last, int) and last >= want:
            return time.perf_counter() - t0, last
        time.sleep(interval)
    return None, last


def median_ms(fn, args_list):
    times = []
    for a in args_list:
        t = time.perf_counter()
        fn(a)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), times


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path, proc, log, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited (%s); log tail:\n%s" % (proc.returncode, tail(log)))
        try:
            st, _ = Client(port).request("GET", path, timeout=2)
            if st < 500:
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError("server not ready after %ds; log tail:\n%s" % (timeout, tail(log)))


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def proc_stats(pid):
    """CPU seconds and peak RSS (MiB) of a process and its children still alive."""
    hz = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                             text=True).stdout
        pids += [int(x) for x in out.split()]
    except OSError:
        pass
    cpu, rss = 0.0, 0.0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / hz
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmHWM"):
                        rss += int(line.split()[1]) / 1024
        except OSError:
            pass
    return cpu, rss


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ systems
class Arbor:
    poll_interval = 0.02  # seconds between count polls: Arbor's write is visible at once
    def __init__(self, binary, scratch, name):
        self.dir = os.path.join(scratch, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.key = "bench-" + os.urandom(8).hex()
        self.log = self.dir + ".log"
        env = dict(os.environ, ARBOR_BOOTSTRAP_API_KEY=self.key)
        self.proc = subprocess.Popen(
            [binary, "serve", "--data-dir", self.dir, "--listen", "127.0.0.1:%d" % self.port,
             "--org-name", "bench", "--otlp-grpc-listen", "off"],
            env=env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        wait_http(self.port, "/readyz", self.proc, self.log)
        self.auth = {"Authorization": "Bearer " + self.key}
        self.c = Client(self.port, self.auth)
        self.project_id = self.c.json("POST", "/api/project/register",
                                      {"project_name": PROJECT})["project"]["id"]

    def btql(self, query):
        return self.c.json("POST", "/btql", {"query": query, "fmt": "json"})["data"]

    def count(self):
        rows = self.btql("from: project_logs('%s') | measures: count(1) AS n" % self.project_id)
        return int(rows[0]["n"]) if rows else 0

    def load_trace(self, trace_id):
        rows = self.btql("from: project_logs('%s') | filter: root_span_id = '%s' | limit: 10000"
                         % (self.project_id, trace_id))
        return rows

    def list_traces(self, _):
        return self.btql("from: project_logs('%s') spans | filter: (is_root) | sort: _xact_id desc"
                         " | limit: 50" % self.project_id)


class Phoenix:
    # Phoenix inserts spans from a queue in the background for many seconds; a GraphQL count
    # every 20 ms would take CPU from that insert.
    poll_interval = 0.25
    def __init__(self, python, scratch):
        self.dir = os.path.join(scratch, "phoenix")
        os.makedirs(self.dir)
        self.port = free_port()
        self.log = self.dir + ".log"
        env = dict(os.environ, PHOENIX_WORKING_DIR=self.dir, PHOENIX_HOST="127.0.0.1",
                   PHOENIX_PORT=str(self.port), PHOENIX_GRPC_PORT=str(free_port()),
                   PHOENIX_TELEMETRY_ENABLED="false", DO_NOT_TRACK="1")
        self.proc = subprocess.Popen([python, "-m", "phoenix.server.main", "serve"], env=env,
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        wait_http(self.port, "/healthz", self.proc, self.log)
        self.c = Client(self.port)
        self.project_gid = None

    def gql(self, query, variables=None):
        out = self.c.json("POST", "/graphql", {"query": query, "variables": variables or {}})
        if out.get("errors"):
            raise RuntimeError("graphql: %s" % out["errors"])
        return out["data"]

    def project(self):
        if self.project_gid is None:
            data = self.gql("{ projects { edges { node { id name } } } }")
            for e in data["projects"]["edges"]:
                if e["node"]["name"] == PROJECT:
                    self.project_gid = e["node"]["id"]
        return self.project_gid

    def count(self):
        gid = self.project()
        if gid is None:
            return 0
        data = self.gql("query($id: ID!) { node(id: $id) { ... on Project { recordCount } } }",
                        {"id": gid})
        return int(data["node"]["recordCount"])

    # One trace: every span with its attributes, input and output, from the REST API
    # (GET /v1/projects/{project}/spans?trace_id=...), as Arbor's BTQL returns whole rows.
    def load_trace(self, trace_id):
        q = urllib.parse.urlencode({"trace_id": trace_id, "limit": 1000})
        st, data = self.c.request("GET", "/v1/projects/%s/spans?%s" % (PROJECT, q))
        if st != 200:
            raise RuntimeError("phoenix spans -> %d %s" % (st, data[:300]))
        return json.loads(data)["data"]

    # The newest 50 traces as Phoenix's traces table shows them: root spans, newest first,
    # with input, output, latency and tokens (GraphQL, as the UI asks).
    LIST_Q = """query($id: ID!) { node(id: $id) { ... on Project {
      spans(first: 50, filterCondition: "parent_id is None",
            sort: {col: startTime, dir: desc}) { edges { node {
        id spanId name spanKind statusCode startTime endTime latencyMs tokenCountTotal
        input { value } output { value } } } } } } }"""

    def list_traces(self, _):
        data = self.gql(self.LIST_Q, {"id": self.project()})
        return data["node"]["spans"]["edges"]


# ------------------------------------------------------------------ run
def measure(label, system, port, path, bodies, ctype, headers, n, args, traces, result):
    print("-- %s: %d requests, %d spans, %d connections" % (label, len(bodies), n, args.connections),
          flush=True)
    cpu0, _ = proc_stats(system.proc.pid)
    wall, lat, errors, t0 = post_all(port, path, bodies, ctype, headers, args.connections)
    vis, seen = wait_visible(system.count, n, t0, args.visibility_timeout, system.poll_interval)
    cpu1, rss = proc_stats(system.proc.pid)
    r = {
        "requests": len(bodies), "spans": n, "errors": len(errors), "first_errors": errors[:3],
        "ack_seconds": round(wall, 3), "spans_per_s": round(n / wall, 1),
        "mb_per_s": round(sum(len(b) for b in bodies) / wall / 1e6, 2),
        "ack_p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
        "ack_p99_ms": round(sorted(lat)[int(0.99 * (len(lat) - 1))] * 1000, 1) if lat else None,
        "visible_seconds": round(vis, 3) if vis is not None else None,
        "visible_after_ack_seconds": round(vis - wall, 3) if vis is not None else None,
        "spans_visible": seen, "server_cpu_s": round(cpu1 - cpu0, 1),
        "server_peak_rss_mib": round(rss),
    }
    if errors:
        print("   !! %d errors, first: %s" % (len(errors), errors[0]), flush=True)
    if vis is None:
        print("   !! not all spans visible after %ds (saw %s)" % (args.visibility_timeout, seen))
    # Queries: one trace (all its spans) and the newest 50 traces, medians over reps.
    if vis is not None and traces:
        rng = random.Random(args.seed + 1)
        picks = [rng.choice(traces) for _ in range(args.reps)]
        got = system.load_trace(picks[0])  # warm-up, and a check that the whole trace comes back
        r["trace_spans_returned"] = len(got)
        r["load_trace_ms"], times = median_ms(system.load_trace, picks)
        r["load_trace_ms"] = round(r["load_trace_ms"], 2)
        r["load_trace_p90_ms"] = round(sorted(times)[int(0.9 * (len(times) - 1))], 2)
        listed = system.list_traces(None)
        r["list_returned"] = len(listed)
        r["list_50_ms"], times = median_ms(system.list_traces, range(args.reps))
        r["list_50_ms"] = round(r["list_50_ms"], 2)
        r["list_50_p90_ms"] = round(sorted(times)[int(0.9 * (len(times) - 1))], 2)
    result[label] = r
    print("   " + json.dumps(r), flush=True)


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1048576
    return {"cores": os.cpu_count(), "ram_gib": round(mem, 1), "cpu": model,
            "kernel": os.uname().release}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arbor-bin", required=True)
    ap.add_argument("--phoenix-python", default="")
    ap.add_argument("--spans", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--visibility-timeout", type=int, default=1800)
    ap.add_argument("--systems", default="arbor-otlp arbor-logs3 phoenix")
    ap.add_argument("--scratch", default=tempfile.gettempdir())
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json-out", default="")
    args = ap.parse_args()
    systems = args.systems.split()

    t = time.perf_counter()
    spans = generate(args.spans, args.seed)
    otlp = encode_otlp(spans, args.batch)
    fp = hashlib.sha256(b"".join(otlp)).hexdigest()[:16]
    traces = sorted({s["trace_id"] for s in spans})
    content = sum(len(json.dumps(s["input"])) + len(json.dumps(s["output"])) for s in spans)
    dataset = {"spans": len(spans), "traces": len(traces), "batch": args.batch,
               "otlp_requests": len(otlp), "otlp_bytes": sum(map(len, otlp)),
               "otlp_fingerprint": fp, "input_output_bytes_per_span": round(content / len(spans)),
               "seed": args.seed}
    print("== OTLP benchmark %s" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    print("machine: %s" % json.dumps(machine()))
    print("dataset: %s (generated in %.1fs)" % (json.dumps(dataset), time.perf_counter() - t),
          flush=True)

    scratch = tempfile.mkdtemp(prefix="arbor-otlp-bench.", dir=args.scratch)
    result = {}
    try:
        if "arbor-otlp" in systems:
            a = Arbor(args.arbor_bin, scratch, "arbor-otlp")
            try:
                measure("arbor-otlp", a, a.port, "/otel/v1/traces", otlp, "application/x-protobuf",
                        {**a.auth, "x-bt-parent": "project_id:" + a.project_id}, len(spans), args,
                        traces, result)
            finally:
                stop(a.proc)
            result["arbor-otlp"]["disk_bytes"] = du(a.dir)
        if "arbor-logs3" in systems:
            a = Arbor(args.arbor_bin, scratch, "arbor-logs3")
            try:
                rows = encode_logs3(spans, args.batch, a.project_id)
                dataset["logs3_bytes"] = sum(map(len, rows))
                measure("arbor-logs3", a, a.port, "/logs3", rows, "application/json", a.auth,
                        len(spans), args, traces, result)
            finally:
                stop(a.proc)
            result["arbor-logs3"]["disk_bytes"] = du(a.dir)
        if "phoenix" in systems:
            if not args.phoenix_python:
                raise SystemExit("--phoenix-python is required for the phoenix system")
            p = Phoenix(args.phoenix_python, scratch)
            try:
                measure("phoenix", p, p.port, "/v1/traces", otlp, "application/x-protobuf", {},
                        len(spans), args, traces, result)
            finally:
                stop(p.proc)
            result["phoenix"]["disk_bytes"] = du(p.dir)
    finally:
        if args.keep:
            print("kept %s" % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    print()
    print("== Results (spans=%d in %d traces, batch=%d, connections=%d, seed=%d; ms are medians"
          " of %d)" % (len(spans), len(traces), args.batch, args.connections, args.seed, args.reps))
    cols = ["spans/s", "MB/s", "ack p50", "ack s", "visible s", "load trace ms", "list 50 ms",
            "CPU s", "RSS MiB"]
    print("%-12s " % "system" + " ".join("%13s" % c for c in cols))
    for name in ["arbor-otlp", "arbor-logs3", "phoenix"]:
        r = result.get(name)
        if not r:
            continue
        vals = [r["spans_per_s"], r["mb_per_s"], r["ack_p50_ms"], r["ack_seconds"],
                r["visible_seconds"], r.get("load_trace_ms"), r.get("list_50_ms"),
                r["server_cpu_s"], r["server_peak_rss_mib"]]
        print("%-12s " % name + " ".join("%13s" % ("-" if v is None else v) for v in vals))
    a, p = result.get("arbor-otlp"), result.get("phoenix")
    if a and p:
        def ratio(x, y):
            return "-" if not x or not y else "%.1fx" % (x / y)
        print("%-12s %13s %13s %13s %13s %13s %13s %13s" % (
            "phoenix/arbor", "", "", "", ratio(p["ack_seconds"], a["ack_seconds"]),
            ratio(p["visible_seconds"], a["visible_seconds"]),
            ratio(p.get("load_trace_ms"), a.get("load_trace_ms")),
            ratio(p.get("list_50_ms"), a.get("list_50_ms"))))
        print("(arbor-otlp spans/s ÷ phoenix spans/s = %s)" % ratio(a["spans_per_s"], p["spans_per_s"]))
    out = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
           "dataset": dataset, "connections": args.connections, "reps": args.reps,
           "results": result}
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=2)
        print("wrote %s" % args.json_out)
    bad = [n for n, r in result.items() if r["errors"] or r["visible_seconds"] is None]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
