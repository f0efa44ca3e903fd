"""Operations and hardening: Prometheus /metrics (token-protected, parsed with the Prometheus
client's own parser, counters that move), the audit log (events for key, secret and sign-in
actions, no secret values, org isolation, filters and cursor), per-key rate limits (429 with
Retry-After, then recovery), query time and row budgets, structured JSON logs without secrets,
and HTTPS with a certificate made by the openssl CLI (requests and the real braintrust SDK)."""
import json
import os
import subprocess
import sys
import tempfile
import time

import certifi
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from arbor_server import ArborServer
from blackbox_util import assert_error, describe

METRICS_TOKEN = "metrics-" + os.urandom(16).hex()
PLANTED = "sk-planted-" + os.urandom(16).hex()  # an AI secret value that must never leak


def token_file(directory):
    path = os.path.join(directory, "metrics.token")
    with open(path, "w") as f:
        f.write(METRICS_TOKEN + "\n")
    return path


@pytest.fixture(scope="module")
def srv():
    tmp = tempfile.mkdtemp(prefix="arbor-ops-")
    s = ArborServer(org_name="ops-org", extra_args=[
        "--metrics-token-file", token_file(tmp), "--audit-reads", "on", "--log-format", "json"])
    s.start()
    yield s
    s.cleanup()


def scrape(s, token=METRICS_TOKEN):
    r = requests.get(s.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    samples = {}
    for f in families.values():
        for sample in f.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return families, samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def project(s, name):
    r = s.post("/v1/project", {"name": name})
    assert r.status_code == 200, describe(r)
    return r.json()["id"]


def insert_logs(s, pid, n, key=None, batch=5000):
    for start in range(0, n, batch):
        events = [{"id": f"row-{i}", "input": f"question {i}", "output": i}
                  for i in range(start, min(n, start + batch))]
        r = s.post(f"/v1/project_logs/{pid}/insert", {"events": events}, key=key, timeout=120)
        assert r.status_code == 200, describe(r)


def audit(s, key=None, **params):
    r = s.get("/v1/audit_log", key=key, params=params)
    assert r.status_code == 200, describe(r)
    return r.json()


# --- /metrics -------------------------------------------------------------------------------

def test_metrics_need_the_metrics_token(srv):
    assert_error(requests.get(srv.url + "/metrics", timeout=10), [401])
    # An org's API key is not enough: the numbers span every org.
    assert_error(srv.get("/metrics"), [401])
    assert_error(requests.get(srv.url + "/metrics", timeout=10,
                              headers={"Authorization": "Bearer " + METRICS_TOKEN[:-1] + "x"}),
                 [401])
    scrape(srv)


def test_metrics_closed_without_a_configured_token():
    s = ArborServer(org_name="ops-nometrics")
    s.start()
    try:
        assert_error(requests.get(s.url + "/metrics", timeout=10), [401])
        assert_error(s.get("/metrics"), [401])
        assert_error(requests.get(s.url + "/metrics", timeout=10,
                                  headers={"Authorization": "Bearer "}), [401])
    finally:
        s.cleanup()


def test_metrics_parse_and_move_after_ingest(srv):
    pid = project(srv, "metrics-p")
    _, before = scrape(srv)
    insert_logs(srv, pid, 25)
    q = srv.post("/btql", {"query": f"from: project_logs('{pid}') | select: id | limit: 5"})
    assert q.status_code == 200, describe(q)
    families, after = scrape(srv)

    for name in ["arbor_ingest_rows", "arbor_ingest_bytes", "arbor_http_request_duration_seconds",
                 "arbor_wal_fsync_duration_seconds", "arbor_memtable_bytes", "arbor_segments",
                 "arbor_segment_bytes", "arbor_compaction_backlog_segments",
                 "arbor_segment_garbage_versions",
                 "arbor_indexing_lag_seconds", "arbor_query_duration_seconds",
                 "arbor_block_cache_hits", "arbor_block_cache_misses",
                 "process_resident_memory_bytes", "process_start_time_seconds",
                 "arbor_uptime_seconds"]:
        assert name in families, f"{name} missing from /metrics: {sorted(families)}"
    assert families["arbor_http_request_duration_seconds"].type == "histogram"
    assert families["arbor_ingest_rows"].type == "counter"

    assert value(after, "arbor_ingest_rows_total") - value(before, "arbor_ingest_rows_total") == 25
    assert value(after, "arbor_ingest_bytes_total") > value(before, "arbor_ingest_bytes_total")
    assert (value(after, "arbor_wal_fsync_duration_seconds_count")
            > value(before, "arbor_wal_fsync_duration_seconds_count"))
    route = {"route": "/v1/{}/{}/insert", "method": "POST", "code": "2xx"}
    assert (value(after, "arbor_http_request_duration_seconds_count", **route)
            - value(before, "arbor_http_request_duration_seconds_count", **route)) == 1
    assert value(after, "arbor_query_duration_seconds_count", route="/btql") >= 1
    assert value(after, "arbor_memtable_bytes") > 0  # nothing flushed yet at 64 MiB
    assert value(after, "arbor_indexing_lag_seconds") >= 0
    assert value(after, "process_resident_memory_bytes") > 1e6
    assert value(after, "arbor_uptime_seconds") > 0
    # Unknown paths share one series instead of one per path.
    srv.get("/no/such/path/" + os.urandom(4).hex())
    _, last = scrape(srv)
    assert value(last, "arbor_http_request_duration_seconds_count",
                 route="unmatched", method="GET", code="4xx") >= 1
    assert not any("no/such/path" in str(k) for k in last)


# --- audit log ------------------------------------------------------------------------------

def test_audit_events_for_keys_and_secrets_without_values(srv):
    made = srv.post("/v1/api_key", {"name": "audited"}).json()
    gone = requests.delete(f"{srv.url}/v1/api_key/{made['id']}", headers=srv.headers(),
                           timeout=30)
    assert gone.status_code == 200, describe(gone)
    sec = srv.post("/v1/ai_secret", {"name": "AUDITED_KEY", "secret": PLANTED}).json()
    assert srv.get(f"/v1/ai_secret/{sec['id']}").status_code == 200

    body = audit(srv)
    events = body["objects"]
    text = json.dumps(body)
    assert PLANTED not in text and made["key"] not in text and srv.api_key not in text
    by_action = {}
    for e in events:
        by_action.setdefault(e["action"], []).append(e)
    create = by_action["api_key.create"][0]
    assert create["target"] == {"type": "api_key", "id": made["id"]}
    assert create["outcome"] == "ok" and create["actor"]["type"] == "api_key"
    assert create["actor"]["id"] and create["client_ip"] == "127.0.0.1" and create["request_id"]
    assert by_action["api_key.revoke"][0]["target"]["id"] == made["id"]
    assert by_action["ai_secret.create"][0]["target"]["id"] == sec["id"]
    assert by_action["ai_secret.read"][0]["target"]["id"] == sec["id"]
    # Key use is recorded at most once a minute per key, not per request.
    assert 1 <= len(by_action["api_key.use"]) <= 2
    # Newest first.
    seqs = [int(e["id"]) for e in events]
    assert seqs == sorted(seqs, reverse=True)


def test_audit_request_id_matches_response_header(srv):
    r = requests.delete(f"{srv.url}/v1/api_key/00000000-0000-4000-8000-000000000000",
                        headers={**srv.headers(), "X-Request-Id": "req-ops-test-1"}, timeout=30)
    assert r.status_code == 404 and r.headers["X-Request-Id"] == "req-ops-test-1"
    e = audit(srv, action="api_key.revoke", limit=1)["objects"][0]
    assert e["request_id"] == "req-ops-test-1" and e["outcome"] == "error"


def test_audit_reads_when_enabled(srv):
    pid = project(srv, "reads-p")
    insert_logs(srv, pid, 3)
    assert srv.post(f"/v1/project_logs/{pid}/fetch", {"limit": 2}).status_code == 200
    fetches = audit(srv, action="query.fetch")["objects"]
    assert fetches and fetches[0]["target"] == {"type": "project_logs", "id": pid}
    assert srv.post("/btql", {"query": f"from: project_logs('{pid}') | select: id"}).ok
    assert audit(srv, action="query.*")["objects"][0]["action"] == "query.btql"


def test_audit_filters_and_cursor(srv):
    for i in range(3):
        assert srv.post("/v1/api_key", {"name": f"page-{i}"}).status_code == 200
    seen = []
    cursor = None
    for _ in range(10):
        params = {"action": "api_key.create", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = audit(srv, **params)
        seen += [e["id"] for e in page["objects"]]
        assert all(e["action"] == "api_key.create" for e in page["objects"])
        cursor = page["cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 4
    assert all(e["action"].startswith("api_key.") for e in audit(srv, action="api_key.*")["objects"])
    future = audit(srv, since="2100-01-01T00:00:00Z")["objects"]
    assert future == []
    assert audit(srv, since=str(int(time.time()) - 3600))["objects"]
    some = audit(srv)["objects"][0]
    mine = audit(srv, actor=some["actor"]["id"])["objects"]
    assert mine and all(some["actor"]["id"] in (e["actor"]["id"], e["actor"]["user_id"])
                        for e in mine)
    for bad in [{"limit": "0"}, {"limit": "5000"}, {"limit": "x"}, {"cursor": "abc"},
                {"since": "yesterday"}]:
        assert_error(srv.get("/v1/audit_log", params=bad), [400], str(bad))
    assert_error(requests.get(srv.url + "/v1/audit_log", timeout=10), [401])


def test_audit_log_is_org_scoped(srv):
    other_key = srv.create_org("ops-other-" + os.urandom(3).hex())
    assert srv.post("/v1/api_key", {"name": "org-a-only"}).status_code == 200
    theirs = audit(srv, key=other_key)["objects"]
    mine = audit(srv)["objects"]
    assert mine
    org_a = mine[0]["org_id"]
    assert all(e["org_id"] != org_a for e in theirs), theirs
    assert {e["id"] for e in theirs}.isdisjoint({e["id"] for e in mine})
    # A cursor from org A's listing still only pages through org B's events.
    paged = audit(srv, key=other_key, cursor=str(int(mine[0]["id"]) + 1))["objects"]
    assert all(e["org_id"] != org_a for e in paged)


def test_login_failure_is_audited(srv):
    email = f"ops-{os.urandom(4).hex()}@example.com"
    made = srv.post("/v1/user", {"email": email, "password": "correct horse battery staple",
                                 "role": "editor"})
    if made.status_code == 404:
        pytest.fail("POST /v1/user is not available: " + describe(made))
    assert made.status_code == 200, describe(made)
    wrong = "wrong-password-" + os.urandom(6).hex()
    bad = requests.post(srv.url + "/api/auth/login", json={"email": email, "password": wrong},
                        timeout=30)
    assert bad.status_code in (400, 401, 403), describe(bad)
    events = audit(srv, action="user.login_failed")["objects"]
    assert events, "no user.login_failed event"
    assert events[0]["actor"]["type"] == "user" and events[0]["outcome"] in ("denied", "error")
    assert wrong not in json.dumps(audit(srv))


# --- structured logs ------------------------------------------------------------------------

def test_json_logs_parse_and_hold_no_secrets(srv):
    sec = srv.post("/v1/ai_secret", {"name": "LOGGED_KEY", "secret": PLANTED})
    assert sec.status_code == 200, describe(sec)
    requests.get(srv.url + "/v1/project", headers={"Authorization": "Bearer arb_wrong_" + PLANTED},
                 timeout=10)
    requests.get(srv.url + "/v1/project", headers={"X-Request-Id": "log-check-42",
                                                   **srv.headers()}, timeout=10)
    time.sleep(0.2)
    with open(srv.log_path, encoding="utf-8") as f:
        text = f.read()
    assert PLANTED not in text and srv.api_key not in text and METRICS_TOKEN not in text
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests_logged = [r for r in records if r.get("msg") == "request"]
    assert len(requests_logged) >= 10
    for r in records:
        assert {"ts", "level", "msg"} <= set(r), r
    tagged = [r for r in requests_logged if r.get("request_id") == "log-check-42"]
    assert len(tagged) == 1, tagged
    t = tagged[0]
    assert t["method"] == "GET" and t["route"] == "/v1/project" and t["status"] == 200
    assert isinstance(t["duration_ms"], (int, float)) and t["org_id"] and t["key_id"]
    assert any(r.get("status") == 401 for r in requests_logged)


def test_text_log_format_and_bad_flags():
    s = ArborServer(org_name="ops-text", extra_args=["--log-format", "text"])
    s.start()
    try:
        s.get("/v1/project")
        time.sleep(0.2)
        with open(s.log_path, encoding="utf-8") as f:
            lines = [l for l in f.read().splitlines() if " request " in l]
        assert lines and "route=/v1/project" in lines[-1] and "status=200" in lines[-1]
    finally:
        s.cleanup()
    binary = s.binary
    for args in (["--log-format", "xml"], ["--rate-limit-rps", "-1"], ["--audit-reads", "yes"],
                 ["--tls-cert", "/nonexistent.pem"], ["--query-timeout-ms", "soon"]):
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run([binary, "serve", "--data-dir", d, "--listen", "127.0.0.1:0",
                                  *args], capture_output=True, text=True, timeout=30)
        assert out.returncode != 0, args


# --- rate limits ----------------------------------------------------------------------------

def test_rate_limit_429_then_recovers():
    s = ArborServer(org_name="ops-rl", extra_args=["--rate-limit-rps", "2",
                                                   "--rate-limit-burst", "3"])
    s.start()
    try:
        other_key = s.create_org("ops-rl-other")
        statuses = []
        limited = None
        for _ in range(10):
            r = s.get("/v1/project")
            statuses.append(r.status_code)
            if r.status_code == 429:
                limited = r
        assert statuses[:3] == [200, 200, 200], statuses
        assert limited is not None, statuses
        assert_error(limited, [429])
        assert limited.json()["error"]["code"] == "resource_exhausted"
        retry = int(limited.headers["Retry-After"])
        assert 1 <= retry <= 2
        # Another key has its own bucket.
        assert s.get("/v1/project", key=other_key).status_code == 200
        time.sleep(retry + 0.1)
        assert s.get("/v1/project").status_code == 200
    finally:
        s.cleanup()


# --- query budgets --------------------------------------------------------------------------

def test_query_timeout_gives_a_clear_error():
    s = ArborServer(org_name="ops-timeout", extra_args=["--query-timeout-ms", "1"])
    s.start()
    try:
        pid = project(s, "slow")
        insert_logs(s, pid, 20000)
        r = s.post("/btql", {"query": f"from: project_logs('{pid}') | "
                                      "filter: input ILIKE '%nothing matches this%' | sort: id"})
        assert_error(r, [504])
        err = r.json()["error"]
        assert err["code"] == "deadline_exceeded" and "time limit" in err["message"], err
        # An id lookup stays within budget.
        ok = s.post("/btql", {"query": f"from: project_logs('{pid}') | filter: id = 'row-7'"})
        assert ok.status_code == 200 and len(ok.json()["data"]) == 1, describe(ok)
    finally:
        s.cleanup()


def test_query_row_budget_gives_a_clear_error():
    s = ArborServer(org_name="ops-rows", extra_args=["--query-rows-max", "1000"])
    s.start()
    try:
        pid = project(s, "big")
        insert_logs(s, pid, 3000)
        r = s.post("/btql", {"query": f"from: project_logs('{pid}') | sort: id | limit: 10"})
        assert_error(r, [429])
        err = r.json()["error"]
        assert err["code"] == "resource_exhausted" and "memory budget" in err["message"], err
        small = s.post("/btql", {"query": f"from: project_logs('{pid}') | limit: 10"})
        assert small.status_code == 200 and len(small.json()["data"]) == 10, describe(small)
    finally:
        s.cleanup()


# --- TLS ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files():
    d = tempfile.mkdtemp(prefix="arbor-tls-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def test_https_with_a_self_signed_certificate(tls_files, monkeypatch):
    cert, key = tls_files
    # requests (the readiness poll included) trusts exactly this certificate.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    s = ArborServer(org_name="ops-tls", extra_args=["--tls-cert", cert, "--tls-key", key])
    s.url = s.url.replace("http://", "https://")
    s.start()
    try:
        r = s.get("/v1/project")
        assert r.status_code == 200, describe(r)
        assert_error(requests.get(s.url + "/v1/project", timeout=10), [401])
        # Plain HTTP on the TLS port gets no HTTP answer.
        with pytest.raises(requests.RequestException):
            requests.get(s.url.replace("https://", "http://") + "/readyz", timeout=5)
        # Without the CA the certificate is refused.
        # Against the public CA bundle instead of the test's, the certificate is refused.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(s.url + "/readyz", timeout=5, verify=certifi.where())
        curl = subprocess.run(["curl", "-sS", "--cacert", cert, "-H",
                               f"Authorization: Bearer {s.api_key}", s.url + "/v1/project"],
                              capture_output=True, text=True, timeout=30)
        assert curl.returncode == 0 and "objects" in json.loads(curl.stdout), curl.stderr

        # The real braintrust SDK over HTTPS, trusting the test CA.
        script = (
            "import braintrust\n"
            "ds = braintrust.init_dataset(project='tls-p', name='tls-d')\n"
            "ds.insert(id='tls-1', input='over tls', expected='ok')\n"
            "ds.flush()\n"
            "rows = list(braintrust.init_dataset(project='tls-p', name='tls-d'))\n"
            "assert [r['id'] for r in rows] == ['tls-1'], rows\n"
            "print('sdk-ok')\n")
        env = dict(os.environ, BRAINTRUST_APP_URL=s.url, BRAINTRUST_API_KEY=s.api_key,
                   REQUESTS_CA_BUNDLE=cert, SSL_CERT_FILE=cert, BRAINTRUST_DISABLE_ATEXIT_FLUSH="1")
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=120)
        assert "sdk-ok" in out.stdout, out.stdout + out.stderr
    finally:
        s.cleanup()
