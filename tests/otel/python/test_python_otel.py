"""The Python OpenTelemetry SDK with its real OTLP exporters (http/protobuf and gRPC, traces
and logs) against arbor; each test reads the rows back through /btql."""
import json

import grpc
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from otel_util import by_name, project_id, rows_of, uniq

MESSAGES_IN = [{"role": "user", "parts": [{"type": "text", "content": "2+2?"}]}]
MESSAGES_OUT = [{"role": "assistant", "parts": [{"type": "text", "content": "4"}]}]


def record_trace(exporter):
    """A task span with a GenAI child and a failing tool child; returns (root, llm) contexts."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("arbor-py-otel", "1.0")
    with tracer.start_as_current_span("agent") as root:
        root.set_attribute("braintrust.input_json", json.dumps({"q": "2+2?"}))
        with tracer.start_as_current_span("chat") as llm:
            llm.set_attributes({
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-x",
                "gen_ai.input.messages": json.dumps(MESSAGES_IN),
                "gen_ai.output.messages": json.dumps(MESSAGES_OUT),
                "gen_ai.usage.input_tokens": 8,
                "gen_ai.usage.output_tokens": 1,
            })
            llm_ctx = llm.get_span_context()
        with tracer.start_as_current_span("lookup") as tool:
            tool.set_attribute("traceloop.span.kind", "tool")
            tool.record_exception(ValueError("no such city"))
            tool.set_status(Status(StatusCode.ERROR, "no such city"))
        root_ctx = root.get_span_context()
    provider.shutdown()
    return root_ctx, llm_ctx


def check_trace(rows, root_ctx, llm_ctx):
    got = by_name(rows)
    assert set(got) >= {"agent", "chat", "lookup"}, rows
    root, llm, tool = got["agent"], got["chat"], got["lookup"]
    assert root["id"] == format(root_ctx.span_id, "016x")
    assert root["root_span_id"] == format(root_ctx.trace_id, "032x")
    assert root["input"] == {"q": "2+2?"}
    assert not root.get("span_parents")
    assert llm["span_parents"] == [root["span_id"]]
    assert llm["id"] == format(llm_ctx.span_id, "016x")
    assert llm["span_attributes"]["type"] == "llm"
    assert llm["input"] == MESSAGES_IN and llm["output"] == MESSAGES_OUT
    assert llm["metrics"]["prompt_tokens"] == 8 and llm["metrics"]["tokens"] == 9
    assert llm["metadata"]["model"] == "gpt-x"
    assert tool["span_attributes"]["type"] == "tool"
    assert tool["error"] == "no such city"
    assert tool["span_parents"] == [root["span_id"]]
    return got


def emit_evaluation(exporter, llm_ctx):
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("arbor-judge")
    ctx = trace.set_span_in_context(trace.NonRecordingSpan(llm_ctx))
    logger.emit(event_name="gen_ai.evaluation.result", context=ctx, attributes={
        "gen_ai.evaluation.name": "correct",
        "gen_ai.evaluation.score.value": 1.0,
        "gen_ai.evaluation.explanation": "2+2 is 4",
    })
    provider.shutdown()


def headers(srv, parent):
    return {"authorization": f"Bearer {srv.api_key}", "x-bt-parent": parent}


def test_http_protobuf_traces_and_logs(arbor):
    name = uniq("py-http")
    h = headers(arbor, f"project_name:{name}")
    root_ctx, llm_ctx = record_trace(HttpSpanExporter(
        endpoint=arbor.url + "/otel/v1/traces", headers=h, compression=Compression.Gzip))
    emit_evaluation(HttpLogExporter(endpoint=arbor.url + "/otel/v1/logs", headers=h), llm_ctx)
    got = check_trace(rows_of(arbor, "project_logs", project_id(arbor, name)), root_ctx, llm_ctx)
    assert got["chat"]["scores"] == {"correct": 1.0}
    assert got["chat"]["metadata"]["evaluations"]["correct"]["explanation"] == "2+2 is 4"


def test_grpc_traces_and_logs(arbor):
    name = uniq("py-grpc")
    pid = project_id(arbor, name)
    md = tuple(headers(arbor, f"project_id:{pid}").items())
    endpoint = f"127.0.0.1:{arbor.grpc_port}"
    # The evaluation first: it lands on the span when the span arrives after it.
    memory = InMemorySpanExporter()
    root_ctx, llm_ctx = record_trace(memory)
    emit_evaluation(GrpcLogExporter(endpoint=endpoint, insecure=True, headers=md), llm_ctx)
    scored = rows_of(arbor, "project_logs", pid)
    assert [r["scores"] for r in scored] == [{"correct": 1.0}], scored
    exporter = GrpcSpanExporter(endpoint=endpoint, insecure=True, headers=md,
                                compression=grpc.Compression.Gzip)
    assert exporter.export(memory.get_finished_spans()) == SpanExportResult.SUCCESS
    exporter.shutdown()
    got = check_trace(rows_of(arbor, "project_logs", pid), root_ctx, llm_ctx)
    assert got["chat"]["scores"] == {"correct": 1.0}
    assert len(got) == 3


def test_grpc_rejects_a_wrong_key_and_writes_nothing(arbor):
    name = uniq("py-grpc-bad")
    memory = InMemorySpanExporter()
    record_trace(memory)
    exporter = GrpcSpanExporter(endpoint=f"127.0.0.1:{arbor.grpc_port}", insecure=True,
                                headers=(("authorization", "Bearer arb_wrong"),
                                         ("x-bt-parent", f"project_name:{name}")))
    assert exporter.export(memory.get_finished_spans()) == SpanExportResult.FAILURE
    exporter.shutdown()
    assert rows_of(arbor, "project_logs", project_id(arbor, name)) == []
