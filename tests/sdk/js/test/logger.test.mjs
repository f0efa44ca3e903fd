// initLogger() with nested traced spans, read back through POST /btql (JSON AST).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startArbor, uniq, isRootRow } from "../lib/arbor.mjs";

const arbor = await startArbor("logger");
const bt = await import("braintrust");
after(async () => {
  await bt.flush().catch(() => {});
  await arbor.stop();
});

const project = uniq("js-logs");
const ids = {};
const spanIds = (s) => ({ id: s.id, spanId: s.spanId, rootSpanId: s.rootSpanId });

test("nested traced spans are stored with parent links and merged fields", async () => {
  const logger = bt.initLogger({ projectName: project });
  await logger.traced(
    async (parent) => {
      ids.parent = spanIds(parent);
      parent.log({ input: { question: "parent-in" }, metadata: { level: "parent" } });
      await parent.traced(
        async (child) => {
          ids.child = spanIds(child);
          child.log({ input: "child-in", metadata: { level: "child" } });
          await child.traced(
            async (gc) => {
              ids.grandchild = spanIds(gc);
              gc.log({ input: "grandchild-in", output: "grandchild-out", metadata: { level: "grandchild" } });
            },
            { name: "grandchild" },
          );
          child.log({ output: "child-out", scores: { quality: 0.5 } });
        },
        { name: "child" },
      );
      parent.log({ output: { answer: "parent-out" } });
    },
    { name: "parent" },
  );
  await logger.traced(
    async (solo) => {
      ids.solo = spanIds(solo);
      solo.log({ input: "solo-in", output: "solo-out" });
    },
    { name: "solo" },
  );
  await logger.flush();
  ids.projectId = (await logger.project).id;
  assert.ok(ids.projectId, "logger resolved its project id");

  const rows = await arbor.btqlAll("project_logs", ids.projectId);
  assert.equal(rows.length, 4, `one merged row per span: ${JSON.stringify(rows.map((r) => [r.id, r.span_attributes?.name]))}`);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const get = (k) => {
    const r = byId.get(ids[k].id);
    assert.ok(r, `row for ${k} (${ids[k].id})`);
    assert.equal(r.span_id, ids[k].spanId, `${k} span_id`);
    assert.equal(r.root_span_id, ids[k].rootSpanId, `${k} root_span_id`);
    assert.equal(r.project_id, ids.projectId, `${k} project_id`);
    assert.equal(r.log_id, "g", `${k} log_id`);
    assert.equal(r.span_attributes?.name, k, `${k} span name`);
    assert.equal(typeof r.metrics?.start, "number", `${k} metrics.start kept after the closing merge`);
    assert.equal(typeof r.metrics?.end, "number", `${k} metrics.end merged in`);
    assert.ok(r.metrics.end >= r.metrics.start);
    assert.ok(r.created, `${k} created`);
    return r;
  };
  const parent = get("parent");
  const child = get("child");
  const grandchild = get("grandchild");
  const solo = get("solo");

  // Trace structure.
  assert.equal(child.root_span_id, parent.root_span_id);
  assert.equal(grandchild.root_span_id, parent.root_span_id);
  assert.notEqual(solo.root_span_id, parent.root_span_id);
  assert.ok(isRootRow(parent), `parent has no span_parents: ${JSON.stringify(parent.span_parents)}`);
  assert.ok(isRootRow(solo));
  assert.deepEqual(child.span_parents, [parent.span_id]);
  assert.deepEqual(grandchild.span_parents, [child.span_id]);
  assert.equal(parent.is_root, true);
  assert.equal(solo.is_root, true);
  assert.equal(child.is_root, false);
  assert.equal(grandchild.is_root, false);

  // Fields logged at different times are merged into one row per span.
  assert.deepEqual(parent.input, { question: "parent-in" });
  assert.deepEqual(parent.output, { answer: "parent-out" });
  assert.deepEqual(parent.metadata, { level: "parent" });
  assert.equal(parent.span_attributes.type, "task");
  assert.equal(child.input, "child-in");
  assert.equal(child.output, "child-out");
  assert.deepEqual(child.scores, { quality: 0.5 });
  assert.deepEqual(child.metadata, { level: "child" });
  assert.equal(grandchild.input, "grandchild-in");
  assert.equal(grandchild.output, "grandchild-out");
  assert.deepEqual(grandchild.metadata, { level: "grandchild" });
  assert.equal(solo.input, "solo-in");
  assert.equal(solo.output, "solo-out");
});

test("BTQL filter on root_span_id returns exactly that trace", async () => {
  assert.ok(ids.projectId, "first test ran");
  const rows = await arbor.btqlAll("project_logs", ids.projectId, {
    filter: {
      op: "eq",
      left: { op: "ident", name: ["root_span_id"] },
      right: { op: "literal", value: ids.parent.rootSpanId },
    },
  });
  assert.deepEqual(rows.map((r) => r.id).sort(), [ids.parent.id, ids.child.id, ids.grandchild.id].sort());
});

test("BTQL pagination with a small limit returns every row once", async () => {
  assert.ok(ids.projectId, "first test ran");
  const rows = await arbor.btqlAll("project_logs", ids.projectId, { limit: 1 });
  assert.deepEqual(
    rows.map((r) => r.id).sort(),
    [ids.parent.id, ids.child.id, ids.grandchild.id, ids.solo.id].sort(),
  );
});
