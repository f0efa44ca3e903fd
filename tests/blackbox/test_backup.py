"""`arbor backup` / `arbor restore`, tested by restore-and-compare: a backup taken while a
writer keeps ingesting restores into a new data dir whose server returns every row that was
acknowledged before the backup began, every catalog object, prompt version and AI secret; a
damaged or incomplete backup is refused and a non-empty target is never written."""
import json
import os
import shutil
import subprocess
import threading
import time

import pytest

from arbor_server import DEFAULT_BIN, ArborServer
from ops_util import call, logs3, master_key_file, ok, populate, run_cli, snapshot, btql_all


@pytest.fixture()
def live(tmp_path):
    key = master_key_file(str(tmp_path / "master.key"))
    data = str(tmp_path / "data")
    os.makedirs(data)
    # A 1 MiB memtable: the writer below forces flushes (and compactions) during the backup.
    srv = ArborServer(data_dir=data, extra_args=["--master-key-file", key, "--memtable-mb", "1",
                                                 "--compaction-inputs-min", "2"])
    srv.start()
    srv.master_key = key
    yield srv
    srv.stop()


class Writer(threading.Thread):
    """Ingests batches of project-log rows until stopped; remembers when each was acked."""

    def __init__(self, srv, pid):
        super().__init__(daemon=True)
        self.srv, self.pid = srv, pid
        self.acked = []  # (ack time, [rows])
        self.stop_flag = threading.Event()
        self.error = None

    def run(self):
        n = 0
        try:
            while not self.stop_flag.is_set():
                rows = [{"id": f"w{n}-{i}", "project_id": self.pid, "log_id": "g",
                         "input": {"text": f"writer row {n}-{i} " + "x" * 800}}
                        for i in range(20)]
                logs3(self.srv, rows)
                self.acked.append((time.monotonic(), rows))
                n += 1
        except Exception as e:  # surfaced by the test
            self.error = e


def restored_server(tmp_path, backup_dir, master_key, name="restored"):
    target = str(tmp_path / name)
    r = run_cli(os.environ.get("ARBOR_BIN", DEFAULT_BIN), "restore", "--from", backup_dir,
                "--data-dir", target)
    assert "restored" in r.stdout
    srv = ArborServer(data_dir=target, extra_args=["--master-key-file", master_key])
    return srv


def assert_same(before, after):
    for k in ("experiment", "dataset", "logs"):
        assert set(after[k]) == set(before[k]), k
        for rid, row in before[k].items():
            assert after[k][rid] == row, (k, rid)
    for k in ("project", "experiment_obj", "dataset_obj", "prompt", "secret", "prompt_versions"):
        assert after[k] == before[k], k


def test_online_backup_under_load_restores_every_acknowledged_row(live, tmp_path):
    srv = live
    ids = populate(srv)
    before = snapshot(srv, ids)
    assert len(before["experiment"]) == 20 and len(before["logs"]) == 9
    wpid = ok(call(srv, "POST", "/v1/project", {"name": "writer-project"}))["id"]
    writer = Writer(srv, wpid)
    writer.start()
    # Ingest until a segment was flushed (1 MiB memtable), so the backup holds segments and WAL.
    seg_dir = os.path.join(srv.data_dir, "segments")
    deadline = time.time() + 60
    while time.time() < deadline and not any(n.endswith(".arbseg") for n in os.listdir(seg_dir)):
        time.sleep(0.1)
    time.sleep(0.5)
    backup_dir = str(tmp_path / "backup")
    started = time.monotonic()
    r = run_cli(srv.binary, "backup", "--data-dir", srv.data_dir, "--out", backup_dir)
    assert "online backup" in r.stdout, r.stdout
    time.sleep(0.5)
    writer.stop_flag.set()
    writer.join()
    assert writer.error is None, writer.error
    acked_before = [row for t, rows in writer.acked if t < started for row in rows]
    assert len(acked_before) >= 200, "the writer should have ingested a few MiB"
    assert any(t > started for t, _ in writer.acked), "writes went on during the backup"

    manifest = json.load(open(os.path.join(backup_dir, "BACKUP.json")))
    paths = {f["path"] for f in manifest["files"]}
    assert manifest["mode"] == "online" and "catalog.db" in paths
    assert any(p.startswith("segments/seg-") for p in paths), "a flushed segment is in the backup"
    for p in paths:  # each segment goes with its typed columns (storage/columns.h)
        if p.endswith(".arbseg"):
            assert p[: -len(".arbseg")] + ".arbcol" in paths, p
    assert any(p.startswith("wal/") for p in paths)
    assert not any("master.key" in p for p in paths), "the master key is never in a backup"

    restored = restored_server(tmp_path, backup_dir, srv.master_key)
    try:
        restored.start()
        after = snapshot(restored, ids)
        assert_same(before, after)
        got = btql_all(restored, "project_logs", wpid)
        for row in acked_before:
            assert row["id"] in got, f"acknowledged row {row['id']} missing after restore"
            assert got[row["id"]]["input"] == row["input"]
        # The restored server takes new writes.
        logs3(restored, [{"id": "after-restore", "project_id": ids["project"], "log_id": "g",
                          "input": "new"}])
        assert "after-restore" in btql_all(restored, "project_logs", ids["project"])
        # The AI secret decrypts under the original master key.
        restored.stop()
        v = run_cli(srv.binary, "secrets", "verify", "--data-dir", restored.data_dir,
                    "--master-key-file", srv.master_key)
        assert json.loads(v.stdout) == {"secrets": 1, "decrypted": 1, "failed": 0}
    finally:
        restored.stop()


def test_offline_backup_and_refusals(live, tmp_path):
    srv = live
    ids = populate(srv, tag="off")
    before = snapshot(srv, ids)
    srv.stop()
    backup_dir = str(tmp_path / "offline-backup")
    r = run_cli(srv.binary, "backup", "--data-dir", srv.data_dir, "--out", backup_dir)
    assert "offline backup" in r.stdout, r.stdout
    assert json.load(open(os.path.join(backup_dir, "BACKUP.json")))["mode"] == "offline"

    # A non-empty target is refused and left as it was.
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    r = run_cli(srv.binary, "restore", "--from", backup_dir, "--data-dir", str(busy), check=False)
    assert r.returncode != 0 and "not empty" in r.stderr, r.stderr
    assert os.listdir(busy) == ["keep.txt"]

    # A backup target that is not empty is refused too.
    r = run_cli(srv.binary, "backup", "--data-dir", srv.data_dir, "--out", str(busy), check=False)
    assert r.returncode != 0 and "not empty" in r.stderr, r.stderr

    # Damaged: one flipped byte in the catalog copy.
    damaged = str(tmp_path / "damaged")
    shutil.copytree(backup_dir, damaged)
    with open(os.path.join(damaged, "catalog.db"), "r+b") as f:
        f.seek(200)
        b = f.read(1)
        f.seek(200)
        f.write(bytes([b[0] ^ 0xFF]))
    target = str(tmp_path / "from-damaged")
    r = run_cli(srv.binary, "restore", "--from", damaged, "--data-dir", target, check=False)
    assert r.returncode != 0 and "damaged" in r.stderr and "catalog.db" in r.stderr, r.stderr
    assert not os.path.exists(target) or os.listdir(target) == []

    # Incomplete: a WAL file missing; no manifest at all.
    missing = str(tmp_path / "missing")
    shutil.copytree(backup_dir, missing)
    wal_files = sorted(os.listdir(os.path.join(missing, "wal")))
    assert wal_files, "the offline backup holds the WAL"
    os.remove(os.path.join(missing, "wal", wal_files[0]))
    r = run_cli(srv.binary, "restore", "--from", missing, "--data-dir", str(tmp_path / "m"),
                check=False)
    assert r.returncode != 0 and "missing" in r.stderr, r.stderr
    os.remove(os.path.join(missing, "BACKUP.json"))
    r = run_cli(srv.binary, "restore", "--from", missing, "--data-dir", str(tmp_path / "m2"),
                check=False)
    assert r.returncode != 0 and "BACKUP.json" in r.stderr, r.stderr

    restored = restored_server(tmp_path, backup_dir, srv.master_key, name="offline-restored")
    try:
        restored.start()
        assert_same(before, snapshot(restored, ids))
    finally:
        restored.stop()


def test_one_server_per_data_dir(live):
    other = ArborServer(data_dir=live.data_dir)
    with pytest.raises(RuntimeError):
        other.start(timeout_s=5)
    with open(other.log_path) as f:
        assert "in use by another arbor process" in f.read()


def test_admin_socket_serves_only_the_servers_user(live, tmp_path):
    """The online backup channel answers only the server's OS user (or root)."""
    out = str(tmp_path / "by-nobody")
    r = subprocess.run([live.binary, "backup", "--data-dir", live.data_dir, "--out", out],
                       capture_output=True, text=True, timeout=60, user=65534, group=65534)
    assert r.returncode != 0 and "without a reply" in r.stderr, r.stderr
    assert not os.path.exists(out)
    # The server's own user still can.
    ok_run = run_cli(live.binary, "backup", "--data-dir", live.data_dir, "--out", out)
    assert "online backup" in ok_run.stdout
