"""/btql over HTTP: text queries (pipe and SQL), shapes, aggregation, and errors with positions."""
import pytest

from arbor_server import ArborServer
from blackbox_util import assert_error, describe


@pytest.fixture(scope="module")
def env():
    s = ArborServer(org_name="btql-org")
    s.start()
    pid = s.post("/api/project/register", {"project_name": "btql-p"}).json()["project"]["id"]
    rows = [
        {"id": "r1", "span_id": "r1", "root_span_id": "t1", "input": "the quick brown fox",
         "metadata": {"model": "m1"}, "metrics": {"start": 0, "end": 2, "tokens": 5},
         "created": "2026-01-01T10:00:00Z"},
        {"id": "c1", "span_id": "c1", "root_span_id": "t1", "span_parents": ["r1"],
         "scores": {"acc": 1}, "metrics": {"start": 0.5, "end": 1}, "created": "2026-01-01T10:00:01Z"},
        {"id": "r2", "span_id": "r2", "root_span_id": "t2", "input": "lazy dog",
         "metadata": {"model": "m2"}, "metrics": {"start": 0, "end": 1, "tokens": 7},
         "created": "2026-01-01T11:00:00Z"},
    ]
    for r in rows:
        r.update({"project_id": pid, "log_id": "g"})
    assert s.post("/logs3", {"rows": rows}).status_code == 200
    yield s, pid
    s.cleanup()


def btql(s, query, **kw):
    return s.post("/btql", {"query": query, **kw})


def ids(resp):
    assert resp.status_code == 200, describe(resp)
    return [r["id"] for r in resp.json()["data"]]


def test_pipe_and_sql_text(env):
    s, pid = env
    assert ids(btql(s, f"from: project_logs('{pid}') | filter: input MATCH 'fox' | select: id")) == ["r1"]
    assert ids(btql(s, f"SELECT id FROM project_logs('{pid}') WHERE metadata.model = 'm2'")) == ["r2"]
    assert ids(btql(s, f"select: id | from: project_logs('{pid}') | sort: created desc | limit: 1")) == ["r2"]
    # The phrase must be in order.
    assert ids(btql(s, f"from: project_logs('{pid}') | filter: input MATCH '\"brown quick\"'")) == []


def test_shapes(env):
    s, pid = env
    traces = btql(s, f"from: project_logs('{pid}') traces | filter: scores.acc = 1")
    assert sorted(ids(traces)) == ["c1", "r1"]
    summary = btql(s, f"from: project_logs('{pid}') summary | sort: created asc")
    assert summary.status_code == 200, describe(summary)
    rows = summary.json()["data"]
    assert [r["id"] for r in rows] == ["r1", "r2"]
    assert rows[0]["scores"] == {"acc": 1} and rows[0]["metrics"]["total_tokens"] == 5


def test_aggregation_ast(env):
    s, pid = env
    fn = lambda name, *args: {"op": "function", "name": {"op": "ident", "name": [name]}, "args": list(args)}
    ident = lambda *path: {"op": "ident", "name": list(path)}
    q = {"from": {"op": "function", "name": ident("project_logs"), "args": [{"op": "literal", "value": pid}]},
         "dimensions": [{"expr": ident("metadata", "model"), "alias": "model"}],
         "measures": [{"expr": fn("count"), "alias": "n"},
                      {"expr": fn("sum", ident("metrics", "tokens")), "alias": "tokens"}],
         "sort": [{"expr": ident("model"), "dir": "asc"}]}
    r = btql(s, q)
    assert r.status_code == 200, describe(r)
    assert r.json()["data"] == [{"model": None, "n": 1, "tokens": None},
                                {"model": "m1", "n": 1, "tokens": 5},
                                {"model": "m2", "n": 1, "tokens": 7}]


@pytest.mark.parametrize("text", [
    "select: * | from: project_logs('PID') | filter: input = ",
    "SELECT * FROM project_logs('PID') WHERE (a = 1",
    "from: nowhere('x')",
    "select: * | from: project_logs('PID') | limit: -1",
    "'unterminated",
])
def test_bad_text_has_a_position(env, text):
    s, pid = env
    r = btql(s, text.replace("PID", pid))
    assert_error(r, [400])
    assert "line 1, column" in r.json()["error"]["message"], describe(r)
