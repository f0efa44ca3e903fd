// Attachment round trip: log a row holding an Attachment, flush (upload), read the row back
// and download the bytes through ReadonlyAttachment.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startArbor, uniq, collect } from "../lib/arbor.mjs";

const arbor = await startArbor("attachments");
const bt = await import("braintrust");
after(async () => {
  await bt.flush().catch(() => {});
  await arbor.stop();
});

test("attachment bytes survive upload and download", async () => {
  const project = uniq("js-att");
  // Binary content with every byte value, plus random bytes: catches text re-encoding.
  const bytes = Buffer.concat([Buffer.from([...Array(256).keys()]), crypto.randomBytes(300 * 1024)]);
  const text = Buffer.from("hello attachment \u00e9\u4e16\n", "utf8");
  const exp = bt.init(project, { experiment: "att" });
  const att = new bt.Attachment({
    data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    filename: "blob.bin",
    contentType: "application/octet-stream",
  });
  const att2 = new bt.Attachment({
    data: new Blob([text], { type: "text/plain" }),
    filename: "note.txt",
    contentType: "text/plain",
  });
  const id = exp.log({ input: { file: att, nested: { note: att2 } }, output: "ok", scores: { s: 1 } });
  await exp.flush();

  const rows = await collect(bt.init(project, { experiment: "att", open: true }).fetch());
  assert.equal(rows.length, 1);
  const row = rows[0];
  assert.equal(row.id, id);
  const ref = row.input.file;
  assert.ok(ref instanceof bt.ReadonlyAttachment, `input.file is an attachment reference: ${JSON.stringify(ref)}`);
  assert.equal(ref.reference.type, "braintrust_attachment");
  assert.equal(ref.reference.filename, "blob.bin");
  assert.equal(ref.reference.content_type, "application/octet-stream");
  assert.equal(ref.reference.key, att.reference.key);
  const status = await ref.status();
  assert.equal(status.upload_status, "done");
  const got = Buffer.from(await (await ref.data()).arrayBuffer());
  assert.equal(got.length, bytes.length);
  assert.ok(got.equals(bytes), "downloaded bytes equal the uploaded bytes");

  const ref2 = row.input.nested.note;
  assert.ok(ref2 instanceof bt.ReadonlyAttachment);
  assert.equal(ref2.reference.filename, "note.txt");
  const got2 = Buffer.from(await (await ref2.data()).arrayBuffer());
  assert.ok(got2.equals(text), `nested attachment bytes: ${JSON.stringify(got2.toString())}`);

  // A fresh ReadonlyAttachment built from the stored reference reads the same bytes.
  const again = new bt.ReadonlyAttachment(att.reference);
  assert.ok(Buffer.from(await (await again.data()).arrayBuffer()).equals(bytes));
});
