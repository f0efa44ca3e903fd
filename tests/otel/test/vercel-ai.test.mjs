// The Vercel AI SDK's own telemetry (experimental_telemetry): real `ai` generateText and a tool
// call, with the SDK's MockLanguageModelV2 standing in for a provider (no model runs here),
// recorded by the real OTel SDK and sent by the OTLP/protobuf exporter. Arbor maps the ai.*
// spans: types, input/output, tool calls, tokens on the provider call only, model.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import { generateText, stepCountIs, tool } from "ai";
import { MockLanguageModelV2 } from "ai/test";
import { z } from "zod";

import { startArbor, uniq } from "../../sdk/js/lib/arbor.mjs";

let arbor;
before(async () => {
  arbor = await startArbor("otel-vercel");
});
after(async () => {
  await arbor?.stop();
});

const usage = (i, o) => ({ inputTokens: i, outputTokens: o, totalTokens: i + o });

test("ai.generateText with a tool call lands as typed, mapped spans", async () => {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  // As an app's OTel setup does: the async context manager parents the tool span too. (Each
  // test file runs in a process of its own, so the global registration stays here.)
  provider.register();
  const tracer = provider.getTracer("ai");
  let call = 0;
  const model = new MockLanguageModelV2({
    modelId: "mock-model",
    doGenerate: async () => {
      call += 1;
      if (call === 1) {
        return {
          finishReason: "tool-calls",
          usage: usage(10, 5),
          content: [{ type: "tool-call", toolCallId: "call-1", toolName: "weather",
            input: JSON.stringify({ city: "Paris" }) }],
          warnings: [],
        };
      }
      return { finishReason: "stop", usage: usage(20, 3), content: [{ type: "text", text: "Sunny" }],
        warnings: [] };
    },
  });
  const result = await generateText({
    model,
    system: "Be brief.",
    prompt: "Weather in Paris?",
    tools: {
      weather: tool({
        description: "weather by city",
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }) => ({ city, sky: "sunny" }),
      }),
    },
    stopWhen: stepCountIs(3),
    experimental_telemetry: { isEnabled: true, tracer, functionId: "weather-bot" },
  });
  assert.equal(result.text, "Sunny");
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();

  const projectName = uniq("otel-vercel");
  const exporter = new OTLPTraceExporter({
    url: `${arbor.url}/otel/v1/traces`,
    headers: { Authorization: `Bearer ${arbor.apiKey}`, "x-bt-parent": `project_name:${projectName}` },
  });
  const exported = await new Promise((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  assert.equal(exported.code, 0, `export failed: ${exported.error}`);

  const project = (await arbor.postJson("/api/project/register", { project_name: projectName })).project;
  const rows = await arbor.btqlAll("project_logs", project.id);
  assert.equal(rows.length, spans.length, JSON.stringify(rows.map((r) => r.span_attributes)));
  const outer = rows.find((r) => r.span_attributes.name === "ai.generateText");
  const calls = rows.filter((r) => r.span_attributes.name === "ai.generateText.doGenerate");
  const toolRow = rows.find((r) => r.span_attributes.type === "tool");
  assert.ok(outer && toolRow && calls.length === 2, JSON.stringify(rows.map((r) => r.span_attributes)));

  assert.equal(outer.span_attributes.type, "function");
  assert.deepEqual(outer.input, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Weather in Paris?" },
  ]);
  assert.equal(outer.output, "Sunny");
  assert.equal(outer.metrics.tokens, undefined, "the outer span's summed usage is not counted twice");
  assert.equal(outer.metadata.model, "mock-model");

  for (const c of calls) {
    assert.equal(c.span_attributes.type, "llm");
    assert.deepEqual(c.span_parents, [outer.span_id]);
    assert.ok(Array.isArray(c.input), JSON.stringify(c.input));
  }
  const [first, second] = calls.sort((a, b) => a.metrics.start - b.metrics.start);
  assert.equal(first.metrics.prompt_tokens, 10);
  assert.equal(first.metrics.completion_tokens, 5);
  assert.equal(first.output[0].tool_calls[0].function.name, "weather");
  assert.deepEqual(JSON.parse(first.output[0].tool_calls[0].function.arguments), { city: "Paris" });
  assert.equal(second.output, "Sunny");
  assert.equal(second.metrics.tokens, 23);

  assert.equal(toolRow.span_attributes.name, "weather");
  assert.deepEqual(toolRow.input, { city: "Paris" });
  assert.deepEqual(toolRow.output, { city: "Paris", sky: "sunny" });
  assert.deepEqual(toolRow.span_parents, [outer.span_id]);
});
