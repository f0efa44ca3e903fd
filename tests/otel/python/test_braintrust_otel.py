"""The Braintrust Python SDK's OpenTelemetry integration (braintrust.otel, the `otel` extra):
BraintrustSpanProcessor exporting to arbor's /otel/v1/traces, and a Braintrust span exported
with span.export() parenting OTel spans (context_from_span_export, distributed tracing)."""
import json

import braintrust
from braintrust.otel import BraintrustSpanProcessor, context_from_span_export
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otel_util import by_name, project_id, rows_of, uniq


def provider_for(srv, parent):
    provider = TracerProvider()
    provider.add_span_processor(BraintrustSpanProcessor(
        api_key=srv.api_key, api_url=srv.url, parent=parent, SpanProcessor=SimpleSpanProcessor))
    return provider


def test_braintrust_span_processor(arbor):
    name = uniq("bt-otel")
    provider = provider_for(arbor, f"project_name:{name}")
    tracer = provider.get_tracer("my-app")
    with tracer.start_as_current_span("handle-request") as root:
        root.set_attribute("braintrust.input_json", json.dumps({"question": "capital of France?"}))
        root.set_attribute("braintrust.output_json", json.dumps("Paris"))
        root.set_attribute("braintrust.scores", json.dumps({"correct": 1}))
        root.set_attribute("braintrust.metadata", json.dumps({"user": "u-1"}))
        with tracer.start_as_current_span("llm") as llm:
            llm.set_attributes({"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 12,
                                "gen_ai.usage.output_tokens": 2})
    provider.shutdown()
    got = by_name(rows_of(arbor, "project_logs", project_id(arbor, name)))
    assert set(got) == {"handle-request", "llm"}, got
    root, llm = got["handle-request"], got["llm"]
    assert root["input"] == {"question": "capital of France?"}
    assert root["output"] == "Paris"
    assert root["scores"] == {"correct": 1}
    assert root["metadata"]["user"] == "u-1"
    assert llm["span_parents"] == [root["span_id"]]
    assert llm["root_span_id"] == root["root_span_id"]
    assert llm["metrics"]["tokens"] == 14
    assert llm["metadata"]["model"] == "gpt-4o"


def test_otel_spans_under_an_exported_braintrust_span(arbor, monkeypatch):
    name = uniq("bt-dist")
    monkeypatch.setenv("BRAINTRUST_APP_URL", arbor.url)
    monkeypatch.setenv("BRAINTRUST_API_KEY", arbor.api_key)
    monkeypatch.delenv("BRAINTRUST_API_URL", raising=False)
    logger = braintrust.init_logger(project=name, set_current=False)
    with logger.start_span(name="bt-root") as bt_root:
        exported = bt_root.export()
        bt_span_id, bt_root_id = bt_root.span_id, bt_root.root_span_id
    logger.flush()
    # Another service continues the trace with OTel, parented by the export string.
    provider = provider_for(arbor, f"project_name:{name}")
    tracer = provider.get_tracer("service-b")
    with tracer.start_as_current_span("downstream", context=context_from_span_export(exported)):
        pass
    provider.shutdown()
    got = by_name(rows_of(arbor, "project_logs", project_id(arbor, name)))
    assert set(got) == {"bt-root", "downstream"}, got
    assert got["downstream"]["root_span_id"] == bt_root_id
    assert got["downstream"]["span_parents"] == [bt_span_id]
