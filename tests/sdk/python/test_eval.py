"""Eval() over an init_dataset() dataset with two scorers; a second Eval compares with the first."""
import braintrust
import pytest

from _helpers import approx, is_root_row, uniq

DATASET = "sums"
# expected is deliberately wrong for the last two rows.
ROWS = [
    dict(input={"a": 1, "b": 1}, expected=2),
    dict(input={"a": 2, "b": 3}, expected=5),
    dict(input={"a": 4, "b": 4}, expected=9),
    dict(input={"a": 5, "b": 0}, expected=6),
]
# Eval 1 (a + b):    outputs 2,5,8,5  exact 1,1,0,0 = 0.5   closeness 1,1,.75,.75 = 0.875
# Eval 2 (tweaked):  outputs 4,5,9,6  exact 0,1,1,1 = 0.75  closeness .5,1,1,1  = 0.875
#   vs eval 1: exact diff +0.25, 2 improvements, 1 regression; closeness diff 0, 2 improvements, 1 regression


def exact(input, output, expected):
    return 1.0 if output == expected else 0.0


def closeness(input, output, expected):
    return max(0.0, 1.0 - abs(output - expected) / 4.0)


def task1(input):
    return input["a"] + input["b"]


def task2(input):
    a, b = input["a"], input["b"]
    return a + b + 2 if a == 1 else a + b + 1 if a >= 4 else a + b


def _check(summary, name, score, diff=None, improvements=None, regressions=None):
    assert summary.comparison.status == "success", f"summary comparison skipped: {summary.comparison}"
    got = summary.comparison.scores.get(name)
    assert got is not None, summary.comparison.scores
    assert got.name == name
    assert approx(got.score, score), got
    if diff is None:
        assert got.diff is None, got
    else:
        assert approx(got.diff, diff), got
        assert got.improvements == improvements, got
        assert got.regressions == regressions, got


@pytest.fixture(scope="module")
def evals(arbor):
    project = uniq("py-eval")
    ds = braintrust.init_dataset(project, DATASET)
    row_ids = [ds.insert(**r) for r in ROWS]
    ds.flush()
    dataset_id = ds.id
    r1 = braintrust.Eval(
        project, data=braintrust.init_dataset(project, DATASET), task=task1, scores=[exact, closeness],
        experiment_name="eval-1",
    )
    r2 = braintrust.Eval(
        project, data=braintrust.init_dataset(project, DATASET), task=task2, scores=[exact, closeness],
        experiment_name="eval-2",
    )
    return dict(project=project, row_ids=row_ids, dataset_id=dataset_id, r1=r1, r2=r2)


def test_first_eval_summary(evals):
    r = evals["r1"]
    assert len(r.results) == len(ROWS)
    assert all(x.error is None for x in r.results), [x.error for x in r.results]
    s = r.summary
    assert s.project_name == evals["project"]
    assert s.experiment_name == "eval-1"
    assert s.comparison_experiment_name is None
    assert sorted(s.comparison.scores) == ["closeness", "exact"]
    _check(s, "exact", 0.5)
    _check(s, "closeness", 0.875)


def test_second_eval_compares_with_first(evals):
    r = evals["r2"]
    assert all(x.error is None for x in r.results), [x.error for x in r.results]
    s = r.summary
    assert s.experiment_name == "eval-2"
    assert s.comparison_experiment_name == "eval-1"
    assert sorted(s.comparison.scores) == ["closeness", "exact"]
    _check(s, "exact", 0.75, diff=0.25, improvements=2, regressions=1)
    _check(s, "closeness", 0.875, diff=0.0, improvements=2, regressions=1)


def test_eval_rows(evals):
    rows = list(braintrust.init(evals["project"], experiment="eval-2", open=True).fetch())
    roots = [r for r in rows if is_root_row(r)]
    assert len(roots) == len(ROWS), [r.get("span_attributes") for r in roots]
    for root in roots:
        assert root["is_root"] is True
        assert root["span_attributes"]["type"] == "eval"
        origin = root.get("origin") or {}
        assert origin.get("object_type") == "dataset", origin
        assert origin.get("object_id") == evals["dataset_id"], origin
        assert origin.get("id") in evals["row_ids"], origin
        row = ROWS[evals["row_ids"].index(origin["id"])]
        assert root["input"] == row["input"] and root["expected"] == row["expected"]
        trace = [r for r in rows if r["root_span_id"] == root["root_span_id"]]
        scorers = [r for r in trace if (r.get("span_attributes") or {}).get("type") == "score"]
        assert sorted(r["span_attributes"]["name"] for r in scorers) == ["closeness", "exact"]
        for sc in scorers:
            assert sc["is_root"] is False
            assert isinstance(sc["scores"][sc["span_attributes"]["name"]], (int, float))
