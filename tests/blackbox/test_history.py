"""History horizon (--history-retention-s): compaction physically removes deleted rows, rows
expired by a retention policy, and overwritten versions once they are older than the horizon.
Checked on the files themselves: every zstd frame of every segment file is decompressed (with
the zstd CLI) and searched for the rows' unique text, with a control that text which must stay
is found the same way. Queries keep hiding the deleted rows, before and after a restart."""
import datetime
import glob
import json
import os
import subprocess
import time

import pytest

from arbor_server import ArborServer
from ops_util import btql_all, call, logs3, ok

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
FILLER_ROWS = 40
FILLER_BYTES = 100_000  # 40 x 100 KB: past the 1 MiB memtable several times


def iso(days_ago):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return t.isoformat().replace("+00:00", "Z")


def segment_text(data_dir):
    """Decompressed content of every zstd frame of every live segment file, concatenated."""
    out = []
    for path in sorted(glob.glob(os.path.join(data_dir, "segments", "seg-*.arbseg"))):
        with open(path, "rb") as f:
            data = f.read()
        at = data.find(ZSTD_MAGIC)
        while at >= 0:
            # The CLI writes the first frame's content, then stops at the bytes after it.
            done = subprocess.run(["zstd", "-dcq"], input=data[at:], capture_output=True)
            out.append(done.stdout)
            at = data.find(ZSTD_MAGIC, at + 1)
    return b"\n".join(out)


def manifest(data_dir):
    with open(os.path.join(data_dir, "segments", "MANIFEST.json")) as f:
        return json.load(f)


def wait_for(pred, timeout_s=60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.3)
    return pred()


@pytest.fixture()
def srv(tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    s = ArborServer(data_dir=data, extra_args=[
        "--history-retention-s", "0", "--memtable-mb", "1", "--retention-interval-s", "1"])
    s.start()
    yield s
    s.stop()


def test_deleted_expired_and_overwritten_rows_leave_the_segment_files(srv):
    tag = os.urandom(6).hex()
    mark = {k: f"{k}{tag}" for k in ("deletedmark", "expiredmark", "oldversionmark",
                                     "newversionmark", "keptmark")}
    pid = ok(call(srv, "POST", "/v1/project", {"name": "history"}))["id"]
    logs = {"project_id": pid, "log_id": "g"}
    logs3(srv, [{"id": f"del-{i}", **logs, "input": f"{mark['deletedmark']} {i}"}
                for i in range(10)])
    logs3(srv, [{"id": f"exp-{i}", **logs, "input": f"{mark['expiredmark']} {i}",
                 "created": iso(40)} for i in range(5)])
    logs3(srv, [{"id": f"ver-{i}", **logs, "input": f"{mark['oldversionmark']} {i}"}
                for i in range(10)])
    logs3(srv, [{"id": f"keep-{i}", **logs, "input": f"{mark['keptmark']} {i}"}
                for i in range(5)])
    logs3(srv, [{"id": f"ver-{i}", **logs, "input": f"{mark['newversionmark']} {i}"}
                for i in range(10)])
    logs3(srv, [{"id": f"del-{i}", **logs, "_object_delete": True} for i in range(10)])
    ok(call(srv, "PUT", f"/v1/project/{pid}/retention", {"project_logs_max_age_days": 30}))
    assert wait_for(lambda: not any(k.startswith("exp-") for k in btql_all(srv, "project_logs", pid)),
                    20), "the retention sweep did not delete the expired rows"

    # Filler (another project, big rows) fills the 1 MiB memtable: flushes, then compaction.
    other = ok(call(srv, "POST", "/v1/project", {"name": "filler"}))["id"]
    for i in range(FILLER_ROWS):
        logs3(srv, [{"id": f"fill-{i}", "project_id": other, "log_id": "g",
                     "input": f"filler {i} " + "x" * FILLER_BYTES}])

    def collected():
        text = segment_text(srv.data_dir)
        return (mark["keptmark"].encode() in text and
                not any(mark[k].encode() in text
                        for k in ("deletedmark", "expiredmark", "oldversionmark")))

    # The control first: the kept text is findable in the files, so absence means something.
    assert wait_for(lambda: mark["keptmark"].encode() in segment_text(srv.data_dir)), \
        "no segment holds the kept rows: nothing was flushed"
    assert wait_for(collected), (
        "deleted, expired or overwritten text is still in the segment files; manifest: " +
        json.dumps(manifest(srv.data_dir)))
    text = segment_text(srv.data_dir)
    assert mark["newversionmark"].encode() in text
    assert sum(int(s["deletes"]) for s in manifest(srv.data_dir)["segments"]) == 0

    def check_queries():
        rows = btql_all(srv, "project_logs", pid)
        assert sorted(rows) == sorted([f"keep-{i}" for i in range(5)] +
                                      [f"ver-{i}" for i in range(10)])
        assert all(rows[f"ver-{i}"]["input"] == f"{mark['newversionmark']} {i}"
                   for i in range(10))
        assert len(btql_all(srv, "project_logs", other)) == FILLER_ROWS

    check_queries()
    # A deleted id written again is a new, visible row.
    logs3(srv, [{"id": "del-0", **logs, "input": "written again"}])
    assert btql_all(srv, "project_logs", pid)["del-0"]["input"] == "written again"
    logs3(srv, [{"id": "del-0", **logs, "_object_delete": True}])

    srv.stop()
    srv.start()
    check_queries()
    assert not any(mark[k].encode() in segment_text(srv.data_dir)
                   for k in ("deletedmark", "expiredmark", "oldversionmark"))


def test_history_retention_flag_is_checked(tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    s = ArborServer(data_dir=data, extra_args=["--history-retention-s", "-5"])
    with pytest.raises(RuntimeError):
        s.start(timeout_s=10)
    with open(s.log_path) as f:
        assert "--history-retention-s must be a whole number" in f.read()
