"""init_logger() with nested spans, read back through POST /btql (JSON AST)."""
import braintrust
import pytest

from _helpers import is_root_row, uniq


def _ids(span):
    return dict(id=span.id, span_id=span.span_id, root_span_id=span.root_span_id)


@pytest.fixture(scope="module")
def traces(arbor):
    project = uniq("py-logs")
    logger = braintrust.init_logger(project=project, set_current=False)
    ids = {}
    with logger.start_span(name="parent", input={"question": "parent-in"}, metadata={"level": "parent"}) as parent:
        ids["parent"] = _ids(parent)
        with parent.start_span(name="child") as child:
            ids["child"] = _ids(child)
            child.log(input="child-in", metadata={"level": "child"})
            with child.start_span(name="grandchild") as gc:
                ids["grandchild"] = _ids(gc)
                gc.log(input="grandchild-in", output="grandchild-out", metadata={"level": "grandchild"})
            child.log(output="child-out", scores={"quality": 0.5})
        parent.log(output={"answer": "parent-out"})
    with logger.start_span(name="solo") as solo:
        ids["solo"] = _ids(solo)
        solo.log(input="solo-in", output="solo-out")
    logger.flush()
    project_id = logger.project.id
    assert project_id
    return dict(ids=ids, project_id=project_id)


def test_span_tree_and_merged_fields(arbor, traces):
    ids, project_id = traces["ids"], traces["project_id"]
    rows = arbor.btql_all("project_logs", project_id)
    assert len(rows) == 4, f"one merged row per span: {[(r.get('id'), (r.get('span_attributes') or {}).get('name')) for r in rows]}"
    by_id = {r["id"]: r for r in rows}

    def get(k):
        r = by_id.get(ids[k]["id"])
        assert r is not None, f"row for {k}"
        assert r["span_id"] == ids[k]["span_id"], k
        assert r["root_span_id"] == ids[k]["root_span_id"], k
        assert r["project_id"] == project_id
        assert r["log_id"] == "g"
        assert r["span_attributes"]["name"] == k
        m = r.get("metrics") or {}
        assert isinstance(m.get("start"), (int, float)), f"{k}: metrics.start kept after the closing merge: {m}"
        assert isinstance(m.get("end"), (int, float)), f"{k}: metrics.end merged in: {m}"
        assert m["end"] >= m["start"]
        assert r.get("created"), k
        return r

    parent, child, grandchild, solo = get("parent"), get("child"), get("grandchild"), get("solo")
    assert child["root_span_id"] == parent["root_span_id"]
    assert grandchild["root_span_id"] == parent["root_span_id"]
    assert solo["root_span_id"] != parent["root_span_id"]
    assert is_root_row(parent), parent.get("span_parents")
    assert is_root_row(solo)
    assert child["span_parents"] == [parent["span_id"]]
    assert grandchild["span_parents"] == [child["span_id"]]
    assert parent["is_root"] is True
    assert solo["is_root"] is True
    assert child["is_root"] is False
    assert grandchild["is_root"] is False

    assert parent["input"] == {"question": "parent-in"}
    assert parent["output"] == {"answer": "parent-out"}
    assert parent["metadata"] == {"level": "parent"}
    assert parent["span_attributes"]["type"] == "task"
    assert child["input"] == "child-in" and child["output"] == "child-out"
    assert child["scores"] == {"quality": 0.5}
    assert child["metadata"] == {"level": "child"}
    assert grandchild["input"] == "grandchild-in" and grandchild["output"] == "grandchild-out"
    assert grandchild["metadata"] == {"level": "grandchild"}
    assert solo["input"] == "solo-in" and solo["output"] == "solo-out"


def test_btql_filter_by_root_span_id(arbor, traces):
    ids = traces["ids"]
    rows = arbor.btql_all(
        "project_logs",
        traces["project_id"],
        filter={
            "op": "eq",
            "left": {"op": "ident", "name": ["root_span_id"]},
            "right": {"op": "literal", "value": ids["parent"]["root_span_id"]},
        },
    )
    assert sorted(r["id"] for r in rows) == sorted(ids[k]["id"] for k in ("parent", "child", "grandchild"))


def test_btql_pagination(arbor, traces):
    rows = arbor.btql_all("project_logs", traces["project_id"], limit=1)
    assert sorted(r["id"] for r in rows) == sorted(v["id"] for v in traces["ids"].values())
