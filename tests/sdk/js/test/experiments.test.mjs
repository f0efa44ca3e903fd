// init() experiments: log, logFeedback, flush, summarize against a base, read back.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startArbor, uniq, collect, approx } from "../lib/arbor.mjs";

const arbor = await startArbor("experiments");
const bt = await import("braintrust");
after(async () => {
  await bt.flush().catch(() => {});
  await arbor.stop();
});

// Same inputs in both experiments. The candidate's q4 is logged with accuracy 0 and then
// corrected to 0.5 through logFeedback, so the summary must see the merged score.
//   accuracy: base 1, 0, 0.5, 0 (mean 0.375); candidate 1, 1, 0, 0.5 (mean 0.625)
//   -> diff +0.25, improvements 2 (q2, q4), regressions 1 (q3)
//   fluency: 0.5 everywhere -> diff 0, no improvements, no regressions
const CASES = [
  { q: "q1", expected: "a1", base: 1, cand: 1 },
  { q: "q2", expected: "a2", base: 0, cand: 1 },
  { q: "q3", expected: "a3", base: 0.5, cand: 0 },
  { q: "q4", expected: "a4", base: 0, cand: 0, candFeedback: 0.5 },
];

const COMMENTS = { q1: "perfect", q4: "q4 is half right" };
const project = uniq("js-exp");
const state = {};

function logCases(exp, variant) {
  return CASES.map((c, i) =>
    exp.log({
      input: { question: c.q },
      output: `${variant}-answer-${c.q}`,
      expected: c.expected,
      scores: { accuracy: c[variant], fluency: 0.5 },
      metadata: { case: i, variant },
    }),
  );
}

test("base experiment: log, flush, summarize without a baseline", async () => {
  const base = bt.init(project, { experiment: "base" });
  state.baseIds = logCases(base, "base");
  await base.flush();
  state.baseName = await base.name;
  state.baseId = await base.id;
  assert.equal(state.baseName, "base");

  const summary = await base.summarize();
  assert.equal(summary.projectName, project);
  assert.equal(summary.experimentName, "base");
  assert.equal(summary.comparisonExperimentName, undefined, "first experiment of a project has no baseline");
  const acc = summary.scores.accuracy;
  assert.ok(acc, `summary has an accuracy score: ${JSON.stringify(summary.scores)}`);
  assert.equal(acc.name, "accuracy");
  assert.ok(approx(acc.score, 0.375), `accuracy mean 0.375, got ${JSON.stringify(acc)}`);
  assert.ok(acc.diff === undefined || acc.diff === null, `no diff without a baseline: ${JSON.stringify(acc)}`);
  assert.ok(approx(summary.scores.fluency?.score, 0.5), `fluency: ${JSON.stringify(summary.scores.fluency)}`);
  assert.deepEqual(Object.keys(summary.scores).sort(), ["accuracy", "fluency"]);
});

test("candidate experiment: logFeedback merges, summarize compares with the base", async () => {
  assert.ok(state.baseId, "base experiment test ran");
  const cand = bt.init(project, { experiment: "candidate" });
  state.candIds = logCases(cand, "cand");
  // Flush first so the feedback travels as its own merge row (not collapsed client-side).
  await cand.flush();
  cand.logFeedback({ id: state.candIds[3], scores: { accuracy: 0.5 }, comment: COMMENTS.q4, metadata: { reviewer: "r1" } });
  cand.logFeedback({ id: state.candIds[0], comment: COMMENTS.q1 });
  await cand.flush();
  state.candId = await cand.id;
  state.projectId = (await cand.project).id;
  assert.notEqual(state.candId, state.baseId);

  const summary = await cand.summarize();
  assert.equal(summary.experimentName, "candidate");
  assert.equal(summary.comparisonExperimentName, "base", "baseline is the earlier experiment of the project");
  const acc = summary.scores.accuracy;
  assert.ok(acc, `summary has accuracy: ${JSON.stringify(summary.scores)}`);
  assert.equal(acc.name, "accuracy");
  assert.ok(approx(acc.score, 0.625), `accuracy mean 0.625 (feedback merged), got ${JSON.stringify(acc)}`);
  assert.ok(approx(acc.diff, 0.25), `accuracy diff +0.25, got ${JSON.stringify(acc)}`);
  assert.equal(acc.improvements, 2, `accuracy improvements: ${JSON.stringify(acc)}`);
  assert.equal(acc.regressions, 1, `accuracy regressions: ${JSON.stringify(acc)}`);
  const flu = summary.scores.fluency;
  assert.ok(approx(flu?.score, 0.5), `fluency: ${JSON.stringify(flu)}`);
  assert.ok(approx(flu.diff, 0), `fluency diff 0: ${JSON.stringify(flu)}`);
  assert.equal(flu.improvements, 0);
  assert.equal(flu.regressions, 0);
  assert.deepEqual(Object.keys(summary.scores).sort(), ["accuracy", "fluency"]);
  assert.equal(typeof summary.metrics, "object");

  // Explicit comparison id gives the same numbers.
  const explicit = await cand.summarize({ comparisonExperimentId: state.baseId });
  const acc2 = explicit.scores.accuracy;
  assert.ok(approx(acc2?.score, 0.625) && approx(acc2.diff, 0.25), `explicit comparison: ${JSON.stringify(acc2)}`);
  assert.equal(acc2.improvements, 2);
  assert.equal(acc2.regressions, 1);
});

test("an explicit baseExperiment wins over the most recent experiment", async () => {
  assert.ok(state.candId, "candidate test ran");
  // Same scores as the candidate after feedback, but registered with baseExperiment: "base".
  // The most recent earlier experiment is "candidate" (diff would be 0); the stored base must win.
  const rerun = bt.init(project, { experiment: "rerun", baseExperiment: "base" });
  CASES.forEach((c, i) =>
    rerun.log({
      input: { question: c.q },
      output: `rerun-answer-${c.q}`,
      expected: c.expected,
      scores: { accuracy: c.candFeedback ?? c.cand, fluency: 0.5 },
      metadata: { case: i, variant: "rerun" },
    }),
  );
  await rerun.flush();
  const summary = await rerun.summarize();
  assert.equal(summary.comparisonExperimentName, "base");
  const acc = summary.scores.accuracy;
  assert.ok(approx(acc?.score, 0.625) && approx(acc.diff, 0.25), `compared with base: ${JSON.stringify(acc)}`);
  assert.equal(acc.improvements, 2);
  assert.equal(acc.regressions, 1);
});

test("read back the candidate with init({open: true}): rows, merged feedback, no comment rows", async () => {
  assert.ok(state.candIds, "candidate test ran");
  const ro = bt.init(project, { experiment: "candidate", open: true });
  assert.equal(await ro.id, state.candId);
  const rows = await collect(ro.fetch());
  assert.equal(rows.length, CASES.length, `4 span rows, comments are not rows: ${JSON.stringify(rows.map((r) => r.id))}`);
  const byQ = new Map(rows.map((r) => [r.input?.question, r]));
  CASES.forEach((c, i) => {
    const r = byQ.get(c.q);
    assert.ok(r, `row for ${c.q}`);
    assert.equal(r.id, state.candIds[i]);
    assert.deepEqual(r.input, { question: c.q });
    assert.equal(r.output, `cand-answer-${c.q}`);
    assert.equal(r.expected, c.expected);
    assert.deepEqual(r.metadata, { case: i, variant: "cand" });
    assert.deepEqual(r.scores, { accuracy: c.candFeedback ?? c.cand, fluency: 0.5 });
    assert.equal(r.experiment_id, state.candId);
    assert.ok(r.is_root === true, `is_root true on a logged row: ${JSON.stringify(r.is_root)}`);
    assert.match(String(r._xact_id), /^\d+$/);
    assert.equal(r.comment, undefined, "comment rows are not returned as spans");
    // Comments are attached to the row they target (OpenAPI ExperimentEvent.comments[]).
    const texts = (r.comments ?? []).map((cm) => cm?.comment?.text);
    assert.deepEqual(texts, COMMENTS[c.q] ? [COMMENTS[c.q]] : [], `${c.q} comments: ${JSON.stringify(r.comments)}`);
    for (const k of Object.keys(r)) assert.ok(!k.startsWith("_audit"), `internal field ${k} leaked into the row`);
    // logFeedback sends `_audit_source: "external"` and its metadata: they become the row's
    // (and the comment's) audit trail.
    if (c.candFeedback !== undefined) {
      const e = (r.audit_data ?? []).at(-1);
      assert.equal(e?.source, "external", `${c.q} audit_data: ${JSON.stringify(r.audit_data)}`);
      assert.deepEqual(e.metadata, { reviewer: "r1" });
      assert.equal(e.audit_data.action, "merge");
      assert.deepEqual(e.audit_data.changes.find((ch) => ch.path.join(".") === "scores.accuracy")?.to, c.candFeedback);
    }
    for (const cm of r.comments ?? []) assert.equal(cm.audit_data?.[0]?.source, "external", JSON.stringify(cm));
  });

  const asDs = await collect(ro.asDataset());
  assert.equal(asDs.length, CASES.length);
  const dsByQ = new Map(asDs.map((r) => [r.input?.question, r]));
  CASES.forEach((c, i) => {
    const r = dsByQ.get(c.q);
    assert.ok(r, `asDataset row for ${c.q}`);
    assert.equal(r.expected, c.expected);
    assert.deepEqual(r.metadata, { case: i, variant: "cand" });
  });
});

test("read back the base experiment: its rows are untouched", async () => {
  assert.ok(state.baseIds, "base test ran");
  const rows = await collect(bt.init(project, { experiment: "base", open: true }).fetch());
  assert.equal(rows.length, CASES.length);
  for (const r of rows) {
    const i = CASES.findIndex((c) => c.q === r.input?.question);
    assert.ok(i >= 0);
    assert.equal(r.id, state.baseIds[i]);
    assert.deepEqual(r.scores, { accuracy: CASES[i].base, fluency: 0.5 });
    assert.equal(r.output, `base-answer-${CASES[i].q}`);
  }
});

test("experiment rows carry project_id (OpenAPI ExperimentEvent; protocol reference 4.2)", async () => {
  assert.ok(state.candId, "candidate test ran");
  const rows = await collect(bt.init(project, { experiment: "candidate", open: true }).fetch());
  assert.equal(rows.length, CASES.length);
  for (const r of rows) assert.equal(r.project_id, state.projectId, `row ${r.id} project_id`);
});
