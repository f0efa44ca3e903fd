"""OTLP ingest (/otel/v1/traces, /otel/v1/logs and the /v1 aliases) given bad input: wrong
content types and encodings, truncated protobuf, mistyped JSON, oversize and zip-bomb bodies,
missing auth, unroutable spans, other orgs' objects. Each is an exact status with the JSON error
envelope, and nothing is written (every object of both orgs is read back through /btql). Also
partial_success: a batch with some unusable spans writes exactly the usable ones."""
import gzip
import json
import struct

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import (TIMEOUT, assert_error, auth, canon, describe, keep_log, parse_key,
                           read_all, register_objects)

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"
PATHS = ["/otel/v1/traces", "/v1/traces", "/otel/v1/logs", "/v1/logs"]


# A minimal protobuf writer: the requests are spelled field by field.
def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def ln(field, data):
    data = data.encode() if isinstance(data, str) else data
    return varint((field << 3) | 2) + varint(len(data)) + data


def fixed64(field, n):
    return varint((field << 3) | 1) + struct.pack("<Q", n)


def kv(field, key, text):
    return ln(field, ln(1, key) + ln(2, ln(1, text)))


def pb_traces(span_id=SPAN):
    span = (ln(1, bytes.fromhex(TRACE)) + ln(2, bytes.fromhex(span_id)) + ln(5, "pb-span") +
            fixed64(7, 1_700_000_000_000_000_000) + fixed64(8, 1_700_000_001_000_000_000) +
            kv(9, "braintrust.output_json", '"ok"'))
    return ln(1, ln(2, ln(2, span)))


def pb_logs():
    record = (fixed64(1, 1_700_000_000_000_000_000) + ln(5, ln(1, "a log line")) +
              ln(9, bytes.fromhex(TRACE)) + ln(10, bytes.fromhex(SPAN)))
    return ln(1, ln(2, ln(2, record)))


def json_traces(*spans):
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]})


def json_logs(*records):
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": list(records)}]}]})


GOOD_SPAN = {"traceId": TRACE, "spanId": SPAN, "name": "good"}


class Env:
    def __init__(self, srv, key_b, a, b):
        self.srv, self.url, self.key_a, self.key_b, self.a, self.b = srv, srv.url, srv.api_key, key_b, a, b

    def snapshot(self):
        out = {}
        for org, key, ids in (("A", self.key_a, self.a), ("B", self.key_b, self.b)):
            out[f"{org}.logs"] = canon(read_all(self.url, key, "project_logs", ids["project_id"]))
            out[f"{org}.exp"] = canon(read_all(self.url, key, "experiment", ids["experiment_id"]))
        return out

    def post(self, path, data, content_type="application/json", key=None, parent=None, extra=None):
        headers = dict(auth(key or self.key_a))
        headers["Content-Type"] = content_type
        headers["x-bt-parent"] = parent if parent is not None else f"project_id:{self.a['project_id']}"
        if parent == "":
            del headers["x-bt-parent"]
        headers.update(extra or {})
        return requests.post(self.url + path, data=data, headers=headers, timeout=TIMEOUT)

    def rejected(self, resp, status, what, message=None):
        """The exact error and JSON envelope, and nothing written."""
        assert_error(resp, status, what)
        if message is not None:
            assert message in resp.json()["error"]["message"], f"{what}\n" + describe(resp)
        now = self.snapshot()
        assert now == self.baseline, f"{what}: a rejected request changed stored rows"


@pytest.fixture(scope="module")
def env():
    srv = ArborServer(org_name="otel-a", extra_args=["--otlp-grpc-listen", "off"])
    try:
        srv.start()
        srv.stop()
        key_b = parse_key(srv.create_org("otel-b"))
        srv.start()
        a = register_objects(srv, srv.api_key, "otel-bad-a")
        b = register_objects(srv, key_b, "otel-bad-b")
        e = Env(srv, key_b, a, b)
        yield e
    finally:
        keep_log(srv, "otel_bad_input")
        srv.cleanup()


@pytest.fixture(autouse=True)
def _baseline(env):
    env.baseline = env.snapshot()
    yield


@pytest.mark.parametrize("path", PATHS)
def test_wrong_content_type_and_encoding(env, path):
    body = json_logs({"body": {"stringValue": "x"}}) if "logs" in path else json_traces(GOOD_SPAN)
    for ct in ("text/plain", "application/xml", "", "application/grpc"):
        env.rejected(env.post(path, body, content_type=ct), 415, f"{path} Content-Type {ct!r}",
                     "Content-Type")
    env.rejected(env.post(path, body, extra={"Content-Encoding": "br"}), 415, f"{path} br",
                 "Content-Encoding")
    env.rejected(env.post(path, b"not gzip at all", extra={"Content-Encoding": "gzip"}), 400,
                 f"{path} corrupt gzip", "gzip")
    env.rejected(env.post(path, gzip.compress(body.encode())[:-9],
                          extra={"Content-Encoding": "gzip"}), 400, f"{path} truncated gzip", "gzip")


@pytest.mark.parametrize("path,body", [("/otel/v1/traces", pb_traces()), ("/v1/logs", pb_logs())])
def test_every_truncation_of_a_protobuf_request(env, path, body):
    # Cut inside the outer messages: each prefix is malformed and must fail as a whole.
    for n in range(1, len(body)):
        r = env.post(path, body[:n], content_type="application/x-protobuf")
        assert_error(r, 400, f"{path} prefix {n}")
        assert "protobuf" in r.json()["error"]["message"], describe(r)
    assert env.snapshot() == env.baseline
    # The whole request is accepted (and so are the prefixes above not, for the right reason).
    ok = env.post(path, body, content_type="application/x-protobuf")
    assert ok.status_code == 200, describe(ok)
    assert ok.headers["Content-Type"].startswith("application/x-protobuf")
    assert ok.content == b"", "an empty Export*ServiceResponse is zero bytes"


@pytest.mark.parametrize("body", [
    "{",
    "[]",
    '{"resourceSpans": {}}',
    json_traces({**GOOD_SPAN, "startTimeUnixNano": "soon"}),
    json_traces({**GOOD_SPAN, "attributes": {"a": "b"}}),
    json_traces({**GOOD_SPAN, "attributes": [{"key": "a", "value": {"intValue": "1.5"}}]}),
    json_traces({**GOOD_SPAN, "name": 7}),
    json_traces({**GOOD_SPAN, "status": {"code": "LOUD"}}),
    json_traces(GOOD_SPAN, "not a span"),
])
def test_mistyped_trace_json(env, body):
    env.rejected(env.post("/otel/v1/traces", body), 400, f"traces {body[:80]}")


@pytest.mark.parametrize("body", [
    '{"resourceLogs": [{"scopeLogs": {}}]}',
    json_logs({"timeUnixNano": -1}),
    json_logs({"severityNumber": "SEVERITY_NUMBER_LOUD"}),
    json_logs({"body": "plain string, not an AnyValue"}),
    json_logs({"attributes": [{"value": {"stringValue": "no key"}}]}),
    json_logs({"eventName": ["x"]}),
    json_logs({"traceId": 12}),
])
def test_mistyped_logs_json(env, body):
    env.rejected(env.post("/otel/v1/logs", body), 400, f"logs {body[:80]}")


def test_logs_posted_to_the_traces_endpoint(env):
    # ResourceLogs and ResourceSpans share field numbers: a logs export either fails to decode
    # as spans (here: LogRecord.time_unix_nano sits where Span.trace_id is) or decodes into
    # spans without ids, which are all rejected.
    env.rejected(env.post("/v1/traces", pb_logs(), content_type="application/x-protobuf"), 400,
                 "logs protobuf on /v1/traces")
    no_time = ln(1, ln(2, ln(2, ln(5, ln(1, "a log line")))))
    env.rejected(env.post("/v1/traces", no_time, content_type="application/x-protobuf"), 400,
                 "id-less logs protobuf on /v1/traces", "traceId")


def test_oversize_bodies(env):
    bomb = gzip.compress(b"\0" * ((64 << 20) + 1024), compresslevel=9)
    env.rejected(env.post("/otel/v1/traces", bomb, extra={"Content-Encoding": "gzip"}), 413,
                 "gzip bomb", "inflates")
    env.rejected(env.post("/otel/v1/logs", b" " * ((64 << 20) + 1)), 413, "body over 64 MiB")


def test_auth_and_isolation(env):
    body = json_traces(GOOD_SPAN)
    for path in PATHS:
        r = requests.post(env.url + path, data=body, timeout=TIMEOUT,
                          headers={"Content-Type": "application/json",
                                   "x-bt-parent": f"project_id:{env.a['project_id']}"})
        env.rejected(r, 401, f"{path} without a key")
        env.rejected(env.post(path, body, key="arb_" + "0" * 48), 401, f"{path} wrong key")
    # Org B names org A's objects: not found, nothing written anywhere.
    env.rejected(env.post("/otel/v1/traces", body, key=env.key_b), 404, "org B -> A's project")
    env.rejected(env.post("/otel/v1/traces", body, key=env.key_b,
                          parent=f"experiment_id:{env.a['experiment_id']}"), 404,
                 "org B -> A's experiment")
    log = json_logs({"body": {"stringValue": "x"}})
    env.rejected(env.post("/otel/v1/logs", log, key=env.key_b), 404, "org B logs -> A's project")


def test_unroutable_spans(env):
    body = json_traces(GOOD_SPAN)
    env.rejected(env.post("/otel/v1/traces", body, parent=""), 400, "no parent", "x-bt-parent")
    env.rejected(env.post("/otel/v1/traces", body, parent="project_id:not-a-uuid"), 400,
                 "bad project id", "UUID")
    env.rejected(env.post("/otel/v1/traces", body, parent="bogus:1"), 400, "bad parent",
                 "unsupported parent")
    two_bad = json_traces({"traceId": "xyz", "spanId": SPAN}, {"spanId": SPAN})
    env.rejected(env.post("/otel/v1/traces", two_bad), 400, "every span unusable",
                 "all 2 rejected")
    evaluation = json_logs({"eventName": "gen_ai.evaluation.result", "attributes": [
        {"key": "gen_ai.evaluation.name", "value": {"stringValue": "x"}},
        {"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": 1}}]})
    env.rejected(env.post("/otel/v1/logs", evaluation), 400, "evaluation without a span",
                 "spanId")


def test_partial_success_writes_only_the_usable_spans(env):
    body = json_traces(
        {"traceId": TRACE, "spanId": "1111111111111111", "name": "kept"},
        {"traceId": TRACE, "spanId": "22", "name": "short id"},
        {"traceId": TRACE, "spanId": "3333333333333333", "name": "bad parent attr",
         "attributes": [{"key": "braintrust.parent", "value": {"stringValue": "nope"}}]})
    r = env.post("/otel/v1/traces", body)
    assert r.status_code == 200, describe(r)
    partial = r.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 2, describe(r)
    assert "2 spans rejected" in partial["errorMessage"], describe(r)
    rows = read_all(env.url, env.key_a, "project_logs", env.a["project_id"])
    added = [x for x in rows if json.dumps(x, sort_keys=True) not in env.baseline["A.logs"]]
    assert [x["id"] for x in added] == ["1111111111111111"], added
    # Protobuf answers partial_success in protobuf: field 1 {1: rejected, 2: message}.
    pb = pb_traces() + pb_traces("00")
    r = env.post("/v1/traces", pb, content_type="application/x-protobuf")
    assert r.status_code == 200, describe(r)
    assert r.content[:1] == b"\x0a" and b"\x08\x01\x12" in r.content, r.content
    assert b"1 spans rejected" in r.content


def test_an_explicit_grpc_address_that_is_taken_stops_the_server():
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        srv = ArborServer(extra_args=["--otlp-grpc-listen", f"127.0.0.1:{port}"])
        try:
            with pytest.raises(RuntimeError, match="exited"):
                srv.start(timeout_s=10)
            with open(srv.log_path) as f:
                assert "cannot serve OTLP/gRPC" in f.read()
        finally:
            srv.cleanup()
