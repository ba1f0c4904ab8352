"""``junit`` and ``coverage`` on reports written by real pytest and coverage.py runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gonogo.checks.interface import Bound, CheckError, NotReported
from gonogo.digest import sha256_file
from gonogo.gates.results import Status
from tests.checks.helpers import context, evaluate, inputs

EVIDENCE_DATA = Path(__file__).resolve().parents[1] / "evidence" / "data"

FILES = {
    "pytest.ini": "[pytest]\npythonpath = src\ntestpaths = tests\npython_files = check_*.py\n",
    ".coveragerc": "[run]\nbranch = True\nsource = src\n",
    "src/calc/__init__.py": "",
    "src/calc/core.py": (
        "def add(a: int, b: int) -> int:\n"
        "    return a + b\n"
        "\n"
        "\n"
        "def halve(a: float) -> float:\n"
        "    return a / 2\n"
    ),
    "src/calc/risky.py": (
        "def classify(n: int) -> str:\n"
        "    if n < 0:\n"
        "        return 'negative'\n"
        "    if n == 0:\n"
        "        return 'zero'\n"
        "    if n > 1000:\n"
        "        return 'huge'\n"
        "    return 'positive'\n"
    ),
    "tests/check_core.py": (
        "from calc.core import add, halve\n"
        "from calc.risky import classify\n"
        "\n"
        "\n"
        "def test_add() -> None:\n"
        "    assert add(2, 3) == 5\n"
        "\n"
        "\n"
        "def test_halve() -> None:\n"
        "    assert halve(3) == 1.5\n"
        "\n"
        "\n"
        "def test_classify_positive() -> None:\n"
        "    assert classify(5) == 'positive'\n"
    ),
    "tests/check_broken.py": (
        "from calc.core import halve\n"
        "\n"
        "\n"
        "def test_halve_rounds() -> None:\n"
        "    assert halve(3) == 1\n"
        "\n"
        "\n"
        "def test_halve_zero() -> None:\n"
        "    assert halve(0) == 0\n"
    ),
}


def _run(project: Path, *arguments: str, expect: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COVERAGE_"))}
    env |= {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == expect, result.stdout + result.stderr


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project measured by real pytest (--junitxml) and coverage.py.

    ``reports/junit-core.xml`` passes (3 tests), ``reports/junit-broken.xml`` has one failing
    test of two; coverage covers ``core.py`` fully and ``risky.py`` partly.
    """
    root = tmp_path_factory.mktemp("checks") / "project"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    no_cache = ("-p", "no:cacheprovider")
    core = ("tests/check_core.py", "--junitxml=reports/junit-core.xml")
    _run(root, "coverage", "run", "-m", "pytest", *no_cache, *core, expect=0)
    broken = ("tests/check_broken.py", "--junitxml=reports/junit-broken.xml")
    _run(root, "pytest", *no_cache, *broken, expect=1)
    _run(root, "coverage", "json", "-o", "reports/coverage.json", expect=0)
    _run(root, "coverage", "xml", "-o", "reports/coverage.xml", expect=0)
    return root


def _coverage_json(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (project / "reports" / "coverage.json").read_text(encoding="utf-8")
    )
    return data


# -- junit -------------------------------------------------------------------------------------


def test_passing_junit_report_passes(project: Path) -> None:
    params = {"path": "reports/junit-core.xml", "min_tests": 3}
    observation, judgement = evaluate("junit", params, context(project))
    assert judgement.status is Status.PASS
    assert judgement.reason == "3 passed, 0 failed, 0 errors, 0 skipped"
    assert observation.measured == 3
    [ref] = observation.evidence
    assert (ref.kind, ref.uri) == ("junit", "reports/junit-core.xml")
    assert ref.sha256 == sha256_file(project / "reports" / "junit-core.xml")


def test_failing_test_fails_naming_the_test(project: Path) -> None:
    observation, judgement = evaluate(
        "junit", {"path": "reports/junit-broken.xml"}, context(project)
    )
    assert judgement.status is Status.FAIL
    assert judgement.reason.startswith("1 passed, 1 failed, 0 errors, 0 skipped: ")
    assert "test_halve_rounds" in judgement.reason
    assert "test_halve_zero" not in judgement.reason
    assert observation.details["failing"] == ["tests.check_broken::test_halve_rounds"]


def test_failures_within_the_allowed_number_pass(project: Path) -> None:
    params = {"path": "reports/junit-broken.xml", "max_failures": 1}
    _, judgement = evaluate("junit", params, context(project))
    assert judgement.status is Status.PASS


def test_too_few_tests_fail(project: Path) -> None:
    params = {"path": "reports/junit-core.xml", "min_tests": 10}
    _, judgement = evaluate("junit", params, context(project))
    assert judgement.status is Status.FAIL
    assert judgement.reason == "only 3 tests ran, at least 10 expected"


def test_junit_threshold_applies_to_the_number_of_tests(project: Path) -> None:
    params = {"path": "reports/junit-core.xml"}
    _, judgement = evaluate("junit", params, context(project), Bound(min=4))
    assert judgement.status is Status.FAIL
    assert judgement.reason == "3 tests ran, expected >= 4"
    _, judgement = evaluate("junit", params, context(project), Bound(min=3))
    assert judgement.status is Status.PASS


def test_glob_path_merges_several_junit_files(project: Path) -> None:
    params = {"path": "reports/junit-*.xml", "min_tests": 5}
    found = inputs("junit", params, context(project))
    assert [p.name for p in found.files] == ["junit-broken.xml", "junit-core.xml"]
    observation, judgement = evaluate("junit", params, context(project))
    assert observation.measured == 5
    assert (observation.details["passed"], observation.details["failures"]) == (4, 1)
    assert [ref.uri for ref in observation.evidence] == [
        "reports/junit-broken.xml",
        "reports/junit-core.xml",
    ]
    assert judgement.status is Status.FAIL
    assert "test_halve_rounds" in judgement.reason


def test_skips_beyond_the_limit_fail() -> None:
    # a real pytest report (committed with the evidence tests): 1 failure, 1 error, 1 skip
    params = {
        "path": str(EVIDENCE_DATA / "pytest-junit.xml"),
        "max_failures": 5,
        "max_errors": 5,
        "max_skipped": 0,
    }
    _, judgement = evaluate("junit", params, context(EVIDENCE_DATA))
    assert judgement.status is Status.FAIL
    assert "skipped, at most 0 allowed" in judgement.reason


def test_errors_count_against_max_errors_and_name_the_test() -> None:
    params = {"path": "pytest-junit.xml", "max_failures": 5}
    _, judgement = evaluate("junit", params, context(EVIDENCE_DATA))
    assert judgement.status is Status.FAIL
    assert "test_total_is_stored" in judgement.reason


@pytest.mark.parametrize("check", ["junit", "coverage"])
def test_missing_report_is_not_reported_with_a_hint(tmp_path: Path, check: str) -> None:
    with pytest.raises(NotReported) as caught:
        evaluate(check, {"path": "reports/missing.xml"}, context(tmp_path))
    message = str(caught.value)
    assert "at reports/missing.xml" in message
    assert "run the step that writes it first, or fix `path`" in message


@pytest.mark.parametrize("check", ["junit", "coverage"])
def test_glob_matching_nothing_is_not_reported(tmp_path: Path, check: str) -> None:
    with pytest.raises(NotReported, match=r"reports/\*\.xml"):
        evaluate(check, {"path": "reports/*.xml"}, context(tmp_path))


@pytest.mark.parametrize("check", ["junit", "coverage"])
def test_no_path_and_nothing_ingested_says_how_to_ingest(tmp_path: Path, check: str) -> None:
    with pytest.raises(NotReported) as caught:
        evaluate(check, {}, context(tmp_path))
    assert "gonogo ingest quality.tests FILE" in str(caught.value)


@pytest.mark.parametrize(
    ("check", "content"),
    [
        ("junit", b"<testsuites><testsuite name='x' tests='1'>"),
        ("junit", b"PASSED 3 tests"),
        ("coverage", b'{"files": {"a.py": '),
        ("coverage", b"TOTAL 120 30 75%"),
    ],
)
def test_malformed_report_is_an_error_naming_the_file(
    tmp_path: Path, check: str, content: bytes
) -> None:
    report = tmp_path / "reports" / "broken-report"
    report.parent.mkdir()
    report.write_bytes(content)
    with pytest.raises(CheckError) as caught:
        evaluate(check, {"path": "reports/broken-report"}, context(tmp_path))
    assert not isinstance(caught.value, NotReported)
    assert str(report) in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("check", ["junit", "coverage"])
def test_report_path_that_is_a_folder_is_an_error(tmp_path: Path, check: str) -> None:
    (tmp_path / "reports").mkdir()
    with pytest.raises(CheckError, match="is a folder"):
        evaluate(check, {"path": "reports"}, context(tmp_path))


def test_ingested_report_is_read_instead_of_the_path(project: Path, tmp_path: Path) -> None:
    pushed = tmp_path / "pushed.xml"
    pushed.write_bytes((project / "reports" / "junit-broken.xml").read_bytes())
    ctx = context(project, ingested=pushed)
    params = {"path": "reports/junit-core.xml"}
    assert inputs("junit", params, ctx).files == (pushed,)
    _, judgement = evaluate("junit", params, ctx)
    assert judgement.status is Status.FAIL


# -- coverage ----------------------------------------------------------------------------------


@pytest.mark.parametrize("report", ["coverage.json", "coverage.xml"])
def test_coverage_measures_what_coverage_py_reports(project: Path, report: str) -> None:
    observation, judgement = evaluate("coverage", {"path": f"reports/{report}"}, context(project))
    expected = _coverage_json(project)["totals"]["percent_covered"]
    assert observation.measured == pytest.approx(expected, abs=0.01)
    assert 50 < expected < 100  # risky.py is only partly covered
    assert judgement.status is Status.PASS  # no minimum set: nothing to fail


@pytest.mark.parametrize("report", ["coverage.json", "coverage.xml"])
def test_coverage_above_every_minimum_passes(project: Path, report: str) -> None:
    params = {
        "path": f"reports/{report}",
        "min": 50,
        "modules": {"calc/core.py": 100, "calc.risky": 40},
    }
    observation, judgement = evaluate("coverage", params, context(project))
    assert judgement.status is Status.PASS
    assert observation.details["modules"]["calc/core.py"] == 100.0
    assert judgement.expected == "overall >= 50; calc/core.py >= 100; calc.risky >= 40"


def test_coverage_below_the_minimum_fails(project: Path) -> None:
    _, judgement = evaluate(
        "coverage", {"path": "reports/coverage.json", "min": 99}, context(project)
    )
    assert judgement.status is Status.FAIL
    assert judgement.reason.startswith("overall ")
    assert judgement.reason.endswith("% is not >= 99")


def test_critical_module_below_its_minimum_fails_naming_the_module(project: Path) -> None:
    params = {"path": "reports/coverage.json", "min": 50, "modules": {"calc/risky.py": 90}}
    observation, judgement = evaluate("coverage", params, context(project))
    risky = _coverage_json(project)["files"]["src/calc/risky.py"]["summary"]["percent_covered"]
    assert observation.details["modules"]["calc/risky.py"] == pytest.approx(risky, abs=0.01)
    assert judgement.status is Status.FAIL
    assert judgement.reason == f"calc/risky.py {risky:.2f}% < 90%"


def test_critical_module_missing_from_the_report_fails(project: Path) -> None:
    params = {"path": "reports/coverage.json", "modules": {"calc/payments.py": 80}}
    _, judgement = evaluate("coverage", params, context(project))
    assert judgement.status is Status.FAIL
    assert judgement.reason == "calc/payments.py is not in the report"


def test_coverage_threshold_and_min_param_both_hold(project: Path) -> None:
    params = {"path": "reports/coverage.json", "min": 10}
    _, judgement = evaluate("coverage", params, context(project), Bound(min=99))
    assert judgement.status is Status.FAIL  # the stricter of the two applies
    assert judgement.expected == "overall >= 99"
    _, judgement = evaluate("coverage", {**params, "min": 99}, context(project), Bound(min=10))
    assert judgement.status is Status.FAIL


def test_coverage_evidence_is_the_report_with_its_digest(project: Path) -> None:
    observation, _ = evaluate("coverage", {"path": "reports/coverage.xml"}, context(project))
    [ref] = observation.evidence
    assert (ref.kind, ref.uri) == ("coverage", "reports/coverage.xml")
    assert ref.sha256 == sha256_file(project / "reports" / "coverage.xml")
    assert observation.details["format"] == "cobertura"
