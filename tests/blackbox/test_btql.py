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


# ---- intervals, conditionals, any_span() and HAVING -------------------------------------------

@pytest.fixture(scope="module")
def env2():
    import datetime
    s = ArborServer(org_name="btql-org-2")
    s.start()
    pid = s.post("/api/project/register", {"project_name": "btql-p2"}).json()["project"]["id"]
    now = datetime.datetime.now(datetime.timezone.utc)
    ago = lambda **kw: (now - datetime.timedelta(**kw)).isoformat(timespec="milliseconds")
    rows = [
        # t1: the model on one span, the error on another.
        {"id": "a1", "span_id": "a1", "root_span_id": "t1", "input": "one", "created": ago(hours=2),
         "metrics": {"tokens": 1500}},
        {"id": "a2", "span_id": "a2", "root_span_id": "t1", "span_parents": ["a1"],
         "metadata": {"model": "gpt-4"}, "created": ago(hours=2), "metrics": {"tokens": 800}},
        {"id": "a3", "span_id": "a3", "root_span_id": "t1", "span_parents": ["a1"], "error": "boom",
         "created": ago(hours=2)},
        # t2: one span with both, three days old.
        {"id": "b1", "span_id": "b1", "root_span_id": "t2", "input": "two", "created": ago(days=3),
         "metadata": {"model": "gpt-4"}, "error": "bad", "metrics": {"tokens": 300}},
        # t3: no model, no error, two weeks old.
        {"id": "c1", "span_id": "c1", "root_span_id": "t3", "input": "three", "created": ago(days=14),
         "metadata": {"model": "gpt-3"}, "metrics": {"tokens": 600}},
    ]
    for r in rows:
        r.update({"project_id": pid, "log_id": "g"})
    assert s.post("/logs3", {"rows": rows}).status_code == 200
    yield s, pid
    s.cleanup()


def q2(env2, text):
    s, pid = env2
    return btql(s, text.replace("PID", pid))


def test_interval_filters(env2):
    assert ids(q2(env2, "SELECT id FROM project_logs('PID') WHERE created > now() - interval 1 day")) \
        == ["a1", "a2", "a3"]
    assert ids(q2(env2, "from: project_logs('PID') | filter: created < now() - interval 1 week | "
                        "select: id")) == ["c1"]
    assert ids(q2(env2, "SELECT id FROM project_logs('PID') WHERE created >= NOW() - INTERVAL '4 days' "
                        "AND created < NOW() - INTERVAL 1 DAY")) == ["b1"]


def test_ternary_and_case(env2):
    r = q2(env2, "from: project_logs('PID') | filter: metrics.tokens > "
                 "(metadata.model = 'gpt-4' ? 1000 : 500) | select: id")
    assert ids(r) == ["a1", "c1"]
    r = q2(env2, "SELECT id, CASE WHEN error IS NOT NULL THEN 'error' WHEN is_root THEN 'root' "
                 "ELSE 'child' END AS kind FROM project_logs('PID') ORDER BY id")
    assert r.status_code == 200, describe(r)
    assert [(x["id"], x["kind"]) for x in r.json()["data"]] == [
        ("a1", "root"), ("a2", "child"), ("a3", "error"), ("b1", "error"), ("c1", "root")]


def test_any_span(env2):
    both = "any_span(metadata.model = 'gpt-4') AND any_span(error IS NOT NULL)"
    assert sorted(ids(q2(env2, f"from: project_logs('PID') traces | filter: {both}"))) == \
        ["a1", "a2", "a3", "b1"]
    # One span satisfying both conditions: only t2.
    assert ids(q2(env2, "from: project_logs('PID') traces | filter: metadata.model = 'gpt-4' AND "
                        "error IS NOT NULL")) == ["b1"]
    r = q2(env2, f"SELECT * FROM project_logs('PID', shape => 'summary') WHERE {both} ORDER BY id")
    assert [x["id"] for x in r.json()["data"]] == ["a1", "b1"], describe(r)
    assert ids(q2(env2, "from: project_logs('PID') summary | filter: NOT any_span(error IS NOT NULL)")) \
        == ["c1"]


def test_having(env2):
    r = q2(env2, "SELECT root_span_id AS t, count(*) AS n FROM project_logs('PID') GROUP BY 1 "
                 "HAVING count(*) > 1")
    assert r.status_code == 200, describe(r)
    assert r.json()["data"] == [{"t": "t1", "n": 3}]
    r = q2(env2, "from: project_logs('PID') | dimensions: metadata.model AS model | "
                 "measures: sum(metrics.tokens) AS tokens | filter: tokens > 600 | sort: model")
    assert r.status_code == 200, describe(r)
    assert r.json()["data"] == [{"model": None, "tokens": 1500}, {"model": "gpt-4", "tokens": 1100}]


def test_new_ast_nodes(env2):
    s, pid = env2
    ident = lambda *path: {"op": "ident", "name": list(path)}
    lit = lambda v: {"op": "literal", "value": v}
    src = {"op": "function", "name": ident("project_logs"), "args": [lit(pid)]}
    recent = {"op": "gt", "left": ident("created"),
              "right": {"op": "sub", "left": {"op": "function", "name": ident("now"), "args": []},
                        "right": {"op": "interval", "value": 1, "unit": "day"}}}
    kind = {"op": "if", "conds": [{"cond": {"op": "isnotnull", "expr": ident("error")},
                                   "then": lit("error")}], "else": lit("ok")}
    any_err = {"op": "function", "name": ident("any_span"),
               "args": [{"op": "isnotnull", "expr": ident("error")}]}
    r = btql(s, {"from": src, "filter": {"op": "and", "children": [recent, any_err]},
                 "select": [{"expr": ident("id"), "alias": "id"}, {"expr": kind, "alias": "kind"}]})
    assert r.status_code == 200, describe(r)
    assert r.json()["data"] == [{"id": "a1", "kind": "ok"}, {"id": "a2", "kind": "ok"},
                                {"id": "a3", "kind": "error"}]
    r = btql(s, {"from": src, "dimensions": [{"expr": ident("root_span_id"), "alias": "t"}],
                 "measures": [{"expr": {"op": "function", "name": ident("count"), "args": []},
                               "alias": "n"}],
                 "having": {"op": "eq", "left": ident("n"), "right": lit(1)},
                 "sort": [{"expr": ident("t"), "dir": "asc"}]})
    assert r.status_code == 200, describe(r)
    assert r.json()["data"] == [{"t": "t2", "n": 1}, {"t": "t3", "n": 1}]
    bad = btql(s, {"from": src, "filter": {"op": "interval", "value": 1, "unit": "fortnight"}})
    assert_error(bad, [400])


@pytest.mark.parametrize("text,message", [
    ("from: project_logs('PID') | filter: created > now() - interval 1 fortnight",
     "unknown interval unit 'fortnight'"),
    ("from: project_logs('PID') | filter: a ? 1 | select: id", "expected ':'"),
    ("SELECT id FROM project_logs('PID') WHERE CASE WHEN a THEN 1 = 1", "expected END"),
    ("select: any_span(a = 1) AS x | from: project_logs('PID')",
     "line 1, column 9: any_span() can only be used in a filter"),
    ("SELECT id FROM project_logs('PID') HAVING count(*) > 1", "HAVING filters groups"),
])
def test_bad_new_syntax_has_a_position(env2, text, message):
    r = q2(env2, text)
    assert_error(r, [400])
    got = r.json()["error"]["message"]
    assert got.startswith("line 1, column ") and message in got, describe(r)
