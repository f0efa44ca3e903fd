"""Langfuse's batch ingestion API (POST /api/public/ingestion): Basic auth with an Arbor key as
the secret and the project as the user name; trace, span, generation, event and score events
into span rows of that project; a 207 multi-status answer with per-event errors; bad bodies and
bad credentials rejected with nothing written."""
import base64
import uuid

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import (TIMEOUT, assert_error, btql_body, canon, describe, keep_log, parse_key,
                           read_all)

PATH = "/api/public/ingestion"


def basic(user, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


@pytest.fixture(scope="module")
def srv():
    s = ArborServer(org_name="langfuse", extra_args=["--otlp-grpc-listen", "off"])
    s.start()
    try:
        yield s
    finally:
        keep_log(s, "langfuse_ingestion")
        s.cleanup()


def project_rows(srv, name):
    r = requests.post(srv.url + "/api/project/register", json={"project_name": name},
                      headers={"Authorization": f"Bearer {srv.api_key}"}, timeout=TIMEOUT)
    assert r.status_code == 200, describe(r)
    return read_all(srv.url, srv.api_key, "project_logs", r.json()["project"]["id"])


def ev(type_, body, id_=None):
    return {"id": id_ or uuid.uuid4().hex, "timestamp": "2026-01-02T03:04:05.000Z",
            "type": type_, "body": body}


def test_a_batch_becomes_a_trace(srv):
    project = f"lf-{uuid.uuid4().hex[:8]}"
    t, s, g = "trace-" + uuid.uuid4().hex, "span-" + uuid.uuid4().hex, "gen-" + uuid.uuid4().hex
    batch = [
        ev("trace-create", {"id": t, "name": "chat-turn", "timestamp": "2026-01-02T03:04:05.000Z",
                            "input": {"q": "hi"}, "userId": "u-1", "sessionId": "s-1",
                            "tags": ["prod"], "metadata": {"app": "demo"}}),
        ev("span-create", {"id": s, "traceId": t, "name": "retrieve",
                           "startTime": "2026-01-02T03:04:05.100Z",
                           "endTime": "2026-01-02T03:04:05.600+00:00", "output": ["doc1"]}),
        ev("generation-create", {"id": g, "traceId": t, "parentObservationId": s, "name": "llm",
                                 "startTime": "2026-01-02T03:04:06Z", "model": "gpt-4o",
                                 "input": [{"role": "user", "content": "hi"}],
                                 "usage": {"input": 10, "output": 4, "unit": "TOKENS"},
                                 "costDetails": {"input": 0.25, "output": 0.5}}),
        ev("generation-update", {"id": g, "traceId": t, "endTime": "2026-01-02T03:04:07Z",
                                 "output": {"role": "assistant", "content": "hello"}}),
        ev("event-create", {"id": "e-" + uuid.uuid4().hex, "traceId": t, "name": "cache-miss",
                            "level": "ERROR", "statusMessage": "cache down"}),
        ev("score-create", {"id": uuid.uuid4().hex, "traceId": t, "observationId": g,
                            "name": "helpful", "value": 0.5, "comment": "ok-ish"}),
        ev("score-create", {"id": uuid.uuid4().hex, "traceId": t, "name": "topic",
                            "value": "greeting", "dataType": "CATEGORICAL"}),
        ev("widget-create", {"id": "w"}, id_="bad-type"),
        ev("span-create", {"name": "no id"}, id_="bad-body"),
        ev("score-create", {"id": "x", "observationId": g, "name": "n", "value": 1}, id_="bad-score"),
    ]
    r = requests.post(srv.url + PATH, json={"batch": batch, "metadata": {"sdk_name": "test"}},
                      headers=basic(project, srv.api_key), timeout=TIMEOUT)
    assert r.status_code == 207, describe(r)
    body = r.json()
    assert [x["id"] for x in body["successes"]] == [e["id"] for e in batch[:7]]
    assert all(x["status"] == 201 for x in body["successes"])
    errors = {x["id"]: x for x in body["errors"]}
    assert set(errors) == {"bad-type", "bad-body", "bad-score"}, body
    assert all(x["status"] == 400 for x in errors.values())
    assert "widget-create" in errors["bad-type"]["message"]
    assert "traceId" in errors["bad-score"]["message"]

    rows = {x["id"]: x for x in project_rows(srv, project)}
    assert len(rows) == 4, rows
    trace, span, gen = rows[t], rows[s], rows[g]
    assert trace["span_attributes"]["name"] == "chat-turn"
    assert trace["input"] == {"q": "hi"} and trace["tags"] == ["prod"]
    assert trace["metadata"]["userId"] == "u-1" and trace["metadata"]["app"] == "demo"
    assert trace["metadata"]["evaluations"]["topic"]["value"] == "greeting"
    assert not trace.get("span_parents") and trace["root_span_id"] == t
    assert span["span_parents"] == [t] and span["root_span_id"] == t
    assert span["metrics"]["end"] - span["metrics"]["start"] == pytest.approx(0.5)
    assert span["output"] == ["doc1"]
    assert gen["span_parents"] == [s]
    assert gen["span_attributes"] == {"type": "llm", "name": "llm"}
    assert gen["input"] == [{"role": "user", "content": "hi"}]
    assert gen["output"] == {"role": "assistant", "content": "hello"}, "the update merged"
    assert gen["metrics"]["prompt_tokens"] == 10 and gen["metrics"]["tokens"] == 14
    assert gen["metrics"]["estimated_cost"] == pytest.approx(0.75)
    assert gen["metrics"]["end"] - gen["metrics"]["start"] == pytest.approx(1.0)
    assert gen["metadata"]["model"] == "gpt-4o"
    assert gen["scores"] == {"helpful": 0.5}
    assert gen["metadata"]["evaluations"]["helpful"]["comment"] == "ok-ish"
    event = next(x for x in rows.values() if x["id"].startswith("e-"))
    assert event["error"] == "cache down" and event["span_parents"] == [t]


def test_observations_before_their_trace_and_scores_before_their_span(srv):
    project = f"lf-order-{uuid.uuid4().hex[:8]}"
    t, g = uuid.uuid4().hex, uuid.uuid4().hex
    h = basic(project, srv.api_key)
    first = [ev("score-create", {"id": "s1", "traceId": t, "observationId": g, "name": "f",
                                 "value": True}),
             ev("generation-create", {"id": g, "traceId": t, "name": "llm"})]
    r = requests.post(srv.url + PATH, json={"batch": first}, headers=h, timeout=TIMEOUT)
    assert r.status_code == 207 and not r.json()["errors"], describe(r)
    r = requests.post(srv.url + PATH, json={"batch": [ev("trace-create", {"id": t, "name": "late"})]},
                      headers=h, timeout=TIMEOUT)
    assert r.status_code == 207 and not r.json()["errors"], describe(r)
    rows = {x["id"]: x for x in project_rows(srv, project)}
    assert rows[g]["scores"] == {"f": 1.0} and rows[g]["span_attributes"]["name"] == "llm"
    assert rows[t]["span_attributes"]["name"] == "late"


def test_bad_requests_write_nothing(srv):
    project = f"lf-bad-{uuid.uuid4().hex[:8]}"
    good = {"batch": [ev("trace-create", {"id": "t1", "name": "x"})]}
    cases = [
        (400, b"not json", basic(project, srv.api_key)),
        (400, b'{"batch": {}}', basic(project, srv.api_key)),
        (400, b'[1, 2]', basic(project, srv.api_key)),
        (401, None, {}),
        (401, None, basic(project, "arb_" + "0" * 48)),
        (401, None, {"Authorization": "Basic !!!not-base64"}),
        (400, None, {**basic(project, srv.api_key), "x-bt-parent": "project_id:nope"}),
        (404, None, {**basic(project, srv.api_key),
                     "x-bt-parent": f"project_id:{uuid.uuid4()}"}),
    ]
    import json as _json
    for status, data, headers in cases:
        payload = data if data is not None else _json.dumps(good).encode()
        r = requests.post(srv.url + PATH, data=payload,
                          headers={"Content-Type": "application/json", **headers}, timeout=TIMEOUT)
        assert_error(r, status, f"langfuse {headers} {payload[:40]!r}")
    assert canon(project_rows(srv, project)) == []
    # Through x-bt-parent the same batch lands in an experiment instead.
    reg = requests.post(srv.url + "/api/experiment/register",
                        json={"project_name": project, "experiment_name": "lf"},
                        headers={"Authorization": f"Bearer {srv.api_key}"}, timeout=TIMEOUT).json()
    r = requests.post(srv.url + PATH, json=good, timeout=TIMEOUT,
                      headers={**basic("anything", srv.api_key),
                               "x-bt-parent": f"experiment_id:{reg['experiment']['id']}"})
    assert r.status_code == 207, describe(r)
    exp = read_all(srv.url, srv.api_key, "experiment", reg["experiment"]["id"])
    assert [x["id"] for x in exp] == ["t1"]


@pytest.fixture(scope="module")
def two_orgs():
    """A server with org A (the bootstrap key) and org B (made offline by `arbor orgs create`)."""
    s = ArborServer(org_name="langfuse-a", extra_args=["--otlp-grpc-listen", "off"])
    s.start()
    s.stop()
    key_b = parse_key(s.create_org("langfuse-b"))
    s.start()
    try:
        yield s, key_b
    finally:
        keep_log(s, "langfuse_two_orgs")
        s.cleanup()


def test_other_org_cannot_write_into_or_score_a_project(two_orgs):
    srv, key_b = two_orgs
    name = f"lf-iso-{uuid.uuid4().hex[:8]}"
    t, g = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    r = requests.post(srv.url + PATH, headers=basic(name, srv.api_key), timeout=TIMEOUT, json={
        "batch": [ev("trace-create", {"id": t, "name": "a-trace", "input": "a's question"}),
                  ev("generation-create", {"id": g, "traceId": t, "name": "a-llm",
                                           "output": "a's answer"})]})
    assert r.status_code == 207 and not r.json()["errors"], describe(r)
    reg = requests.post(srv.url + "/api/project/register", json={"project_name": name},
                        headers={"Authorization": f"Bearer {srv.api_key}"}, timeout=TIMEOUT)
    project_a = reg.json()["project"]["id"]
    before = canon(read_all(srv.url, srv.api_key, "project_logs", project_a))
    assert len(before) == 2

    to_a = {"x-bt-parent": f"project_id:{project_a}"}
    overwrite = {"batch": [ev("trace-update", {"id": t, "name": "hijacked", "output": "b's"}),
                           ev("score-create", {"id": "s-b", "traceId": t, "observationId": g,
                                               "name": "b_score", "value": 0})]}
    # B names A's project by id: refused as if it did not exist, on every Langfuse route.
    r = requests.post(srv.url + PATH, json=overwrite, headers={**basic(name, key_b), **to_a},
                      timeout=TIMEOUT)
    assert_error(r, 404, "org B's ingestion into org A's project")
    r = requests.post(srv.url + "/api/public/scores", headers={**basic(name, key_b), **to_a},
                      json=[{"traceId": t, "observationId": g, "name": "b_score", "value": 0}],
                      timeout=TIMEOUT)
    assert_error(r, 404, "org B's scores on org A's span")
    span = {"traceId": t, "spanId": g, "name": "hijacked", "startTimeUnixNano": "1",
            "endTimeUnixNano": "2",
            "attributes": [{"key": "langfuse.observation.output",
                            "value": {"stringValue": "b's"}}]}
    otlp = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    r = requests.post(srv.url + "/api/public/otel/v1/traces", json=otlp,
                      headers={**basic(name, key_b), **to_a}, timeout=TIMEOUT)
    assert_error(r, 404, "org B's OTLP spans into org A's project")
    # B without x-bt-parent, with A's project name as the Langfuse public key: the name resolves
    # in B's own org, so B writes and scores a project of its own with the same name.
    for path, body, ok in [(PATH, overwrite, 207),
                           ("/api/public/scores",
                            [{"traceId": t, "observationId": g, "name": "b_score", "value": 0}], 202),
                           ("/api/public/otel/v1/traces", otlp, 200)]:
        r = requests.post(srv.url + path, json=body, headers=basic(name, key_b), timeout=TIMEOUT)
        assert r.status_code == ok, describe(r)
    reg_b = requests.post(srv.url + "/api/project/register", json={"project_name": name},
                          headers={"Authorization": f"Bearer {key_b}"}, timeout=TIMEOUT)
    project_b = reg_b.json()["project"]["id"]
    assert project_b != project_a
    rows_b = {x["id"]: x for x in read_all(srv.url, key_b, "project_logs", project_b)}
    assert rows_b[t]["span_attributes"]["name"] == "hijacked"
    assert rows_b[g]["scores"] == {"b_score": 0}
    # A's rows are exactly as A wrote them, and B cannot read them.
    after = read_all(srv.url, srv.api_key, "project_logs", project_a)
    assert canon(after) == before
    assert all("b_score" not in (x.get("scores") or {}) for x in after)
    r = requests.post(srv.url + "/btql", json=btql_body("project_logs", project_a),
                      headers={"Authorization": f"Bearer {key_b}"}, timeout=TIMEOUT)
    assert r.status_code in (403, 404), describe(r)
