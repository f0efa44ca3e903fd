"""Shared helpers for the black-box tests (imported by conftest and the test modules)."""
import datetime
import json
import os
import shutil
import uuid

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(REPO, "tests", "artifacts", "blackbox")

# The error code each status must carry (README contract: every error is JSON
# {"error": {"code", "message"}}).
STATUS_CODES = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    413: "payload_too_large",
}

TIMEOUT = 60


def new_id(prefix="r"):
    return f"{prefix}-{uuid.uuid4().hex}"


def clip(text, n=600):
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text if len(text) <= n else text[:n] + f"... [{len(text)} chars total]"


def describe(resp):
    """A one-paragraph record of a request and its response, for assertion messages."""
    req = resp.request
    body = req.body
    if body is not None and not isinstance(body, (str, bytes)):
        body = "<streamed body>"
    hdrs = {k: v for k, v in req.headers.items()
            if k.lower() in ("authorization", "content-type", "content-length", "transfer-encoding")}
    return (f"REQUEST {req.method} {req.url} headers={hdrs} body={clip(body, 400)!r}\n"
            f"RESPONSE {resp.status_code} content-type={resp.headers.get('Content-Type')!r} "
            f"body={clip(resp.content, 800)!r}")


def error_code(resp):
    """Returns error.code if the body is the JSON error envelope, else raises AssertionError."""
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError("error body is not JSON:\n" + describe(resp))
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), \
        "error body lacks an 'error' object:\n" + describe(resp)
    code = body["error"].get("code")
    assert isinstance(code, str) and code, "error.code missing or not a string:\n" + describe(resp)
    assert isinstance(body["error"].get("message"), str), "error.message missing:\n" + describe(resp)
    return code


def assert_error(resp, statuses, what=""):
    """Exact status (one of `statuses`), JSON error envelope, and the code that status implies."""
    if isinstance(statuses, int):
        statuses = (statuses,)
    assert resp.status_code in statuses, \
        f"{what}: expected status {statuses}, got {resp.status_code}\n" + describe(resp)
    code = error_code(resp)
    want = STATUS_CODES.get(resp.status_code)
    if want is not None:
        assert code == want, f"{what}: status {resp.status_code} must carry code {want!r}, got {code!r}\n" \
                             + describe(resp)
    return code


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def btql_body(source, obj_id, cursor=None, limit=1000, filt=None):
    q = {"select": [{"op": "star"}],
         "from": {"op": "function", "name": {"op": "ident", "name": [source]},
                  "args": [{"op": "literal", "value": obj_id}]},
         "limit": limit}
    if cursor:
        q["cursor"] = cursor
    if filt is not None:
        q["filter"] = filt
    return {"query": q, "use_columnstore": False, "brainstore_realtime": True}


def read_all(url, key, source, obj_id, limit=1000, max_pages=5000):
    """Every row of one object via POST /btql, following `cursor` until it is empty/null."""
    rows, cursor, seen_cursors = [], None, set()
    for _ in range(max_pages):
        r = requests.post(url + "/btql", json=btql_body(source, obj_id, cursor, limit),
                          headers=auth(key), timeout=TIMEOUT)
        assert r.status_code == 200, f"read-back /btql {source}({obj_id}) failed\n" + describe(r)
        body = r.json()
        data = body.get("data")
        assert isinstance(data, list), "/btql response has no data array\n" + describe(r)
        rows.extend(data)
        cursor = body.get("cursor") or r.headers.get("x-bt-cursor")
        if not cursor or not data:
            return rows
        assert cursor not in seen_cursors, f"/btql returned cursor {cursor!r} twice (pagination loops)"
        seen_cursors.add(cursor)
    raise AssertionError(f"/btql pagination of {source}({obj_id}) did not end after {max_pages} pages")


def canon(rows):
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def parse_key(cli_out):
    """A key printed by `arbor orgs create` / `arbor keys create` (bare key, or JSON carrying it)."""
    out = cli_out.strip()
    try:
        obj = json.loads(out)
        if isinstance(obj, dict):
            for k in ("key", "api_key", "apikey", "token"):
                if isinstance(obj.get(k), str):
                    return obj[k]
    except ValueError:
        pass
    lines = [l.strip() for l in out.splitlines() if l.strip()]
    assert lines, f"CLI printed no key: {cli_out!r}"
    return lines[-1].split()[-1]


def register_objects(srv, key, project_name, suffix=""):
    """project + experiment + dataset; returns their ids."""
    r = srv.post("/api/project/register", {"project_name": project_name}, key=key, timeout=TIMEOUT)
    assert r.status_code == 200, describe(r)
    project_id = r.json()["project"]["id"]
    r = srv.post("/api/experiment/register",
                 {"project_name": project_name, "experiment_name": "exp" + suffix}, key=key, timeout=TIMEOUT)
    assert r.status_code == 200, describe(r)
    experiment_id = r.json()["experiment"]["id"]
    r = srv.post("/api/dataset/register",
                 {"project_name": project_name, "dataset_name": "ds" + suffix}, key=key, timeout=TIMEOUT)
    assert r.status_code == 200, describe(r)
    dataset_id = r.json()["dataset"]["id"]
    return {"project_id": project_id, "experiment_id": experiment_id, "dataset_id": dataset_id}


def keep_log(srv, name):
    """Copies the server log to tests/artifacts/blackbox/ so a failure can be read afterwards."""
    try:
        os.makedirs(ARTIFACTS, exist_ok=True)
        if os.path.exists(srv.log_path):
            shutil.copy(srv.log_path, os.path.join(ARTIFACTS, name + ".log"))
    except OSError:
        pass


def norm_created(v):
    """ISO-8601 → aware datetime, so '...Z' and '...+00:00' (or extra zero digits) compare equal."""
    if not isinstance(v, str):
        return v
    s = v.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    try:
        d = datetime.datetime.fromisoformat(s)
    except ValueError:
        return v
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d
