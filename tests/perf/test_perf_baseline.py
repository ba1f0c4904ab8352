"""``perf-baseline``: a real slowdown fails with its interval, noise does not, baselines record."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gonogo.checks import registry
from gonogo.checks.interface import CheckError, NotReported
from gonogo.gates.results import Status
from gonogo.perf.baseline import SCHEMA, fingerprint
from tests.checks.helpers import context, evaluate
from tests.helpers import Project
from tests.perf.helpers import git, init_repo, run_pytest_benchmarks, spread, write_pytest_benchmark

NAME = "tests/test_bench.py::test_parse"
TIGHT = spread(0.010, 0.0005, 0.0005)
PARAMS: dict[str, Any] = {"source": "pytest-benchmark", "path": "reports/bench.json"}
BASELINE = Path("benchmarks/baselines/quality.tests.json")


def report(root: Path, timings: list[float], name: str = NAME) -> Path:
    return write_pytest_benchmark(root / "reports" / "bench.json", {name: timings})


def baseline(root: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((root / BASELINE).read_text(encoding="utf-8"))
    return document


@pytest.fixture
def feature(tmp_path: Path) -> Path:
    """A repository checked out on a feature branch (main is the default branch)."""
    root = init_repo(tmp_path / "project")
    git(root, "checkout", "-q", "-b", "feature")
    return root


@pytest.mark.slow
def test_a_real_benchmark_made_30_percent_slower_fails_with_its_interval(feature: Path) -> None:
    before, after = feature / "runs" / "before.json", feature / "runs" / "after.json"
    run_pytest_benchmarks(feature, {before: 1.0, after: 1.3})
    current = feature / "reports" / "bench.json"
    current.parent.mkdir()

    shutil.copyfile(before, current)
    observation, judgement = evaluate("perf-baseline", PARAMS, context(feature))
    assert judgement.status is Status.PASS
    assert "recorded the first baseline of 1 benchmark(s)" in judgement.reason
    recorded = baseline(feature)["benchmarks"]["test_bench.py::test_nap"]
    assert len(recorded["samples"]) == 20
    assert recorded["commit"] == git(feature, "rev-parse", "HEAD")
    assert recorded["branch"] == "feature"
    assert recorded["machine"] == fingerprint().to_json()

    shutil.copyfile(after, current)
    observation, judgement = evaluate("perf-baseline", PARAMS, context(feature))
    assert judgement.status is Status.FAIL, judgement.reason
    assert judgement.reason.startswith("1 of 1 slower than the baseline: test_bench.py::test_nap +")
    assert "(95% CI +" in judgement.reason
    assert f"vs {recorded['commit'][:12]} on feature" in judgement.reason
    [row] = observation.details["benchmarks"]
    assert row["comparison"]["low"] > 1.10
    assert observation.measured == round(row["comparison"]["high"], 4)
    # a feature branch never moves the baseline
    assert baseline(feature)["benchmarks"]["test_bench.py::test_nap"] == recorded


def test_a_benchmark_that_only_got_noisier_passes(feature: Path) -> None:
    report(feature, TIGHT)
    evaluate("perf-baseline", PARAMS, context(feature))
    report(feature, spread(0.010, 0.001, 0.008))
    observation, judgement = evaluate("perf-baseline", PARAMS, context(feature))
    assert judgement.status is Status.PASS, judgement.reason
    assert judgement.reason.startswith("1 benchmark(s) within +10% of the baseline")
    [row] = observation.details["benchmarks"]
    assert row["verdict"] == "unchanged"
    assert row["comparison"]["low"] < 1.10 < row["comparison"]["high"]


def test_slower_within_the_tolerance_passes_and_beyond_it_fails(feature: Path) -> None:
    report(feature, TIGHT)
    evaluate("perf-baseline", PARAMS, context(feature))
    report(feature, [x * 1.3 for x in TIGHT])
    _, judgement = evaluate("perf-baseline", {**PARAMS, "tolerance": 0.5}, context(feature))
    assert judgement.status is Status.PASS
    _, judgement = evaluate("perf-baseline", PARAMS, context(feature))
    assert judgement.status is Status.FAIL
    assert f"{NAME} +30.0% (95% CI +" in judgement.reason


def test_the_default_branch_moves_the_baseline_forward_but_not_to_a_regression(
    tmp_path: Path,
) -> None:
    root = init_repo(tmp_path / "project")
    report(root, TIGHT)
    evaluate("perf-baseline", PARAMS, context(root))
    faster = [x * 0.8 for x in TIGHT]
    report(root, faster)
    observation, judgement = evaluate("perf-baseline", PARAMS, context(root))
    assert judgement.status is Status.PASS
    assert observation.details["benchmarks"][0]["verdict"] == "faster"
    assert sorted(baseline(root)["benchmarks"][NAME]["samples"]) == sorted(faster)
    assert baseline(root)["benchmarks"][NAME]["branch"] == "main"

    report(root, TIGHT)  # 25% slower than the new baseline: fails, and is not recorded
    _, judgement = evaluate("perf-baseline", PARAMS, context(root))
    assert judgement.status is Status.FAIL
    assert sorted(baseline(root)["benchmarks"][NAME]["samples"]) == sorted(faster)


def test_record_true_records_on_any_branch(feature: Path) -> None:
    report(feature, TIGHT)
    evaluate("perf-baseline", PARAMS, context(feature))
    report(feature, [x * 1.3 for x in TIGHT])
    _, judgement = evaluate("perf-baseline", {**PARAMS, "record": True}, context(feature))
    assert judgement.status is Status.FAIL  # judged first, against the old baseline
    _, judgement = evaluate("perf-baseline", PARAMS, context(feature))
    assert judgement.status is Status.PASS  # then compared with what was recorded


def test_record_on_branch_names_the_branch_that_records(feature: Path) -> None:
    report(feature, TIGHT)
    evaluate("perf-baseline", PARAMS, context(feature))
    report(feature, [x * 0.5 for x in TIGHT])
    evaluate("perf-baseline", {**PARAMS, "record_on_branch": "feature"}, context(feature))
    assert sorted(baseline(feature)["benchmarks"][NAME]["samples"]) == sorted(
        x * 0.5 for x in TIGHT
    )


def test_a_baseline_from_another_machine_warns_instead_of_failing(feature: Path) -> None:
    report(feature, TIGHT)
    evaluate("perf-baseline", PARAMS, context(feature))
    document = baseline(feature)
    document["benchmarks"][NAME]["machine"]["cpu"] = "Some Other CPU"
    (feature / BASELINE).write_text(json.dumps(document), encoding="utf-8")

    report(feature, [x * 1.3 for x in TIGHT])
    _, judgement = evaluate("perf-baseline", PARAMS, context(feature))
    assert judgement.status is Status.WARN
    assert "not failed: baseline from another machine (cpu 'Some Other CPU' vs " in (
        judgement.reason
    )
    report(feature, TIGHT)
    _, judgement = evaluate("perf-baseline", PARAMS, context(feature))
    assert judgement.status is Status.WARN
    assert judgement.reason.startswith("baseline from another machine (cpu 'Some Other CPU'")


def test_the_default_branch_replaces_a_baseline_from_another_machine(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "project")
    report(root, TIGHT)
    evaluate("perf-baseline", PARAMS, context(root))
    document = baseline(root)
    document["benchmarks"][NAME]["machine"]["cores"] = 64
    (root / BASELINE).write_text(json.dumps(document), encoding="utf-8")

    report(root, [x * 1.3 for x in TIGHT])
    _, judgement = evaluate("perf-baseline", PARAMS, context(root))
    assert judgement.status is Status.WARN
    assert "baseline from another machine (cores 64 vs " in judgement.reason
    assert baseline(root)["benchmarks"][NAME]["machine"] == fingerprint().to_json()
    _, judgement = evaluate("perf-baseline", PARAMS, context(root))
    assert judgement.status is Status.PASS


def test_too_few_samples_are_not_compared_and_warn(feature: Path) -> None:
    report(feature, TIGHT[:3])
    evaluate("perf-baseline", PARAMS, context(feature))
    report(feature, [x * 2 for x in TIGHT[:3]])
    _, judgement = evaluate("perf-baseline", PARAMS, context(feature))
    assert judgement.status is Status.WARN
    assert judgement.reason.startswith(f"not compared, fewer than 5 samples: {NAME}")


def test_summary_statistics_alone_are_compared_too(feature: Path) -> None:
    path = report(feature, TIGHT)
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["benchmarks"][0]["stats"]["data"]
    path.write_text(json.dumps(document), encoding="utf-8")
    evaluate("perf-baseline", PARAMS, context(feature))
    report(feature, [x * 1.3 for x in TIGHT])
    observation, judgement = evaluate("perf-baseline", PARAMS, context(feature))
    assert judgement.status is Status.FAIL
    assert observation.details["benchmarks"][0]["comparison"]["method"] == "summary"


def test_benchmarks_selects_by_name_and_new_ones_record_their_first_baseline(
    feature: Path,
) -> None:
    write_pytest_benchmark(feature / "reports" / "bench.json", {"a::fast": TIGHT})
    evaluate("perf-baseline", PARAMS, context(feature))
    write_pytest_benchmark(
        feature / "reports" / "bench.json",
        {"a::fast": TIGHT, "a::new": TIGHT, "b::slow": [x * 2 for x in TIGHT]},
    )
    observation, judgement = evaluate(
        "perf-baseline", {**PARAMS, "benchmarks": ["a::*"]}, context(feature)
    )
    assert judgement.status is Status.PASS
    assert judgement.reason.endswith("recorded the first baseline of 1 benchmark(s)")
    assert [r["name"] for r in observation.details["benchmarks"]] == ["a::fast", "a::new"]
    assert set(baseline(feature)["benchmarks"]) == {"a::fast", "a::new"}
    with pytest.raises(CheckError, match="no benchmark matches c::"):
        evaluate("perf-baseline", {**PARAMS, "benchmarks": ["c::*"]}, context(feature))


def test_hyperfine_runs_are_compared_too(feature: Path) -> None:
    hyperfine = shutil.which("hyperfine")
    assert hyperfine, "hyperfine is installed by scripts/test.sh"
    out = feature / "reports" / "hyperfine.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [hyperfine, "-N", "--runs", "6", "-n", "nap", "--export-json", str(out), "sleep 0.001"]
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
    params = {"source": "hyperfine", "path": "reports/hyperfine.json"}
    _, judgement = evaluate("perf-baseline", params, context(feature))
    assert judgement.status is Status.PASS
    assert "recorded the first baseline of 1 benchmark(s)" in judgement.reason
    assert len(baseline(feature)["benchmarks"]["nap"]["samples"]) == 6


def test_a_command_is_timed_by_gonogo_itself(feature: Path) -> None:
    code = "import time; time.sleep(0.005)"
    params = {"source": "command", "run": [sys.executable, "-c", code], "runs": 5, "warmup": 1}
    observation, judgement = evaluate("perf-baseline", params, context(feature))
    assert judgement.status is Status.PASS
    [row] = observation.details["benchmarks"]
    assert row["verdict"] == "recorded"
    assert row["samples"] == 5
    [(name, entry)] = baseline(feature)["benchmarks"].items()
    assert name == f"{sys.executable} -c {code}"
    assert all(s >= 0.005 for s in entry["samples"])


def test_a_failing_command_is_an_error_naming_the_run(feature: Path) -> None:
    code = "import sys; print('boom', file=sys.stderr); sys.exit(3)"
    params = {"source": "command", "run": [sys.executable, "-c", code]}
    with pytest.raises(CheckError, match=r"exited 3 on warm-up run 1: boom"):
        evaluate("perf-baseline", params, context(feature))
    with pytest.raises(CheckError, match="command not found: no-such-tool"):
        evaluate("perf-baseline", {"source": "command", "run": "no-such-tool"}, context(feature))


def test_a_missing_report_is_not_reported_and_a_malformed_one_an_error(feature: Path) -> None:
    with pytest.raises(NotReported, match=r"no pytest-benchmark report at reports/bench\.json"):
        evaluate("perf-baseline", PARAMS, context(feature))
    (feature / "reports").mkdir()
    (feature / "reports" / "bench.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CheckError) as raised:
        evaluate("perf-baseline", PARAMS, context(feature))
    assert "reports/bench.json: not valid JSON" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_malformed_baseline_is_an_error_saying_how_to_start_over(feature: Path) -> None:
    report(feature, TIGHT)
    (feature / BASELINE).parent.mkdir(parents=True)
    (feature / BASELINE).write_text('{"schema": "something else"}', encoding="utf-8")
    with pytest.raises(CheckError) as raised:
        evaluate("perf-baseline", PARAMS, context(feature))
    assert "not a gonogo baseline" in str(raised.value)
    assert "delete it to record a new baseline" in str(raised.value)


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "samples": TIGHT,
        "summary": {"n": len(TIGHT), "mean": 0.01, "stddev": 0.0003, "median": 0.01},
        "machine": fingerprint().to_json(),
        "commit": "3f2c1a9",
        "branch": "main",
        "recorded_at": "2026-05-01T10:00:00.000000Z",
    }
    return entry | changes


def _summary_only(**summary: Any) -> dict[str, Any]:
    return _entry(
        samples=[], summary={"n": 41, "mean": 0.01, "stddev": 0.0003, "median": 0.01} | summary
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        # NaN, infinite or negative times compared as "not slower" and passed (or crashed)
        (_entry(samples=[float("nan")] * 41), "a sample is nan, not a time"),
        (_entry(samples=[float("inf")] * 41), "a sample is inf, not a time"),
        (_summary_only(mean=float("nan")), "summary mean is nan"),
        (_summary_only(stddev=-1), "summary stddev is -1"),
        (_summary_only(n=0), "summary n = 0 is not a count of runs"),
        (_summary_only(n=10**400), "is not a count of runs"),
        (_entry(commit=123), "commit is 123, not text"),
        (_entry(samples="0.01"), '"samples" is not a list of times'),
        ([1, 2], "an entry is list, expected an object"),
    ],
)
def test_a_baseline_entry_gonogo_did_not_write_is_an_error_not_a_pass(
    feature: Path, entry: Any, message: str
) -> None:
    report(feature, TIGHT)
    (feature / BASELINE).parent.mkdir(parents=True)
    document = {"schema": SCHEMA, "benchmarks": {NAME: entry}}
    (feature / BASELINE).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CheckError) as raised:
        evaluate("perf-baseline", PARAMS, context(feature))
    assert "a baseline entry is malformed" in str(raised.value)
    assert message in str(raised.value)
    assert "delete it to record a new baseline" in str(raised.value)


def test_a_baseline_nested_past_the_json_parser_is_an_error(feature: Path) -> None:
    report(feature, TIGHT)
    (feature / BASELINE).parent.mkdir(parents=True)
    (feature / BASELINE).write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(CheckError, match="the baseline is not valid JSON"):
        evaluate("perf-baseline", PARAMS, context(feature))


@pytest.mark.parametrize(
    "entry",
    [_summary_only(mean=1e-320, median=1e-320, stddev=0.0), _summary_only(stddev=1e308)],
)
def test_times_whose_arithmetic_overflows_are_an_error_not_an_internal_error(
    feature: Path, entry: dict[str, Any]
) -> None:
    report(feature, TIGHT)
    (feature / BASELINE).parent.mkdir(parents=True)
    document = {"schema": SCHEMA, "benchmarks": {NAME: entry}}
    (feature / BASELINE).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CheckError, match="cannot be compared: their numbers are too far apart"):
        evaluate("perf-baseline", PARAMS, context(feature))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"source": "command"}, "needs `run`"),
        ({"source": "command", "run": "x", "path": "a.json"}, "drop `path`"),
        ({"source": "hyperfine", "run": "x"}, "`run` is for"),
        ({"source": "hyperfine", "tolerance": -1}, "greater than or equal to 0"),
        ({"source": "hyperfine", "confidence": 1.0}, "less than 1"),
        ({"source": "gprof"}, "Input should be"),
    ],
)
def test_params_that_cannot_work_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        registry.load("perf-baseline").params_model.model_validate(params)


POLICY = """
version = 1

[project]
name = "demo"

[owners]
engineering = ["alice@example.com"]

[[gates]]
id = "performance"
title = "Performance"
phase = 4
owners = ["engineering"]

[[gates.criteria]]
id = "speed"
check = "perf-baseline"
params = { source = "pytest-benchmark", path = "reports/bench.json" }
"""


def test_gonogo_check_records_then_fails_a_slowdown_end_to_end(
    feature: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(feature, capsys, monkeypatch)
    project.policy(POLICY)
    report(feature, TIGHT)
    code, result = project.check_json()
    [criterion] = result["gates"][0]["criteria"]
    assert criterion["status"] == "pass", criterion
    document = json.loads(
        (feature / "benchmarks" / "baselines" / "performance.speed.json").read_text("utf-8")
    )
    assert document["schema"] == SCHEMA
    assert list(document["benchmarks"]) == [NAME]

    report(feature, [x * 1.3 for x in TIGHT])
    code, result = project.check_json()
    [criterion] = result["gates"][0]["criteria"]
    assert code == 1
    assert criterion["status"] == "fail"
    assert f"{NAME} +30.0% (95% CI +" in criterion["reason"]
