"""GET /v1/prompt/{id}/versions and /v1/function/{id}/versions over raw HTTP: newest first,
each version openable by its _xact_id, digests that tell contents apart, auth, unknown ids,
kinds and org isolation."""
import re

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error, describe

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def chat(text):
    return {"prompt": {"type": "chat", "messages": [{"role": "user", "content": text}]}}


@pytest.fixture(scope="module")
def srv():
    s = ArborServer(org_name="versions-org")
    s.start()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def pid(srv):
    return srv.post("/v1/project", {"name": "versions-p"}).json()["id"]


def patch(srv, path, body, key=None):
    return requests.patch(srv.url + path, json=body, headers=srv.headers(key), timeout=60)


def test_versions_newest_first_and_openable(srv, pid):
    v1 = srv.post("/v1/prompt", {"project_id": pid, "name": "V", "slug": "v",
                                 "prompt_data": chat("one")}).json()
    v2 = patch(srv, f"/v1/prompt/{v1['id']}", {"prompt_data": chat("two")}).json()
    v3 = patch(srv, f"/v1/prompt/{v1['id']}", {"description": "same prompt, new words"}).json()
    r = srv.get(f"/v1/prompt/{v1['id']}/versions")
    assert r.status_code == 200, describe(r)
    got = r.json()["objects"]
    assert [v["_xact_id"] for v in got] == [v3["_xact_id"], v2["_xact_id"], v1["_xact_id"]]
    for v in got:
        assert v["id"] == v1["id"] and v["slug"] == "v" and v["name"] == "V"
        assert re.fullmatch(r"[0-9a-f]{16}", v["version"]), v
        assert re.fullmatch(r"[0-9a-f]{12}", v["digest"]), v
        assert re.match(r"\d{4}-\d\d-\d\dT", v["created"]), v
        # Each listed version opens, by its _xact_id and by its pretty form.
        for version in (v["_xact_id"], v["version"]):
            one = srv.get(f"/v1/prompt/{v1['id']}", params={"version": version})
            assert one.status_code == 200 and one.json()["_xact_id"] == v["_xact_id"], describe(one)
    # The digest covers prompt_data/function_data only: a description change keeps it.
    assert got[0]["digest"] == got[1]["digest"] != got[2]["digest"]
    assert srv.get(f"/v1/prompt/{v1['id']}/versions", params={"limit": "2"}).json()["objects"] \
        == got[:2]
    assert_error(srv.get(f"/v1/prompt/{v1['id']}/versions", params={"limit": "x"}), [400])


def test_functions_list_versions_and_prompts_hide_functions(srv, pid):
    f = srv.post("/v1/function", {"project_id": pid, "name": "F", "slug": "f",
                                  "function_data": {"type": "code",
                                                    "data": {"type": "inline"}}}).json()
    r = srv.get(f"/v1/function/{f['id']}/versions")
    assert r.status_code == 200, describe(r)
    assert [v["_xact_id"] for v in r.json()["objects"]] == [f["_xact_id"]]
    # A code function is not a prompt: /v1/prompt does not know it.
    assert_error(srv.get(f"/v1/prompt/{f['id']}/versions"), [404])
    # A prompt is a function: /v1/function lists its versions too.
    p = srv.post("/v1/prompt", {"project_id": pid, "name": "P2", "slug": "p2",
                                "prompt_data": chat("x")}).json()
    assert srv.get(f"/v1/function/{p['id']}/versions").json()["objects"][0]["_xact_id"] \
        == p["_xact_id"]


def test_auth_unknown_deleted_and_other_org(srv, pid):
    p = srv.post("/v1/prompt", {"project_id": pid, "name": "Iso", "slug": "iso",
                                "prompt_data": chat("mine")}).json()
    path = f"/v1/prompt/{p['id']}/versions"
    assert_error(requests.get(srv.url + path, timeout=30), [401])
    assert_error(requests.get(srv.url + path, headers={"Authorization": "Bearer arb_bad"},
                              timeout=30), [401])
    assert_error(srv.get(f"/v1/prompt/{UNKNOWN}/versions"), [404])
    assert_error(srv.get(f"/v1/function/{UNKNOWN}/versions"), [404])
    other = srv.create_org("versions-other")
    assert_error(srv.get(path, key=other), [404])
    assert_error(srv.get(f"/v1/function/{p['id']}/versions", key=other), [404])
    gone = srv.post("/v1/prompt", {"project_id": pid, "name": "Gone", "slug": "gone"}).json()
    assert requests.delete(srv.url + f"/v1/prompt/{gone['id']}", headers=srv.headers(),
                           timeout=30).status_code == 200
    assert_error(srv.get(f"/v1/prompt/{gone['id']}/versions"), [404])
    assert srv.get(path).json()["objects"][0]["_xact_id"] == p["_xact_id"]


def prompts_btql(source, project_id, filt=None, audit_log=True):
    q = {"select": [{"op": "star"}],
         "from": {"op": "function", "name": {"op": "ident", "name": [source]},
                  "args": [{"op": "literal", "value": project_id}]}}
    if filt is not None:
        q["filter"] = filt
    return {"query": q, "audit_log": audit_log}


def id_eq(value, field="id"):
    return {"op": "eq", "left": {"op": "ident", "name": [field]},
            "right": {"op": "literal", "value": value}}


def test_btql_project_prompts_audit_log(srv, pid):
    """What the JS SDK's getPromptVersions sends (protocol §4.1 `audit_log`)."""
    a = srv.post("/v1/prompt", {"project_id": pid, "name": "B", "slug": "b",
                                "prompt_data": chat("one")}).json()
    b = patch(srv, f"/v1/prompt/{a['id']}", {"prompt_data": chat("two")}).json()
    r = srv.post("/btql", prompts_btql("project_prompts", pid, id_eq(a["id"])))
    assert r.status_code == 200, describe(r)
    rows = r.json()["data"]
    assert [x["_xact_id"] for x in rows] == [a["_xact_id"], b["_xact_id"]]  # oldest first
    assert all(x["audit_data"] == {"action": "upsert"} and x["id"] == a["id"] for x in rows)
    # Without audit_log: the prompt at its newest version; slug filters and AND work too.
    cur = srv.post("/btql", prompts_btql("project_prompts", pid,
                                         {"op": "and", "children": [id_eq(a["id"]),
                                                                    id_eq("b", "slug")]},
                                         audit_log=False)).json()["data"]
    assert [x["_xact_id"] for x in cur] == [b["_xact_id"]] and cur[0]["prompt_data"] == chat("two")
    assert srv.post("/btql", prompts_btql("project_prompts", pid, id_eq(UNKNOWN))).json()["data"] \
        == []
    assert_error(srv.post("/btql", prompts_btql("project_prompts", pid,
                                                {"op": "gt", "left": {"op": "ident",
                                                                      "name": ["created"]},
                                                 "right": {"op": "literal", "value": "x"}})),
                 [400])
    other = srv.create_org("versions-btql-other")
    r = requests.post(srv.url + "/btql", json=prompts_btql("project_prompts", pid, id_eq(a["id"])),
                      headers=srv.headers(other), timeout=60)
    assert r.status_code == 200 and r.json()["data"] == [], describe(r)
