"""The generated route walk: every route the server has (from `arbor routes`, so routes added
later are covered without touching this file) is called

  - with no credentials and with a garbage key: 401, except the public routes;
  - with a viewer key: 403 on every write, admin and owner route, and never 401/403 on reads;
  - with an editor key: 403 on every admin and owner route;
  - with another org's owner key, aimed at this org's objects: never this org's data;

and afterwards this org's objects and rows are exactly as before (a refused request wrote
nothing). No response ever contains an AI secret value or an API key secret planted here."""
import json
import re
import subprocess
import uuid

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error, describe, read_all

UNKNOWN = "00000000-0000-4000-8000-000000000000"
SECRET_VALUE = "sk-walk-" + uuid.uuid4().hex  # an AI secret no response may ever show
MARK = "walk-row-" + uuid.uuid4().hex  # a row value only org A's readers may see
WRITE_NEEDS = ("write", "admin", "owner")


def route_table(binary):
    out = subprocess.run([binary, "routes"], check=True, capture_output=True, text=True).stdout
    routes = json.loads(out)
    assert isinstance(routes, list) and len(routes) > 40, out[:500]
    for r in routes:
        assert r["need"] in ("read", "write", "admin", "owner"), r
        assert r["method"] in ("GET", "POST", "PUT", "PATCH", "DELETE"), r
    return routes


def call(srv, method, path, key=None, body=None, params=None, headers=None):
    h = dict(headers or {})
    if key is not None:
        h["Authorization"] = f"Bearer {key}"
    # stream=True: the live tail (SSE) never ends; it is read only when it is not a stream.
    r = requests.request(method, srv.url + path, json=body, params=params, headers=h, timeout=60,
                         stream=True, allow_redirects=False)
    if "text/event-stream" in r.headers.get("Content-Type", ""):
        r.close()
        r._content = b""
    else:
        r.content  # noqa: B018 (reads the body)
    return r


class World:
    """Org A's objects, keys of each role, and org B's owner key."""

    def __init__(self, srv):
        self.srv = srv
        self.owner = srv.api_key
        self.secrets = [self.owner]
        tag = uuid.uuid4().hex[:8]
        self.p1 = self.ok("POST", "/v1/project", {"name": f"walk-p1-{tag}"})["id"]
        self.p2 = self.ok("POST", "/v1/project", {"name": f"walk-p2-{tag}"})["id"]
        self.exp = self.ok("POST", "/v1/experiment", {"project_id": self.p1, "name": "walk-e"})["id"]
        self.ds = self.ok("POST", "/v1/dataset", {"project_id": self.p1, "name": "walk-d"})["id"]
        self.names = [f"walk-p1-{tag}", f"walk-p2-{tag}"]
        self.ok("POST", f"/v1/experiment/{self.exp}/insert",
                {"events": [{"id": "e1", "input": MARK, "output": 1}]})
        self.ok("POST", f"/v1/dataset/{self.ds}/insert", {"events": [{"id": "d1", "input": MARK}]})
        self.ok("POST", f"/v1/project_logs/{self.p1}/insert", {"events": [{"id": "l1", "input": MARK}]})
        self.prompt = self.ok("POST", "/v1/prompt", {
            "project_id": self.p1, "name": "walk prompt", "slug": f"walk-{tag}",
            "prompt_data": {"prompt": {"type": "chat", "messages": [{"role": "user",
                                                                    "content": MARK}]}}})["id"]
        self.function = self.ok("POST", "/v1/function", {
            "project_id": self.p1, "name": "walk fn", "slug": f"walk-fn-{tag}",
            "function_data": {"type": "prompt"}})["id"]
        self.ai_secret = self.ok("POST", "/v1/ai_secret", {"name": "WALK_KEY", "type": "openai",
                                                            "secret": SECRET_VALUE})["id"]
        self.role = self.ok("POST", "/v1/role", {"name": f"walk-role-{tag}", "member_permissions":
                                                 [{"permission": "read"}]})["id"]
        self.viewer_key, self.viewer_id = self.key("viewer")
        self.editor_key, self.editor_id = self.key("editor")
        self.group = self.ok("POST", "/v1/group", {"name": f"walk-group-{tag}",
                                                   "member_users": [self.viewer_id]})["id"]
        self.acl = self.ok("POST", "/v1/acl", {"object_type": "project", "object_id": self.p2,
                                               "group_id": self.group, "permission": "read"})["id"]
        token = self.ok("POST", "/v1/service_token", {"name": "walk-token", "role": "viewer"})
        self.token = token["id"]
        self.secrets.append(token["key"])
        self.org = self.ok("GET", "/v1/organization")["objects"][0]["id"]
        self.other_key = srv.create_org(f"walk-b-{tag}")
        self.secrets.append(self.other_key)
        self.ids = [self.p1, self.p2, self.exp, self.ds, self.prompt, self.function, self.ai_secret,
                    self.role, self.group, self.acl, self.token, self.viewer_id, self.editor_id]

    def ok(self, method, path, body=None):
        r = call(self.srv, method, path, self.owner, body)
        assert r.status_code == 200, describe(r)
        return r.json()

    def key(self, role):
        made = self.ok("POST", "/v1/api_key", {"name": f"walk-{role}", "role": role})
        assert made["role"] == role
        self.secrets.append(made["key"])
        return made["key"], made["id"]

    def path(self, pattern):
        """The pattern with org A's ids in its {} segments."""
        by_area = [(r"^/v1/\{\}/\{\}", ["experiment", self.exp]),
                   (r"^/v1/(experiment)/", [self.exp]), (r"^/v1/dataset/", [self.ds]),
                   (r"^/v1/project(_logs)?/", [self.p1]), (r"^/v1/prompt/", [self.prompt]),
                   (r"^/v1/function/", [self.function]), (r"^/v1/ai_secret/", [self.ai_secret]),
                   (r"^/v1/api_key/", [self.viewer_id]), (r"^/v1/organization/", [self.org]),
                   (r"^/v1/acl/", [self.acl]), (r"^/v1/role/", [self.role]),
                   (r"^/v1/group/", [self.group]), (r"^/v1/service_token/", [self.token]),
                   (r"^/logs3/overflow/upload/", [self.org, UNKNOWN]),
                   (r"^/attachment/blob/", [self.org, UNKNOWN])]
        values = []
        for rx, vals in by_area:
            if re.search(rx, pattern):
                values = list(vals)
                break
        out = []
        for part in pattern.split("/"):
            out.append((values.pop(0) if values else UNKNOWN) if part == "{}" else part)
        return "/".join(out)

    def probe_body(self):
        """A body aimed at org A's objects, for every kind of route at once."""
        return {"project_id": self.p1, "experiment_id": self.exp, "dataset_id": self.ds,
                "project_name": "probe-project", "name": f"probe-{uuid.uuid4().hex[:6]}",
                "id": self.exp, "object_type": "project", "object_id": self.p1,
                "user_id": self.viewer_id, "permission": "update",
                "rows": [{"experiment_id": self.exp, "id": "e1", "output": "overwritten"}],
                "events": [{"id": "e1", "output": "overwritten"}],
                "feedback": [{"id": "e1", "scores": {"x": 0}}],
                "query": f"select: * | from: experiment('{self.exp}')"}

    def probe_params(self):
        return {"experiment_id": self.exp, "dataset_id": self.ds, "project_id": self.p1,
                "id": self.p1, "object_type": "project", "object_id": self.p1}

    def snapshot(self):
        """What a refused request must not change: rows, objects, grants and keys."""
        rows = {src: sorted(json.dumps(r.get("output"), sort_keys=True) + str(r.get("id"))
                            for r in read_all(self.srv.url, self.owner, src, oid))
                for src, oid in (("experiment", self.exp), ("dataset", self.ds),
                                 ("project_logs", self.p1))}
        listed = {p: self.ok("GET", p)["objects"] for p in
                  ("/v1/project", "/v1/experiment", "/v1/dataset", "/v1/prompt", "/v1/role",
                   "/v1/group", "/v1/api_key", "/v1/ai_secret", "/v1/acl/list_org",
                   "/v1/organization")}
        return rows, json.dumps(listed, sort_keys=True)


@pytest.fixture(scope="module")
def world():
    srv = ArborServer(org_name="walk-a")
    srv.start()
    try:
        yield World(srv)
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def routes(world):
    return route_table(world.srv.binary)


def assert_no_secret(world, r, what):
    text = r.content.decode("utf-8", "replace")
    for s in [SECRET_VALUE] + world.secrets:
        assert s not in text, f"{what}: a secret leaked\n" + describe(r)


def test_route_table_covers_the_surface(routes):
    seen = {(r["method"], r["pattern"]) for r in routes}
    for must in [("POST", "/logs3"), ("POST", "/btql"), ("GET", "/v1/acl"), ("POST", "/v1/role"),
                 ("PATCH", "/v1/organization/members"), ("POST", "/v1/service_token"),
                 ("GET", "/healthz")]:
        assert must in seen, must
    public = {r["pattern"] for r in routes if r["public"]}
    assert "/healthz" in public and "/logs3" not in public
    needs = {(r["method"], r["pattern"]): r["need"] for r in routes}
    assert needs[("POST", "/v1/api_key")] == "admin"
    assert needs[("POST", "/btql")] == "read"
    assert needs[("POST", "/logs3")] == "write"


def test_no_credentials_and_garbage_keys_get_401(world, routes):
    garbage = "arb_" + uuid.uuid4().hex * 2
    for r in routes:
        path = world.path(r["pattern"])
        for key in (None, garbage):
            resp = call(world.srv, r["method"], path, key, world.probe_body(), world.probe_params())
            what = f"{r['method']} {r['pattern']} key={'garbage' if key else 'none'}"
            assert_no_secret(world, resp, what)
            if not r["public"]:
                assert_error(resp, [401], what)


def test_viewer_is_refused_every_write_and_may_read(world, routes):
    before = world.snapshot()
    for r in routes:
        if r["public"]:
            continue
        what = f"viewer {r['method']} {r['pattern']}"
        resp = call(world.srv, r["method"], world.path(r["pattern"]), world.viewer_key,
                    world.probe_body(), world.probe_params())
        assert_no_secret(world, resp, what)
        if r["need"] in WRITE_NEEDS:
            assert_error(resp, [403], what)
        else:
            assert resp.status_code not in (401, 403), what + "\n" + describe(resp)
    assert world.snapshot() == before, "a refused request changed org A"


def test_editor_is_refused_every_admin_route(world, routes):
    before = world.snapshot()
    for r in routes:
        if r["public"] or r["need"] not in ("admin", "owner"):
            continue
        what = f"editor {r['method']} {r['pattern']}"
        resp = call(world.srv, r["method"], world.path(r["pattern"]), world.editor_key,
                    world.probe_body(), world.probe_params())
        assert_no_secret(world, resp, what)
        assert_error(resp, [403], what)
    assert world.snapshot() == before, "a refused request changed org A"


def test_other_org_never_sees_or_changes_this_org(world, routes):
    before = world.snapshot()
    for r in routes:
        if r["public"]:
            continue
        what = f"org B {r['method']} {r['pattern']}"
        resp = call(world.srv, r["method"], world.path(r["pattern"]), world.other_key,
                    world.probe_body(), world.probe_params())
        assert_no_secret(world, resp, what)
        text = resp.content.decode("utf-8", "replace")
        assert MARK not in text, what + ": org A's rows leaked\n" + describe(resp)
        for name in world.names:
            assert name not in text, what + ": org A's project name leaked\n" + describe(resp)
        # Org A's ids may be echoed back in an error message, never in a success body (org B's
        # own audit log records the ids org B itself sent).
        if resp.status_code == 200 and r["pattern"] != "/v1/audit_log":
            for i in world.ids:
                assert i not in text, what + f": org A's id {i} in a 200 answer\n" + describe(resp)
        if "{}" in r["pattern"] and "/blob/" not in r["pattern"] and "/upload/" not in r["pattern"]:
            assert resp.status_code in (400, 403, 404), what + "\n" + describe(resp)
    assert world.snapshot() == before, "org B changed org A"


def test_owner_reads_leak_no_secret(world, routes):
    for r in routes:
        if r["method"] != "GET":
            continue
        resp = call(world.srv, "GET", world.path(r["pattern"]), world.owner, None,
                    world.probe_params())
        assert_no_secret(world, resp, f"owner GET {r['pattern']}")
