"""REST v1 CRUD for projects, experiments and datasets, and the REST row routes."""
import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error, describe


@pytest.fixture(scope="module")
def srv():
    s = ArborServer(org_name="rest-org")
    s.start()
    yield s
    s.cleanup()


def test_project_crud(srv):
    r = srv.post("/v1/project", {"name": "crud-p"})
    assert r.status_code == 200, describe(r)
    p = r.json()
    assert p["name"] == "crud-p" and "x-bt-found-existing" not in r.headers
    again = srv.post("/v1/project", {"name": "crud-p"})
    assert again.json()["id"] == p["id"] and again.headers.get("x-bt-found-existing") == "true"
    assert srv.get(f"/v1/project/{p['id']}").json()["name"] == "crud-p"
    listed = srv.get("/v1/project", params={"project_name": "crud-p"}).json()["objects"]
    assert [o["id"] for o in listed] == [p["id"]]
    r = requests.patch(f"{srv.url}/v1/project/{p['id']}", json={"name": "crud-p2"}, headers=srv.headers())
    assert r.status_code == 200 and r.json()["name"] == "crud-p2", describe(r)
    r = requests.delete(f"{srv.url}/v1/project/{p['id']}", headers=srv.headers())
    assert r.status_code == 200 and r.json()["deleted_at"], describe(r)
    assert_error(srv.get(f"/v1/project/{p['id']}"), [404])
    assert srv.get("/v1/project", params={"project_name": "crud-p2"}).json()["objects"] == []


def test_experiment_and_dataset_crud_and_rows(srv):
    pid = srv.post("/v1/project", {"name": "rows-p"}).json()["id"]
    e1 = srv.post("/v1/experiment", {"project_id": pid, "name": "e", "ensure_new": True}).json()
    e2 = srv.post("/v1/experiment", {"project_id": pid, "name": "e", "ensure_new": True}).json()
    assert (e1["name"], e2["name"]) == ("e", "e-1")
    same = srv.post("/v1/experiment", {"project_id": pid, "name": "e"})
    assert same.json()["id"] == e1["id"] and same.headers.get("x-bt-found-existing") == "true"
    r = requests.patch(f"{srv.url}/v1/experiment/{e1['id']}",
                       json={"description": "d", "metadata": {"k": 1}}, headers=srv.headers())
    assert r.json()["description"] == "d" and r.json()["metadata"] == {"k": 1}, describe(r)
    assert_error(requests.patch(f"{srv.url}/v1/experiment/{e1['id']}", json={"metadata": "x"},
                                headers=srv.headers()), [400])
    ds = srv.post("/v1/dataset", {"project_id": pid, "name": "d"}).json()
    assert srv.post("/v1/dataset", {"project_id": pid, "name": "d"}).json()["id"] == ds["id"]

    ins = srv.post(f"/v1/dataset/{ds['id']}/insert",
                   {"events": [{"id": "x1", "input": 1, "expected": 2}, {"input": 3}]})
    assert ins.status_code == 200, describe(ins)
    ids = ins.json()["row_ids"]
    assert ids[0] == "x1" and len(ids) == 2
    fb = srv.post(f"/v1/dataset/{ds['id']}/feedback",
                  {"feedback": [{"id": "x1", "expected": 5, "comment": "fixed"}]})
    assert fb.json() == {"status": "success"}, describe(fb)
    rows = srv.post(f"/v1/dataset/{ds['id']}/fetch", {"limit": 10}).json()["events"]
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == set(ids)  # the comment is attached, not listed
    assert by_id["x1"]["expected"] == 5 and by_id["x1"]["input"] == 1
    assert [c["comment"]["text"] for c in by_id["x1"]["comments"]] == ["fixed"]
    assert by_id["x1"]["project_id"] == pid and by_id["x1"]["span_id"] == "x1"
    page = srv.get(f"/v1/dataset/{ds['id']}/fetch", params={"limit": 1}).json()
    assert len(page["events"]) == 1 and page["cursor"]
    rest = srv.get(f"/v1/dataset/{ds['id']}/fetch", params={"limit": 5, "cursor": page["cursor"]}).json()
    assert len(rest["events"]) == 1 and rest["cursor"] is None
    summary = srv.get(f"/v1/dataset/{ds['id']}/summarize").json()
    assert summary["data_summary"] == {"total_records": 2} and summary["dataset_name"] == "d"
    r = requests.delete(f"{srv.url}/v1/dataset/{ds['id']}", headers=srv.headers())
    assert r.status_code == 200, describe(r)
    assert_error(srv.post(f"/v1/dataset/{ds['id']}/fetch", {}), [404])


def test_unknown_rest_object_type_and_ids(srv):
    assert_error(srv.post("/v1/widget/abc/fetch", {}), [404])
    assert_error(srv.post("/v1/experiment/00000000-0000-4000-8000-000000000000/insert",
                          {"events": [{"input": 1}]}), [404])
    assert_error(srv.post("/v1/experiment", {"name": "no-project"}), [400])
