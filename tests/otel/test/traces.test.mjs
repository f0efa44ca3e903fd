// OTLP trace ingest with the real OpenTelemetry JS SDK: spans made by a NodeTracerProvider are
// sent by the real OTLP/JSON (exporter-trace-otlp-http) and OTLP/protobuf
// (exporter-trace-otlp-proto) exporters, then read back through /btql.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import zlib from "node:zlib";

import { ROOT_CONTEXT, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-node";

import { startArbor, uniq } from "../../sdk/js/lib/arbor.mjs";

let arbor;
before(async () => {
  arbor = await startArbor("otel");
});
after(async () => {
  await arbor?.stop();
});

const INPUT_MESSAGES = [{ role: "user", parts: [{ type: "text", content: "What is 2+2?" }] }];
const OUTPUT_MESSAGES = [
  { role: "assistant", parts: [{ type: "text", content: "4" }], finish_reason: "stop" },
];

// Records a root task span with a GenAI chat child (and optionally a failing sibling); returns
// the finished ReadableSpans, ready for any exporter.
async function recordTrace({ rootAttributes = {}, withError = false } = {}) {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer("arbor-otel-test", "1.2.3");
  // Parents passed explicitly: no global context manager is registered.
  const root = tracer.startSpan("answer-question", { attributes: rootAttributes });
  const inRoot = trace.setSpan(ROOT_CONTEXT, root);
  root.setAttribute("braintrust.input_json", JSON.stringify({ question: "2+2?" }));
  root.setAttribute("braintrust.output_json", JSON.stringify({ answer: "4" }));
  root.setAttribute("app.user", "u-42");
  const llm = tracer.startSpan("chat gpt-4o-mini", {}, inRoot);
  llm.setAttributes({
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.input.messages": JSON.stringify(INPUT_MESSAGES),
    "gen_ai.output.messages": JSON.stringify(OUTPUT_MESSAGES),
    "gen_ai.usage.input_tokens": 11,
    "gen_ai.usage.output_tokens": 3,
  });
  llm.end();
  if (withError) {
    const tool = tracer.startSpan("flaky-tool", {}, inRoot);
    tool.recordException(new TypeError("tool exploded"));
    tool.setStatus({ code: SpanStatusCode.ERROR, message: "tool exploded" });
    tool.end();
  }
  root.end();
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

// Sends spans through a real exporter and returns its ExportResult.
async function exportWith(exporter, spans) {
  const result = await new Promise((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  return result;
}

async function registerProject(name) {
  return (await arbor.postJson("/api/project/register", { project_name: name })).project;
}

function byName(rows) {
  return Object.fromEntries(rows.map((r) => [r.span_attributes?.name, r]));
}

function hrSeconds([s, ns]) {
  return s + ns / 1e9;
}

// The checks every encoding must pass for the trace recorded above.
function assertTraceRows(rows, spans) {
  const src = Object.fromEntries(spans.map((s) => [s.name, s]));
  const rootSrc = src["answer-question"];
  const llmSrc = src["chat gpt-4o-mini"];
  const traceId = rootSrc.spanContext().traceId;
  const got = byName(rows);
  const root = got["answer-question"];
  const llm = got["chat gpt-4o-mini"];
  assert.ok(root, `root row missing: ${JSON.stringify(rows)}`);
  assert.ok(llm, `llm row missing: ${JSON.stringify(rows)}`);

  assert.equal(root.id, rootSrc.spanContext().spanId);
  assert.equal(root.span_id, rootSrc.spanContext().spanId);
  assert.equal(root.root_span_id, traceId);
  assert.ok(!root.span_parents || root.span_parents.length === 0, "root has no parents");
  assert.equal(root.span_attributes.type, "task");
  assert.deepEqual(root.input, { question: "2+2?" });
  assert.deepEqual(root.output, { answer: "4" });
  assert.equal(root.metadata["app.user"], "u-42");
  assert.equal(root.metadata["braintrust.input_json"], undefined, "mapped attributes leave metadata");
  assert.ok(Math.abs(root.metrics.start - hrSeconds(rootSrc.startTime)) < 1e-5);
  assert.ok(Math.abs(root.metrics.end - hrSeconds(rootSrc.endTime)) < 1e-5);
  assert.ok(root.metrics.end >= root.metrics.start);

  assert.equal(llm.span_id, llmSrc.spanContext().spanId);
  assert.equal(llm.root_span_id, traceId);
  assert.deepEqual(llm.span_parents, [root.span_id]);
  assert.equal(llm.span_attributes.type, "llm");
  assert.deepEqual(llm.input, INPUT_MESSAGES);
  assert.deepEqual(llm.output, OUTPUT_MESSAGES);
  assert.equal(llm.metrics.prompt_tokens, 11);
  assert.equal(llm.metrics.completion_tokens, 3);
  assert.equal(llm.metrics.tokens, 14);
  assert.equal(llm.metadata.model, "gpt-4o-mini-2024-07-18");
  assert.equal(llm.metadata["gen_ai.request.model"], "gpt-4o-mini");
  assert.equal(llm.metadata["gen_ai.operation.name"], "chat");
  return got;
}

test("OTLP/JSON exporter to /otel/v1/traces, routed by project_name", async () => {
  const projectName = uniq("otel-json");
  const spans = await recordTrace();
  const exporter = new JsonExporter({
    url: `${arbor.url}/otel/v1/traces`,
    headers: { Authorization: `Bearer ${arbor.apiKey}`, "x-bt-parent": `project_name:${projectName}` },
  });
  const result = await exportWith(exporter, spans);
  assert.equal(result.code, 0, `export failed: ${result.error}`);

  const project = await registerProject(projectName);  // get: created by the export
  const rows = await arbor.btqlAll("project_logs", project.id);
  assert.equal(rows.length, 2);
  const got = assertTraceRows(rows, spans);
  assert.equal(got["answer-question"].project_id, project.id);
  assert.equal(got["answer-question"].log_id, "g");
});

test("OTLP/protobuf exporter, gzip, to /v1/traces, routed by project_id", async () => {
  const project = await registerProject(uniq("otel-proto"));
  const spans = await recordTrace({ withError: true });
  const exporter = new ProtoExporter({
    url: `${arbor.url}/v1/traces`,
    compression: "gzip",
    headers: { Authorization: `Bearer ${arbor.apiKey}`, "x-bt-parent": `project_id:${project.id}` },
  });
  const result = await exportWith(exporter, spans);
  assert.equal(result.code, 0, `export failed: ${result.error}`);

  const rows = await arbor.btqlAll("project_logs", project.id);
  assert.equal(rows.length, 3);
  const got = assertTraceRows(rows, spans);
  const tool = got["flaky-tool"];
  assert.equal(tool.error, "tool exploded");
  assert.deepEqual(tool.span_parents, [got["answer-question"].span_id]);
  assert.equal(tool.span_attributes.type, "task");
});

test("braintrust.parent span attribute overrides x-bt-parent (experiment)", async () => {
  const projectName = uniq("otel-exp");
  const reg = await arbor.postJson("/api/experiment/register", {
    project_name: projectName,
    experiment_name: "otel-run",
  });
  const experimentId = reg.experiment.id;
  const spans = await recordTrace({
    rootAttributes: { "braintrust.parent": `experiment_id:${experimentId}` },
  });
  const exporter = new ProtoExporter({
    url: `${arbor.url}/otel/v1/traces`,
    headers: { Authorization: `Bearer ${arbor.apiKey}`, "x-bt-parent": `project_id:${reg.project.id}` },
  });
  const result = await exportWith(exporter, spans);
  assert.equal(result.code, 0, `export failed: ${result.error}`);

  const inExperiment = await arbor.btqlAll("experiment", experimentId);
  assert.deepEqual(inExperiment.map((r) => r.span_attributes.name), ["answer-question"]);
  assert.equal(inExperiment[0].metadata["braintrust.parent"], undefined, "routing only");
  const inLogs = await arbor.btqlAll("project_logs", reg.project.id);
  assert.deepEqual(inLogs.map((r) => r.span_attributes.name), ["chat gpt-4o-mini"]);
});

// Raw requests for the error paths: each answers a JSON error and writes nothing.
async function post(path, body, headers) {
  const resp = await fetch(arbor.url + path, {
    method: "POST",
    headers: { Authorization: `Bearer ${arbor.apiKey}`, ...headers },
    body,
  });
  const text = await resp.text();
  return { status: resp.status, type: resp.headers.get("content-type"), text };
}

test("bad requests answer clear JSON errors and write nothing", async () => {
  const project = await registerProject(uniq("otel-bad"));
  const parent = { "x-bt-parent": `project_id:${project.id}` };
  const good = JSON.stringify({
    resourceSpans: [{ scopeSpans: [{ spans: [{
      traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", name: "ok",
      startTimeUnixNano: "1700000000000000000", endTimeUnixNano: "1700000001000000000",
    }] }] }],
  });
  const cases = [
    [415, good, { "Content-Type": "text/plain", ...parent }, /Content-Type/],
    [415, good, { "Content-Type": "application/json", "Content-Encoding": "br", ...parent }, /Content-Encoding/],
    [400, good, { "Content-Type": "application/json" }, /x-bt-parent/],
    [400, good, { "Content-Type": "application/json", "x-bt-parent": "bogus:x" }, /unsupported parent/],
    [400, "{\"resourceSpans\": [", { "Content-Type": "application/json", ...parent }, /./],
    [400, Buffer.from([0x0a, 0x20, 0x12, 0x05]), { "Content-Type": "application/x-protobuf", ...parent }, /protobuf/],
    [400, Buffer.from("not gzip"), { "Content-Type": "application/json", "Content-Encoding": "gzip", ...parent }, /gzip/],
    [404, good, { "Content-Type": "application/json", "x-bt-parent": "project_id:0b5c6f43-4d57-4b6e-9d4e-9a0f1c2d3e4f" }, /./],
  ];
  for (const [status, body, headers, message] of cases) {
    const r = await post("/otel/v1/traces", body, headers);
    assert.equal(r.status, status, `${JSON.stringify(headers)} -> ${r.status} ${r.text}`);
    assert.match(r.type, /application\/json/);
    const err = JSON.parse(r.text).error;
    assert.match(err.message, message);
  }
  assert.equal((await arbor.btqlAll("project_logs", project.id)).length, 0);

  // The same body, well formed and gzip-compressed, is accepted; protobuf answers in protobuf.
  const ok = await post("/otel/v1/traces", zlib.gzipSync(good), {
    "Content-Type": "application/json", "Content-Encoding": "gzip", ...parent,
  });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(JSON.parse(ok.text), {});
  const empty = await post("/v1/traces", Buffer.alloc(0), { "Content-Type": "application/x-protobuf", ...parent });
  assert.equal(empty.status, 200, empty.text);
  assert.equal(empty.type, "application/x-protobuf");
  assert.equal(empty.text, "");
  assert.equal((await arbor.btqlAll("project_logs", project.id)).length, 1);
});

function v4Export({ type, spanHex, rootHex, json }) {
  const head = [4, type, spanHex ? 2 : 0];
  const parts = [Buffer.from(head)];
  if (spanHex) parts.push(Buffer.from([3]), Buffer.from(spanHex, "hex"), Buffer.from([4]), Buffer.from(rootHex, "hex"));
  parts.push(Buffer.from(JSON.stringify(json)));
  return Buffer.concat(parts).toString("base64");
}

test("exported span parent (v4) and Phoenix routing", async () => {
  const projectName = uniq("otel-export");
  const spans = await recordTrace();
  const blob = v4Export({ type: 2, spanHex: "1234567890abcdef", rootHex: "00112233445566778899aabbccddeeff",
    json: { row_id: "r", compute_object_metadata_args: { project_name: projectName } } });
  const exporter = new JsonExporter({
    url: `${arbor.url}/otel/v1/traces`,
    headers: { Authorization: `Bearer ${arbor.apiKey}`, "x-bt-parent": blob },
  });
  const result = await exportWith(exporter, spans);
  assert.equal(result.code, 0, `export failed: ${result.error}`);
  const project = await registerProject(projectName);
  const rows = await arbor.btqlAll("project_logs", project.id);
  assert.equal(rows.length, 2);
  for (const r of rows) assert.equal(r.root_span_id, "00112233445566778899aabbccddeeff");
  const root = rows.find((r) => r.span_attributes.name === "answer-question");
  assert.deepEqual(root.span_parents, ["1234567890abcdef"]);

  const px = uniq("phoenix");
  const exp2 = new JsonExporter({
    url: `${arbor.url}/v1/traces`,
    headers: { Authorization: `Bearer ${arbor.apiKey}`, "x-project-name": px },
  });
  const r2 = await exportWith(exp2, await recordTrace());
  assert.equal(r2.code, 0, `export failed: ${r2.error}`);
  const p2 = await registerProject(px);
  assert.equal((await arbor.btqlAll("project_logs", p2.id)).length, 2);
});
