// OTLP/gRPC with the real OpenTelemetry JS gRPC exporters (@opentelemetry/exporter-trace-otlp-grpc
// and exporter-logs-otlp-grpc over @grpc/grpc-js): arbor's TraceService and LogsService on
// --otlp-grpc-listen, auth and routing from gRPC metadata, rows read back through /btql.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Metadata } from "@grpc/grpc-js";
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-grpc";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
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

import { freePort, startArbor, uniq } from "../../sdk/js/lib/arbor.mjs";

let arbor;
let grpcUrl;
before(async () => {
  const port = await freePort();
  grpcUrl = `http://127.0.0.1:${port}`;
  arbor = await startArbor("otel-grpc", { extraArgs: ["--otlp-grpc-listen", `127.0.0.1:${port}`] });
});
after(async () => {
  await arbor?.stop();
});

function metadata(entries) {
  const md = new Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
}

async function recordTrace() {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer("arbor-grpc-test", "1.0.0");
  const root = tracer.startSpan("workflow", {
    attributes: { "braintrust.input_json": JSON.stringify({ q: "hi" }) },
  });
  const llm = tracer.startSpan("chat", {}, trace.setSpan(ROOT_CONTEXT, root));
  llm.setAttributes({
    "gen_ai.request.model": "m-grpc",
    "gen_ai.usage.input_tokens": 5,
    "gen_ai.usage.output_tokens": 2,
  });
  llm.end();
  root.end();
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

async function exportWith(exporter, items) {
  const result = await new Promise((resolve) => exporter.export(items, resolve));
  await exporter.shutdown();
  return result;
}

test("TraceService/Export and LogsService/Export over gRPC, gzip, routed by metadata", async () => {
  const projectName = uniq("otel-grpc");
  const md = () => metadata({
    authorization: `Bearer ${arbor.apiKey}`,
    "x-bt-parent": `project_name:${projectName}`,
  });
  const spans = await recordTrace();
  const t = await exportWith(
    new OTLPTraceExporter({ url: grpcUrl, metadata: md(), compression: "gzip" }),
    spans,
  );
  assert.equal(t.code, 0, `trace export failed: ${t.error}`);

  const llmSrc = spans.find((s) => s.name === "chat");
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  provider.getLogger("judge").emit({
    eventName: "gen_ai.evaluation.result",
    context: trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({
      ...llmSrc.spanContext(), traceFlags: TraceFlags.SAMPLED,
    })),
    attributes: { "gen_ai.evaluation.name": "helpful", "gen_ai.evaluation.score.value": 1 },
  });
  await provider.forceFlush();
  const l = await exportWith(new OTLPLogExporter({ url: grpcUrl, metadata: md() }),
    memory.getFinishedLogRecords());
  await provider.shutdown();
  assert.equal(l.code, 0, `log export failed: ${l.error}`);

  const project = (await arbor.postJson("/api/project/register", { project_name: projectName })).project;
  const rows = await arbor.btqlAll("project_logs", project.id);
  assert.equal(rows.length, 2, JSON.stringify(rows));
  const root = rows.find((r) => r.span_attributes.name === "workflow");
  const llm = rows.find((r) => r.span_attributes.name === "chat");
  assert.deepEqual(root.input, { q: "hi" });
  assert.equal(root.root_span_id, llmSrc.spanContext().traceId);
  assert.deepEqual(llm.span_parents, [root.span_id]);
  assert.equal(llm.span_attributes.type, "llm");
  assert.equal(llm.metadata.model, "m-grpc");
  assert.equal(llm.metrics.tokens, 7);
  assert.deepEqual(llm.scores, { helpful: 1 });
});

test("gRPC errors: wrong key, no parent; nothing written", async () => {
  const projectName = uniq("otel-grpc-bad");
  const spans = await recordTrace();
  const bad = await exportWith(new OTLPTraceExporter({
    url: grpcUrl,
    metadata: metadata({ authorization: "Bearer arb_wrong", "x-bt-parent": `project_name:${projectName}` }),
  }), spans);
  assert.notEqual(bad.code, 0);
  assert.equal(bad.error.code, 16, `UNAUTHENTICATED expected: ${bad.error}`);

  const noParent = await exportWith(new OTLPTraceExporter({
    url: grpcUrl,
    metadata: metadata({ "x-api-key": arbor.apiKey }),
  }), spans);
  assert.notEqual(noParent.code, 0);
  assert.equal(noParent.error.code, 3, `INVALID_ARGUMENT expected: ${noParent.error}`);
  assert.match(noParent.error.message, /x-bt-parent/);

  const projects = await arbor.getJson(`/v1/project?project_name=${projectName}`);
  assert.equal(projects.objects.length, 0, "no project was created");
});
