"""A small app instrumented with the real OpenLLMetry SDK (traceloop-sdk) decorators, run as
its own process (its own venv, see requirements.txt) by test_traceloop_sdk.py. Its OTLP/HTTP
exporter sends to ARBOR_URL/otel/v1/traces with the Arbor key and an x-bt-parent naming
ARBOR_PROJECT. Prints the trace id."""
import os

from opentelemetry import trace
from traceloop.sdk import Traceloop
from traceloop.sdk.decorators import agent, task, tool, workflow

Traceloop.init(
    app_name="arbor-traceloop-test",
    api_endpoint=os.environ["ARBOR_URL"] + "/otel",  # the SDK appends /v1/traces
    headers={"Authorization": "Bearer " + os.environ["ARBOR_API_KEY"],
             "x-bt-parent": "project_name:" + os.environ["ARBOR_PROJECT"]},
    disable_batch=True,  # export each span as it ends
    telemetry_enabled=False,
)


@tool(name="lookup_weather")
def lookup_weather(city):
    return {"city": city, "forecast": "sunny", "high_c": 21}


@task(name="summarize")
def summarize(report):
    return f"{report['city']}: {report['forecast']}, {report['high_c']}C"


@agent(name="planner")
def planner(city):
    return summarize(lookup_weather(city))


@workflow(name="weather_report")
def weather_report(city):
    trace_id = trace.get_current_span().get_span_context().trace_id
    return planner(city), trace_id


if __name__ == "__main__":
    answer, trace_id = weather_report("Lisbon")
    assert answer == "Lisbon: sunny, 21C", answer
    print(format(trace_id, "032x"))
