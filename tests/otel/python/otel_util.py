"""Reading rows back through /btql, and project lookup, for the OTel Python tests."""
import uuid

import requests

TIMEOUT = 60


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def project_id(srv, name):
    r = requests.post(srv.url + "/api/project/register", json={"project_name": name},
                      headers={"Authorization": f"Bearer {srv.api_key}"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()["project"]["id"]


def rows_of(srv, source, object_id):
    query = {"select": [{"op": "star"}],
             "from": {"op": "function", "name": {"op": "ident", "name": [source]},
                      "args": [{"op": "literal", "value": object_id}]},
             "limit": 1000}
    r = requests.post(srv.url + "/btql", json={"query": query},
                      headers={"Authorization": f"Bearer {srv.api_key}"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def by_name(rows):
    return {r["span_attributes"]["name"]: r for r in rows}
