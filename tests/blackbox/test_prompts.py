"""/v1/prompt and /v1/function over raw HTTP: versions, slugs, environments, bad input, org
isolation and durability across a restart. (tests/sdk/*/prompts cover loadPrompt.)"""
import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error, describe

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def chat(text):
    return {"prompt": {"type": "chat", "messages": [{"role": "user", "content": text}]},
            "options": {"model": "gpt-4o-mini"}}


@pytest.fixture(scope="module")
def srv():
    s = ArborServer(org_name="prompts-org")
    s.start()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def pid(srv):
    return srv.post("/v1/project", {"name": "prompts-p"}).json()["id"]


def call(srv, method, path, body=None, key=None, **kw):
    return requests.request(method, srv.url + path, json=body, headers=srv.headers(key),
                            timeout=60, **kw)


def test_versions_patch_and_delete(srv, pid):
    r = srv.post("/v1/prompt", {"project_id": pid, "name": "P", "slug": "p1",
                                "prompt_data": chat("one"), "environment_slugs": ["staging"]})
    assert r.status_code == 200, describe(r)
    v1 = r.json()
    for key in ("id", "_xact_id", "project_id", "org_id", "name", "slug", "description", "tags"):
        assert key in v1, key
    assert v1["log_id"] == "p" and v1["function_data"] == {"type": "prompt"}
    again = srv.post("/v1/prompt", {"project_id": pid, "name": "other", "slug": "p1"})
    assert again.headers.get("x-bt-found-existing") == "true"
    assert again.json()["_xact_id"] == v1["_xact_id"] and again.json()["name"] == "P"

    v2 = call(srv, "PATCH", f"/v1/prompt/{v1['id']}", {"prompt_data": chat("two"),
                                                        "tags": ["t"]}).json()
    assert v2["id"] == v1["id"] and v2["_xact_id"] > v1["_xact_id"] and v2["tags"] == ["t"]
    assert v2["name"] == "P"

    def at(**params):
        return srv.get(f"/v1/prompt/{v1['id']}", params=params)

    assert at().json()["_xact_id"] == v2["_xact_id"]
    assert at(version=v1["_xact_id"]).json()["prompt_data"] == chat("one")
    assert at(version=v2["_xact_id"]).json()["prompt_data"] == chat("two")
    assert at(environment="staging").json()["_xact_id"] == v1["_xact_id"]
    assert_error(at(environment="nowhere"), [404])
    assert_error(at(version="1000000000000000000"), [404])
    assert_error(at(version="yesterday"), [400])
    pretty = f"{(int(v1['_xact_id']) * 205891132094649) % (1 << 64):016x}"  # the UI's form
    assert at(version=pretty).json()["prompt_data"] == chat("one")

    listed = srv.get("/v1/prompt", params={"project_id": pid, "slug": "p1"}).json()["objects"]
    assert [o["_xact_id"] for o in listed] == [v2["_xact_id"]]
    old = srv.get("/v1/prompt", params={"project_name": "prompts-p", "slug": "p1",
                                        "version": v1["_xact_id"]}).json()["objects"]
    assert [o["prompt_data"] for o in old] == [chat("one")]
    assert srv.get("/v1/prompt", params={"project_name": "no-such-project"}).json() == {"objects": []}
    assert srv.get("/v1/prompt", params={"prompt_name": "P"}).json()["objects"][0]["id"] == v1["id"]
    assert srv.get("/v1/prompt", params={"prompt_name": "Q"}).json()["objects"] == []

    # Renaming the slug frees the old one; a slug clash is a 409.
    srv.post("/v1/prompt", {"project_id": pid, "name": "P2", "slug": "p2"})
    assert_error(call(srv, "PATCH", f"/v1/prompt/{v1['id']}", {"slug": "p2"}), [409])
    gone = call(srv, "DELETE", f"/v1/prompt/{v1['id']}")
    assert gone.status_code == 200 and gone.json()["deleted_at"], describe(gone)
    assert_error(srv.get(f"/v1/prompt/{v1['id']}"), [404])
    assert srv.get("/v1/prompt", params={"project_id": pid, "slug": "p1"}).json()["objects"] == []
    fresh = srv.post("/v1/prompt", {"project_id": pid, "name": "P", "slug": "p1"})
    assert fresh.status_code == 200 and fresh.json()["id"] != v1["id"]
    assert "x-bt-found-existing" not in fresh.headers


def test_put_replaces(srv, pid):
    first = call(srv, "PUT", "/v1/prompt", {"project_id": pid, "name": "R", "slug": "r",
                                            "description": "d", "prompt_data": chat("a")}).json()
    second = call(srv, "PUT", "/v1/prompt", {"project_id": pid, "name": "R2", "slug": "r"}).json()
    assert second["id"] == first["id"] and second["_xact_id"] > first["_xact_id"]
    assert second["name"] == "R2" and second["description"] is None and second["prompt_data"] is None


def test_functions_share_slugs_with_prompts(srv, pid):
    assert_error(srv.post("/v1/function", {"project_id": pid, "name": "f", "slug": "f"}), [400])
    f = srv.post("/v1/function", {"project_id": pid, "name": "f", "slug": "f",
                                  "function_type": "tool",
                                  "function_data": {"type": "code", "data": {"type": "inline"}}})
    assert f.status_code == 200, describe(f)
    assert f.json()["function_data"]["type"] == "code" and f.json()["function_type"] == "tool"
    assert_error(srv.post("/v1/prompt", {"project_id": pid, "name": "f", "slug": "f"}), [409])
    assert_error(srv.get(f"/v1/prompt/{f.json()['id']}"), [404])
    p = srv.post("/v1/prompt", {"project_id": pid, "name": "fp", "slug": "fp"}).json()
    listed = srv.get("/v1/function", params={"project_id": pid}).json()["objects"]
    ids = {o["id"]: o for o in listed}
    assert f.json()["id"] in ids and p["id"] in ids
    assert ids[p["id"]]["function_data"] == {"type": "prompt"}
    prompts = srv.get("/v1/prompt", params={"project_id": pid}).json()["objects"]
    assert f.json()["id"] not in {o["id"] for o in prompts}
    assert srv.get("/v1/function", params={"function_name": "f"}).json()["objects"][0]["slug"] == "f"


def test_bad_input_writes_nothing(srv, pid):
    cases = [
        ({"name": "x", "slug": "bad"}, 400),                       # no project_id
        ({"project_id": pid, "name": "x"}, 400),                   # no slug
        ({"project_id": pid, "name": "x", "slug": ""}, 400),
        ({"project_id": pid, "name": 3, "slug": "bad"}, 400),
        ({"project_id": pid, "slug": "bad", "prompt_data": "text"}, 400),
        ({"project_id": pid, "slug": "bad", "tags": [1]}, 400),
        ({"project_id": pid, "slug": "bad", "metadata": []}, 400),
        ({"project_id": pid, "slug": "bad", "environment_slugs": ["a b"]}, 400),
        ({"project_id": UNKNOWN, "name": "x", "slug": "bad"}, 404),
    ]
    for body, status in cases:
        for method in ("POST", "PUT"):
            assert_error(call(srv, method, "/v1/prompt", body), [status], f"{method} {body}")
    assert_error(requests.post(srv.url + "/v1/prompt", data="[1]", headers=srv.headers()), [400])
    assert_error(srv.get(f"/v1/prompt/{UNKNOWN}"), [404])
    assert_error(call(srv, "PATCH", f"/v1/prompt/{UNKNOWN}", {"name": "n"}), [404])
    assert_error(call(srv, "DELETE", f"/v1/prompt/{UNKNOWN}"), [404])
    assert_error(srv.get("/v1/prompt", params={"version": "not-a-version"}), [400])
    assert_error(requests.get(srv.url + "/v1/prompt"), [401])
    assert srv.get("/v1/prompt", params={"slug": "bad"}).json()["objects"] == []


def test_other_org_is_isolated(srv, pid):
    mine = srv.post("/v1/prompt", {"project_id": pid, "name": "iso", "slug": "iso"}).json()
    other = srv.create_org("prompts-other")
    assert srv.get("/v1/prompt", key=other).json()["objects"] == []
    assert srv.get("/v1/function", key=other).json()["objects"] == []
    assert_error(srv.get(f"/v1/prompt/{mine['id']}", key=other), [404])
    assert_error(call(srv, "PATCH", f"/v1/prompt/{mine['id']}", {"name": "x"}, key=other), [404])
    assert_error(call(srv, "DELETE", f"/v1/prompt/{mine['id']}", key=other), [404])
    # Their project_id is not ours to write into.
    assert_error(srv.post("/v1/prompt", {"project_id": pid, "name": "x", "slug": "x"}, key=other), [404])
    assert srv.get(f"/v1/prompt/{mine['id']}").json()["name"] == "iso"


def test_versions_survive_restart(srv, pid):
    a = srv.post("/v1/prompt", {"project_id": pid, "name": "D", "slug": "durable",
                                "prompt_data": chat("v1")}).json()
    b = call(srv, "PATCH", f"/v1/prompt/{a['id']}", {"prompt_data": chat("v2")}).json()
    srv.stop()
    srv.start()
    assert srv.get(f"/v1/prompt/{a['id']}").json()["_xact_id"] == b["_xact_id"]
    assert srv.get(f"/v1/prompt/{a['id']}", params={"version": a["_xact_id"]}).json()["prompt_data"] \
        == chat("v1")
    c = call(srv, "PATCH", f"/v1/prompt/{a['id']}", {"description": "after restart"}).json()
    assert c["_xact_id"] > b["_xact_id"]
