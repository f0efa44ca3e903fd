"""init_dataset(): insert, update, delete, flush, fetch, summarize, version pinning."""
import re

import braintrust
import pytest

from _helpers import uniq

NAME = "golden"


def _open(project, **kw):
    return braintrust.init_dataset(project, NAME, **kw)


def _by_n(rows):
    return {r["input"]["n"]: r for r in rows}


def _check_original(rows, s, label):
    assert len(rows) == 3, f"{label}: {rows}"
    m = _by_n(rows)
    assert m[1]["id"] == s["a"] and m[1]["expected"] == {"v": "one"} and m[1]["metadata"] == {"k": "a"}
    assert m[1]["tags"] == ["t1"]
    assert m[2]["id"] == s["b"]
    assert m[2]["expected"] == {"v": "two"}, f"{label}: b not yet updated"
    assert m[2]["metadata"] == {"k": "b", "keep": True}
    assert m[3]["id"] == s["c"] and m[3]["expected"] == {"v": "three"}, f"{label}: c not yet deleted"


@pytest.fixture(scope="module")
def ds_state(arbor):
    project = uniq("py-ds")
    ds = _open(project, description="sdk test dataset")
    s = dict(project=project, ds=ds)
    s["a"] = ds.insert(input={"n": 1}, expected={"v": "one"}, metadata={"k": "a"}, tags=["t1"])
    s["b"] = ds.insert(input={"n": 2}, expected={"v": "two"}, metadata={"k": "b", "keep": True})
    s["c"] = ds.insert(input={"n": 3}, expected={"v": "three"}, metadata={"k": "c"})
    ds.flush()
    s["inserted"] = list(_open(project).fetch())
    s["v1"] = _open(project).version
    ds.update(id=s["b"], expected={"v": "TWO"}, metadata={"k": "b2"})
    ds.flush()
    s["v2"] = _open(project).version
    ds.delete(s["c"])
    ds.flush()
    return s


def test_insert_then_fetch(ds_state):
    s = ds_state
    assert _open(s["project"]).id == s["ds"].id, "dataset create is get-or-create by name"
    _check_original(s["inserted"], s, "after insert")
    for r in s["inserted"]:
        assert re.fullmatch(r"\d{19}", str(r["_xact_id"])), f"_xact_id is a 19-digit decimal string: {r['_xact_id']}"
        assert r.get("created")
        assert r.get("dataset_id") == s["ds"].id


def test_update_and_delete(ds_state):
    s = ds_state
    assert s["v2"] > s["v1"], (s["v1"], s["v2"])
    rows = list(_open(s["project"]).fetch())
    assert len(rows) == 2, f"c deleted: {rows}"
    m = _by_n(rows)
    assert m[1]["id"] == s["a"] and m[1]["expected"] == {"v": "one"} and m[1]["tags"] == ["t1"]
    b = m[2]
    assert b["id"] == s["b"]
    assert b["input"] == {"n": 2}, "update keeps fields it did not set"
    assert b["expected"] == {"v": "TWO"}, "update replaces expected"
    assert b["metadata"] == {"k": "b2", "keep": True}, "update deep-merges metadata"
    assert 3 not in m


def test_summarize(ds_state):
    s = ds_state
    summary = s["ds"].summarize()
    assert summary.dataset_name == NAME
    assert summary.project_name == s["project"]
    assert summary.data_summary is not None, "server returned data_summary"
    assert summary.data_summary.total_records == 2, "dataset summary counts live rows only"
    assert summary.data_summary.new_records == 3


def test_version_pinning(ds_state):
    s = ds_state
    pinned1 = _open(s["project"], version=s["v1"])
    _check_original(list(pinned1.fetch()), s, f"version {s['v1']}")
    assert pinned1.version == s["v1"]

    rows2 = list(_open(s["project"], version=s["v2"]).fetch())
    assert len(rows2) == 3, f"version {s['v2']}: {rows2}"
    m2 = _by_n(rows2)
    assert m2[2]["expected"] == {"v": "TWO"} and m2[2]["metadata"] == {"k": "b2", "keep": True}
    assert m2[3]["expected"] == {"v": "three"}


def test_rows_carry_project_id(ds_state):
    """OpenAPI DatasetEvent (what /v1/dataset/{id}/fetch returns) requires project_id."""
    rows = list(_open(ds_state["project"]).fetch())
    assert rows
    for r in rows:
        assert r.get("project_id") == ds_state["ds"].project.id, f"row {r['id']} project_id"
