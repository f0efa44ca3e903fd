"""The Langfuse Python SDK (v5, OpenTelemetry-based) pointed at arbor: LANGFUSE_BASE_URL = the
arbor URL, public key = the project name, secret key = an Arbor API key. Its spans arrive on
/api/public/otel/v1/traces with langfuse.* attributes, its scores on /api/public/scores."""
from langfuse import Langfuse

from otel_util import by_name, project_id, rows_of, uniq


def test_langfuse_sdk_spans_generations_and_scores(arbor):
    name = uniq("lf-sdk")
    lf = Langfuse(public_key=name, secret_key=arbor.api_key, base_url=arbor.url)
    with lf.start_as_current_observation(as_type="span", name="handle", input={"q": "hi"}) as span:
        with lf.start_as_current_observation(
                as_type="generation", name="llm", model="gpt-4o",
                input=[{"role": "user", "content": "hi"}],
                usage_details={"input": 3, "output": 2}) as gen:
            gen.update(output="hello")
            gen.score(name="quality", value=0.9)
        span.update(output={"a": "hello"}, metadata={"customer": "acme"})
    lf.flush()
    lf.shutdown()
    got = by_name(rows_of(arbor, "project_logs", project_id(arbor, name)))
    assert set(got) == {"handle", "llm"}, got
    root, llm = got["handle"], got["llm"]
    assert root["input"] == {"q": "hi"} and root["output"] == {"a": "hello"}
    assert root["span_attributes"]["type"] == "task"
    assert root["metadata"]["customer"] == "acme"
    assert llm["span_parents"] == [root["span_id"]]
    assert llm["root_span_id"] == root["root_span_id"]
    assert llm["span_attributes"]["type"] == "llm"
    assert llm["input"] == [{"role": "user", "content": "hi"}] and llm["output"] == "hello"
    assert llm["metadata"]["model"] == "gpt-4o"
    assert llm["metrics"]["prompt_tokens"] == 3 and llm["metrics"]["tokens"] == 5
    assert llm["scores"] == {"quality": 0.9}
