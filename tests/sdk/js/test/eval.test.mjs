// Eval() over an initDataset() dataset with two scorers; a second Eval compares with the first.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startArbor, uniq, collect, approx, isRootRow } from "../lib/arbor.mjs";

const arbor = await startArbor("eval");
const bt = await import("braintrust");
after(async () => {
  await bt.flush().catch(() => {});
  await arbor.stop();
});

const project = uniq("js-eval");
const DATASET = "sums";
// expected is deliberately wrong for the last two rows.
const ROWS = [
  { input: { a: 1, b: 1 }, expected: 2 },
  { input: { a: 2, b: 3 }, expected: 5 },
  { input: { a: 4, b: 4 }, expected: 9 },
  { input: { a: 5, b: 0 }, expected: 6 },
];
// Eval 1 (a + b):          outputs 2,5,8,5  exact 1,1,0,0 = 0.5   closeness 1,1,.75,.75 = 0.875
// Eval 2 (tweaked):        outputs 4,5,9,6  exact 0,1,1,1 = 0.75  closeness .5,1,1,1  = 0.875
//   vs eval 1: exact diff +0.25, 2 improvements, 1 regression; closeness diff 0, 2 improvements, 1 regression
const exact = ({ output, expected }) => ({ name: "exact", score: output === expected ? 1 : 0 });
const closeness = ({ output, expected }) => ({
  name: "closeness",
  score: Math.max(0, 1 - Math.abs(output - expected) / 4),
});
const s = {};

function checkScore(summary, name, { score, diff, improvements, regressions }) {
  const got = summary.scores[name];
  const dump = JSON.stringify(summary.scores);
  assert.ok(got, `summary has ${name}: ${dump}`);
  assert.equal(got.name, name);
  assert.ok(approx(got.score, score), `${name}.score should be ${score}: ${dump}`);
  if (diff === undefined) {
    assert.ok(got.diff === undefined || got.diff === null, `${name} has no diff without a baseline: ${dump}`);
  } else {
    assert.ok(approx(got.diff, diff), `${name}.diff should be ${diff}: ${dump}`);
    assert.equal(got.improvements, improvements, `${name}.improvements: ${dump}`);
    assert.equal(got.regressions, regressions, `${name}.regressions: ${dump}`);
  }
}

test("create the dataset", async () => {
  const ds = bt.initDataset(project, { dataset: DATASET });
  s.rowIds = ROWS.map((r) => ds.insert(r));
  await ds.flush();
  s.datasetId = await ds.id;
  const back = await collect(bt.initDataset(project, { dataset: DATASET }).fetch());
  assert.equal(back.length, ROWS.length);
});

test("first Eval: summary averages come from the scorer spans", async () => {
  assert.ok(s.datasetId, "dataset test ran");
  const res = await bt.Eval(project, {
    experimentName: "eval-1",
    data: bt.initDataset(project, { dataset: DATASET }),
    task: async ({ a, b }) => a + b,
    scores: [exact, closeness],
  });
  assert.equal(res.results.length, ROWS.length);
  for (const r of res.results) assert.equal(r.error, undefined, `case error: ${r.error}`);
  const summary = res.summary;
  s.eval1Name = summary.experimentName;
  s.eval1Id = summary.experimentId;
  assert.equal(summary.projectName, project);
  assert.equal(summary.experimentName, "eval-1");
  assert.equal(summary.comparisonExperimentName, undefined, "first experiment of the project has no baseline");
  checkScore(summary, "exact", { score: 0.5 });
  checkScore(summary, "closeness", { score: 0.875 });
  assert.deepEqual(Object.keys(summary.scores).sort(), ["closeness", "exact"]);
});

test("second Eval compares with the first", async () => {
  assert.ok(s.eval1Id, "first Eval ran");
  const res = await bt.Eval(project, {
    experimentName: "eval-2",
    data: bt.initDataset(project, { dataset: DATASET }),
    task: async ({ a, b }) => (a === 1 ? a + b + 2 : a >= 4 ? a + b + 1 : a + b),
    scores: [exact, closeness],
  });
  for (const r of res.results) assert.equal(r.error, undefined, `case error: ${r.error}`);
  const summary = res.summary;
  s.eval2Id = summary.experimentId;
  assert.equal(summary.experimentName, "eval-2");
  assert.equal(summary.comparisonExperimentName, "eval-1");
  checkScore(summary, "exact", { score: 0.75, diff: 0.25, improvements: 2, regressions: 1 });
  checkScore(summary, "closeness", { score: 0.875, diff: 0, improvements: 2, regressions: 1 });
  assert.deepEqual(Object.keys(summary.scores).sort(), ["closeness", "exact"]);
});

test("Eval experiment rows: one trace per dataset row, scores on scorer spans, origin set", async () => {
  assert.ok(s.eval2Id, "second Eval ran");
  const rows = await collect(bt.init(project, { experiment: "eval-2", open: true }).fetch());
  const roots = rows.filter((r) => isRootRow(r));
  assert.equal(roots.length, ROWS.length, `one root per case: ${JSON.stringify(roots.map((r) => r.span_attributes))}`);
  for (const root of roots) {
    assert.equal(root.is_root, true);
    assert.equal(root.span_attributes?.type, "eval");
    assert.equal(root.origin?.object_type, "dataset");
    assert.equal(root.origin?.object_id, s.datasetId);
    assert.ok(s.rowIds.includes(root.origin?.id), `origin.id is a dataset row id: ${JSON.stringify(root.origin)}`);
    const row = ROWS[s.rowIds.indexOf(root.origin.id)];
    assert.deepEqual(root.input, row.input);
    assert.equal(root.expected, row.expected);
    const trace = rows.filter((r) => r.root_span_id === root.root_span_id);
    const scorers = trace.filter((r) => r.span_attributes?.type === "score");
    assert.deepEqual(scorers.map((r) => r.span_attributes.name).sort(), ["closeness", "exact"]);
    for (const sc of scorers) {
      assert.ok(!isRootRow(sc));
      assert.equal(sc.is_root, false);
      assert.equal(typeof sc.scores?.[sc.span_attributes.name], "number");
    }
  }
});
