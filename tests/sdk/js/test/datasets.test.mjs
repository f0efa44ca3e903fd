// initDataset(): insert, update, delete, flush, fetch, summarize, version pinning.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startArbor, uniq, collect } from "../lib/arbor.mjs";

const arbor = await startArbor("datasets");
const bt = await import("braintrust");
after(async () => {
  await bt.flush().catch(() => {});
  await arbor.stop();
});

const project = uniq("js-ds");
const NAME = "golden";
const s = {};

const open = (opts = {}) => bt.initDataset(project, { dataset: NAME, ...opts });
const byInputN = (rows) => new Map(rows.map((r) => [r.input?.n, r]));

function checkOriginal(rows, label) {
  assert.equal(rows.length, 3, `${label}: 3 rows, got ${JSON.stringify(rows)}`);
  const m = byInputN(rows);
  assert.equal(m.get(1)?.id, s.a);
  assert.deepEqual(m.get(1).expected, { v: "one" });
  assert.deepEqual(m.get(1).metadata, { k: "a" });
  assert.deepEqual(m.get(1).tags, ["t1"]);
  assert.equal(m.get(2)?.id, s.b);
  assert.deepEqual(m.get(2).expected, { v: "two" }, `${label}: b not yet updated`);
  assert.deepEqual(m.get(2).metadata, { k: "b", keep: true });
  assert.equal(m.get(3)?.id, s.c, `${label}: c not yet deleted`);
  assert.deepEqual(m.get(3).expected, { v: "three" });
}

test("insert then fetch", async () => {
  const ds = open({ description: "sdk test dataset" });
  s.a = ds.insert({ input: { n: 1 }, expected: { v: "one" }, metadata: { k: "a" }, tags: ["t1"] });
  s.b = ds.insert({ input: { n: 2 }, expected: { v: "two" }, metadata: { k: "b", keep: true } });
  s.c = ds.insert({ input: { n: 3 }, expected: { v: "three" }, metadata: { k: "c" } });
  await ds.flush();
  s.ds = ds;
  s.datasetId = await ds.id;
  s.projectId = (await ds.project).id;

  const fresh = open();
  assert.equal(await fresh.id, s.datasetId, "dataset/register is get-or-create by name");
  const rows = await collect(fresh.fetch());
  checkOriginal(rows, "after insert");
  for (const r of rows) {
    assert.match(String(r._xact_id), /^\d{19}$/, "_xact_id is a 19-digit decimal string");
    assert.ok(r.created, "created is returned");
    assert.equal(r.dataset_id, s.datasetId);
  }
  s.v1 = await open().version();
  assert.ok(s.v1, "version() after insert");
});

test("update merges, delete removes; versions pin old contents", async () => {
  assert.ok(s.v1, "insert test ran");
  const ds = s.ds;
  ds.update({ id: s.b, expected: { v: "TWO" }, metadata: { k: "b2" } });
  await ds.flush();
  s.v2 = await open().version();
  assert.ok(s.v2 > s.v1, `version advances: ${s.v1} -> ${s.v2}`);
  ds.delete(s.c);
  await ds.flush();

  const latest = await collect(open().fetch());
  assert.equal(latest.length, 2, `c deleted: ${JSON.stringify(latest)}`);
  const m = byInputN(latest);
  assert.equal(m.get(1)?.id, s.a);
  assert.deepEqual(m.get(1).expected, { v: "one" });
  assert.deepEqual(m.get(1).tags, ["t1"]);
  const b = m.get(2);
  assert.equal(b?.id, s.b);
  assert.deepEqual(b.input, { n: 2 }, "update keeps fields it did not set");
  assert.deepEqual(b.expected, { v: "TWO" }, "update replaces expected");
  assert.deepEqual(b.metadata, { k: "b2", keep: true }, "update deep-merges metadata");
  assert.equal(m.get(3), undefined);

  const summary = await ds.summarize();
  assert.equal(summary.datasetName, NAME);
  assert.equal(summary.projectName, project);
  assert.equal(summary.dataSummary.totalRecords, 2, "dataset-summary counts live rows only");
  assert.equal(summary.dataSummary.newRecords, 3);

  // Pinned to the version right after the inserts: the original three rows.
  const pinned1 = open({ version: s.v1 });
  checkOriginal(await collect(pinned1.fetch()), `version ${s.v1}`);
  assert.equal(await pinned1.version(), s.v1);

  // Pinned to the version after the update: b updated, c still present.
  const rows2 = await collect(open({ version: s.v2 }).fetch());
  assert.equal(rows2.length, 3, `version ${s.v2}: ${JSON.stringify(rows2)}`);
  const m2 = byInputN(rows2);
  assert.deepEqual(m2.get(2)?.expected, { v: "TWO" });
  assert.deepEqual(m2.get(2)?.metadata, { k: "b2", keep: true });
  assert.deepEqual(m2.get(3)?.expected, { v: "three" });
});

test("dataset rows carry project_id (OpenAPI DatasetEvent)", async () => {
  assert.ok(s.projectId, "insert test ran");
  const rows = await collect(open().fetch());
  assert.ok(rows.length > 0);
  for (const r of rows) assert.equal(r.project_id, s.projectId, `row ${r.id} project_id`);
});
