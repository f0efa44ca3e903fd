"""Bad input, auth and isolation: every rejection is an exact status with a JSON error envelope,
and a rejected request writes nothing (checked by reading every object back with /btql)."""
import json
import select
import socket
import subprocess
import uuid

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import (TIMEOUT, assert_error, auth, btql_body, canon, describe, keep_log,
                           new_id, parse_key, read_all, register_objects)

MIB = 1 << 20
BODY_LIMIT = 64 * MIB


class Env:
    def __init__(self, srv, key_a, key_b, a, b, a_row):
        self.srv = srv
        self.url = srv.url
        self.key_a = key_a
        self.key_b = key_b
        self.a = a
        self.b = b
        self.a_row = a_row  # id of a seeded row in org A's experiment
        self.baseline = None

    def objects(self):
        out = []
        for org, key, ids in (("A", self.key_a, self.a), ("B", self.key_b, self.b)):
            out.append((f"{org}.experiment", key, "experiment", ids["experiment_id"]))
            out.append((f"{org}.dataset", key, "dataset", ids["dataset_id"]))
            out.append((f"{org}.project_logs", key, "project_logs", ids["project_id"]))
        return out

    def snapshot(self):
        return {name: canon(read_all(self.url, key, src, oid)) for name, key, src, oid in self.objects()}

    def assert_unchanged(self, what):
        """Nothing was written by the request described in `what`."""
        r = requests.get(self.url + "/healthz", timeout=TIMEOUT)
        assert r.status_code == 200, f"server unhealthy after {what}\n" + describe(r)
        now = self.snapshot()
        # A wrongly accepted write must fail only the test that made it, not every test after it.
        baseline, self.baseline = self.baseline, now
        for name in baseline:
            before, after = set(baseline[name]), set(now[name])
            added, removed = sorted(after - before), sorted(before - after)
            assert not added and not removed, (
                f"{what}: rejected request changed {name}: "
                f"{len(added)} row versions appeared {added[:3]}, {len(removed)} disappeared {removed[:3]}")

    def expect_rejected(self, r, statuses, what):
        """The exact error status + JSON envelope, and nothing written (reports both at once)."""
        landed = None
        try:
            self.assert_unchanged(what)
        except AssertionError as e:
            landed = str(e)
        try:
            assert_error(r, statuses, what)
        except AssertionError as e:
            raise AssertionError(str(e) + (f"\nAND the request was written: {landed}" if landed else ""))
        assert landed is None, landed

    # Raw request helpers -------------------------------------------------------------------
    def post_raw(self, path, data, key=None, headers=None):
        h = dict(auth(key or self.key_a))
        h.update(headers or {})
        return requests.post(self.url + path, data=data, headers=h, timeout=TIMEOUT)

    def post(self, path, body, key=None):
        return requests.post(self.url + path, json=body, headers=auth(key or self.key_a), timeout=TIMEOUT)

    def logs3(self, rows, key=None):
        return self.post("/logs3", {"rows": rows, "api_version": 2}, key=key)

    def exp_row(self, rid=None, **extra):
        row = {"id": rid or new_id("ok"), "experiment_id": self.a["experiment_id"],
               "span_id": new_id("s"), "root_span_id": new_id("t"),
               "input": {"q": "valid"}, "output": "fine", "created": "2026-01-02T03:04:05.000Z"}
        row.update(extra)
        return row


def _login_org(srv, key):
    r = requests.post(srv.url + "/api/apikey/login", headers=auth(key), timeout=TIMEOUT)
    assert r.status_code == 200, describe(r)
    info = r.json()["org_info"]
    return [(o.get("id"), o.get("name")) for o in info], r


def _two_org_server(create_first):
    """`serve --org-name org-a` (bootstrap key) plus org-b made offline by `arbor orgs create`.
    Returns (srv, key_b, problem): problem describes a wrong org assignment, if any."""
    srv = ArborServer(org_name="org-a")
    problem = None
    try:
        if create_first:
            # The brief's order: the second org is created offline before the first start.
            try:
                key_b = parse_key(srv.create_org("org-b"))
            except subprocess.CalledProcessError as e:
                return srv, None, (f"`arbor orgs create --name org-b --data-dir <fresh dir>` failed: exit "
                                   f"{e.returncode}; stdout={e.stdout!r} stderr={e.stderr!r}")
            srv.start()
        else:
            srv.start()
            srv.stop()
            key_b = parse_key(srv.create_org("org-b"))
            srv.start()
        orgs_a, ra = _login_org(srv, srv.api_key)
        orgs_b, rb = _login_org(srv, key_b)
        if [n for _, n in orgs_a] != ["org-a"] or [n for _, n in orgs_b] != ["org-b"] or orgs_a == orgs_b:
            problem = ("bootstrap key (ARBOR_BOOTSTRAP_API_KEY, serve --org-name org-a) logs in as "
                       f"{orgs_a}; the key printed by `orgs create --name org-b` logs in as {orgs_b}.\n"
                       + describe(ra) + "\n" + describe(rb))
        return srv, key_b, problem
    except BaseException:
        keep_log(srv, "bad_input_setup")
        srv.cleanup()
        raise


SETUP_PROBLEMS = {}


@pytest.fixture(scope="module")
def env():
    srv, key_b, problem = _two_org_server(create_first=True)
    if problem:
        # Record it (test_orgs_create_before_first_start fails with it), then build the two orgs
        # the other way round so the isolation tests below still test isolation.
        SETUP_PROBLEMS["create_first"] = problem
        keep_log(srv, "bad_input_create_first")
        srv.cleanup()
        srv, key_b, problem = _two_org_server(create_first=False)
        if problem:
            SETUP_PROBLEMS["start_first"] = problem
    try:
        a = register_objects(srv, srv.api_key, "proj-a", "-a")
        b = register_objects(srv, key_b, "proj-b", "-b")
        e = Env(srv, srv.api_key, key_b, a, b, None)
        # Seed a few rows in every object so "nothing changed" is a meaningful comparison.
        a_row = new_id("seed")
        e.a_row = a_row
        seed_a = [
            e.exp_row(a_row, scores={"acc": 0.5}, tags=["seed"]),
            e.exp_row(span_parents=["p1"], metadata={"k": "v"}),
            {"id": new_id("seed"), "dataset_id": a["dataset_id"], "input": {"x": 1}, "expected": 2},
            {"id": new_id("seed"), "project_id": a["project_id"], "log_id": "g", "input": "log-a",
             "span_id": "s1", "root_span_id": "t1"},
        ]
        r = e.logs3(seed_a)
        assert r.status_code == 200, describe(r)
        seed_b = [
            {"id": new_id("seedb"), "experiment_id": b["experiment_id"], "input": "b"},
            {"id": new_id("seedb"), "dataset_id": b["dataset_id"], "input": "b"},
            {"id": new_id("seedb"), "project_id": b["project_id"], "log_id": "g", "input": "b"},
        ]
        r = e.logs3(seed_b, key=key_b)
        assert r.status_code == 200, describe(r)
        e.baseline = e.snapshot()
        assert all(e.baseline[name] for name in e.baseline), "seeded rows not readable back"
        yield e
    finally:
        keep_log(srv, "bad_input")
        srv.cleanup()


@pytest.fixture(autouse=True)
def _fresh_baseline(request):
    """Each test compares against the state at its own start, so one wrongly accepted write
    fails only the test that made it."""
    if "env" in request.fixturenames:
        e = request.getfixturevalue("env")
        e.baseline = e.snapshot()
    yield


def test_orgs_create_before_first_start(env):
    assert "create_first" not in SETUP_PROBLEMS, \
        "`arbor orgs create --name org-b` on a fresh data dir, then `arbor serve --org-name org-a` with " \
        "ARBOR_BOOTSTRAP_API_KEY: " + SETUP_PROBLEMS["create_first"]


def test_orgs_create_after_first_start(env):
    assert "start_first" not in SETUP_PROBLEMS, SETUP_PROBLEMS.get("start_first")


def test_health_routes_need_no_auth(env):
    for path in ("/healthz", "/readyz", "/"):
        r = requests.get(env.url + path, timeout=TIMEOUT)
        assert r.status_code == 200, describe(r)


def test_version_advertises_payload_max(env):
    r = requests.get(env.url + "/version", headers=auth(env.key_a), timeout=TIMEOUT)
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert "logs3_payload_max_bytes" in body, describe(r)
    v = body["logs3_payload_max_bytes"]
    assert v is None or (isinstance(v, int) and 0 < v <= BODY_LIMIT), describe(r)


# ---------------------------------------------------------------------------------------------
# /logs3 body shape

MALFORMED = [
    ("truncated", b'{"rows": ['),
    ("unquoted_key", b'{rows: []}'),
    ("not_json", b'this is not json'),
    ("trailing_comma", b'{"rows": [{"id": "x",}], "api_version": 2}'),
    ("empty", b''),
    ("trailing_garbage", b'{"rows": [], "api_version": 2} xyz'),
    ("two_documents", b'{"rows": []}{"rows": []}'),
    ("invalid_utf8", b'{"rows": [{"id": "bad-\xff\xfe", "experiment_id": "E"}], "api_version": 2}'),
    ("lone_surrogate_escape_unterminated", b'{"rows": [{"id": "\\ud800'),
    ("nan_literal", b'{"rows": [{"id": "n", "experiment_id": "E", "scores": {"a": NaN}}], "api_version": 2}'),
]


@pytest.mark.parametrize("name,body", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_logs3_malformed_json(env, name, body):
    body = body.replace(b'"E"', json.dumps(env.a["experiment_id"]).encode())
    r = env.post_raw("/logs3", body, headers={"Content-Type": "application/json"})
    env.expect_rejected(r, 400, f"malformed body {name}")


NOT_OBJECT = [
    ("array_of_rows", lambda e: [e.exp_row()]),
    ("array_wrapping_object", lambda e: [{"rows": [e.exp_row()], "api_version": 2}]),
    ("string", lambda e: "rows"),
    ("number", lambda e: 42),
    ("null", lambda e: None),
    ("bool", lambda e: True),
]


@pytest.mark.parametrize("name,make", NOT_OBJECT, ids=[m[0] for m in NOT_OBJECT])
def test_logs3_body_not_object(env, name, make):
    r = env.post_raw("/logs3", json.dumps(make(env)), headers={"Content-Type": "application/json"})
    env.expect_rejected(r, 400, f"body is {name}")


ROWS_NOT_ARRAY = [
    ("rows_object", lambda e: {"rows": e.exp_row(), "api_version": 2}),
    ("rows_string", lambda e: {"rows": "abc", "api_version": 2}),
    ("rows_number", lambda e: {"rows": 5, "api_version": 2}),
    ("rows_null", lambda e: {"rows": None, "api_version": 2}),
    ("rows_missing", lambda e: {"api_version": 2}),
]


@pytest.mark.parametrize("name,make", ROWS_NOT_ARRAY, ids=[m[0] for m in ROWS_NOT_ARRAY])
def test_logs3_rows_not_array(env, name, make):
    r = env.post("/logs3", make(env))
    env.expect_rejected(r, 400, name)


ROW_NOT_OBJECT = [
    ("number", 5),
    ("string", "row"),
    ("null", None),
    ("array", ["id", "x"]),
    ("bool", False),
]


@pytest.mark.parametrize("name,bad", ROW_NOT_OBJECT, ids=[m[0] for m in ROW_NOT_OBJECT])
def test_logs3_row_not_object(env, name, bad):
    # A valid row first: the whole request must be rejected.
    r = env.logs3([env.exp_row(), bad])
    env.expect_rejected(r, 400, f"row that is a {name}")


def test_logs3_row_without_object_id(env):
    for row in ({"id": new_id("noobj"), "input": 1},
                {"id": new_id("noobj"), "log_id": "g", "input": 1}):
        r = env.logs3([env.exp_row(), row])
        env.expect_rejected(r, 400, f"row without object id {row}")


TWO_IDS = [
    ("experiment+dataset", lambda a: {"experiment_id": a["experiment_id"], "dataset_id": a["dataset_id"]}),
    ("experiment+project_logs", lambda a: {"experiment_id": a["experiment_id"], "project_id": a["project_id"],
                                           "log_id": "g"}),
    ("dataset+project_logs", lambda a: {"dataset_id": a["dataset_id"], "project_id": a["project_id"],
                                        "log_id": "g"}),
]


@pytest.mark.parametrize("name,make", TWO_IDS, ids=[t[0] for t in TWO_IDS])
def test_logs3_row_with_two_object_ids(env, name, make):
    ids = make(env.a)
    row = {"id": new_id("two"), "input": "two ids", **ids}
    r = env.logs3([row])
    env.expect_rejected(r, 400, f"row with two object ids ({name})")


UNKNOWN = [
    ("experiment", lambda u: {"experiment_id": u}),
    ("dataset", lambda u: {"dataset_id": u}),
    ("project_logs", lambda u: {"project_id": u, "log_id": "g"}),
]


@pytest.mark.parametrize("source,ids", UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_logs3_unknown_object(env, source, ids):
    unknown = str(uuid.uuid4())
    row = {"id": new_id("unk"), "input": "to nowhere", **ids(unknown)}
    r = env.logs3([env.exp_row(), row])
    env.expect_rejected(r, 404, f"row for unknown {source} {unknown}")
    # The rejected write must not have created the object either.
    r = env.post("/btql", btql_body(source, unknown))
    assert_error(r, 404, f"read of unknown {source} after the rejected write")


def test_logs3_object_id_wrong_type(env):
    for ids in ({"experiment_id": 12345}, {"dataset_id": ["x"]}, {"project_id": {"a": 1}, "log_id": "g"},
                {"project_id": env.a["project_id"], "log_id": 7}):
        row = {"id": new_id("oidtype"), "input": 1, **ids}
        r = env.logs3([env.exp_row(), row])
        env.expect_rejected(r, 400, f"object id of wrong type {ids}")


WRONG_TYPES = [
    # the brief's list
    ("id_number", {"id": 12345}),
    ("is_merge_string", {"_is_merge": "true"}),
    ("span_parents_string", {"span_parents": "parent-span"}),
    ("scores_array", {"scores": [0.5, 1]}),
    ("tags_object", {"tags": {"a": 1}}),
    ("created_number", {"created": 1767322245}),
    # further violations of the documented types (protocol §3.3)
    ("object_delete_string", {"_object_delete": "yes"}),
    ("span_parents_numbers", {"span_parents": [1, 2]}),
    ("tags_numbers", {"tags": [1, 2]}),
    ("score_value_string", {"scores": {"acc": "high"}}),
]


@pytest.mark.parametrize("name,fields", WRONG_TYPES, ids=[w[0] for w in WRONG_TYPES])
def test_logs3_reserved_field_wrong_type(env, name, fields):
    bad = env.exp_row(new_id("badtype"))
    bad.update(fields)
    r = env.logs3([bad])
    env.expect_rejected(r, 400, f"reserved field of wrong type ({name}: {fields})")


VALID_THEN_INVALID = [
    ("experiment", lambda e: {"experiment_id": e.a["experiment_id"]}),
    ("dataset", lambda e: {"dataset_id": e.a["dataset_id"]}),
    ("project_logs", lambda e: {"project_id": e.a["project_id"], "log_id": "g"}),
]


@pytest.mark.parametrize("target,ids", VALID_THEN_INVALID, ids=[v[0] for v in VALID_THEN_INVALID])
def test_logs3_valid_then_invalid_row_rejects_all(env, target, ids):
    good_id = new_id("good")
    good = {"id": good_id, "input": "should not be written", **ids(env)}
    good2 = {"id": new_id("good"), "input": "neither", **ids(env)}
    bad = {"id": new_id("bad"), "scores": "not-an-object", **ids(env)}
    r = env.logs3([good, good2, bad])
    env.expect_rejected(r, 400, f"valid rows then an invalid row ({target})")
    # Also valid rows after the invalid one, and a merge of an existing row before it.
    merge = {"id": env.a_row, "experiment_id": env.a["experiment_id"], "_is_merge": True,
             "output": "overwritten by a rejected request"}
    r = env.logs3([merge, good, bad, good2])
    env.expect_rejected(r, 400, f"merge + valid rows around an invalid row ({target})")


def test_logs3_huge_nesting(env):
    depth = 100_000
    body = ('{"rows": [{"id": "deep", "experiment_id": %s, "input": ' % json.dumps(env.a["experiment_id"])
            + "[" * depth + "]" * depth + '}], "api_version": 2}')
    r = env.post_raw("/logs3", body.encode(), headers={"Content-Type": "application/json"})
    env.expect_rejected(r, 400, f"/logs3 body nested {depth} deep")


# ---------------------------------------------------------------------------------------------
# Oversized body (> 64 MiB), streamed from one reused chunk.

def _read_http_response(sock, deadline_s=60):
    sock.settimeout(deadline_s)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = sock.recv(65536)
            if not d:
                break
            buf += d
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(rest) < n:
                d = sock.recv(65536)
                if not d:
                    break
                rest += d
            body = rest[:n]
        elif "chunked" in headers.get("transfer-encoding", ""):
            while not rest.endswith(b"0\r\n\r\n"):
                d = sock.recv(65536)
                if not d:
                    break
                rest += d
            body, data = b"", rest
            while data:
                size_line, _, data = data.partition(b"\r\n")
                size = int(size_line.split(b";")[0] or b"0", 16)
                if size == 0:
                    break
                body += data[:size]
                data = data[size + 2:]
        else:
            while True:
                d = sock.recv(65536)
                if not d:
                    break
                rest += d
            body = rest
    except (ConnectionResetError, socket.timeout) as e:
        return buf, None, {}, None, repr(e)
    status = None
    if lines and lines[0].startswith("HTTP/"):
        status = int(lines[0].split()[1])
    return buf, status, headers, body, None


def send_streamed(port, key, prefix, filler_bytes, suffix, chunked):
    """POST /logs3 with a body of prefix + filler_bytes x 'a' + suffix, streamed in 64 KiB pieces.
    Stops sending as soon as the server answers (or closes), then reads the response."""
    chunk = b"a" * (64 * 1024)
    total = len(prefix) + filler_bytes + len(suffix)
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    head = (f"POST /logs3 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n")
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {total}\r\n"
    head += "\r\n"
    sent, stopped_early, note = 0, False, ""

    def pieces():
        yield prefix
        left = filler_bytes
        while left > 0:
            n = min(left, len(chunk))
            yield chunk if n == len(chunk) else chunk[:n]
            left -= n
        yield suffix

    try:
        sock.sendall(head.encode())
        sock.settimeout(10)
        for p in pieces():
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                stopped_early = True
                break
            data = (b"%x\r\n" % len(p)) + p + b"\r\n" if chunked else p
            sock.sendall(data)
            sent += len(p)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError, socket.timeout) as e:
        stopped_early, note = True, repr(e)
    raw, status, headers, body, err = _read_http_response(sock)
    sock.close()
    return {"sent": sent, "total": total, "stopped_early": stopped_early, "send_error": note,
            "status": status, "headers": headers, "body": body, "read_error": err, "raw_head": raw[:300]}


@pytest.mark.parametrize("chunked", [False, True], ids=["content_length", "chunked"])
def test_logs3_oversized_body_413(env, chunked):
    rid = new_id("huge")
    prefix = ('{"rows": [{"id": %s, "experiment_id": %s, "input": "'
              % (json.dumps(rid), json.dumps(env.a["experiment_id"]))).encode()
    suffix = b'"}], "api_version": 2}'
    res = send_streamed(env.srv.port, env.key_a, prefix, BODY_LIMIT + MIB, suffix, chunked)
    record = (f"POST /logs3 ({'chunked' if chunked else 'Content-Length'}) body of {res['total']} bytes; "
              f"sent {res['sent']} bytes, stopped_early={res['stopped_early']} {res['send_error']}; "
              f"response status={res['status']} headers={res['headers']} body={res['body']!r} "
              f"read_error={res['read_error']} raw={res['raw_head']!r}")
    assert res["status"] == 413, "oversized body: expected 413\n" + record
    try:
        body = json.loads(res["body"])
    except (TypeError, ValueError):
        raise AssertionError("oversized body: 413 body is not JSON\n" + record)
    assert body.get("error", {}).get("code") == "payload_too_large", record
    env.assert_unchanged("oversized body")


def test_logs3_body_of_exactly_64mib_accepted(env):
    """The limit is 64 MiB: a body of exactly that size is not "bigger" and must be ingested whole.
    Written to its own experiment so the other tests' snapshots stay small."""
    r = env.post("/api/experiment/register", {"project_name": "proj-a", "experiment_name": "big-body"})
    assert r.status_code == 200, describe(r)
    big_exp = r.json()["experiment"]["id"]
    rid = new_id("limit")
    prefix = ('{"rows": [{"id": %s, "experiment_id": %s, "input": "' % (json.dumps(rid), json.dumps(big_exp))).encode()
    suffix = b'"}], "api_version": 2}'
    filler = BODY_LIMIT - len(prefix) - len(suffix)
    res = send_streamed(env.srv.port, env.key_a, prefix, filler, suffix, chunked=False)
    assert res["status"] == 200, (f"POST /logs3 with a body of exactly {res['total']} bytes: status {res['status']} "
                                  f"body={res['body']!r} sent={res['sent']} send_error={res['send_error']} "
                                  f"read_error={res['read_error']}")
    r = env.post("/btql", btql_body("experiment", big_exp, filt={"op": "eq", "left": {"op": "ident", "name": ["id"]},
                                                               "right": {"op": "literal", "value": rid}}))
    assert r.status_code == 200, describe(r)
    data = r.json()["data"]
    assert len(data) == 1 and data[0].get("input") == "a" * filler, \
        f"64 MiB row read back wrong: {len(data)} rows, input length {len(data[0].get('input', '')) if data else None}"


def test_logs3_too_many_rows(env):
    """More rows than the server's per-request bound (100,000): refused as a whole, nothing written."""
    E = env.a["experiment_id"]
    rows = [{"id": f"many-{i}", "experiment_id": E} for i in range(100_001)]
    r = env.logs3(rows)
    env.expect_rejected(r, (400, 413), "/logs3 with 100,001 rows")


# ---------------------------------------------------------------------------------------------
# Authentication

def _auth_routes(e):
    E = e.a["experiment_id"]
    return [
        ("POST", "/logs3", {"rows": [e.exp_row()], "api_version": 2}),
        ("POST", "/btql", btql_body("experiment", E)),
        ("POST", "/api/apikey/login", None),
        ("POST", "/api/project/register", {"project_name": "unauth-proj"}),
        ("POST", "/api/experiment/register", {"project_name": "proj-a", "experiment_name": "unauth"}),
        ("POST", "/api/dataset/register", {"project_name": "proj-a", "dataset_name": "unauth"}),
        ("POST", f"/v1/experiment/{E}/fetch", {"limit": 10}),
        ("GET", f"/v1/experiment/{E}/fetch", None),
        ("POST", f"/v1/experiment/{E}/insert", {"events": [{"id": new_id("unauth"), "input": 1}]}),
        ("POST", f"/v1/experiment/{E}/feedback", {"feedback": [{"id": e.a_row, "scores": {"h": 1}}]}),
    ]


def _send(e, method, path, body, headers):
    kw = {"headers": headers, "timeout": TIMEOUT}
    if body is not None:
        kw["json"] = body
    return requests.request(method, e.url + path, **kw)


def test_missing_authorization_401(env):
    for method, path, body in _auth_routes(env):
        r = _send(env, method, path, body, {})
        env.expect_rejected(r, 401, f"{method} {path} without Authorization")


def test_wrong_key_401(env):
    for method, path, body in _auth_routes(env):
        r = _send(env, method, path, body, auth("arb_wrong_" + uuid.uuid4().hex))
        env.expect_rejected(r, 401, f"{method} {path} with a wrong key")


def test_malformed_authorization_401(env):
    k = env.key_a
    bad_headers = [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNzd29yZA==",
        f"Basic {k}",
        f"Token {k}",
        f"Bearer {k}x",
        f"Bearer {k[:-1]}",
        "Bearer " + "a" * 4000,
        "Bearer \xe9\xe8",
        f"Bearer {k}, Bearer {k}",
    ]
    for method, path, body in _auth_routes(env)[:3]:
        for h in bad_headers:
            r = _send(env, method, path, body, {"Authorization": h})
            env.expect_rejected(r, 401, f"{method} {path} with Authorization {h[:60]!r}")


def test_revoked_key_401():
    srv = ArborServer(org_name="org-r")
    try:
        srv.start()
        srv.stop()

        def listed():
            out = srv.cli("keys", "list")
            return [json.loads(l) for l in out.splitlines() if l.strip()]

        before = {k["id"] for k in listed()}
        key = parse_key(srv.cli("keys", "create", "--org", "org-r"))
        new = [k for k in listed() if k["id"] not in before]
        assert len(new) == 1, f"`keys list` should show exactly one new key after `keys create`: {new}"
        for f in ("id", "org", "name", "created", "revoked"):
            assert f in new[0], f"`keys list` line lacks {f!r}: {new[0]}"
        assert not new[0]["revoked"], new[0]
        srv.start()
        r = srv.post("/api/apikey/login", key=key, timeout=TIMEOUT)
        assert r.status_code == 200, "fresh key must work before revocation\n" + describe(r)
        srv.stop()
        srv.cli("keys", "revoke", str(new[0]["id"]))
        row = [k for k in listed() if k["id"] == new[0]["id"]]
        assert row and row[0]["revoked"], f"`keys list` does not show the key as revoked: {row}"
        srv.start()
        r = srv.post("/api/apikey/login", key=key, timeout=TIMEOUT)
        assert_error(r, 401, "login with a revoked key")
        r = srv.post("/logs3", {"rows": [], "api_version": 2}, key=key, timeout=TIMEOUT)
        assert_error(r, 401, "/logs3 with a revoked key")
        r = srv.post("/api/project/register", {"project_name": "p"}, key=key, timeout=TIMEOUT)
        assert_error(r, 401, "project register with a revoked key")
        r = srv.post("/api/apikey/login", timeout=TIMEOUT)
        assert r.status_code == 200, "the bootstrap key must still work\n" + describe(r)
    finally:
        keep_log(srv, "revoked_key")
        srv.cleanup()


# ---------------------------------------------------------------------------------------------
# Another org's objects

def _denied(r, what):
    assert_error(r, (403, 404), what)


def test_other_org_cannot_write_logs3(env):
    a = env.a
    rows = [
        [{"id": new_id("x"), "experiment_id": a["experiment_id"], "input": "intruder"}],
        [{"id": new_id("x"), "dataset_id": a["dataset_id"], "input": "intruder"}],
        [{"id": new_id("x"), "project_id": a["project_id"], "log_id": "g", "input": "intruder"}],
        [{"id": env.a_row, "experiment_id": a["experiment_id"], "_is_merge": True, "output": "hijacked"}],
        [{"id": env.a_row, "experiment_id": a["experiment_id"], "_object_delete": True}],
        # own row first, then the foreign row: the whole request is rejected
        [{"id": new_id("x"), "experiment_id": env.b["experiment_id"], "input": "own"},
         {"id": new_id("x"), "experiment_id": a["experiment_id"], "input": "intruder"}],
    ]
    for rs in rows:
        r = env.logs3(rs, key=env.key_b)
        env.expect_rejected(r, (403, 404), f"org B writes org A's object via /logs3 {rs}")


def test_other_org_cannot_read_btql(env):
    for source, oid in (("experiment", env.a["experiment_id"]), ("dataset", env.a["dataset_id"]),
                        ("project_logs", env.a["project_id"])):
        r = env.post("/btql", btql_body(source, oid), key=env.key_b)
        _denied(r, f"org B reads org A's {source} via /btql")
    # and the other direction
    r = env.post("/btql", btql_body("experiment", env.b["experiment_id"]), key=env.key_a)
    _denied(r, "org A reads org B's experiment via /btql")


def test_other_org_rest_v1(env):
    E = env.a["experiment_id"]
    r = env.post(f"/v1/experiment/{E}/fetch", {"limit": 100}, key=env.key_b)
    _denied(r, "org B POST /v1/experiment/{A's id}/fetch")
    r = requests.get(env.url + f"/v1/experiment/{E}/fetch", headers=auth(env.key_b), timeout=TIMEOUT)
    _denied(r, "org B GET /v1/experiment/{A's id}/fetch")
    r = env.post(f"/v1/experiment/{E}/insert", {"events": [{"id": new_id("x"), "input": "intruder"}]},
                 key=env.key_b)
    env.expect_rejected(r, (403, 404), "org B /v1/experiment/{A's id}/insert")
    r = env.post(f"/v1/experiment/{E}/feedback", {"feedback": [{"id": env.a_row, "scores": {"h": 0}}]},
                 key=env.key_b)
    env.expect_rejected(r, (403, 404), "org B /v1/experiment/{A's id}/feedback")


def test_other_org_cannot_register_into_project(env):
    P = env.a["project_id"]
    r = env.post("/api/experiment/register", {"project_id": P, "experiment_name": "intruder"}, key=env.key_b)
    _denied(r, "org B registers an experiment in org A's project by project_id")
    r = env.post("/api/dataset/register", {"project_id": P, "dataset_name": "intruder"}, key=env.key_b)
    _denied(r, "org B registers a dataset in org A's project by project_id")
    # By name, the same project name is a different project in org B.
    r = env.post("/api/project/register", {"project_name": "proj-a"}, key=env.key_b)
    assert r.status_code == 200, describe(r)
    assert r.json()["project"]["id"] != P, "org B got org A's project by registering its name\n" + describe(r)


def test_other_org_login_shows_only_own_org(env):
    r = env.post("/api/apikey/login", None, key=env.key_b)
    assert r.status_code == 200, describe(r)
    names = [o.get("name") for o in r.json().get("org_info", [])]
    assert names == ["org-b"], f"org B's key sees orgs {names}\n" + describe(r)
    r = env.post("/api/apikey/login", None, key=env.key_a)
    names = [o.get("name") for o in r.json().get("org_info", [])]
    assert names == ["org-a"], f"org A's key sees orgs {names}\n" + describe(r)


LISTS = [
    ("GET", "/v1/project", None, "project_id"),
    ("GET", "/v1/experiment", None, "experiment_id"),
    ("GET", "/v1/dataset", None, "dataset_id"),
    ("POST", "/api/experiment/get", {"project_name": "proj-a", "experiment_name": "exp-a"}, "experiment_id"),
]


@pytest.mark.parametrize("method,path,body,idkey", LISTS, ids=[l[1] for l in LISTS])
def test_other_org_lists_hide_objects(env, method, path, body, idkey):
    ra = _send(env, method, path, body, auth(env.key_a))
    rb = _send(env, method, path, body, auth(env.key_b))
    assert ra.status_code == 200, describe(ra)
    # Org B may get an empty list, or 403/404 for a filter naming org A's things; never A's objects.
    assert rb.status_code in (200, 403, 404), describe(rb)
    for k in ("project_id", "experiment_id", "dataset_id"):
        assert env.a[k] not in rb.text, f"org B's {method} {path} shows org A's {k} {env.a[k]}\n" + describe(rb)
    # Org A does see its own object (sanity: the list works at all).
    assert ra.status_code == 200 and env.a[idkey] in ra.text, \
        f"org A's own {idkey} missing from {method} {path}\n" + describe(ra)


# ---------------------------------------------------------------------------------------------
# Routing

UNKNOWN_ROUTES = [
    ("GET", "/nope"),
    ("POST", "/api/nope/register"),
    ("GET", "/v1/not_a_thing"),
    ("POST", "/logs4"),
    ("GET", "/btql/nothing/here"),
    ("GET", "/static/..%2f..%2f..%2fetc%2fpasswd"),
    ("POST", "/v1/experiment/%s/explode"),
]


@pytest.mark.parametrize("method,path", UNKNOWN_ROUTES, ids=[u[1] for u in UNKNOWN_ROUTES])
def test_unknown_route_404_json(env, method, path):
    if "%s" in path:
        path = path % env.a["experiment_id"]
    r = _send(env, method, path, {} if method == "POST" else None, auth(env.key_a))
    assert_error(r, 404, f"unknown route {method} {path}")


WRONG_METHOD = [
    ("GET", "/logs3"),
    ("PUT", "/logs3"),
    ("DELETE", "/btql"),
    ("GET", "/api/project/register"),
    ("PATCH", "/api/apikey/login"),
    ("DELETE", "/version"),
]


@pytest.mark.parametrize("method,path", WRONG_METHOD, ids=[f"{m}_{p}" for m, p in WRONG_METHOD])
def test_wrong_method_json(env, method, path):
    r = _send(env, method, path, None, auth(env.key_a))
    assert_error(r, (405, 404), f"wrong method {method} {path}")
    env.assert_unchanged(f"wrong method {method} {path}")


# ---------------------------------------------------------------------------------------------
# Hostile /btql

def _ast(e, **over):
    body = btql_body("experiment", e.a["experiment_id"])
    body["query"].update(over)
    return body


def _ident(*p):
    return {"op": "ident", "name": list(p)}


def _nested_not(depth):
    return ('{"query": {"select": [{"op": "star"}], "from": {"op": "function", "name": {"op": "ident", '
            '"name": ["experiment"]}, "args": [{"op": "literal", "value": "E"}]}, "filter": '
            + '{"op": "not", "expr": ' * depth + '{"op": "literal", "value": true}' + "}" * depth + "}}")


def _nested_and(depth):
    return ('{"query": {"select": [{"op": "star"}], "from": {"op": "function", "name": {"op": "ident", '
            '"name": ["experiment"]}, "args": [{"op": "literal", "value": "E"}]}, "filter": '
            + '{"op": "and", "children": [' * depth + '{"op": "literal", "value": true}' + "]}" * depth + "}}")


BTQL_HOSTILE = [
    # nesting
    ("ast_not_nested_5000", lambda e: _nested_not(5000)),
    ("ast_and_nested_5000", lambda e: _nested_and(5000)),
    ("body_arrays_nested_200000", lambda e: '{"query": ' + "[" * 200000 + "]" * 200000 + "}"),
    ("text_parens_nested_50000", lambda e: {"query": "select: * | from: experiment('E') | filter: "
                                                     + "(" * 50000 + "1" + ")" * 50000}),
    ("text_not_nested_50000", lambda e: {"query": "select: * | from: experiment('E') | filter: "
                                                  + "NOT " * 50000 + "true"}),
    # unknown ops / sources
    ("ast_unknown_filter_op", lambda e: _ast(e, filter={"op": "frobnicate", "children": []})),
    ("ast_unknown_select_op", lambda e: _ast(e, select=[{"op": "explode"}])),
    ("ast_unknown_source", lambda e: _ast(e, **{"from": {"op": "function", "name": _ident("nosuchsource"),
                                                        "args": [{"op": "literal", "value": "x"}]}})),
    ("ast_op_missing", lambda e: _ast(e, filter={"left": _ident("id"), "right": {"op": "literal", "value": 1}})),
    ("text_unknown_function", lambda e: {"query": "select: * | from: experiment('E') | filter: frobnicate(id) = 1"}),
    ("text_unknown_clause", lambda e: {"query": "select: * | from: experiment('E') | explode: id"}),
    ("text_unknown_source", lambda e: {"query": "select: * | from: nosuchsource('E')"}),
    ("text_bad_operator", lambda e: {"query": "select: * | from: experiment('E') | filter: id ==== 'x'"}),
    ("text_unterminated_string", lambda e: {"query": "select: * | from: experiment('E"}),
    ("sql_incomplete", lambda e: {"query": "SELECT * FROM experiment('E') WHERE"}),
    ("text_control_chars", lambda e: {"query": "\x00\x01\x02 select \x7f"}),
    # wrong types
    ("ast_limit_string", lambda e: _ast(e, limit="ten")),
    ("ast_limit_negative", lambda e: _ast(e, limit=-5)),
    ("ast_limit_object", lambda e: _ast(e, limit={"n": 1})),
    ("ast_cursor_number", lambda e: _ast(e, cursor=17)),
    ("ast_select_string", lambda e: _ast(e, select="star")),
    ("ast_from_string", lambda e: _ast(e, **{"from": "experiment"})),
    ("ast_from_number", lambda e: _ast(e, **{"from": 5})),
    ("ast_source_id_number", lambda e: _ast(e, **{"from": {"op": "function", "name": _ident("experiment"),
                                                          "args": [{"op": "literal", "value": 12}]}})),
    ("ast_args_not_array", lambda e: _ast(e, **{"from": {"op": "function", "name": _ident("experiment"),
                                                         "args": "E"}})),
    ("ast_ident_name_number", lambda e: _ast(e, filter={"op": "eq", "left": {"op": "ident", "name": 5},
                                                        "right": {"op": "literal", "value": 1}})),
    ("ast_eq_missing_right", lambda e: _ast(e, filter={"op": "eq", "left": _ident("id")})),
    ("ast_and_children_string", lambda e: _ast(e, filter={"op": "and", "children": "x"})),
    ("ast_filter_number", lambda e: _ast(e, filter=17)),
    ("ast_op_number", lambda e: _ast(e, filter={"op": 3})),
    ("query_number", lambda e: {"query": 42}),
    ("query_null", lambda e: {"query": None}),
    ("query_array", lambda e: {"query": []}),
    ("query_missing", lambda e: {}),
    ("query_empty_string", lambda e: {"query": ""}),
    ("body_array", lambda e: [btql_body("experiment", e.a["experiment_id"])]),
    ("body_not_json", lambda e: "select: * | from: experiment('E')"),
    ("body_truncated", lambda e: '{"query": {"select": [{"op": "star"}'),
    ("version_object", lambda e: dict(btql_body("experiment", e.a["experiment_id"]), version={"x": 1})),
    ("fmt_unknown", lambda e: dict(btql_body("experiment", e.a["experiment_id"]), fmt="xml")),
]


@pytest.mark.parametrize("name,make", BTQL_HOSTILE, ids=[b[0] for b in BTQL_HOSTILE])
def test_btql_hostile_400(env, name, make):
    q = make(env)
    E = env.a["experiment_id"]
    if isinstance(q, str) and name != "body_not_json":
        data = q.replace('"E"', json.dumps(E))
    elif isinstance(q, str):
        data = q.replace("'E'", f"'{E}'")
    else:
        data = json.dumps(q).replace("'E'", f"'{E}'").replace("('E')", f"('{E}')")
    r = env.post_raw("/btql", data.encode(), headers={"Content-Type": "application/json"})
    assert_error(r, 400, f"hostile /btql {name}")
    h = requests.get(env.url + "/healthz", timeout=TIMEOUT)
    assert h.status_code == 200, f"server unhealthy after hostile /btql {name}"


def test_btql_valid_query_still_works(env):
    """Sanity for the hostile cases above: the same query without the hostile part is 200."""
    r = env.post("/btql", btql_body("experiment", env.a["experiment_id"],
                                    filt={"op": "eq", "left": _ident("id"),
                                          "right": {"op": "literal", "value": env.a_row}}))
    assert r.status_code == 200, describe(r)
    ids = [row.get("id") for row in r.json()["data"]]
    assert ids == [env.a_row], describe(r)


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"POST /logs3 HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
], ids=["not_http", "bad_content_length", "bad_header"])
def test_malformed_http_gets_json_400(env, raw):
    with socket.create_connection(("127.0.0.1", env.srv.port), timeout=TIMEOUT) as sock:
        sock.sendall(raw)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), data[:300]
    assert json.loads(body)["error"]["code"] == "invalid_argument", data[:300]
    # The server is still healthy afterwards.
    assert requests.get(env.url + "/healthz", timeout=TIMEOUT).status_code == 200
