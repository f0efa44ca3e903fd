"""Audit trail of rows (protocol §3.6, §4.1 `audit_log`) over raw HTTP: writes carrying
`_audit_source` / `_audit_metadata` (logs3 merges, REST feedback, comments) add entries to the
row's `audit_data` (source, metadata, the writing key, what changed), never to the user fields;
`audit_log: true` answers with the entries; bad sources are rejected and write nothing."""
import pytest
import requests

from arbor_server import ArborServer
from blackbox_util import assert_error, btql_body, describe, register_objects


@pytest.fixture(scope="module")
def srv():
    s = ArborServer(org_name="audit-org")
    s.start()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def ids(srv):
    return register_objects(srv, srv.api_key, "audit-p")


def logs3(srv, rows, key=None):
    return srv.post("/logs3", {"rows": rows, "api_version": 2}, key=key)


def row_by_id(srv, exp, row_id, **extra):
    body = btql_body("experiment", exp, filt={"op": "eq", "left": {"op": "ident", "name": ["id"]},
                                              "right": {"op": "literal", "value": row_id}})
    body.update(extra)
    r = srv.post("/btql", body)
    assert r.status_code == 200, describe(r)
    return r.json()["data"]


def test_feedback_merge_records_source_metadata_key_and_change(srv, ids):
    exp = ids["experiment_id"]
    assert logs3(srv, [{"id": "r1", "experiment_id": exp, "input": "q", "scores": {"h": 0.25},
                        "metadata": {"m": 1}}]).status_code == 200
    [plain] = row_by_id(srv, exp, "r1")
    assert "audit_data" not in plain  # an ordinary SDK write leaves no trail
    reviewer = srv.post("/v1/api_key", {"name": "reviewer"}).json()
    r = logs3(srv, [{"id": "r1", "experiment_id": exp, "_is_merge": True, "scores": {"h": 0.75},
                     "_audit_source": "external", "_audit_metadata": {"reviewer": "r1"}}],
              key=reviewer["key"])
    assert r.status_code == 200, describe(r)
    [row] = row_by_id(srv, exp, "r1")
    assert row["scores"] == {"h": 0.75} and row["metadata"] == {"m": 1}
    assert not [k for k in row if k.startswith("_audit")], row
    [entry] = row["audit_data"]
    assert entry["source"] == "external" and entry["metadata"] == {"reviewer": "r1"}
    assert entry["key_id"] == reviewer["id"]
    assert entry["_xact_id"] == row["_xact_id"] and len(entry["_xact_id"]) == 19
    assert entry["audit_data"] == {"action": "merge",
                                   "changes": [{"path": ["scores", "h"], "from": 0.25, "to": 0.75}]}


def test_rest_feedback_source_metadata_and_comment(srv, ids):
    exp = ids["experiment_id"]
    assert logs3(srv, [{"id": "r2", "experiment_id": exp, "input": "q",
                        "metadata": {"user": "u"}}]).status_code == 200
    fb = srv.post(f"/v1/experiment/{exp}/feedback",
                  {"feedback": [{"id": "r2", "scores": {"ok": 1}, "source": "app",
                                 "metadata": {"reviewer": "ann"}, "comment": "good"}]})
    assert fb.status_code == 200, describe(fb)
    [row] = row_by_id(srv, exp, "r2")
    # Feedback metadata belongs to the audit entry, not to the row (OpenAPI FeedbackItem).
    assert row["metadata"] == {"user": "u"}
    [entry] = row["audit_data"]
    assert entry["source"] == "app" and entry["metadata"] == {"reviewer": "ann"}
    [comment] = row["comments"]
    assert comment["comment"] == {"text": "good"}
    assert comment["audit_data"][0]["source"] == "app"
    # No `source`: REST feedback is an "api" write.
    srv.post(f"/v1/experiment/{exp}/feedback", {"feedback": [{"id": "r2", "scores": {"ok": 0}}]})
    [row] = row_by_id(srv, exp, "r2")
    assert [e["source"] for e in row["audit_data"]] == ["app", "api"]
    assert row["audit_data"][1]["audit_data"]["changes"] == [
        {"path": ["scores", "ok"], "from": 1, "to": 0}]


def test_audit_log_returns_entries_on_btql_and_fetch(srv, ids):
    exp = ids["experiment_id"]
    logs3(srv, [{"id": "r3", "experiment_id": exp, "input": "q", "_audit_source": "api"}])
    logs3(srv, [{"id": "r3", "experiment_id": exp, "_is_merge": True, "tags": ["x"],
                 "_audit_source": "app"}])
    log = row_by_id(srv, exp, "r3", audit_log=True)
    assert [e["audit_data"]["action"] for e in log] == ["upsert", "merge"]
    assert [e["source"] for e in log] == ["api", "app"]
    assert all(e["id"] == "r3" and e["experiment_id"] == exp for e in log)
    assert log[0]["_xact_id"] < log[1]["_xact_id"]
    assert row_by_id(srv, exp, "r3", audit_log=False)[0]["tags"] == ["x"]
    fetched = srv.post(f"/v1/experiment/{exp}/fetch", {"audit_log": True}).json()["events"]
    assert {(e["id"], e["audit_data"]["action"]) for e in fetched} >= {("r3", "upsert"),
                                                                       ("r3", "merge")}
    got = srv.get(f"/v1/experiment/{exp}/fetch", params={"audit_log": "true"}).json()["events"]
    assert len(got) == len(fetched)
    assert_error(srv.post(f"/v1/experiment/{exp}/fetch", {"audit_log": "yes"}), [400])
    body = btql_body("experiment", exp)
    body["audit_log"] = 1
    assert_error(srv.post("/btql", body), [400])


def test_bad_source_and_forged_trail_write_nothing(srv, ids):
    exp = ids["experiment_id"]
    logs3(srv, [{"id": "r4", "experiment_id": exp, "input": "q"}])
    [before] = row_by_id(srv, exp, "r4")
    for bad in ({"_audit_source": "someone"}, {"_audit_source": 3},
                {"_audit_source": "app", "_audit_metadata": "x"}):
        r = logs3(srv, [{"id": "r4", "experiment_id": exp, "_is_merge": True, "output": "o",
                         **bad}])
        assert_error(r, [400], str(bad))
    assert_error(srv.post(f"/v1/experiment/{exp}/feedback",
                          {"feedback": [{"id": "r4", "scores": {"s": 1}, "source": "bot"}]}), [400])
    assert row_by_id(srv, exp, "r4") == [before]
    # A client cannot write the trail itself.
    logs3(srv, [{"id": "r4", "experiment_id": exp, "_is_merge": True,
                 "audit_data": [{"source": "app", "forged": True}]}])
    assert "audit_data" not in row_by_id(srv, exp, "r4")[0]


def test_trail_survives_restart_and_replace(srv, ids):
    exp = ids["experiment_id"]
    logs3(srv, [{"id": "r5", "experiment_id": exp, "input": "q"}])
    logs3(srv, [{"id": "r5", "experiment_id": exp, "_is_merge": True, "scores": {"h": 1},
                 "_audit_source": "external"}])
    srv.stop()
    srv.start()
    [row] = row_by_id(srv, exp, "r5")
    assert [e["source"] for e in row["audit_data"]] == ["external"]
    logs3(srv, [{"id": "r5", "experiment_id": exp, "input": "replaced"}])
    [row] = row_by_id(srv, exp, "r5")
    assert row["input"] == "replaced" and [e["source"] for e in row["audit_data"]] == ["external"]


def test_other_org_sees_no_trail(srv, ids):
    other = srv.create_org("audit-other")
    body = btql_body("experiment", ids["experiment_id"])
    body["audit_log"] = True
    r = requests.post(srv.url + "/btql", json=body, headers=srv.headers(other), timeout=60)
    assert r.status_code in (403, 404) or r.json()["data"] == [], describe(r)
