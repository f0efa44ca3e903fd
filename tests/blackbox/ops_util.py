"""Helpers shared by the operations tests (backup/restore, export, retention, upgrade):
populate a server through the real HTTP API and read everything back for comparison."""
import os
import subprocess

from blackbox_util import TIMEOUT, describe

SECRET_VALUE = "sk-ops-test-" + "7" * 24


def call(srv, method, path, body=None, key=None, **kw):
    import requests
    return requests.request(method, srv.url + path, json=body, headers=srv.headers(key),
                            timeout=TIMEOUT, **kw)


def ok(resp):
    assert resp.status_code == 200, describe(resp)
    return resp.json()


def logs3(srv, rows, key=None):
    return ok(call(srv, "POST", "/logs3", {"rows": rows, "api_version": 2}, key=key))


def btql_all(srv, source, object_id, key=None):
    """Every live row of an object, paging with the cursor, as {id: row}."""
    rows = {}
    query = {"select": [{"op": "star"}],
             "from": {"op": "function", "name": {"op": "ident", "name": [source]},
                      "args": [{"op": "literal", "value": object_id}]},
             "limit": 500}
    while True:
        page = ok(call(srv, "POST", "/btql", {"query": query, "fmt": "json"}, key=key))
        for row in page["data"]:
            rows[row["id"]] = row
        if not page.get("cursor"):
            return rows
        query["cursor"] = page["cursor"]


def populate(srv, tag="ops"):
    """A project with an experiment, a dataset, project logs, a prompt with two versions and
    an AI secret. Returns the ids."""
    pid = ok(call(srv, "POST", "/v1/project", {"name": f"{tag}-project"}))["id"]
    eid = ok(call(srv, "POST", "/v1/experiment", {"project_id": pid, "name": f"{tag}-exp"}))["id"]
    did = ok(call(srv, "POST", "/v1/dataset", {"project_id": pid, "name": f"{tag}-ds"}))["id"]
    logs3(srv, [{"id": f"e{i}", "experiment_id": eid, "input": {"q": f"question {i}"},
                 "output": f"answer {i}", "scores": {"acc": i % 2}} for i in range(20)])
    logs3(srv, [{"id": "e3", "experiment_id": eid, "_is_merge": True, "metadata": {"m": 1}}])
    logs3(srv, [{"id": f"d{i}", "dataset_id": did, "input": f"in {i}", "expected": f"out {i}"}
                for i in range(10)])
    logs3(srv, [{"id": f"l{i}", "project_id": pid, "log_id": "g", "input": f"log {i}"}
                for i in range(10)])
    logs3(srv, [{"id": "l9", "project_id": pid, "log_id": "g", "_object_delete": True}])
    prompt = ok(call(srv, "POST", "/v1/prompt", {
        "project_id": pid, "name": "Greeter", "slug": f"{tag}-greeter",
        "prompt_data": {"prompt": {"type": "chat", "messages": [
            {"role": "system", "content": "v1"}]}}}))
    ok(call(srv, "PATCH", f"/v1/prompt/{prompt['id']}", {
        "prompt_data": {"prompt": {"type": "chat", "messages": [
            {"role": "system", "content": "v2"}]}}}))
    secret = ok(call(srv, "POST", "/v1/ai_secret", {"name": "OPENAI_API_KEY", "type": "openai",
                                                    "secret": SECRET_VALUE}))
    return {"project": pid, "experiment": eid, "dataset": did, "prompt": prompt["id"],
            "secret": secret["id"]}


def snapshot(srv, ids):
    """Everything `populate` wrote, read back over the API (for before/after comparison)."""
    out = {
        "experiment": btql_all(srv, "experiment", ids["experiment"]),
        "dataset": btql_all(srv, "dataset", ids["dataset"]),
        "logs": btql_all(srv, "project_logs", ids["project"]),
        "project": ok(call(srv, "GET", f"/v1/project/{ids['project']}")),
        "experiment_obj": ok(call(srv, "GET", f"/v1/experiment/{ids['experiment']}")),
        "dataset_obj": ok(call(srv, "GET", f"/v1/dataset/{ids['dataset']}")),
        "prompt": ok(call(srv, "GET", f"/v1/prompt/{ids['prompt']}")),
        "secret": ok(call(srv, "GET", f"/v1/ai_secret/{ids['secret']}")),
        "prompt_versions": ok(call(srv, "GET", f"/v1/prompt/{ids['prompt']}/versions")),
    }
    return out


def run_cli(binary, *args, check=True):
    r = subprocess.run([binary, *args], capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, f"arbor {' '.join(args)} failed ({r.returncode}):\n{r.stderr}"
    return r


def master_key_file(path):
    import base64
    with open(path, "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    return path
