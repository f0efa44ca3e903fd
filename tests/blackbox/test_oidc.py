"""OIDC sign-in against a real provider (npm oidc-provider, tests/oidc/provider.mjs) on
loopback: authorization code + PKCE, the ID token verified against the provider's keys, a UI
session for an existing user; refusals for unknown or unverified emails, a forged state, a
wrong client secret, and the open-redirect guard."""
import json
import os
import subprocess
import time
import urllib.parse

import pytest
import requests

from arbor_server import REPO, ArborServer, free_port
from blackbox_util import describe

PROVIDER_DIR = os.path.join(REPO, "tests", "oidc")
CLIENT_ID = "arbor-ui"
CLIENT_SECRET = "oidc-test-secret-" + os.urandom(6).hex()
ACCOUNTS = {
    "ada": {"email": "ada@example.com", "email_verified": True, "name": "Ada"},
    "eve": {"email": "eve@example.com", "email_verified": False, "name": "Eve"},
    "zed": {"email": "zed@nowhere.example", "email_verified": True, "name": "Zed"},
}


class Provider:
    def __init__(self, tmp_path, redirect_uri, client_secret=CLIENT_SECRET):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        cfg = tmp_path / f"oidc-{self.port}.json"
        cfg.write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": client_secret,
                                   "redirect_uri": redirect_uri, "accounts": ACCOUNTS,
                                   "login_as": "ada"}))
        self.log = tmp_path / f"oidc-{self.port}.log"
        self.proc = subprocess.Popen(["node", os.path.join(PROVIDER_DIR, "provider.mjs"),
                                      str(self.port), str(cfg)],
                                     stdout=subprocess.PIPE, stderr=open(self.log, "w"), text=True)
        # oidc-provider may print runtime warnings first; wait for our own line.
        for line in self.proc.stdout:
            if line.startswith("ready"):
                break
        else:
            raise RuntimeError("OIDC provider did not start: " + self.log.read_text())

    def login_as(self, sub):
        requests.post(self.issuer + "/test/login-as", data=json.dumps({"sub": sub}), timeout=10)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def start_arbor(tmp_path, issuer_for, client_secret=CLIENT_SECRET):
    """Arbor needs the provider's issuer and the provider needs Arbor's redirect URI: pick
    Arbor's port first."""
    srv = ArborServer(org_name="oidc-org")
    redirect_uri = f"{srv.url}/api/auth/oidc/callback"
    provider = issuer_for(redirect_uri)
    secret_file = tmp_path / f"client-secret-{srv.port}"
    secret_file.write_text(client_secret + "\n")
    srv.extra_args += ["--oidc-issuer", provider.issuer, "--oidc-client-id", CLIENT_ID,
                       "--oidc-client-secret-file", str(secret_file),
                       "--oidc-redirect-uri", redirect_uri]
    srv.start()
    return srv, provider


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oidc")
    srv, provider = start_arbor(tmp, lambda uri: Provider(tmp, uri))
    r = srv.post("/v1/user", {"email": "ada@example.com", "name": "Ada", "role": "editor",
                              "password": "correct horse battery staple"})
    assert r.status_code in (200, 201), describe(r)
    r = srv.post("/v1/user", {"email": "eve@example.com", "name": "Eve", "role": "viewer",
                              "password": "correct horse battery staple"})
    assert r.status_code in (200, 201), describe(r)
    yield srv, provider
    provider.stop()
    srv.cleanup()


def run_flow(srv, provider, return_to="/app/projects", tamper=None):
    """Follows the redirects a browser would, up to Arbor's answer on its callback; returns
    (the browser's cookie session, that answer)."""
    s = requests.Session()
    url = srv.url + "/api/auth/oidc/login?return_to=" + urllib.parse.quote(return_to)
    for _ in range(12):
        if tamper and url.startswith(srv.url + "/api/auth/oidc/callback"):
            url = tamper(url)
        r = s.get(url, allow_redirects=False, timeout=30)
        if r.status_code not in (302, 303) or "/api/auth/oidc/callback" in url:
            return s, r
        loc = r.headers["location"]
        if loc.startswith("/"):
            parts = urllib.parse.urlsplit(url)
            loc = f"{parts.scheme}://{parts.netloc}{loc}"
        url = loc
    raise AssertionError("redirect loop")


def session_of(srv, s):
    return s.get(srv.url + "/api/auth/session", timeout=30)


def test_discovery_advertised_to_the_ui(env):
    srv, _ = env
    r = requests.get(srv.url + "/api/auth/oidc/config", timeout=10)
    assert r.status_code == 200 and r.json() == {"enabled": True}


def test_sign_in_creates_a_ui_session(env):
    srv, provider = env
    provider.login_as("ada")
    s, r = run_flow(srv, provider)
    assert r.status_code == 302, describe(r)
    assert r.headers["location"] == "/app/projects"
    cookie = [c for c in r.headers.get("set-cookie", "").split(",") if "arbor_session=" in c]
    assert cookie, r.headers
    assert "HttpOnly" in cookie[0] and "SameSite" in cookie[0]
    me = session_of(srv, s)
    assert me.status_code == 200, describe(me)
    assert me.json()["user"]["email"] == "ada@example.com"
    # The session reads data like any signed-in user.
    assert s.get(srv.url + "/v1/project", timeout=30).status_code == 200


def test_unknown_email_is_not_signed_in(env):
    srv, provider = env
    provider.login_as("zed")
    s, r = run_flow(srv, provider)
    assert r.status_code in (401, 403), describe(r)
    assert "error" in r.json()
    assert session_of(srv, s).status_code == 401
    provider.login_as("ada")


def test_unverified_email_is_refused(env):
    srv, provider = env
    provider.login_as("eve")
    s, r = run_flow(srv, provider)
    assert r.status_code == 403, describe(r)
    assert "email" in r.json()["error"]["message"]
    assert session_of(srv, s).status_code == 401
    provider.login_as("ada")


def test_forged_state_is_refused(env):
    srv, provider = env

    def swap_state(url):
        parts = urllib.parse.urlsplit(url)
        q = dict(urllib.parse.parse_qsl(parts.query))
        q["state"] = "forged"
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))

    s, r = run_flow(srv, provider, tamper=swap_state)
    assert r.status_code == 403, describe(r)
    assert session_of(srv, s).status_code == 401


def test_callback_without_the_state_cookie_is_refused(env):
    srv, _ = env
    r = requests.get(srv.url + "/api/auth/oidc/callback?code=x&state=y", timeout=10,
                     allow_redirects=False)
    assert r.status_code == 403, describe(r)


def test_return_to_cannot_leave_the_site(env):
    srv, provider = env
    s, r = run_flow(srv, provider, return_to="//evil.example/steal")
    assert r.status_code == 302, describe(r)
    assert r.headers["location"] == "/"


def test_provider_error_is_reported(env):
    srv, _ = env
    r = requests.get(srv.url + "/api/auth/oidc/callback?error=access_denied", timeout=10)
    assert r.status_code == 401 and "access_denied" in r.json()["error"]["message"]


def test_wrong_client_secret_is_refused(tmp_path):
    srv, provider = start_arbor(tmp_path, lambda uri: Provider(tmp_path, uri,
                                                               client_secret="the-real-one"),
                                client_secret="a-wrong-one")
    try:
        srv.post("/v1/user", {"email": "ada@example.com", "name": "Ada", "role": "viewer",
                              "password": "correct horse battery staple"})
        s, r = run_flow(srv, provider)
        assert r.status_code == 401, describe(r)
        assert session_of(srv, s).status_code == 401
    finally:
        provider.stop()
        srv.cleanup()


def test_not_configured_means_not_found():
    srv = ArborServer(org_name="no-oidc")
    srv.start()
    try:
        assert requests.get(srv.url + "/api/auth/oidc/config", timeout=10).json() == {
            "enabled": False}
        r = requests.get(srv.url + "/api/auth/oidc/login", timeout=10, allow_redirects=False)
        assert r.status_code == 404
    finally:
        srv.cleanup()
