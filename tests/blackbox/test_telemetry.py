"""Telemetry (--telemetry-url, off by default): the server POSTs only the documented health,
version, uptime and aggregate keys (docs/operations/telemetry.md) to a local receiver, never
row text, names, ids of user objects, keys or secrets."""
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from arbor_server import ArborServer
from ops_util import call, logs3, ok

# Exactly the keys docs/operations/telemetry.md documents.
TOP_KEYS = {"schema_version", "arbor_version", "health", "uptime_s", "usage", "storage"}
USAGE_KEYS = {"orgs", "projects", "experiments", "datasets", "http_requests",
              "rows_deleted_by_retention"}
STORAGE_KEYS = {"segments", "segment_bytes", "segment_row_versions", "wal_bytes_unflushed",
                "flushes", "compactions", "flush_failures"}

PLANTED = ["planted-project-name-q7", "planted row text zebra-42", "sk-planted-secret-0000111122",
           "planted-org-name-x9"]


class Receiver:
    def __init__(self):
        self.bodies = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                n = int(self.headers.get("Content-Length", "0"))
                received.append((self.path, self.headers.get("Content-Type"), self.rfile.read(n)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/telemetry"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture()
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_payload_has_only_documented_keys_and_no_user_data(tmp_path, receiver):
    data = str(tmp_path / "data")
    os.makedirs(data)
    srv = ArborServer(data_dir=data, org_name=PLANTED[3],
                      extra_args=["--telemetry-url", receiver.url, "--telemetry-interval-s", "1"])
    srv.start()
    try:
        pid = ok(call(srv, "POST", "/v1/project", {"name": PLANTED[0]}))["id"]
        eid = ok(call(srv, "POST", "/v1/experiment", {"project_id": pid, "name": "e"}))["id"]
        logs3(srv, [{"id": "row-1", "experiment_id": eid, "input": PLANTED[1]}])
        ok(call(srv, "POST", "/v1/ai_secret", {"name": "K", "secret": PLANTED[2]}))
        n = len(receiver.bodies)
        deadline = time.time() + 15
        while len(receiver.bodies) < n + 2 and time.time() < deadline:
            time.sleep(0.1)
        assert len(receiver.bodies) >= n + 2, "telemetry is sent every --telemetry-interval-s"
    finally:
        srv.stop()

    for path, ctype, raw in receiver.bodies:
        assert path == "/v1/telemetry" and ctype == "application/json"
        text = raw.decode()
        for forbidden in PLANTED + [pid, eid, srv.api_key, "row-1"]:
            assert forbidden not in text, f"telemetry leaked {forbidden!r}"
        body = json.loads(text)
        assert set(body) == TOP_KEYS
        assert set(body["usage"]) == USAGE_KEYS and set(body["storage"]) == STORAGE_KEYS
        assert body["health"] == "ok" and body["schema_version"] == 1
        for v in list(body["usage"].values()) + list(body["storage"].values()):
            assert isinstance(v, int) and v >= 0
    last = json.loads(receiver.bodies[-1][2])
    assert last["usage"]["projects"] == 1 and last["usage"]["experiments"] == 1
    assert last["usage"]["orgs"] == 1 and last["usage"]["http_requests"] >= 4
    import subprocess
    version = subprocess.run([srv.binary, "version"], capture_output=True, text=True).stdout
    assert last["arbor_version"] == version.strip() and last["uptime_s"] >= 1


def test_off_by_default(tmp_path, receiver):
    data = str(tmp_path / "data")
    os.makedirs(data)
    srv = ArborServer(data_dir=data)
    srv.start()
    try:
        ok(call(srv, "POST", "/v1/project", {"name": "quiet"}))
        time.sleep(2.5)
    finally:
        srv.stop()
    assert receiver.bodies == []
    with open(srv.log_path) as f:
        assert "telemetry" not in f.read()
