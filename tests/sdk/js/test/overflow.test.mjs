// ~12 MB through the logs3 overflow path (/logs3/overflow + signed PUT + overflow reference).
//
// The SDK caps each batch at maxRequestSize / 2 and only uses overflow for a request larger than
// maxRequestSize = min(BRAINTRUST_MAX_REQUEST_SIZE, server logs3_payload_max_bytes). So a row must be
// larger than that limit to go through overflow: we set BRAINTRUST_MAX_REQUEST_SIZE to 512 KiB
// (below the server's advertised limit) and log 20 rows of ~600 KB each.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startArbor, uniq, collect } from "../lib/arbor.mjs";

const MAX_REQ = 512 * 1024;
const ROW_CHARS = 600 * 1000;
const NUM_ROWS = 20;

process.env.BRAINTRUST_MAX_REQUEST_SIZE = String(MAX_REQ);
// Record the SDK's HTTP calls; the SDK captures globalThis.fetch when it loads.
const calls = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const resp = await realFetch(url, init);
  calls.push({ method: init?.method ?? "GET", url: String(url), status: resp.status });
  return resp;
};

const arbor = await startArbor("overflow");
const bt = await import("braintrust");
after(async () => {
  await bt.flush().catch(() => {});
  await arbor.stop();
});

test("server advertises logs3_payload_max_bytes above the forced request size", async () => {
  const version = await arbor.getJson("/version");
  const limit = version.logs3_payload_max_bytes;
  assert.equal(typeof limit, "number", `/version: ${JSON.stringify(version)}`);
  assert.ok(limit > MAX_REQ, `limit ${limit} must exceed ${MAX_REQ} so the SDK's min() picks ours`);
});

test("20 rows of 600 KB go through overflow and read back intact", async () => {
  const project = uniq("js-overflow");
  const exp = bt.init(project, { experiment: "big" });
  const payloads = [];
  const ids = [];
  for (let i = 0; i < NUM_ROWS; i++) {
    // 450,000 random bytes -> 600,000 base64 characters.
    const blob = crypto.randomBytes((ROW_CHARS / 4) * 3).toString("base64");
    payloads.push(blob);
    ids.push(exp.log({ input: { i, blob }, output: { len: blob.length }, scores: { ok: 1 }, metadata: { i } }));
  }
  await exp.flush();

  const failed = calls.filter((c) => c.status >= 400);
  assert.deepEqual(failed, [], "no SDK request failed");
  const overflowReqs = calls.filter((c) => c.method === "POST" && new URL(c.url).pathname === "/logs3/overflow");
  assert.ok(overflowReqs.length >= NUM_ROWS, `each oversized row used /logs3/overflow (${overflowReqs.length} calls)`);
  const puts = calls.filter((c) => c.method === "PUT");
  assert.ok(puts.length >= NUM_ROWS, `signed uploads: ${puts.length}`);
  for (const p of puts) assert.ok(p.status >= 200 && p.status < 300, `upload ${p.url} -> ${p.status}`);

  const rows = await collect(bt.init(project, { experiment: "big", open: true }).fetch());
  assert.equal(rows.length, NUM_ROWS, `all ${NUM_ROWS} rows are stored`);
  let totalChars = 0;
  for (const r of rows) {
    const i = r.metadata?.i;
    assert.equal(typeof i, "number", `row has metadata.i: ${JSON.stringify(Object.keys(r))}`);
    assert.equal(r.id, ids[i]);
    assert.equal(r.input.i, i);
    assert.equal(r.input.blob.length, payloads[i].length, `row ${i} length`);
    assert.ok(r.input.blob === payloads[i], `row ${i} content intact`);
    assert.deepEqual(r.output, { len: ROW_CHARS });
    assert.deepEqual(r.scores, { ok: 1 });
    totalChars += r.input.blob.length;
  }
  assert.equal(totalChars, NUM_ROWS * ROW_CHARS);
});
