"""Local users and web UI sessions, from the outside: `arbor user create`, sign-in with email
and password (cookie flags, one message for unknown email and wrong password, lockout), CSRF
on cookie-authenticated writes (refused writes change nothing), sign-out, expired and disabled
sessions, users in two orgs, cross-org isolation, /v1/user, and that no response and no byte
of the catalog holds a password or its hash."""
import glob
import hashlib
import os
import sqlite3
import time
import uuid

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error, describe

PASSWORD = "correct horse battery staple"
T = 60


@pytest.fixture(scope="module")
def srv():
    s = ArborServer(org_name="users-a")
    s.start()
    s.key_b = s.create_org("users-b")
    s.seen = []  # every response body, checked for hashes at the end
    yield s
    s.cleanup()


def record(srv, r):
    srv.seen.append(r.text)
    return r


def cli_user(srv, email, org, role="owner", password=PASSWORD, name="Test User"):
    """`arbor user create` next to the running server (the catalog is shared safely)."""
    pw = os.path.join(srv.data_dir, f"pw-{uuid.uuid4().hex}")
    with open(pw, "w") as f:
        f.write(password + "\n")
    out = srv.cli("user", "create", "--email", email, "--org", org, "--role", role,
                  "--name", name, "--password-file", pw)
    os.remove(pw)
    return out


def login(srv, email, password=PASSWORD, org=None, headers=None):
    s = requests.Session()
    body = {"email": email, "password": password}
    if org:
        body["org"] = org
    r = record(srv, s.post(srv.url + "/api/auth/login", json=body, timeout=T, headers=headers))
    return s, r


def signed_in(srv, email, **kw):
    s, r = login(srv, email, **kw)
    assert r.status_code == 200, describe(r)
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s, r.json()


def email():
    return f"u-{uuid.uuid4().hex[:10]}@example.com"


def projects(srv, key=None):
    r = srv.get("/v1/project", key=key, timeout=T)
    assert r.status_code == 200, describe(r)
    return {p["name"] for p in r.json()["objects"]}


def test_cli_user_signs_in_with_a_cookie_session(srv):
    e = email()
    out = cli_user(srv, e, "users-a")
    assert e in out and "owner" in out and "$argon2" not in out
    s, r = login(srv, e.upper())  # emails ignore case
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert body["user"]["email"] == e
    assert body["org"]["name"] == "users-a" and body["org"]["role"] == "owner"
    assert [o["name"] for o in body["orgs"]] == ["users-a"]
    assert len(body["csrf_token"]) == 64
    assert r.headers.get("Cache-Control") == "no-store"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("arbor_session=")
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs, cookie
    assert "secure" not in attrs, cookie  # plain http here
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) == 64 and token not in r.text  # the token is only in the cookie

    me = record(srv, s.get(srv.url + "/api/auth/session", timeout=T))
    assert me.status_code == 200, describe(me)
    assert me.json()["auth"] == "session"
    assert me.json()["user"]["email"] == e
    assert me.json()["csrf_token"] == body["csrf_token"]
    # The session reads data like an API key of its org.
    r = s.get(srv.url + "/v1/project", timeout=T)
    assert r.status_code == 200, describe(r)


def test_secure_cookie_behind_https_proxy(srv):
    e = email()
    cli_user(srv, e, "users-a", role="viewer")
    _, r = login(srv, e, headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 200, describe(r)
    attrs = [a.strip().lower() for a in r.headers["Set-Cookie"].split(";")]
    assert "secure" in attrs


def test_wrong_password_and_unknown_email_look_alike(srv):
    e = email()
    cli_user(srv, e, "users-a")
    _, wrong = login(srv, e, password="not the password")
    _, unknown = login(srv, email())
    assert_error(wrong, 401)
    assert_error(unknown, 401)
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert "Set-Cookie" not in wrong.headers
    for bad in ({}, {"email": e}, {"password": PASSWORD}, {"email": 3, "password": PASSWORD}):
        r = requests.post(srv.url + "/api/auth/login", json=bad, timeout=T)
        assert_error(r, 400, str(bad))
    # A form post (what a cross-site page could send) is refused.
    r = requests.post(srv.url + "/api/auth/login", data={"email": e, "password": PASSWORD},
                      timeout=T)
    assert_error(r, 400)


def test_lockout_after_repeated_failures(srv):
    e = email()
    cli_user(srv, e, "users-a")
    for _ in range(5):
        assert_error(login(srv, e, password="wrong password")[1], 401)
    _, r = login(srv, e)  # even the right password, while locked
    assert_error(r, 429)
    assert "too many" in r.json()["error"]["message"]
    # Another email is unaffected.
    e2 = email()
    cli_user(srv, e2, "users-a")
    assert login(srv, e2)[1].status_code == 200


def test_csrf_is_required_for_cookie_writes_and_nothing_is_written(srv):
    e = email()
    cli_user(srv, e, "users-a", role="editor")
    s, body = signed_in(srv, e)
    csrf = s.headers.pop("X-CSRF-Token")
    for headers, what in (({}, "missing"), ({"X-CSRF-Token": "0" * 64}, "wrong"),
                          ({"X-CSRF-Token": csrf[:-1]}, "truncated")):
        name = "csrf-" + uuid.uuid4().hex[:8]
        r = s.post(srv.url + "/v1/project", json={"name": name}, headers=headers, timeout=T)
        assert_error(r, 403, what)
        assert "CSRF" in r.json()["error"]["message"]
        assert name not in projects(srv)
    # Also on the other unsafe methods and the data plane.
    r = s.post(srv.url + "/btql", json={"query": "select: * | from: project_logs('x')"},
               timeout=T)
    assert_error(r, 403)
    # With the token it works.
    name = "csrf-ok-" + uuid.uuid4().hex[:8]
    r = s.post(srv.url + "/v1/project", json={"name": name}, headers={"X-CSRF-Token": csrf},
               timeout=T)
    assert r.status_code == 200, describe(r)
    assert name in projects(srv)
    # API keys need no CSRF token, cookie or not.
    r = requests.post(srv.url + "/v1/project", json={"name": name + "-key"},
                      headers=srv.headers(), cookies=s.cookies, timeout=T)
    assert r.status_code == 200, describe(r)
    # GETs need none either.
    assert s.get(srv.url + "/v1/project", timeout=T).status_code == 200


def test_logout_ends_the_session(srv):
    e = email()
    cli_user(srv, e, "users-a")
    s, _ = signed_in(srv, e)
    stolen = dict(s.cookies)
    # Without the CSRF token another site cannot sign the user out.
    r = requests.post(srv.url + "/api/auth/logout", cookies=stolen, timeout=T)
    assert_error(r, 403)
    r = s.post(srv.url + "/api/auth/logout", timeout=T)
    assert r.status_code == 200, describe(r)
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    # The old cookie is dead on the server, not just cleared in this browser.
    r = requests.get(srv.url + "/v1/project", cookies=stolen, timeout=T)
    assert_error(r, 401)
    assert_error(requests.get(srv.url + "/api/auth/session", cookies=stolen, timeout=T), 401)
    # No cookie at all: the usual 401.
    assert_error(requests.get(srv.url + "/api/auth/session", timeout=T), 401)


def catalog_path(srv):
    return os.path.join(srv.data_dir, "catalog.db")


def test_expired_and_idle_sessions_are_refused(srv):
    e = email()
    cli_user(srv, e, "users-a")
    s1, _ = signed_in(srv, e)
    s2, _ = signed_in(srv, e)
    # Age the sessions in the catalog itself: one past its absolute expiry, one idle too long.
    now_us = int(time.time() * 1e6)
    db = sqlite3.connect(catalog_path(srv), timeout=30)
    with db:
        h1, h2 = (hashlib.sha256(s.cookies["arbor_session"].encode()).hexdigest()
                  for s in (s1, s2))
        assert db.execute("UPDATE sessions SET expires_us = ? WHERE token_hash = ?",
                          (now_us - 1, h1)).rowcount == 1
        assert db.execute("UPDATE sessions SET last_seen_us = ? WHERE token_hash = ?",
                          (now_us - 25 * 3600 * 10**6, h2)).rowcount == 1
    db.close()
    for s in (s1, s2):
        assert_error(s.get(srv.url + "/v1/project", timeout=T), 401)
    # Expired sessions are removed, not just refused.
    db = sqlite3.connect(catalog_path(srv), timeout=30)
    left = db.execute("SELECT count(*) FROM sessions WHERE token_hash IN (?, ?)", (h1, h2))
    assert left.fetchone()[0] == 0
    db.close()


def test_disabled_user_is_refused(srv):
    e = email()
    out = cli_user(srv, e, "users-a", role="editor")
    s, _ = signed_in(srv, e)
    srv.cli("user", "disable", "--email", e)
    assert_error(s.get(srv.url + "/v1/project", timeout=T), 401)
    _, r = login(srv, e)
    assert_error(r, 401)
    assert "disabled" in r.json()["error"]["message"]
    srv.cli("user", "enable", "--email", e)
    s, _ = signed_in(srv, e)
    # Disabling through the API (an owner's key) ends sessions too.
    uid = [u for u in srv.get("/v1/user", timeout=T).json()["objects"] if u["email"] == e][0]["id"]
    assert uid in out
    r = requests.patch(srv.url + f"/v1/user/{uid}", json={"disabled": True},
                       headers=srv.headers(), timeout=T)
    assert r.status_code == 200 and r.json()["disabled"] is True, describe(r)
    assert_error(s.get(srv.url + "/v1/project", timeout=T), 401)


def test_cross_org_isolation(srv):
    ea, eb = email(), email()
    cli_user(srv, ea, "users-a")
    cli_user(srv, eb, "users-b")
    secret_b = "only-b-" + uuid.uuid4().hex[:8]
    r = requests.post(srv.url + "/v1/project", json={"name": secret_b},
                      headers=srv.headers(srv.key_b), timeout=T)
    assert r.status_code == 200, describe(r)
    project_b = r.json()["id"]
    sa, _ = signed_in(srv, ea)
    r = sa.get(srv.url + "/v1/project", timeout=T)
    assert secret_b not in {p["name"] for p in r.json()["objects"]}
    assert_error(sa.get(srv.url + f"/v1/project/{project_b}", timeout=T), 404)
    # Users of org B are invisible to org A, by list and by id.
    sb, body_b = signed_in(srv, eb)
    users_a = record(srv, sa.get(srv.url + "/v1/user", timeout=T)).json()["objects"]
    assert eb not in {u["email"] for u in users_a} and ea in {u["email"] for u in users_a}
    assert_error(sa.get(srv.url + f"/v1/user/{body_b['user']['id']}", timeout=T), 404)
    # A user of A cannot sign in to B.
    _, r = login(srv, ea, org="users-b")
    assert_error(r, 403)


def test_user_in_two_orgs_picks_and_switches(srv):
    e = email()
    cli_user(srv, e, "users-a", role="viewer")
    out = cli_user(srv, e, "users-b", role="admin", password="ignored for an existing user")
    assert "users-b" in out
    s, body = signed_in(srv, e, org="users-b")
    assert body["org"]["name"] == "users-b" and body["org"]["role"] == "admin"
    assert sorted(o["name"] for o in body["orgs"]) == ["users-a", "users-b"]
    r = s.get(srv.url + "/api/auth/session", timeout=T)
    assert sorted(o["name"] for o in r.json()["orgs"]) == ["users-a", "users-b"]
    old = s.cookies["arbor_session"]
    r = record(srv, s.post(srv.url + "/api/auth/switch_org", json={"org": "users-a"}, timeout=T))
    assert r.status_code == 200, describe(r)
    assert r.json()["org"]["name"] == "users-a" and r.json()["org"]["role"] == "viewer"
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    assert s.cookies["arbor_session"] != old
    assert s.get(srv.url + "/api/auth/session", timeout=T).json()["org"]["name"] == "users-a"
    assert_error(requests.get(srv.url + "/v1/project", cookies={"arbor_session": old},
                              timeout=T), 401)
    # The first membership when no org is named.
    _, body = signed_in(srv, e)
    assert body["org"]["name"] == "users-a"


def test_v1_user_create_list_and_roles(srv):
    e_owner, e_new, e_viewer = email(), email(), email()
    cli_user(srv, e_owner, "users-a", role="admin")
    admin, _ = signed_in(srv, e_owner)
    r = record(srv, admin.post(srv.url + "/v1/user", json={
        "email": e_new, "given_name": "Grace", "family_name": "Hopper", "password": PASSWORD,
        "role": "editor"}, timeout=T))
    assert r.status_code == 200, describe(r)
    made = r.json()
    assert made["email"] == e_new and made["given_name"] == "Grace"
    assert made["family_name"] == "Hopper" and made["role"] == "editor"
    assert signed_in(srv, e_new)[1]["org"]["role"] == "editor"
    got = record(srv, admin.get(srv.url + f"/v1/user/{made['id']}", timeout=T))
    assert got.json()["email"] == e_new
    listed = record(srv, admin.get(srv.url + "/v1/user", params={"email": e_new.upper()},
                                   timeout=T)).json()["objects"]
    assert [u["id"] for u in listed] == [made["id"]]
    # An admin may not make owners; a duplicate email conflicts; bad input is refused.
    r = admin.post(srv.url + "/v1/user", json={"email": email(), "password": PASSWORD,
                                                "role": "owner"}, timeout=T)
    assert_error(r, 403)
    assert_error(admin.post(srv.url + "/v1/user", json={"email": e_new, "password": PASSWORD},
                            timeout=T), 409)
    for bad in ({"email": "nope", "password": PASSWORD}, {"email": email(), "password": "short"},
                {"email": email(), "password": PASSWORD, "role": "king"},
                {"password": PASSWORD}):
        assert_error(admin.post(srv.url + "/v1/user", json=bad, timeout=T), 400, str(bad))
    # Editors and viewers cannot add users.
    cli_user(srv, e_viewer, "users-a", role="viewer")
    viewer, _ = signed_in(srv, e_viewer)
    assert_error(viewer.post(srv.url + "/v1/user", json={"email": email(), "password": PASSWORD},
                             timeout=T), 403)
    # The API key (an owner key) can.
    r = srv.post("/v1/user", {"email": email(), "password": PASSWORD, "name": "Via Key"},
                 timeout=T)
    assert r.status_code == 200 and r.json()["role"] == "viewer", describe(r)


def test_session_endpoint_with_an_api_key(srv):
    r = srv.get("/api/auth/session", timeout=T)
    assert r.status_code == 200, describe(r)
    assert r.json()["auth"] == "api_key" and r.json()["user"] is None
    assert r.json()["org"]["name"] == "users-a"


def test_zz_no_password_or_hash_anywhere(srv):
    """Runs last (module order): every recorded response, and the catalog files."""
    r = srv.get("/v1/user", timeout=T)
    srv.seen.append(r.text)
    assert len(r.json()["objects"]) >= 5
    for text in srv.seen:
        assert "$argon2" not in text and "password_hash" not in text and PASSWORD not in text
    files = glob.glob(os.path.join(srv.data_dir, "catalog.db*"))
    assert files
    blob = b"".join(open(f, "rb").read() for f in files)
    assert PASSWORD.encode() not in blob
    assert b"$argon2id$v=19$m=19456,t=2,p=1$" in blob  # what is stored instead
