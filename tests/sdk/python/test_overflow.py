"""~12 MB through the logs3 overflow path (/logs3/overflow + signed upload + overflow reference).

The SDK caps each batch at max_request_size / 2 and only uses overflow for a request larger than
max_request_size = min(BRAINTRUST_MAX_REQUEST_SIZE, server logs3_payload_max_bytes). So a row must
be larger than that to go through overflow: the test lowers the SDK's override to 512 KiB (below
the server's advertised limit) and logs 20 rows of ~600 KB each.
"""
import base64
import os

import braintrust
import pytest
from braintrust.logger import _internal_get_global_state

from _helpers import uniq

MAX_REQ = 512 * 1024
ROW_CHARS = 600 * 1000
NUM_ROWS = 20


@pytest.fixture
def small_request_size(arbor):
    bg = _internal_get_global_state().global_bg_logger()
    bg.flush()
    saved = (bg._max_request_size_override, bg._max_request_size_result)
    bg._max_request_size_override = MAX_REQ
    bg._max_request_size_result = None  # re-read /version with the new override
    yield bg
    bg.flush()
    bg._max_request_size_override, bg._max_request_size_result = saved


def test_server_advertises_payload_limit(arbor):
    version = arbor.get_json("/version")
    limit = version.get("logs3_payload_max_bytes")
    assert isinstance(limit, int) and limit > MAX_REQ, f"/version: {version}"


def test_large_batch_through_overflow(arbor, small_request_size):
    bg = small_request_size
    uploads_before = bg._overflow_upload_count
    project = uniq("py-overflow")
    exp = braintrust.init(project, experiment="big", set_current=False)
    payloads, ids = [], []
    for i in range(NUM_ROWS):
        blob = base64.b64encode(os.urandom(ROW_CHARS // 4 * 3)).decode()
        assert len(blob) == ROW_CHARS
        payloads.append(blob)
        ids.append(exp.log(input={"i": i, "blob": blob}, output={"len": len(blob)}, scores={"ok": 1}, metadata={"i": i}))
    exp.flush()
    assert bg._max_request_size_result == {"max_request_size": MAX_REQ, "can_use_overflow": True}, bg._max_request_size_result
    assert bg._overflow_upload_count - uploads_before >= NUM_ROWS, "each oversized row went through overflow"

    rows = list(braintrust.init(project, experiment="big", open=True).fetch())
    assert len(rows) == NUM_ROWS, f"all {NUM_ROWS} rows stored, got {len(rows)}"
    total = 0
    for r in rows:
        i = r["metadata"]["i"]
        assert r["id"] == ids[i]
        assert r["input"]["i"] == i
        assert len(r["input"]["blob"]) == ROW_CHARS, f"row {i} length"
        assert r["input"]["blob"] == payloads[i], f"row {i} content intact"
        assert r["output"] == {"len": ROW_CHARS}
        assert r["scores"] == {"ok": 1}
        total += len(r["input"]["blob"])
    assert total == NUM_ROWS * ROW_CHARS
