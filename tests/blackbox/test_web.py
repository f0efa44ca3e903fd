"""The web UI's server side: static files of a web dir, SPA deep links under /app, path
traversal, and the live log tail (server-sent events)."""
import http.client
import json
import os
import tempfile
import threading
import time
import uuid

import pytest
import requests

from arbor_server import ArborServer

INDEX = "<!doctype html><title>arbor ui test</title><div id=root></div>"
SCRIPT = "console.log('arbor ui test');"


@pytest.fixture(scope="module")
def web_dir():
    d = tempfile.mkdtemp(prefix="arbor-web-")
    os.makedirs(os.path.join(d, "dist", "assets"))
    with open(os.path.join(d, "dist", "index.html"), "w") as f:
        f.write(INDEX)
    with open(os.path.join(d, "dist", "assets", "index-abc123.js"), "w") as f:
        f.write(SCRIPT)
    with open(os.path.join(d, "dist", "assets", "index-abc123.css"), "w") as f:
        f.write("body{}")
    # Files next to and above the web dir that must never be served.
    with open(os.path.join(d, "secret.txt"), "w") as f:
        f.write("TOP-SECRET")
    with open(os.path.join(d, "dist", ".hidden"), "w") as f:
        f.write("TOP-SECRET")
    return os.path.join(d, "dist")


@pytest.fixture(scope="module")
def server(web_dir):
    s = ArborServer(extra_args=["--web-dir", web_dir]).start()
    yield s
    s.cleanup()


def raw_get(server, target, headers=None):
    """GET with the target sent as is (no client-side normalization of `..`)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", target, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), body


def test_root_serves_the_app_to_browsers_and_json_to_clients(server):
    r = requests.get(server.url + "/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.text == INDEX
    r = requests.get(server.url + "/", headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.json()["name"] == "arbor"
    r = requests.get(server.url + "/")
    assert r.json()["name"] == "arbor"


def test_deep_links_under_app_serve_index_without_auth(server):
    for path in ["/app", "/app/", "/app/p/123", "/app/experiments/x/y/z", "/app/trace/a/b/c"]:
        r = requests.get(server.url + path)
        assert r.status_code == 200, path
        assert r.text == INDEX, path
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["cache-control"] == "no-cache"


def test_assets_have_types_and_long_cache(server):
    r = requests.get(server.url + "/assets/index-abc123.js")
    assert r.status_code == 200
    assert r.text == SCRIPT
    assert r.headers["content-type"].startswith("text/javascript")
    assert "immutable" in r.headers["cache-control"]
    assert "max-age=31536000" in r.headers["cache-control"]
    r = requests.get(server.url + "/assets/index-abc123.css")
    assert r.headers["content-type"].startswith("text/css")
    r = requests.get(server.url + "/assets/missing.js")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("target", [
    "/assets/../secret.txt",
    "/assets/../../secret.txt",
    "/assets/..%2fsecret.txt",
    "/assets/..%2f..%2fsecret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
    "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/assets/..%5csecret.txt",
    "/assets//etc/passwd",
    "/assets/%2fetc%2fpasswd",
    "/assets/.hidden",
    "/assets/../.hidden",
    "/app/../secret.txt",
    "/app/..%2f..%2fsecret.txt",
    "/assets/index-abc123.js%00.png",
])
def test_path_traversal_is_refused(server, target):
    status, _, body = raw_get(server, target)
    assert "TOP-SECRET" not in body
    assert "root:" not in body
    if target.startswith("/assets/"):
        assert status == 404, target


def test_api_routes_are_untouched(server):
    r = requests.get(server.url + "/v1/project")
    assert r.status_code == 401
    r = requests.get(server.url + "/v1/project", headers=server.headers())
    assert r.status_code == 200
    assert "objects" in r.json()


def test_without_a_web_dir_app_routes_say_how_to_build():
    s = ArborServer(extra_args=["--web-dir", "/nonexistent/arbor-web"]).start()
    try:
        r = requests.get(s.url + "/app/p/1", headers={"Accept": "text/html"})
        assert r.status_code == 404
        err = r.json()["error"]
        assert err["code"] == "not_found"
        assert "web UI is not built" in err["message"]
        assert requests.get(s.url + "/", headers={"Accept": "text/html"}).status_code in (200, 404)
    finally:
        s.cleanup()


# ---- live tail ---------------------------------------------------------------------------


def project(server, name):
    r = server.post("/api/project/register", {"project_name": name})
    assert r.status_code == 200, r.text
    return r.json()["project"]["id"]


def log_root(server, project_id, text):
    row_id = str(uuid.uuid4())
    r = server.post("/logs3", {"rows": [{
        "id": row_id, "span_id": row_id, "root_span_id": row_id, "project_id": project_id,
        "log_id": "g", "input": text, "output": "ok", "span_attributes": {"name": "root"},
    }]})
    assert r.status_code == 200, r.text
    return row_id


class SseReader:
    """Reads server-sent events from a streaming response on a thread."""

    def __init__(self, resp):
        self.resp = resp
        self.events = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        block = []
        try:
            for line in self.resp.iter_lines(decode_unicode=True):
                if line == "":
                    if block:
                        self._add(block)
                    block = []
                else:
                    block.append(line)
        except Exception:  # the test closed the stream
            pass

    def _add(self, block):
        event, data = "message", []
        for line in block:
            if line.startswith(":"):
                event = "comment"
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        with self.lock:
            self.events.append((event, json.loads("\n".join(data)) if data else None))

    def wait_for(self, pred, timeout_s):
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            with self.lock:
                for e in self.events:
                    if pred(e):
                        return e
            time.sleep(0.02)
        return None


def open_tail(server, project_id, since=None, key=None):
    url = f"{server.url}/v1/project_logs/{project_id}/tail"
    if since:
        url += f"?since={since}"
    return requests.get(url, headers=server.headers(key), stream=True, timeout=10)


def test_tail_pushes_new_root_spans_within_two_seconds(server):
    pid = project(server, "tail-" + uuid.uuid4().hex[:6])
    old = log_root(server, pid, "before the tail")
    resp = open_tail(server, pid)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    reader = SseReader(resp)
    try:
        assert reader.wait_for(lambda e: e[0] == "ready", 2)
        t0 = time.time()
        new = log_root(server, pid, "planted-" + uuid.uuid4().hex)
        got = reader.wait_for(lambda e: e[0] == "rows" and any(r["id"] == new for r in e[1]["rows"]), 2)
        assert got, reader.events
        assert time.time() - t0 < 2
        ids = [r["id"] for ev in reader.events if ev[0] == "rows" for r in ev[1]["rows"]]
        assert old not in ids  # only what came after the tail opened
        # A child span is not a new trace.
        child = str(uuid.uuid4())
        r = server.post("/logs3", {"rows": [{
            "id": child, "span_id": child, "root_span_id": new, "span_parents": [new],
            "project_id": pid, "log_id": "g", "input": "child"}]})
        assert r.status_code == 200
        time.sleep(0.8)
        ids = [r["id"] for ev in reader.events if ev[0] == "rows" for r in ev[1]["rows"]]
        assert child not in ids
    finally:
        resp.close()


def test_tail_since_resumes_after_an_xact(server):
    pid = project(server, "tail-since-" + uuid.uuid4().hex[:6])
    first = log_root(server, pid, "one")
    xact = server.post("/btql", {"query": f"from: project_logs('{pid}') | filter: id = '{first}'"}).json()
    since = xact["data"][0]["_xact_id"]
    second = log_root(server, pid, "two")
    resp = open_tail(server, pid, since=since)
    reader = SseReader(resp)
    try:
        got = reader.wait_for(lambda e: e[0] == "rows", 2)
        assert got, reader.events
        ids = [r["id"] for r in got[1]["rows"]]
        assert ids == [second]
    finally:
        resp.close()


def test_tail_needs_auth_and_a_real_project(server):
    pid = project(server, "tail-auth-" + uuid.uuid4().hex[:6])
    r = requests.get(f"{server.url}/v1/project_logs/{pid}/tail", timeout=5)
    assert r.status_code == 401
    r = open_tail(server, pid, key="arb_" + "0" * 48)
    assert r.status_code == 401
    r = open_tail(server, str(uuid.uuid4()))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = open_tail(server, pid, since="not-an-xact")
    assert r.status_code == 400
    r = open_tail(server, "bad id!")
    assert r.status_code in (400, 404)


def test_open_tails_are_capped(web_dir):
    s = ArborServer(extra_args=["--web-dir", web_dir]).start()
    streams = []
    try:
        pid = project(s, "tail-cap")
        for _ in range(16):
            r = open_tail(s, pid)
            assert r.status_code == 200
            streams.append(r)
        r = open_tail(s, pid)
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "resource_exhausted"
        # Other requests still work while the tails are open.
        assert s.post("/btql", {"query": f"from: project_logs('{pid}')"}).status_code == 200
    finally:
        for r in streams:
            r.close()
        s.cleanup()


def test_tail_filter_keeps_only_matching_traces(server):
    pid = project(server, "tail-filter-" + uuid.uuid4().hex[:6])
    resp = requests.get(
        f"{server.url}/v1/project_logs/{pid}/tail",
        params={"filter": "input MATCH 'wanted'"}, headers=server.headers(), stream=True, timeout=10)
    assert resp.status_code == 200
    reader = SseReader(resp)
    try:
        assert reader.wait_for(lambda e: e[0] == "ready", 2)
        other = log_root(server, pid, "something else")
        wanted = log_root(server, pid, "the wanted one")
        got = reader.wait_for(lambda e: e[0] == "rows" and any(r["id"] == wanted for r in e[1]["rows"]), 2)
        assert got, reader.events
        ids = [r["id"] for ev in reader.events if ev[0] == "rows" for r in ev[1]["rows"]]
        assert other not in ids
    finally:
        resp.close()


def test_tail_filter_errors_are_clear_and_cannot_widen_the_query(server):
    pid = project(server, "tail-filter-bad-" + uuid.uuid4().hex[:6])
    for bad in ["input MATCH", "x = ", "1 +"]:
        r = requests.get(f"{server.url}/v1/project_logs/{pid}/tail", params={"filter": bad},
                         headers=server.headers(), timeout=5)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_argument"
    # Extra clauses after the filter are never used: the tail stays on this project's roots.
    r = requests.get(f"{server.url}/v1/project_logs/{pid}/tail",
                     params={"filter": "true | from: experiment('x') | limit: 1"},
                     headers=server.headers(), timeout=5, stream=True)
    assert r.status_code in (200, 400)
    r.close()
