"""/v1/ai_secret: CRUD, envelope encryption at rest (the value is in no response and in no
file of the data dir), org isolation, bad input, and master-key rotation."""
import base64
import json
import os
import stat
import subprocess

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error, describe

PLAIN = "sk-arbor-test-" + os.urandom(16).hex()   # the value that must never leak
PLAIN2 = "sk-arbor-second-" + os.urandom(16).hex()


def forms(value):
    """The byte patterns a leaked value could take in a file."""
    raw = value.encode()
    return [raw, raw.hex().encode(), base64.b64encode(raw), value.encode("utf-16-le")]


def assert_no_leak_in_text(text, what):
    for v in (PLAIN, PLAIN2):
        assert v not in text, f"{what} contains a secret value: {text[:400]}"


def assert_no_leak_in_dir(data_dir):
    scanned = 0
    for root, _, files in os.walk(data_dir):
        for f in files:
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                data = fh.read()
            scanned += 1
            for v in (PLAIN, PLAIN2):
                for pattern in forms(v):
                    assert pattern not in data, f"{path} contains a secret value"
    assert scanned > 0


class Recorder:
    """Every response body the tests saw, checked for the values at the end."""

    def __init__(self, srv):
        self.srv = srv
        self.bodies = []

    def call(self, method, path, body=None, key=None, **kw):
        r = requests.request(method, self.srv.url + path, json=body,
                             headers=self.srv.headers(key), timeout=60, **kw)
        self.bodies.append(r.text + json.dumps(dict(r.headers)))
        return r


@pytest.fixture(scope="module")
def srv():
    s = ArborServer(org_name="secrets-org")
    s.start()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def rec(srv):
    return Recorder(srv)


def test_default_master_key_is_generated_owner_only(srv):
    path = os.path.join(srv.data_dir, "master.key")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, oct(mode)
    assert len(base64.b64decode(open(path).read().strip())) == 32
    with open(srv.log_path) as f:
        assert "generated a master key" in f.read()


def test_crud(srv, rec):
    r = rec.call("POST", "/v1/ai_secret", {"name": "OPENAI_API_KEY", "type": "openai",
                                           "secret": PLAIN, "metadata": {"region": "eu"}})
    assert r.status_code == 200, describe(r)
    s = r.json()
    assert s["name"] == "OPENAI_API_KEY" and s["type"] == "openai"
    assert s["metadata"] == {"region": "eu"} and s["org_id"] and s["created"]
    assert s["preview_secret"] == "********" + PLAIN[-4:]
    assert "secret" not in s and "x-bt-found-existing" not in r.headers

    again = rec.call("POST", "/v1/ai_secret", {"name": "OPENAI_API_KEY", "secret": PLAIN2})
    assert again.json()["id"] == s["id"] and again.headers.get("x-bt-found-existing") == "true"
    assert again.json()["preview_secret"] == s["preview_secret"], "POST must not modify"

    listed = rec.call("GET", "/v1/ai_secret").json()["objects"]
    assert [o["id"] for o in listed] == [s["id"]]
    assert rec.call("GET", "/v1/ai_secret", params={"ai_secret_name": "nope"}).json()["objects"] == []
    got = rec.call("GET", f"/v1/ai_secret/{s['id']}").json()
    assert got["preview_secret"] == s["preview_secret"] and got["metadata"] == {"region": "eu"}

    patched = rec.call("PATCH", f"/v1/ai_secret/{s['id']}", {"metadata": {"region": "us"}}).json()
    assert patched["metadata"] == {"region": "us"} and patched["preview_secret"] == s["preview_secret"]
    patched = rec.call("PATCH", f"/v1/ai_secret/{s['id']}", {"secret": PLAIN2}).json()
    assert patched["preview_secret"] == "********" + PLAIN2[-4:]

    # PUT replaces the given fields; without `secret` the value stays.
    put = rec.call("PUT", "/v1/ai_secret", {"name": "OPENAI_API_KEY", "type": "azure"})
    assert put.status_code == 200, describe(put)
    assert put.json()["id"] == s["id"] and put.json()["type"] == "azure"
    assert put.json()["metadata"] is None and put.json()["preview_secret"] == patched["preview_secret"]
    new = rec.call("PUT", "/v1/ai_secret", {"name": "ANTHROPIC_API_KEY", "secret": PLAIN})
    assert new.status_code == 200 and new.json()["id"] != s["id"], describe(new)

    # Project-level: the same name is a different secret.
    pid = rec.call("POST", "/v1/project", {"name": "secrets-p"}).json()["id"]
    proj = rec.call("POST", "/v1/ai_secret", {"name": "OPENAI_API_KEY", "project_id": pid,
                                              "secret": PLAIN}).json()
    assert proj["project_id"] == pid and proj["id"] != s["id"]
    only = rec.call("GET", "/v1/ai_secret", params={"project_id": pid}).json()["objects"]
    assert [o["id"] for o in only] == [proj["id"]]

    gone = rec.call("DELETE", f"/v1/ai_secret/{proj['id']}")
    assert gone.status_code == 200 and gone.json()["id"] == proj["id"], describe(gone)
    assert_error(rec.call("GET", f"/v1/ai_secret/{proj['id']}"), [404])
    by_name = rec.call("DELETE", "/v1/ai_secret", {"name": "ANTHROPIC_API_KEY"})
    assert by_name.status_code == 200 and by_name.json()["id"] == new.json()["id"], describe(by_name)
    names = [o["name"] for o in rec.call("GET", "/v1/ai_secret").json()["objects"]]
    assert names == ["OPENAI_API_KEY"]


def test_bad_input(srv, rec):
    cases = [
        ({"secret": PLAIN}, 400),
        ({"name": "", "secret": PLAIN}, 400),
        ({"name": 5, "secret": PLAIN}, 400),
        ({"name": "X", "secret": 12345}, 400),
        ({"name": "X", "secret": PLAIN, "metadata": "m"}, 400),
        ({"name": "X", "secret": PLAIN, "type": ["openai"]}, 400),
        ({"name": "X", "secret": PLAIN, "project_id": "00000000-0000-4000-8000-000000000000"}, 404),
    ]
    for body, status in cases:
        for method in ("POST", "PUT"):
            assert_error(rec.call(method, "/v1/ai_secret", body), [status], f"{method} {body}")
    r = requests.post(srv.url + "/v1/ai_secret", data="{not json", headers=srv.headers())
    assert_error(r, [400])
    rec.bodies.append(r.text)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(rec.call("GET", f"/v1/ai_secret/{unknown}"), [404])
    assert_error(rec.call("PATCH", f"/v1/ai_secret/{unknown}", {"secret": PLAIN}), [404])
    assert_error(rec.call("DELETE", f"/v1/ai_secret/{unknown}"), [404])
    assert_error(rec.call("DELETE", "/v1/ai_secret", {"name": "no-such"}), [404])
    assert_error(rec.call("DELETE", "/v1/ai_secret", {}), [400])
    assert_error(requests.get(srv.url + "/v1/ai_secret"), [401])
    names = [o["name"] for o in rec.call("GET", "/v1/ai_secret").json()["objects"]]
    assert "X" not in names, "a rejected request wrote something"


def test_other_org_cannot_see_or_touch(srv, rec):
    mine = rec.call("GET", "/v1/ai_secret").json()["objects"]
    assert mine
    sid = mine[0]["id"]
    other = srv.create_org("secrets-other")
    assert rec.call("GET", "/v1/ai_secret", key=other).json()["objects"] == []
    assert_error(rec.call("GET", f"/v1/ai_secret/{sid}", key=other), [404])
    assert_error(rec.call("PATCH", f"/v1/ai_secret/{sid}", {"name": "stolen"}, key=other), [404])
    assert_error(rec.call("DELETE", f"/v1/ai_secret/{sid}", key=other), [404])
    assert_error(rec.call("DELETE", "/v1/ai_secret", {"name": mine[0]["name"]}, key=other), [404])
    theirs = rec.call("POST", "/v1/ai_secret", {"name": mine[0]["name"], "secret": PLAIN}, key=other)
    assert theirs.status_code == 200 and theirs.json()["id"] != sid
    assert "x-bt-found-existing" not in theirs.headers
    after = rec.call("GET", f"/v1/ai_secret/{sid}").json()
    assert after["name"] == mine[0]["name"] and after["preview_secret"] == mine[0]["preview_secret"]


def test_value_never_leaks(srv, rec):
    assert len(rec.bodies) > 20
    for body in rec.bodies:
        assert_no_leak_in_text(body, "a response")
    assert_no_leak_in_dir(srv.data_dir)  # running: catalog.db, its -wal, the log
    srv.stop()
    assert_no_leak_in_dir(srv.data_dir)  # after the checkpoint at close
    srv.start()


def _key_file(path):
    with open(path, "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    return path


def test_rotation_rewraps_and_old_key_stops_working(tmp_path):
    key_a = _key_file(str(tmp_path / "a.key"))
    key_b = _key_file(str(tmp_path / "b.key"))
    key_c = _key_file(str(tmp_path / "c.key"))
    data_dir = str(tmp_path / "data")
    os.makedirs(data_dir)
    s = ArborServer(data_dir=data_dir, org_name="rotate-org", extra_args=["--master-key-file", key_a])
    try:
        s.start()
        ids = []
        for name, value in (("OPENAI_API_KEY", PLAIN), ("ANTHROPIC_API_KEY", PLAIN2)):
            r = s.post("/v1/ai_secret", {"name": name, "secret": value})
            assert r.status_code == 200, describe(r)
            ids.append(r.json()["id"])
        before = {o["id"]: o for o in s.get("/v1/ai_secret").json()["objects"]}
        s.stop()
        assert not os.path.exists(os.path.join(data_dir, "master.key"))

        def verify(key):
            return subprocess.run([s.binary, "secrets", "verify", "--data-dir", data_dir,
                                   "--master-key-file", key], capture_output=True, text=True)

        no_key = subprocess.run([s.binary, "secrets", "verify", "--data-dir", data_dir],
                                capture_output=True, text=True,
                                env={k: v for k, v in os.environ.items() if k != "ARBOR_MASTER_KEY"})
        assert no_key.returncode != 0 and "no master key" in no_key.stderr, no_key.stderr
        assert not os.path.exists(os.path.join(data_dir, "master.key"))
        ok = verify(key_a)
        assert ok.returncode == 0 and json.loads(ok.stdout) == {"secrets": 2, "decrypted": 2, "failed": 0}

        def rotate(old, new):
            return subprocess.run([s.binary, "secrets", "rotate-master-key", "--data-dir", data_dir,
                                   "--old-key-file", old, "--new-key-file", new],
                                  capture_output=True, text=True)

        wrong = rotate(key_c, key_b)  # wrong old key: refused, nothing changed
        assert wrong.returncode != 0 and "nothing was changed" in wrong.stderr, wrong.stderr
        assert verify(key_a).returncode == 0

        rotated = rotate(key_a, key_b)
        assert rotated.returncode == 0, rotated.stderr
        assert "re-wrapped 2" in rotated.stdout
        new_ok = verify(key_b)
        assert new_ok.returncode == 0 and json.loads(new_ok.stdout)["decrypted"] == 2
        old_bad = verify(key_a)
        assert old_bad.returncode != 0 and json.loads(old_bad.stdout)["failed"] == 2

        s.extra_args = ["--master-key-file", key_a]
        with pytest.raises(RuntimeError):
            s.start(timeout_s=10)
        with open(s.log_path) as f:
            assert "master key does not decrypt" in f.read()

        s.extra_args = ["--master-key-file", key_b]
        s.start()
        after = {o["id"]: o for o in s.get("/v1/ai_secret").json()["objects"]}
        assert after == before
        # The server seals new values under the new key too.
        assert s.post("/v1/ai_secret", {"name": "THIRD", "secret": PLAIN}).status_code == 200
        s.stop()
        final = verify(key_b)
        assert final.returncode == 0 and json.loads(final.stdout)["decrypted"] == 3
        for out in (ok, wrong, rotated, new_ok, old_bad, final):
            assert_no_leak_in_text(out.stdout + out.stderr, "CLI output")
        assert_no_leak_in_dir(data_dir)
    finally:
        s.cleanup()
