"""Shared fixtures for the Braintrust Python SDK compatibility tests.

One arbor server per test session (a temp data dir and a random bootstrap key), unless
ARBOR_URL and ARBOR_API_KEY point at a running one. The real `braintrust` package is pointed
at it through BRAINTRUST_APP_URL / BRAINTRUST_API_KEY, the way a user would configure it.
"""
import os
import shutil
import sys

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))

from arbor_server import ArborServer  # noqa: E402

for _var in ("BRAINTRUST_API_URL", "BRAINTRUST_PROXY_URL", "BRAINTRUST_ORG_NAME"):
    os.environ.pop(_var, None)


class Arbor:
    """The server under test plus raw-HTTP helpers for checks the SDK has no API for."""

    def __init__(self, url, api_key, server=None):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.server = server

    def headers(self):
        return {"Authorization": f"Bearer {self.api_key}"}

    def get_json(self, path):
        r = requests.get(self.url + path, headers=self.headers(), timeout=60)
        assert r.ok, f"GET {path} -> {r.status_code}: {r.text[:2000]}"
        return r.json()

    def post_json(self, path, body):
        r = requests.post(self.url + path, json=body, headers=self.headers(), timeout=120)
        assert r.ok, f"POST {path} {str(body)[:400]} -> {r.status_code}: {r.text[:2000]}"
        return r.json()

    def btql_all(self, object_type, object_id, limit=1000, filter=None):
        """Every row of one object through the JSON-AST BTQL form the SDKs use, following cursors."""
        rows, cursor = [], None
        for _ in range(1000):
            query = {
                "select": [{"op": "star"}],
                "from": {
                    "op": "function",
                    "name": {"op": "ident", "name": [object_type]},
                    "args": [{"op": "literal", "value": object_id}],
                },
                "limit": limit,
            }
            if filter is not None:
                query["filter"] = filter
            if cursor:
                query["cursor"] = cursor
            resp = self.post_json("/btql", {"query": query})
            assert isinstance(resp.get("data"), list), f"/btql response without data: {str(resp)[:400]}"
            rows.extend(resp["data"])
            cursor = resp.get("cursor")
            if not cursor:
                return rows
        raise AssertionError("too many BTQL pages")


@pytest.fixture(scope="session")
def arbor():
    url, key = os.environ.get("ARBOR_URL"), os.environ.get("ARBOR_API_KEY")
    server = None
    if url:
        assert key, "ARBOR_URL is set but ARBOR_API_KEY is not"
    else:
        server = ArborServer(org_name="arbor-sdk-py")
        server.start(timeout_s=30)
        url, key = server.url, server.api_key
    os.environ["BRAINTRUST_APP_URL"] = url
    os.environ["BRAINTRUST_API_KEY"] = key

    import braintrust

    braintrust.login(app_url=url, api_key=key, force_login=True)
    yield Arbor(url, key, server)
    try:
        braintrust.flush()
    except Exception:  # noqa: BLE001 - best effort before the server goes away
        pass
    if server is not None:
        server.stop()
        artifacts = os.path.join(REPO, "tests", "artifacts", "sdk")
        os.makedirs(artifacts, exist_ok=True)
        try:
            shutil.copyfile(server.log_path, os.path.join(artifacts, "py.server.log"))
        except OSError:
            pass
        if not os.environ.get("ARBOR_KEEP_DATA"):
            server.cleanup()

