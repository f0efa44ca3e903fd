"""`arbor export`: JSONL of an experiment, a dataset or a project's logs (newest version of
each row, deleted rows left out), from a running server (--url/--api-key) and from a stopped
data dir (--data-dir). Rows are written with the real Python SDK and /logs3."""
import json
import os

import braintrust
import pytest

from arbor_server import ArborServer
from ops_util import btql_all, call, logs3, ok, run_cli


@pytest.fixture()
def srv(tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    s = ArborServer(data_dir=data)
    s.start()
    yield s
    s.stop()


def export(srv, *args, check=True):
    return run_cli(srv.binary, "export", *args, check=check)


def jsonl(text):
    return {row["id"]: row for row in (json.loads(line) for line in text.splitlines() if line)}


def test_export_experiment_dataset_and_logs(srv, monkeypatch):
    # The real SDK writes an experiment and a dataset.
    monkeypatch.setenv("BRAINTRUST_API_KEY", srv.api_key)
    monkeypatch.setenv("BRAINTRUST_APP_URL", srv.url)
    monkeypatch.setenv("BRAINTRUST_API_URL", srv.url)
    braintrust.login(app_url=srv.url, api_key=srv.api_key, force_login=True)
    exp = braintrust.init(project="export-p", experiment="export-exp", set_current=False)
    for i in range(30):
        exp.log(id=f"case-{i}", input={"q": f"q{i}"}, output=f"a{i}", scores={"ok": 1})
    exp.flush()
    eid = exp.id
    ds = braintrust.init_dataset(project="export-p", name="export-ds")
    for i in range(12):
        ds.insert(id=f"item-{i}", input=f"in{i}", expected=f"out{i}")
    ds.flush()
    did = ds.id
    pid = ok(call(srv, "GET", f"/v1/experiment/{eid}"))["project_id"]
    # /logs3: project logs with an update (merge) and a deletion.
    logs3(srv, [{"id": f"log-{i}", "project_id": pid, "log_id": "g", "input": f"log {i}"}
                for i in range(5)])
    logs3(srv, [{"id": "log-1", "project_id": pid, "log_id": "g", "_is_merge": True,
                 "output": "merged"}])
    logs3(srv, [{"id": "log-4", "project_id": pid, "log_id": "g", "_object_delete": True}])

    cases = [("--experiment", eid, "experiment", 30), ("--dataset", did, "dataset", 12),
             ("--project-logs", pid, "project_logs", 4)]
    online = {}
    for flag, oid, source, n in cases:
        out = export(srv, flag, oid, "--url", srv.url, "--api-key", srv.api_key).stdout
        rows = jsonl(out)
        assert len(rows) == n and len(out.splitlines()) == n, (flag, len(rows))
        assert rows == btql_all(srv, source, oid), flag
        online[flag] = rows
    logs = online["--project-logs"]
    assert "log-4" not in logs and logs["log-1"]["output"] == "merged"
    assert logs["log-1"]["input"] == "log 1"
    assert online["--experiment"]["case-7"]["input"] == {"q": "q7"}
    assert online["--dataset"]["item-3"]["expected"] == "out3"

    # Errors: a wrong key, an unknown object, no object, two objects.
    bad = export(srv, "--experiment", eid, "--url", srv.url, "--api-key", "arb_wrong", check=False)
    assert bad.returncode != 0 and "401" in bad.stderr, bad.stderr
    bad = export(srv, "--dataset", "00000000-0000-4000-8000-000000000000", "--url", srv.url,
                 "--api-key", srv.api_key, check=False)
    assert bad.returncode != 0 and "404" in bad.stderr, bad.stderr
    bad = export(srv, "--url", srv.url, "--api-key", srv.api_key, check=False)
    assert bad.returncode != 0 and "--experiment" in bad.stderr
    bad = export(srv, "--experiment", eid, "--dataset", did, check=False)
    assert bad.returncode != 0 and "one object" in bad.stderr
    # Offline export of a data dir a server holds is refused.
    busy = export(srv, "--experiment", eid, "--data-dir", srv.data_dir, check=False)
    assert busy.returncode != 0 and "in use" in busy.stderr, busy.stderr

    # Offline, from the stopped data dir: the same rows.
    srv.stop()
    for flag, oid, _, _ in cases:
        out = export(srv, flag, oid, "--data-dir", srv.data_dir).stdout
        assert jsonl(out) == online[flag], flag
