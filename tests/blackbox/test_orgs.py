"""/v1/organization (the caller's org) and /v1/api_key (the caller's keys): CRUD, keys shown
once and stored hashed, revocation at once, org isolation, bad input."""
import os

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error, describe

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def srv():
    s = ArborServer(org_name="orgs-org")
    s.start()
    yield s
    s.cleanup()


def call(srv, method, path, body=None, key=None, **kw):
    return requests.request(method, srv.url + path, json=body, headers=srv.headers(key),
                            timeout=60, **kw)


def login_org_name(srv, key=None):
    r = call(srv, "POST", "/api/apikey/login", {}, key=key)
    assert r.status_code == 200, describe(r)
    return r.json()["org_info"][0]["name"]


def test_organization_get_and_rename(srv):
    orgs = srv.get("/v1/organization").json()["objects"]
    assert [o["name"] for o in orgs] == ["orgs-org"]
    org = orgs[0]
    assert org["id"] and org["created"]
    assert srv.get("/v1/organization", params={"org_name": "other"}).json()["objects"] == []
    assert srv.get(f"/v1/organization/{org['id']}").json()["name"] == "orgs-org"
    assert_error(srv.get(f"/v1/organization/{UNKNOWN}"), [404])

    assert login_org_name(srv) == "orgs-org"  # caches the principal
    r = call(srv, "PATCH", f"/v1/organization/{org['id']}", {"name": "orgs-renamed"})
    assert r.status_code == 200 and r.json()["name"] == "orgs-renamed", describe(r)
    assert login_org_name(srv) == "orgs-renamed"
    assert srv.get(f"/v1/organization/{org['id']}").json()["name"] == "orgs-renamed"

    for body in ({}, {"name": ""}, {"name": 5}, {"name": "x" * 300}):
        assert_error(call(srv, "PATCH", f"/v1/organization/{org['id']}", body), [400], str(body)[:40])
    other_key = srv.create_org("orgs-other")
    other = srv.get("/v1/organization", key=other_key).json()["objects"][0]
    assert other["id"] != org["id"]
    same = call(srv, "PATCH", f"/v1/organization/{org['id']}", {"name": "orgs-renamed"})
    assert same.status_code == 200, describe(same)  # its own name again: a no-op
    assert_error(call(srv, "PATCH", f"/v1/organization/{org['id']}", {"name": "orgs-other"}), [409])
    assert_error(call(srv, "PATCH", f"/v1/organization/{other['id']}", {"name": "hijack"}), [404])
    assert_error(srv.get(f"/v1/organization/{org['id']}", key=other_key), [404])
    assert srv.get("/v1/organization", key=other_key).json()["objects"][0]["name"] == "orgs-other"
    assert_error(requests.get(srv.url + "/v1/organization"), [401])


def test_api_keys(srv):
    r = srv.post("/v1/api_key", {"name": "ci"})
    assert r.status_code == 200, describe(r)
    made = r.json()
    secret = made["key"]
    assert secret.startswith("arb_") and made["name"] == "ci" and made["id"]

    # The new key works, and is never shown again.
    listed = srv.get("/v1/api_key", key=secret)
    assert listed.status_code == 200, describe(listed)
    ids = [k["id"] for k in listed.json()["objects"]]
    assert made["id"] in ids and len(ids) >= 2  # the bootstrap key too
    got = srv.get(f"/v1/api_key/{made['id']}")
    assert got.json()["name"] == "ci" and "key" not in got.json()
    for resp in (listed, got):
        assert secret not in resp.text
    assert srv.get("/v1/api_key", params={"api_key_name": "ci"}).json()["objects"][0]["id"] == made["id"]

    # Stored hashed: the secret is in no file of the data dir.
    for root, _, files in os.walk(srv.data_dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert secret.encode() not in fh.read(), f

    # Another org sees none of it.
    other_key = srv.create_org("keys-other")
    theirs = [k["id"] for k in srv.get("/v1/api_key", key=other_key).json()["objects"]]
    assert made["id"] not in theirs and len(theirs) == 1
    assert_error(srv.get(f"/v1/api_key/{made['id']}", key=other_key), [404])
    assert_error(call(srv, "DELETE", f"/v1/api_key/{made['id']}", key=other_key), [404])
    assert srv.get("/v1/api_key", key=secret).status_code == 200

    # Revocation takes effect at once, even for a key already used (cached).
    gone = call(srv, "DELETE", f"/v1/api_key/{made['id']}")
    assert gone.status_code == 200 and gone.json()["id"] == made["id"], describe(gone)
    assert_error(srv.get("/v1/api_key", key=secret), [401])
    assert made["id"] not in [k["id"] for k in srv.get("/v1/api_key").json()["objects"]]
    assert_error(call(srv, "DELETE", f"/v1/api_key/{made['id']}"), [404])
    assert_error(srv.get(f"/v1/api_key/{made['id']}"), [404])


def test_api_key_bad_input(srv):
    before = len(srv.get("/v1/api_key").json()["objects"])
    for body in ({}, {"name": ""}, {"name": 5}, {"name": ["a"]}):
        assert_error(srv.post("/v1/api_key", body), [400], str(body))
    assert_error(requests.post(srv.url + "/v1/api_key", data="nope", headers=srv.headers()), [400])
    assert_error(srv.get(f"/v1/api_key/{UNKNOWN}"), [404])
    assert_error(call(srv, "DELETE", f"/v1/api_key/{UNKNOWN}"), [404])
    assert_error(requests.post(srv.url + "/v1/api_key", json={"name": "x"}), [401])
    assert len(srv.get("/v1/api_key").json()["objects"]) == before
