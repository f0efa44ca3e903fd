"""ACL grants on every row write path: a viewer key whose ACLs make it an editor on one
project's logs, one experiment, or one kind of object writes there through OTLP over HTTP and
gRPC (the real OTel SDK exporters), Langfuse ingestion, /logs3 and its overflow form and REST
insert, and nowhere else; refused writes store nothing, and names it may not create stay
uncreated."""
import json
import uuid

import pytest
import requests
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from arbor_server import ArborServer, free_port
from blackbox_util import assert_error, describe, keep_log, read_all


@pytest.fixture(scope="module")
def srv():
    port = free_port()
    s = ArborServer(org_name="acl-writes", extra_args=["--otlp-grpc-listen", f"127.0.0.1:{port}"])
    s.grpc_port = port
    s.start()
    try:
        yield s
    finally:
        keep_log(s, "access_writes")
        s.cleanup()


def call(srv, method, path, body=None, key=None, headers=None, **kw):
    h = dict(srv.headers(key))
    h.update(headers or {})
    return requests.request(method, srv.url + path, json=body, headers=h, timeout=60, **kw)


def ok(srv, method, path, body=None, key=None, **kw):
    r = call(srv, method, path, body, key, **kw)
    assert r.status_code == 200, describe(r)
    return r.json()


@pytest.fixture(scope="module")
def world(srv):
    tag = uuid.uuid4().hex[:6]
    p1 = ok(srv, "POST", "/v1/project", {"name": f"w1-{tag}"})["id"]
    p2 = ok(srv, "POST", "/v1/project", {"name": f"w2-{tag}"})["id"]
    e1 = ok(srv, "POST", "/v1/experiment", {"project_id": p1, "name": "e1"})["id"]
    e2 = ok(srv, "POST", "/v1/experiment", {"project_id": p1, "name": "e2"})["id"]
    e3 = ok(srv, "POST", "/v1/experiment", {"project_id": p2, "name": "e3"})["id"]
    made = ok(srv, "POST", "/v1/api_key", {"name": f"viewer-{tag}", "role": "viewer"})
    return {"p1": p1, "p2": p2, "e1": e1, "e2": e2, "e3": e3, "key": made["key"],
            "vid": made["id"], "tag": tag}


def spans(name):
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("acl").start_as_current_span(name):
        pass
    provider.shutdown()
    return memory.get_finished_spans()


def otlp_http(srv, key, parent, name):
    exporter = HttpSpanExporter(endpoint=srv.url + "/otel/v1/traces",
                                headers={"Authorization": f"Bearer {key}", "x-bt-parent": parent})
    result = exporter.export(spans(name))
    exporter.shutdown()
    return result


def otlp_grpc(srv, key, parent, name):
    exporter = GrpcSpanExporter(endpoint=f"127.0.0.1:{srv.grpc_port}", insecure=True,
                                headers=(("authorization", f"Bearer {key}"),
                                         ("x-bt-parent", parent)))
    result = exporter.export(spans(name))
    exporter.shutdown()
    return result


def langfuse(srv, key, parent, name):
    batch = {"batch": [{"id": uuid.uuid4().hex, "timestamp": "2026-01-02T03:04:05.000Z",
                        "type": "trace-create", "body": {"id": uuid.uuid4().hex, "name": name}}]}
    return call(srv, "POST", "/api/public/ingestion", batch, key=key,
                headers={"x-bt-parent": parent})


def overflow(srv, key, row):
    """The SDK's path for big payloads: ask for an upload URL, PUT the rows, send a reference."""
    up = call(srv, "POST", "/logs3/overflow", {"size_bytes": 100}, key=key)
    if up.status_code != 200:
        return up
    up = up.json()
    put = requests.put(up["signedUrl"], data=json.dumps({"rows": [row]}),
                       headers=up["headers"], timeout=60)
    assert put.status_code == 200, describe(put)
    return call(srv, "POST", "/logs3", {"rows": {"type": "logs3_overflow_reference",
                                                 "key": up["key"]}}, key=key)


def names(srv, source, obj):
    return sorted(r.get("span_attributes", {}).get("name") or r.get("input") or ""
                  for r in read_all(srv.url, srv.api_key, source, obj))


def grant(srv, world, object_type, object_id, restrict=None):
    body = {"object_type": object_type, "object_id": object_id, "user_id": world["vid"],
            "permission": "update"}
    if restrict:
        body["restrict_object_type"] = restrict
    return ok(srv, "POST", "/v1/acl", body)["id"]


def test_without_grants_every_row_path_refuses_and_writes_nothing(srv, world):
    key, p1 = world["key"], world["p1"]
    parent = f"project_id:{p1}"
    assert otlp_http(srv, key, parent, "denied-http") == SpanExportResult.FAILURE
    assert otlp_grpc(srv, key, parent, "denied-grpc") == SpanExportResult.FAILURE
    assert_error(langfuse(srv, key, parent, "denied-langfuse"), [403])
    assert_error(overflow(srv, key, {"project_id": p1, "log_id": "g", "input": "denied"}), [403])
    assert_error(call(srv, "POST", "/logs3", {"rows": [{"project_id": p1, "log_id": "g",
                                                        "input": "denied"}]}, key=key), [403])
    assert names(srv, "project_logs", p1) == []


def test_a_grant_on_one_projects_logs(srv, world):
    key, p1, p2 = world["key"], world["p1"], world["p2"]
    acl = grant(srv, world, "project", p1, restrict="project_log")
    parent = f"project_id:{p1}"
    assert otlp_http(srv, key, parent, "via-http") == SpanExportResult.SUCCESS
    assert otlp_grpc(srv, key, parent, "via-grpc") == SpanExportResult.SUCCESS
    r = langfuse(srv, key, parent, "via-langfuse")
    assert r.status_code == 207 and len(r.json()["successes"]) == 1, describe(r)
    r = overflow(srv, key, {"project_id": p1, "log_id": "g", "input": "via-overflow"})
    assert r.status_code == 200, describe(r)
    assert names(srv, "project_logs", p1) == ["via-grpc", "via-http", "via-langfuse",
                                              "via-overflow"]
    # Not the other project's logs, not the experiments of this one (the grant names logs).
    assert otlp_http(srv, key, f"project_id:{p2}", "elsewhere") == SpanExportResult.FAILURE
    assert otlp_grpc(srv, key, f"experiment_id:{world['e1']}", "exp") == SpanExportResult.FAILURE
    assert_error(call(srv, "POST", f"/v1/experiment/{world['e1']}/insert",
                      {"events": [{"input": "exp"}]}, key=key), [403])
    # A mixed request is refused whole.
    assert_error(call(srv, "POST", "/logs3", {"rows": [
        {"project_id": p1, "log_id": "g", "input": "mixed-ok"},
        {"project_id": p2, "log_id": "g", "input": "mixed-no"}]}, key=key), [403])
    assert names(srv, "project_logs", p2) == []
    assert "mixed-ok" not in names(srv, "project_logs", p1)
    # A grant does not let the caller create projects by name.
    new_name = f"not-created-{world['tag']}"
    assert otlp_http(srv, key, f"project_name:{new_name}", "x") == SpanExportResult.FAILURE
    assert_error(langfuse(srv, key, f"project_name:{new_name}", "x"), [403, 404])
    listed = ok(srv, "GET", "/v1/project", params={"project_name": new_name})["objects"]
    assert listed == []
    ok(srv, "DELETE", f"/v1/acl/{acl}")
    assert otlp_http(srv, key, parent, "after-revoke") == SpanExportResult.FAILURE


def test_a_grant_on_one_experiment(srv, world):
    key, e1, e2 = world["key"], world["e1"], world["e2"]
    acl = grant(srv, world, "experiment", e1)
    insert = lambda e, text: call(srv, "POST", f"/v1/experiment/{e}/insert",  # noqa: E731
                                  {"events": [{"input": text}]}, key=key)
    assert insert(e1, "one").status_code == 200
    assert otlp_grpc(srv, key, f"experiment_id:{e1}", "grpc-one") == SpanExportResult.SUCCESS
    assert ok(srv, "PATCH", f"/v1/experiment/{e1}", {"description": "mine"},
              key=key)["description"] == "mine"
    assert_error(insert(e2, "two"), [403])
    assert_error(call(srv, "PATCH", f"/v1/experiment/{e2}", {"description": "no"}, key=key), [403])
    assert_error(call(srv, "PATCH", f"/v1/project/{world['p1']}", {"description": "no"},
                      key=key), [403])
    assert names(srv, "experiment", e1) == ["grpc-one", "one"]
    assert names(srv, "experiment", e2) == []
    ok(srv, "DELETE", f"/v1/acl/{acl}")
    assert_error(insert(e1, "revoked"), [403])


def test_a_grant_restricted_to_experiments_of_a_project(srv, world):
    key, p2, e3 = world["key"], world["p2"], world["e3"]
    acl = grant(srv, world, "project", p2, restrict="experiment")
    assert call(srv, "POST", f"/v1/experiment/{e3}/insert", {"events": [{"input": "e3"}]},
                key=key).status_code == 200
    made = ok(srv, "POST", "/v1/experiment", {"project_id": p2, "name": "by-viewer"}, key=key)
    assert made["project_id"] == p2
    assert_error(call(srv, "POST", "/v1/dataset", {"project_id": p2, "name": "ds"}, key=key), [403])
    assert otlp_http(srv, key, f"project_id:{p2}", "logs") == SpanExportResult.FAILURE
    assert_error(call(srv, "PATCH", f"/v1/project/{p2}", {"description": "no"}, key=key), [403])
    assert names(srv, "experiment", e3) == ["e3"]
    assert names(srv, "project_logs", p2) == []
    ok(srv, "DELETE", f"/v1/acl/{acl}")
