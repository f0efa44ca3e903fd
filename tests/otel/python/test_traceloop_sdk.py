"""The real OpenLLMetry SDK (traceloop-sdk, pinned in traceloop/requirements.txt) pointed at
arbor over OTLP/HTTP: workflow, agent, task and tool decorators become one trace of typed spans
with traceloop.entity.input/output as input and output."""
import os
import subprocess

from otel_util import by_name, project_id, rows_of, uniq

HERE = os.path.dirname(os.path.abspath(__file__))


def test_traceloop_decorators_become_a_trace(arbor):
    python = subprocess.run([os.path.join(HERE, "traceloop", "env.sh")], check=True,
                            capture_output=True, text=True).stdout.strip()
    name = uniq("traceloop")
    env = dict(os.environ, ARBOR_URL=arbor.url, ARBOR_API_KEY=arbor.api_key, ARBOR_PROJECT=name,
               TRACELOOP_TELEMETRY="false", TRACELOOP_METRICS_ENABLED="false",
               TRACELOOP_LOGGING_ENABLED="false")
    run = subprocess.run([python, os.path.join(HERE, "traceloop", "app.py")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    trace_id = run.stdout.strip().splitlines()[-1]
    rows = rows_of(arbor, "project_logs", project_id(arbor, name))
    got = by_name(rows)
    names = {"weather_report.workflow", "planner.agent", "summarize.task", "lookup_weather.tool"}
    assert set(got) == names, rows
    wf, ag = got["weather_report.workflow"], got["planner.agent"]
    ts, tl = got["summarize.task"], got["lookup_weather.tool"]
    assert all(r["root_span_id"] == trace_id for r in rows)
    assert not wf.get("span_parents")
    assert ag["span_parents"] == [wf["span_id"]]
    assert ts["span_parents"] == [ag["span_id"]] and tl["span_parents"] == [ag["span_id"]]
    assert [r["span_attributes"]["type"] for r in (wf, ag, ts, tl)] == ["task", "task", "task",
                                                                        "tool"]
    # traceloop.entity.input is {"args": [...], "kwargs": {...}}; output is the return value.
    assert tl["input"]["args"] == ["Lisbon"]
    assert tl["output"] == {"city": "Lisbon", "forecast": "sunny", "high_c": 21}
    assert ts["output"] == "Lisbon: sunny, 21C"
    assert ts["input"]["args"] == [{"city": "Lisbon", "forecast": "sunny", "high_c": 21}]
    assert wf["input"]["args"] == ["Lisbon"]
    assert wf["metrics"]["start"] <= ag["metrics"]["start"] <= ag["metrics"]["end"] <= wf["metrics"]["end"]
