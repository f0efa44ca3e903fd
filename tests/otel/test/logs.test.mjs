// OTLP logs with the real OpenTelemetry JS SDK (sdk-logs) and the OTLP/JSON and OTLP/protobuf
// log exporters: gen_ai.evaluation.result records become scores on the span they evaluate,
// whichever arrives first; other records become child rows of their span. Also partial_success
// for traces with some unusable spans. Everything is read back through /btql.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter as JsonLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as ProtoLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-node";

import { startArbor, uniq } from "../../sdk/js/lib/arbor.mjs";

let arbor;
before(async () => {
  arbor = await startArbor("otel-logs");
});
after(async () => {
  await arbor?.stop();
});

// A root span with one GenAI child; returns the finished spans.
async function recordTrace() {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer("arbor-otel-logs-test", "1.0.0");
  const root = tracer.startSpan("answer");
  const llm = tracer.startSpan("chat", {}, trace.setSpan(ROOT_CONTEXT, root));
  llm.setAttributes({ "gen_ai.operation.name": "chat", "gen_ai.request.model": "m-1" });
  llm.end();
  root.end();
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

// Log records emitted by the real SDK in the context of `span`; returns them finished.
async function recordLogs(span) {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger("arbor-evaluator", "1.0.0");
  const context = trace.setSpan(
    ROOT_CONTEXT,
    trace.wrapSpanContext({ ...span.spanContext(), traceFlags: TraceFlags.SAMPLED }),
  );
  logger.emit({
    eventName: "gen_ai.evaluation.result",
    context,
    attributes: {
      "gen_ai.evaluation.name": "relevance",
      "gen_ai.evaluation.score.value": 0.25,
      "gen_ai.evaluation.score.label": "off-topic",
      "gen_ai.evaluation.explanation": "talks about cats",
    },
  });
  logger.emit({
    context,
    severityNumber: SeverityNumber.WARN,
    severityText: "WARN",
    body: "retrying the model call",
    attributes: { "retry.attempt": 2 },
  });
  await provider.forceFlush();
  const records = memory.getFinishedLogRecords();
  await provider.shutdown();
  return records;
}

async function exportWith(exporter, items) {
  const result = await new Promise((resolve) => exporter.export(items, resolve));
  await exporter.shutdown();
  return result;
}

async function registerProject(name) {
  return (await arbor.postJson("/api/project/register", { project_name: name })).project;
}

function auth(parent) {
  return { Authorization: `Bearer ${arbor.apiKey}`, "x-bt-parent": parent };
}

function assertScored(rows, spans) {
  const llmSrc = spans.find((s) => s.name === "chat");
  const llm = rows.find((r) => r.id === llmSrc.spanContext().spanId);
  assert.ok(llm, `evaluated span missing: ${JSON.stringify(rows)}`);
  assert.equal(llm.span_attributes.name, "chat");
  assert.equal(llm.span_attributes.type, "llm");
  assert.equal(llm.metadata.model, "m-1");
  assert.deepEqual(llm.span_parents, [spans.find((s) => s.name === "answer").spanContext().spanId]);
  assert.deepEqual(llm.scores, { relevance: 0.25 });
  assert.deepEqual(llm.metadata.evaluations, {
    relevance: { score: 0.25, label: "off-topic", explanation: "talks about cats" },
  });
  const log = rows.find((r) => r.span_attributes?.name === "WARN");
  assert.ok(log, `log row missing: ${JSON.stringify(rows)}`);
  assert.equal(log.output, "retrying the model call");
  assert.deepEqual(log.span_parents, [llm.span_id]);
  assert.equal(log.root_span_id, llm.root_span_id);
  assert.equal(log.metadata["retry.attempt"], 2);
  assert.equal(log.metadata["log.severity_number"], SeverityNumber.WARN);
  assert.equal(log.error, undefined, "WARN is not an error");
  assert.equal(rows.length, 3, JSON.stringify(rows.map((r) => r.span_attributes)));
}

test("evaluation log records after the spans (OTLP/JSON logs to /otel/v1/logs)", async () => {
  const project = await registerProject(uniq("otel-logs-after"));
  const spans = await recordTrace();
  const t = await exportWith(
    new ProtoExporter({ url: `${arbor.url}/otel/v1/traces`, headers: auth(`project_id:${project.id}`) }),
    spans,
  );
  assert.equal(t.code, 0, `trace export failed: ${t.error}`);
  const records = await recordLogs(spans.find((s) => s.name === "chat"));
  const l = await exportWith(
    new JsonLogExporter({ url: `${arbor.url}/otel/v1/logs`, headers: auth(`project_id:${project.id}`) }),
    records,
  );
  assert.equal(l.code, 0, `log export failed: ${l.error}`);
  assertScored(await arbor.btqlAll("project_logs", project.id), spans);
});

test("evaluation log records before the spans (OTLP/protobuf logs, gzip, to /v1/logs)", async () => {
  const projectName = uniq("otel-logs-before");
  const spans = await recordTrace();
  const records = await recordLogs(spans.find((s) => s.name === "chat"));
  const l = await exportWith(
    new ProtoLogExporter({
      url: `${arbor.url}/v1/logs`,
      compression: "gzip",
      headers: auth(`project_name:${projectName}`),
    }),
    records,
  );
  assert.equal(l.code, 0, `log export failed: ${l.error}`);
  const t = await exportWith(
    new ProtoExporter({ url: `${arbor.url}/otel/v1/traces`, headers: auth(`project_name:${projectName}`) }),
    spans,
  );
  assert.equal(t.code, 0, `trace export failed: ${t.error}`);
  const project = await registerProject(projectName);
  assertScored(await arbor.btqlAll("project_logs", project.id), spans);
});

test("partial_success: unusable spans are counted, the others written", async () => {
  const project = await registerProject(uniq("otel-partial"));
  const span = (spanId, extra = {}) => ({
    traceId: "0af7651916cd43dd8448eb211c80319c", spanId, name: `s-${spanId}`, ...extra,
  });
  const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [
    span("1111111111111111"),
    span("not-hex-at-all!!"),
    { spanId: "3333333333333333", name: "no trace id" },
    span("4444444444444444", { attributes: [{ key: "braintrust.parent", value: { stringValue: "bogus:1" } }] }),
  ] }] }] });
  const resp = await fetch(`${arbor.url}/otel/v1/traces`, {
    method: "POST",
    headers: { ...auth(`project_id:${project.id}`), "Content-Type": "application/json" },
    body,
  });
  const text = await resp.text();
  assert.equal(resp.status, 200, text);
  const partial = JSON.parse(text).partialSuccess;
  assert.equal(Number(partial.rejectedSpans), 3, text);
  assert.match(partial.errorMessage, /3 spans rejected/);
  assert.match(partial.errorMessage, /spanId/);
  const rows = await arbor.btqlAll("project_logs", project.id);
  assert.deepEqual(rows.map((r) => r.id), ["1111111111111111"]);

  // Logs: the same rule; an evaluation without a span to score is rejected.
  const logs = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [
    { body: { stringValue: "kept" } },
    { eventName: "gen_ai.evaluation.result",
      attributes: [{ key: "gen_ai.evaluation.name", value: { stringValue: "x" } }] },
  ] }] }] });
  const lr = await fetch(`${arbor.url}/otel/v1/logs`, {
    method: "POST",
    headers: { ...auth(`project_id:${project.id}`), "Content-Type": "application/json" },
    body: logs,
  });
  const ltext = await lr.text();
  assert.equal(lr.status, 200, ltext);
  assert.equal(Number(JSON.parse(ltext).partialSuccess.rejectedLogRecords), 1, ltext);
  const after = await arbor.btqlAll("project_logs", project.id);
  assert.equal(after.length, 2);
  assert.ok(after.some((r) => r.output === "kept"));
});
