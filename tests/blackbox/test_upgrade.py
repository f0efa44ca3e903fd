"""Upgrade from a previous data dir: the current binary opens tests/fixtures/datadir-v1.tar.gz
(made by the release before versioned migrations; tests/fixtures/datadir_v1.py), runs every
catalog migration, reads every row (flushed segment and WAL), prompt version and AI secret,
takes new writes, and opening it again changes nothing."""
import json
import os
import sqlite3
import sys
import tarfile

import pytest

from arbor_server import ArborServer
from ops_util import btql_all, call, logs3, ok, run_cli

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
sys.path.insert(0, FIXTURES)
import datadir_v1 as v1  # noqa: E402

EXPECTED = json.load(open(v1.EXPECTED))


def schema(data_dir):
    db = sqlite3.connect(os.path.join(data_dir, "catalog.db"))
    try:
        versions = [r[0] for r in db.execute("SELECT version FROM schema_version")]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return versions, tables
    finally:
        db.close()


@pytest.fixture()
def upgraded(tmp_path):
    with tarfile.open(v1.TARBALL) as tar:
        tar.extractall(tmp_path, filter="data")
    data = str(tmp_path / "datadir-v1")
    key = str(tmp_path / "master.key")
    with open(key, "w") as f:
        f.write(v1.MASTER_KEY + "\n")
    versions, tables = schema(data)
    assert versions == [1] and "retention_policies" not in tables, "the fixture is pre-migration"
    assert os.listdir(os.path.join(data, "segments")) and os.listdir(os.path.join(data, "wal"))
    srv = ArborServer(data_dir=data, api_key=v1.API_KEY, org_name=v1.ORG_NAME,
                      extra_args=["--master-key-file", key])
    srv.master_key = key
    yield srv
    srv.stop()


def read_all(srv):
    e = EXPECTED
    prompt_v1 = ok(call(srv, "GET", f"/v1/prompt/{e['prompt_id']}",
                        params={"version": e["prompt_v1_xact"]}))
    prompt = ok(call(srv, "GET", f"/v1/prompt/{e['prompt_id']}"))
    return {"experiment": btql_all(srv, "experiment", e["experiment_id"]),
            "dataset": btql_all(srv, "dataset", e["dataset_id"]),
            "logs": btql_all(srv, "project_logs", e["project_id"]),
            "prompt_v1": prompt_v1, "prompt": prompt,
            "secret": ok(call(srv, "GET", f"/v1/ai_secret/{e['secret_id']}"))}


def test_previous_data_dir_opens_migrates_and_takes_writes(upgraded):
    srv = upgraded
    srv.start()
    versions, tables = schema(srv.data_dir)
    assert len(versions) == 1 and versions[0] >= 6 and "retention_policies" in tables
    got = read_all(srv)
    e = EXPECTED
    want = {r["id"]: r for r in v1.experiment_rows(e["experiment_id"])}
    assert set(got["experiment"]) == set(want)
    for rid, row in want.items():
        have = got["experiment"][rid]
        for k in ("input", "output", "scores", "metadata"):
            assert have[k] == row[k], (rid, k)
    assert {r: got["dataset"][r]["expected"] for r in got["dataset"]} == \
        {r["id"]: r["expected"] for r in v1.dataset_rows(e["dataset_id"])}
    assert sorted(got["logs"]) == sorted(r["id"] for r in v1.log_rows(e["project_id"]))
    msgs = lambda p: p["prompt_data"]["prompt"]["messages"][0]["content"]  # noqa: E731
    assert msgs(got["prompt_v1"]) == "version one" and msgs(got["prompt"]) == "version two"
    assert got["prompt"]["_xact_id"] == e["prompt_v2_xact"]
    assert got["secret"]["name"] == "OPENAI_API_KEY"
    assert got["secret"]["preview_secret"].endswith(v1.SECRET_VALUE[-4:])

    # New writes, and the new catalog tables work.
    logs3(srv, [{"id": "after-upgrade", "project_id": e["project_id"], "log_id": "g",
                 "input": "new"}])
    ok(call(srv, "PUT", f"/v1/project/{e['project_id']}/retention",
            {"experiment_max_age_days": 3650}))
    second_exp = ok(call(srv, "POST", "/v1/experiment",
                         {"project_id": e["project_id"], "name": "after-upgrade"}))["id"]
    logs3(srv, [{"id": "x", "experiment_id": second_exp, "input": "new"}])
    before = read_all(srv)
    srv.stop()
    v = run_cli(srv.binary, "secrets", "verify", "--data-dir", srv.data_dir,
                "--master-key-file", srv.master_key)
    assert json.loads(v.stdout) == {"secrets": 1, "decrypted": 1, "failed": 0}

    # Opening again is idempotent: same schema, same data, nothing lost.
    srv.start()
    assert schema(srv.data_dir) == (versions, tables)
    after = read_all(srv)
    assert after == before and "after-upgrade" in after["logs"]
    assert "x" in btql_all(srv, "experiment", second_exp)
    assert ok(call(srv, "GET", f"/v1/project/{e['project_id']}/retention"))[
        "experiment_max_age_days"] == 3650
