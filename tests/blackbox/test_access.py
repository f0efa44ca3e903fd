"""Roles, groups, ACLs, members and service tokens (/v1/role, /v1/group, /v1/acl,
/v1/organization/members, /v1/service_token, roles on /v1/api_key): bad input is 400, unknown
ids 404, orgs isolated, and per-project ACLs raise a viewer to editor on one project only."""
import uuid

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error, describe, read_all

UNKNOWN = "00000000-0000-4000-8000-000000000000"
PASSWORD = "walk-the-line-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def srv():
    s = ArborServer(org_name="access-org")
    s.start()
    yield s
    s.cleanup()


def call(srv, method, path, body=None, key=None, **kw):
    return requests.request(method, srv.url + path, json=body, headers=srv.headers(key),
                            timeout=60, **kw)


def ok(srv, method, path, body=None, key=None, **kw):
    r = call(srv, method, path, body, key, **kw)
    assert r.status_code == 200, describe(r)
    return r.json()


def new_key(srv, role, key=None):
    made = ok(srv, "POST", "/v1/api_key", {"name": f"{role}-key", "role": role}, key=key)
    return made["key"], made["id"]


@pytest.fixture(scope="module")
def projects(srv):
    tag = uuid.uuid4().hex[:6]
    out = {}
    for name in ("one", "two"):
        p = ok(srv, "POST", "/v1/project", {"name": f"acl-{name}-{tag}"})["id"]
        e = ok(srv, "POST", "/v1/experiment", {"project_id": p, "name": "e"})["id"]
        out[name] = (p, e)
    return out


def builtin_role_id(srv, name):
    roles = ok(srv, "GET", "/v1/role")["objects"]
    return next(r["id"] for r in roles if r["name"] == name and r["builtin"])


def test_builtin_roles_and_custom_roles(srv):
    roles = ok(srv, "GET", "/v1/role")["objects"]
    assert [r["name"] for r in roles if r["builtin"]] == ["owner", "admin", "editor", "viewer"]
    viewer = next(r for r in roles if r["name"] == "viewer")
    assert [p["permission"] for p in viewer["member_permissions"]] == ["read"]
    assert ok(srv, "GET", f"/v1/role/{viewer['id']}")["name"] == "viewer"
    assert_error(call(srv, "PATCH", f"/v1/role/{viewer['id']}", {"name": "x"}), [400])
    assert_error(call(srv, "DELETE", f"/v1/role/{viewer['id']}"), [400])

    made = ok(srv, "POST", "/v1/role", {"name": "writers", "description": "can write",
                                        "member_permissions": [{"permission": "update"}]})
    assert made["member_permissions"] == [{"permission": "update", "restrict_object_type": None}]
    again = call(srv, "POST", "/v1/role", {"name": "writers"})
    assert again.json()["id"] == made["id"] and again.headers.get("x-bt-found-existing") == "true"
    patched = ok(srv, "PATCH", f"/v1/role/{made['id']}",
                 {"add_member_permissions": [{"permission": "read"}],
                  "remove_member_permissions": [{"permission": "update",
                                                 "restrict_object_type": None}],
                  "add_member_roles": [viewer["id"]]})
    assert [p["permission"] for p in patched["member_permissions"]] == ["read"]
    assert patched["member_roles"] == [viewer["id"]]
    put = ok(srv, "PUT", "/v1/role", {"name": "writers", "member_permissions": []})
    assert put["id"] == made["id"] and put["member_permissions"] == []
    listed = ok(srv, "GET", "/v1/role", params={"role_name": "writers"})["objects"]
    assert [r["id"] for r in listed] == [made["id"]]
    assert ok(srv, "DELETE", f"/v1/role/{made['id']}")["deleted_at"]
    assert_error(call(srv, "GET", f"/v1/role/{made['id']}"), [404])
    for path in (f"/v1/role/{UNKNOWN}", f"/v1/group/{UNKNOWN}", f"/v1/acl/{UNKNOWN}"):
        assert_error(call(srv, "GET", path), [404], path)
        assert_error(call(srv, "DELETE", path), [404], path)
        assert_error(call(srv, "PATCH", path, {"name": "x"}), [404, 405], path)


@pytest.mark.parametrize("body", [
    None, {}, {"name": ""}, {"name": 5}, {"name": "x" * 300},
    {"name": "r", "member_permissions": "read"},
    {"name": "r", "member_permissions": [{"permission": "fly"}]},
    {"name": "r", "member_permissions": [{"permission": "read", "restrict_object_type": "moon"}]},
    {"name": "r", "member_permissions": [5]},
    {"name": "r", "member_roles": [5]},
])
def test_role_bad_input(srv, body):
    r = requests.post(srv.url + "/v1/role", data=b"{" if body is None else None, json=body,
                      headers=srv.headers(), timeout=60)
    assert_error(r, [400], str(body)[:60])


def test_references_to_unknown_ids_are_404(srv):
    assert_error(call(srv, "POST", "/v1/role", {"name": "r", "member_roles": [UNKNOWN]}), [404])
    assert_error(call(srv, "POST", "/v1/group", {"name": "g", "member_users": [UNKNOWN]}), [404])
    assert_error(call(srv, "POST", "/v1/group", {"name": "g", "member_groups": [UNKNOWN]}), [404])
    names = [g["name"] for g in ok(srv, "GET", "/v1/group")["objects"]]
    assert "g" not in names  # nothing was written


def test_groups_crud(srv):
    _, vid = new_key(srv, "viewer")
    _, eid = new_key(srv, "editor")
    inner = ok(srv, "POST", "/v1/group", {"name": "inner", "member_users": [vid]})
    outer = ok(srv, "POST", "/v1/group", {"name": "outer", "member_groups": [inner["id"]]})
    assert inner["member_users"] == [vid] and outer["member_groups"] == [inner["id"]]
    g = ok(srv, "PATCH", f"/v1/group/{inner['id']}", {"add_member_users": [eid, vid]})
    assert g["member_users"] == [vid, eid]
    g = ok(srv, "PATCH", f"/v1/group/{inner['id']}", {"remove_member_users": [vid]})
    assert g["member_users"] == [eid]
    assert_error(call(srv, "PATCH", f"/v1/group/{inner['id']}", {"add_member_users": [UNKNOWN]}),
                 [404])
    assert_error(call(srv, "PATCH", f"/v1/group/{inner['id']}", {"add_member_users": "x"}), [400])
    assert ok(srv, "GET", f"/v1/group/{inner['id']}")["member_users"] == [eid]
    for bad in ({}, {"name": ""}, {"name": "g", "member_users": [1]}, {"name": "g", "member_users": 1}):
        assert_error(call(srv, "POST", "/v1/group", bad), [400], str(bad))
    ok(srv, "DELETE", f"/v1/group/{outer['id']}")
    assert_error(call(srv, "GET", f"/v1/group/{outer['id']}"), [404])


def test_acl_bad_input(srv, projects):
    p1, _ = projects["one"]
    _, vid = new_key(srv, "viewer")
    base = {"object_type": "project", "object_id": p1}
    for bad in ({}, {"object_type": "project"}, dict(base, permission="read"),
                dict(base, user_id=vid), dict(base, user_id=vid, group_id=vid, permission="read"),
                dict(base, user_id=vid, permission="read", role_id=UNKNOWN),
                dict(base, user_id=vid, permission="fly"), dict(base, user_id=5, permission="read")):
        assert_error(call(srv, "POST", "/v1/acl", bad), [400], str(bad))
    for missing in (dict(base, user_id=UNKNOWN, permission="read"),
                    dict(base, group_id=UNKNOWN, permission="read"),
                    dict(base, user_id=vid, role_id=UNKNOWN),
                    {"object_type": "project", "object_id": UNKNOWN, "user_id": vid,
                     "permission": "read"}):
        assert_error(call(srv, "POST", "/v1/acl", missing), [404], str(missing))
    assert_error(call(srv, "GET", "/v1/acl"), [400])
    assert ok(srv, "GET", "/v1/acl", params=base)["objects"] == []  # nothing was written


def test_acl_makes_a_viewer_an_editor_on_one_project(srv, projects):
    (p1, e1), (p2, e2) = projects["one"], projects["two"]
    viewer, vid = new_key(srv, "viewer")

    def insert(exp, row_id):
        return call(srv, "POST", f"/v1/experiment/{exp}/insert",
                    {"events": [{"id": row_id, "input": "by viewer"}]}, key=viewer)

    def logs3(*exps):
        return call(srv, "POST", "/logs3", {"rows": [{"experiment_id": e, "id": f"l-{i}",
                                                      "input": "by viewer"}
                                                     for i, e in enumerate(exps)]}, key=viewer)

    assert_error(insert(e1, "before"), [403])
    assert ok(srv, "POST", "/btql", {"query": f"select: * | from: experiment('{e1}')"},
              key=viewer)["data"] == []  # reading is fine

    editor_role = builtin_role_id(srv, "editor")
    acl = ok(srv, "POST", "/v1/acl", {"object_type": "project", "object_id": p1, "user_id": vid,
                                      "role_id": editor_role})
    assert acl["_object_org_id"] and acl["role_id"] == editor_role and acl["permission"] is None
    same = ok(srv, "POST", "/v1/acl", {"object_type": "project", "object_id": p1, "user_id": vid,
                                       "role_id": editor_role})
    assert same["id"] == acl["id"]
    assert [a["id"] for a in ok(srv, "GET", "/v1/acl", params={"object_type": "project",
                                                               "object_id": p1})["objects"]] \
        == [acl["id"]]

    assert insert(e1, "granted").status_code == 200
    assert_error(insert(e2, "elsewhere"), [403])
    assert logs3(e1).status_code == 200
    assert_error(logs3(e1, e2), [403])  # one row outside the grant refuses the whole request
    assert_error(call(srv, "PATCH", f"/v1/project/{p2}", {"name": "renamed"}, key=viewer), [403])
    assert ok(srv, "PATCH", f"/v1/experiment/{e1}", {"description": "by viewer"},
              key=viewer)["description"] == "by viewer"
    assert_error(call(srv, "POST", "/v1/acl", {"object_type": "project", "object_id": p2,
                                               "user_id": vid, "permission": "update"},
                      key=viewer), [403])  # a project editor is not an admin
    ids1 = sorted(r["id"] for r in read_all(srv.url, srv.api_key, "experiment", e1))
    assert ids1 == ["granted", "l-0"]
    assert read_all(srv.url, srv.api_key, "experiment", e2) == []

    ok(srv, "DELETE", f"/v1/acl/{acl['id']}")
    assert_error(insert(e1, "revoked"), [403])


def test_acl_through_a_group_and_a_custom_role(srv, projects):
    p2, e2 = projects["two"]
    viewer, vid = new_key(srv, "viewer")
    group = ok(srv, "POST", "/v1/group", {"name": "acl-writers", "member_users": [vid]})
    parent = ok(srv, "POST", "/v1/group", {"name": "acl-parent", "member_groups": [group["id"]]})
    role = ok(srv, "POST", "/v1/role", {"name": "row-writer",
                                        "member_permissions": [{"permission": "update"}]})
    insert = lambda: call(srv, "POST", f"/v1/experiment/{e2}/insert",  # noqa: E731
                          {"events": [{"input": "via group"}]}, key=viewer)
    assert_error(insert(), [403])
    added = ok(srv, "POST", "/v1/acl/batch_update", {"add_acls": [
        {"object_type": "project", "object_id": p2, "group_id": parent["id"],
         "role_id": role["id"]}]})["added_acls"]
    assert insert().status_code == 200
    removed = ok(srv, "POST", "/v1/acl/batch_update", {"remove_acls": [
        {"object_type": "project", "object_id": p2, "group_id": parent["id"],
         "role_id": role["id"]}]})["removed_acls"]
    assert [a["id"] for a in removed] == [a["id"] for a in added]
    assert_error(insert(), [403])
    # A permission restricted to one kind of object inside the project is not project-wide.
    ok(srv, "POST", "/v1/acl", {"object_type": "project", "object_id": p2, "group_id": group["id"],
                                "permission": "update", "restrict_object_type": "dataset"})
    assert_error(insert(), [403])
    # Deleting a group deletes its grants.
    ok(srv, "POST", "/v1/acl", {"object_type": "project", "object_id": p2, "group_id": group["id"],
                                "permission": "update"})
    assert insert().status_code == 200
    ok(srv, "DELETE", f"/v1/group/{group['id']}")
    assert_error(insert(), [403])
    assert all(a["group_id"] != group["id"] for a in ok(srv, "GET", "/v1/acl/list_org")["objects"])


def test_roles_of_keys_and_service_tokens(srv):
    admin, _ = new_key(srv, "admin")
    editor, _ = new_key(srv, "editor")
    assert_error(call(srv, "POST", "/v1/api_key", {"name": "k", "role": "owner"}, key=admin), [403])
    assert_error(call(srv, "POST", "/v1/api_key", {"name": "k", "role": "root"}), [400])
    assert_error(call(srv, "POST", "/v1/api_key", {"name": "k"}, key=editor), [403])
    # An admin's key without a role acts as an admin, never more.
    made = ok(srv, "POST", "/v1/api_key", {"name": "by-admin"}, key=admin)
    assert made["role"] == "admin"

    tok = ok(srv, "POST", "/v1/service_token", {"name": "ci", "role": "editor"}, key=admin)
    assert tok["role"] == "editor" and tok["service_account_id"] == tok["id"] and tok["key"]
    assert tok["id"] in [t["id"] for t in ok(srv, "GET", "/v1/service_token")["objects"]]
    assert "key" not in ok(srv, "GET", f"/v1/service_token/{tok['id']}")
    p = ok(srv, "POST", "/v1/project", {"name": "by-token"}, key=tok["key"])
    assert p["name"] == "by-token"
    assert_error(call(srv, "GET", "/v1/api_key", key=tok["key"]), [403])
    for bad in ({}, {"name": ""}, {"name": "x", "role": "boss"}, {"name": 3}):
        assert_error(call(srv, "POST", "/v1/service_token", bad), [400], str(bad))
    assert_error(call(srv, "POST", "/v1/service_token", {"name": "x", "role": "owner"},
                      key=admin), [403])
    assert_error(call(srv, "GET", f"/v1/service_token/{UNKNOWN}"), [404])
    ok(srv, "DELETE", f"/v1/service_token/{tok['id']}")
    assert_error(call(srv, "GET", "/v1/project", key=tok["key"]), [401])

    # PUT replaces the token of that name: the old secret stops working, the new one works.
    first = ok(srv, "PUT", "/v1/service_token", {"name": "deploy", "role": "viewer"}, key=admin)
    assert ok(srv, "GET", "/v1/project", key=first["key"])["objects"] is not None
    second = ok(srv, "PUT", "/v1/service_token", {"name": "deploy", "role": "editor"}, key=admin)
    assert second["id"] != first["id"] and second["role"] == "editor" and second["key"]
    assert_error(call(srv, "GET", "/v1/project", key=first["key"]), [401])
    ok(srv, "POST", "/v1/project", {"name": "by-replaced-token"}, key=second["key"])
    live = [t for t in ok(srv, "GET", "/v1/service_token", params={"service_token_name": "deploy"})
            ["objects"]]
    assert [t["id"] for t in live] == [second["id"]]
    assert_error(call(srv, "PUT", "/v1/service_token", {"name": "deploy", "role": "owner"},
                      key=admin), [403])
    assert_error(call(srv, "PUT", "/v1/service_token", {"role": "viewer"}), [400])


def test_members(srv):
    tag = uuid.uuid4().hex[:6]
    admin, _ = new_key(srv, "admin")
    u1 = ok(srv, "POST", "/v1/user", {"email": f"m1-{tag}@example.com", "password": PASSWORD,
                                      "name": "Member One", "role": "viewer"})
    members = ok(srv, "GET", "/v1/organization/members")["objects"]
    assert {"id": u1["id"], "role": "viewer"}.items() <= next(
        m for m in members if m["id"] == u1["id"]).items()

    other_key = srv.create_org(f"members-other-{tag}")
    stranger = ok(srv, "POST", "/v1/user", {"email": f"s-{tag}@example.com", "password": PASSWORD,
                                            "name": "Stranger", "role": "viewer"}, key=other_key)
    assert stranger["id"] not in [m["id"] for m in
                                  ok(srv, "GET", "/v1/organization/members")["objects"]]
    out = ok(srv, "PATCH", "/v1/organization/members",
             {"invite_users": {"emails": [f"S-{tag}@example.com"], "role": "editor"}})
    assert {m["id"]: m["role"] for m in out["objects"]}[stranger["id"]] == "editor"
    out = ok(srv, "PATCH", "/v1/organization/members",
             {"update_roles": {"ids": [u1["id"]], "role": "admin"}})
    assert {m["id"]: m["role"] for m in out["objects"]}[u1["id"]] == "admin"

    for bad in ({"invite_users": {"ids": [u1["id"]], "role": "king"}},
                {"invite_users": {"ids": "x"}}, {"update_roles": {"ids": [u1["id"]]}},
                {"remove_users": []}):
        assert_error(call(srv, "PATCH", "/v1/organization/members", bad), [400], str(bad))
    assert_error(call(srv, "PATCH", "/v1/organization/members",
                      {"invite_users": {"ids": [UNKNOWN]}}), [404])
    assert_error(call(srv, "PATCH", "/v1/organization/members",
                      {"remove_users": {"emails": [f"nobody-{tag}@example.com"]}}), [404])
    assert_error(call(srv, "PATCH", "/v1/organization/members",
                      {"invite_users": {"ids": [u1["id"]]}}), [409])
    assert_error(call(srv, "PATCH", "/v1/organization/members",
                      {"org_name": "someone-else", "remove_users": {"ids": [u1["id"]]}}), [404])

    # Owners: only owners make or unmake them, and the last owner stays.
    assert_error(call(srv, "PATCH", "/v1/organization/members",
                      {"update_roles": {"ids": [u1["id"]], "role": "owner"}}, key=admin), [403])
    ok(srv, "PATCH", "/v1/organization/members",
       {"update_roles": {"ids": [u1["id"]], "role": "owner"}})
    assert_error(call(srv, "PATCH", "/v1/organization/members",
                      {"remove_users": {"ids": [u1["id"]]}}), [400])
    ok(srv, "PATCH", "/v1/organization/members", {"remove_users": {"ids": [stranger["id"]]}},
       key=admin)
    roles = {m["id"]: m["role"] for m in ok(srv, "GET", "/v1/organization/members")["objects"]}
    assert stranger["id"] not in roles and roles[u1["id"]] == "owner"
    # Org B's members are its own.
    b_members = [m["id"] for m in ok(srv, "GET", "/v1/organization/members", key=other_key)["objects"]]
    assert u1["id"] not in b_members and stranger["id"] in b_members


def test_orgs_are_isolated(srv, projects):
    p1, _ = projects["one"]
    other_key = srv.create_org(f"iso-{uuid.uuid4().hex[:6]}")
    role = ok(srv, "POST", "/v1/role", {"name": "iso-role"})
    group = ok(srv, "POST", "/v1/group", {"name": "iso-group"})
    _, vid = new_key(srv, "viewer")
    acl = ok(srv, "POST", "/v1/acl", {"object_type": "project", "object_id": p1, "user_id": vid,
                                      "permission": "read"})
    for path in (f"/v1/role/{role['id']}", f"/v1/group/{group['id']}", f"/v1/acl/{acl['id']}"):
        assert_error(call(srv, "GET", path, key=other_key), [404], path)
        assert_error(call(srv, "DELETE", path, key=other_key), [404], path)
    listed = ok(srv, "GET", "/v1/role", key=other_key)["objects"]
    assert role["id"] not in [r["id"] for r in listed]
    assert ok(srv, "GET", "/v1/group", key=other_key)["objects"] == []
    assert ok(srv, "GET", "/v1/acl/list_org", key=other_key)["objects"] == []
    assert ok(srv, "GET", "/v1/acl", params={"object_type": "project", "object_id": p1},
              key=other_key)["objects"] == []
    # Org B cannot grant on org A's project, name org A's keys, or use org A's groups and roles.
    assert_error(call(srv, "POST", "/v1/acl", {"object_type": "project", "object_id": p1,
                                               "group_id": group["id"], "permission": "read"},
                      key=other_key), [404])
    b_project = ok(srv, "POST", "/v1/project", {"name": "iso-b"}, key=other_key)["id"]
    for body in ({"user_id": vid, "permission": "read"}, {"group_id": group["id"], "permission": "read"},
                 {"user_id": vid, "role_id": role["id"]}):
        assert_error(call(srv, "POST", "/v1/acl", dict(body, object_type="project",
                                                       object_id=b_project), key=other_key),
                     [404], str(body))
    assert ok(srv, "GET", f"/v1/acl/{acl['id']}")["id"] == acl["id"]


def test_acl_for_a_signed_in_user(srv, projects):
    """ACLs name users: a viewer signed in with a session writes where a grant lets it."""
    (p1, e1), (_, e2) = projects["one"], projects["two"]
    email = f"acl-user-{uuid.uuid4().hex[:6]}@example.com"
    user = ok(srv, "POST", "/v1/user", {"email": email, "password": PASSWORD, "name": "Acl User",
                                        "role": "viewer"})
    session = requests.Session()
    signed = session.post(srv.url + "/api/auth/login", json={"email": email, "password": PASSWORD},
                          timeout=60)
    assert signed.status_code == 200, describe(signed)
    assert signed.json()["org"]["role"] == "viewer"
    session.headers["X-CSRF-Token"] = signed.json()["csrf_token"]

    def insert(exp):
        return session.post(srv.url + f"/v1/experiment/{exp}/insert",
                            json={"events": [{"input": "by a user"}]}, timeout=60)

    assert_error(insert(e1), [403])
    acl = ok(srv, "POST", "/v1/acl", {"object_type": "project", "object_id": p1,
                                      "user_id": user["id"], "permission": "update"})
    assert insert(e1).status_code == 200
    assert_error(insert(e2), [403])
    ok(srv, "PATCH", "/v1/organization/members",
       {"update_roles": {"ids": [user["id"]], "role": "editor"}})
    assert insert(e2).status_code == 200  # the new org role applies at once
    ok(srv, "DELETE", f"/v1/acl/{acl['id']}")
    ok(srv, "PATCH", "/v1/organization/members", {"remove_users": {"ids": [user["id"]]}})
    assert insert(e1).status_code in (401, 403)
