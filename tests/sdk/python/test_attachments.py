"""Attachment round trip: log a row holding an Attachment, flush (upload), read the row back and
download the bytes through ReadonlyAttachment."""
import os

import braintrust

from _helpers import uniq


def test_attachment_round_trip(arbor):
    project = uniq("py-att")
    data = bytes(range(256)) + os.urandom(300 * 1024)
    text = "hello attachment \u00e9\u4e16\n".encode()
    exp = braintrust.init(project, experiment="att", set_current=False)
    att = braintrust.Attachment(data=data, filename="blob.bin", content_type="application/octet-stream")
    att2 = braintrust.Attachment(data=text, filename="note.txt", content_type="text/plain")
    row_id = exp.log(input={"file": att, "nested": {"note": att2}}, output="ok", scores={"s": 1})
    exp.flush()

    rows = list(braintrust.init(project, experiment="att", open=True).fetch())
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == row_id
    ref = row["input"]["file"]
    assert isinstance(ref, braintrust.ReadonlyAttachment), f"input.file is an attachment reference: {ref!r}"
    assert ref.reference["type"] == "braintrust_attachment"
    assert ref.reference["filename"] == "blob.bin"
    assert ref.reference["content_type"] == "application/octet-stream"
    assert ref.reference["key"] == att.reference["key"]
    assert ref.status()["upload_status"] == "done"
    got = ref.data
    assert len(got) == len(data)
    assert got == data, "downloaded bytes equal the uploaded bytes"

    ref2 = row["input"]["nested"]["note"]
    assert isinstance(ref2, braintrust.ReadonlyAttachment)
    assert ref2.reference["filename"] == "note.txt"
    assert ref2.data == text

    # A fresh ReadonlyAttachment built from the stored reference reads the same bytes.
    assert braintrust.ReadonlyAttachment(att.reference).data == data
