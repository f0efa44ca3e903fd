"""Retention: a project's policy (PUT /v1/project/{id}/retention) makes the background sweep
delete the rows older than N days by `created` (tombstones through the write path); newer
rows, other projects and other kinds of objects are untouched. Bad input writes nothing."""
import datetime
import os
import time

import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error
from ops_util import btql_all, call, logs3, ok


def iso(days_ago):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return t.isoformat().replace("+00:00", "Z")


@pytest.fixture()
def srv(tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    s = ArborServer(data_dir=data, extra_args=["--retention-interval-s", "1"])
    s.start()
    yield s
    s.stop()


def write_aged(srv, pid, eid):
    logs3(srv, [{"id": f"old-{i}", "project_id": pid, "log_id": "g", "input": "old",
                 "created": iso(40 + i)} for i in range(5)])
    logs3(srv, [{"id": f"new-{i}", "project_id": pid, "log_id": "g", "input": "new",
                 "created": iso(i)} for i in range(5)])
    logs3(srv, [{"id": f"exp-old-{i}", "experiment_id": eid, "input": "old",
                 "created": iso(100)} for i in range(3)])


def wait_for(pred, timeout_s=20):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def test_sweep_deletes_only_expired_rows_of_the_policy(srv):
    a = ok(call(srv, "POST", "/v1/project", {"name": "ret-a"}))["id"]
    b = ok(call(srv, "POST", "/v1/project", {"name": "ret-b"}))["id"]
    ea = ok(call(srv, "POST", "/v1/experiment", {"project_id": a, "name": "ea"}))["id"]
    eb = ok(call(srv, "POST", "/v1/experiment", {"project_id": b, "name": "eb"}))["id"]
    write_aged(srv, a, ea)
    write_aged(srv, b, eb)

    assert ok(call(srv, "GET", f"/v1/project/{a}/retention")) == {
        "project_id": a, "project_logs_max_age_days": None, "experiment_max_age_days": None}
    put = ok(call(srv, "PUT", f"/v1/project/{a}/retention", {"project_logs_max_age_days": 30}))
    assert put == {"project_id": a, "project_logs_max_age_days": 30,
                   "experiment_max_age_days": None}

    assert wait_for(lambda: not any(k.startswith("old-")
                                    for k in btql_all(srv, "project_logs", a))), \
        "expired logs of project a were not swept"
    assert sorted(btql_all(srv, "project_logs", a)) == [f"new-{i}" for i in range(5)]
    # Untouched: the other project's logs and every experiment (no experiment policy).
    time.sleep(1.5)
    assert len(btql_all(srv, "project_logs", b)) == 10
    assert len(btql_all(srv, "experiment", ea)) == 3
    assert len(btql_all(srv, "experiment", eb)) == 3

    # An experiment policy on b: b's old experiment rows go, its logs and a's experiment stay.
    ok(call(srv, "PUT", f"/v1/project/{b}/retention", {"experiment_max_age_days": 90}))
    assert wait_for(lambda: len(btql_all(srv, "experiment", eb)) == 0)
    assert len(btql_all(srv, "project_logs", b)) == 10
    assert len(btql_all(srv, "experiment", ea)) == 3

    # Turned off again: new old rows stay.
    off = ok(call(srv, "PUT", f"/v1/project/{a}/retention", {"project_logs_max_age_days": None}))
    assert off["project_logs_max_age_days"] is None
    logs3(srv, [{"id": "old-again", "project_id": a, "log_id": "g", "created": iso(400)}])
    time.sleep(2.5)
    assert "old-again" in btql_all(srv, "project_logs", a)

    # The policy survives a restart.
    srv.stop()
    srv.start()
    assert ok(call(srv, "GET", f"/v1/project/{b}/retention"))["experiment_max_age_days"] == 90


def test_bad_input_and_isolation(srv):
    pid = ok(call(srv, "POST", "/v1/project", {"name": "ret-bad"}))["id"]
    path = f"/v1/project/{pid}/retention"
    for body in ({"project_logs_max_age_days": -1}, {"project_logs_max_age_days": "30"},
                 {"project_logs_max_age_days": 1.5}, {"experiment_max_age_days": 10 ** 9},
                 {"nope": 3}, {"project_logs_max_age_days": 5, "nope": 1}):
        r = call(srv, "PUT", path, body)
        assert_error(r, [400])
    r = requests.put(srv.url + path, data="not json", headers=srv.headers(), timeout=30)
    assert_error(r, [400])
    assert ok(call(srv, "GET", path))["project_logs_max_age_days"] is None, "nothing written"
    assert_error(call(srv, "GET", "/v1/project/00000000-0000-4000-8000-000000000000/retention"),
                 [404])
    assert_error(call(srv, "GET", path, key="arb_wrong"), [401])
    srv.stop()
    other_key = srv.create_org("ret-other")
    srv.start()
    assert_error(call(srv, "GET", path, key=other_key), [404])
    assert_error(call(srv, "PUT", path, {"project_logs_max_age_days": 1}, key=other_key), [404])
    assert ok(call(srv, "GET", path))["project_logs_max_age_days"] is None
