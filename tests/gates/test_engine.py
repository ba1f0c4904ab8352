"""The gate engine on real project folders: statuses, evidence, parallel runs, cache, baselines."""

from __future__ import annotations

import os
import textwrap
import threading
from pathlib import Path

import pytest

from gonogo.digest import sha256_file
from gonogo.gates import engine
from gonogo.gates.results import Outcome, Status, Verdict
from gonogo.policy.load import PolicyInvalid, load_policy
from tests.helpers import (
    HANG_RELEASED,
    create_release,
    evaluate,
    install_check,
    result_of,
    write_coverage,
    write_junit,
    write_policy,
)

HEAD = """
version = 1

[project]
name = "demo"

[owners]
qa = ["quinn@example.com"]
"""


def _policy(root: Path, criteria: str, *, gate: str = "", extra: str = "") -> None:
    """A policy with one gate ``quality`` (no owners unless ``gate`` says) and ``criteria``."""
    write_policy(
        root,
        HEAD
        + textwrap.dedent(
            f"""
            [[gates]]
            id = "quality"
            title = "Quality"
            phase = 4
            {gate}
            """
        )
        + textwrap.dedent(criteria)
        + textwrap.dedent(extra),
    )


JUNIT = """
[[gates.criteria]]
id = "tests"
check = "junit"
params = { path = "reports/junit.xml" }
"""

COVERAGE = """
[[gates.criteria]]
id = "coverage"
check = "coverage"
params = { path = "reports/coverage.json" }
threshold = { min = 80 }
"""


# -- statuses -------------------------------------------------------------------------------


def test_passing_reports_make_the_criteria_pass_and_an_ownerless_gate_go(tmp_path: Path) -> None:
    _policy(tmp_path, JUNIT + COVERAGE)
    write_junit(tmp_path / "reports/junit.xml", passed=5)
    write_coverage(tmp_path / "reports/coverage.json", 91)

    report = evaluate(tmp_path)

    assert [c.status for c in report.gates[0].criteria] == [Status.PASS, Status.PASS]
    assert report.gates[0].outcome is Outcome.PASS
    assert report.verdict is Verdict.GO


def test_each_result_carries_measured_expected_reason_evidence_and_duration(
    tmp_path: Path,
) -> None:
    _policy(tmp_path, COVERAGE)
    file = write_coverage(tmp_path / "reports/coverage.json", 75.5)

    result = result_of(evaluate(tmp_path), "quality.coverage")

    assert result.status is Status.FAIL
    assert result.measured == 75.5
    assert result.expected == "overall >= 80"
    assert result.reason == "overall 75.50% is not >= 80"
    (evidence,) = result.evidence
    assert (evidence.kind, evidence.uri) == ("coverage", "reports/coverage.json")
    assert evidence.sha256 == sha256_file(file)
    assert result.duration > 0
    assert result.cached is False


def test_a_failing_advisory_criterion_warns_but_the_gate_stays_go(tmp_path: Path) -> None:
    _policy(
        tmp_path, JUNIT + COVERAGE.replace('id = "coverage"', 'id = "coverage"\nblocking = false')
    )
    write_junit(tmp_path / "reports/junit.xml")
    write_coverage(tmp_path / "reports/coverage.json", 50)

    report = evaluate(tmp_path)

    assert result_of(report, "quality.coverage").status is Status.FAIL
    assert report.gates[0].outcome is Outcome.WARN
    assert report.gates[0].verdict is Verdict.GO


def test_a_failing_test_report_fails_the_gate(tmp_path: Path) -> None:
    _policy(tmp_path, JUNIT)
    write_junit(tmp_path / "reports/junit.xml", passed=2, failed=1)

    report = evaluate(tmp_path)

    assert result_of(report, "quality.tests").status is Status.FAIL
    assert "1 failed" in result_of(report, "quality.tests").reason
    assert report.verdict is Verdict.NO_GO


def test_a_malformed_report_is_an_error_result_not_a_crash(tmp_path: Path) -> None:
    _policy(tmp_path, JUNIT + COVERAGE)
    write_junit(tmp_path / "reports/junit.xml")
    (tmp_path / "reports/coverage.json").write_text("{ this is not json", encoding="utf-8")

    report = evaluate(tmp_path)

    result = result_of(report, "quality.coverage")
    assert result.status is Status.ERROR
    assert "not valid JSON" in result.reason
    assert result_of(report, "quality.tests").status is Status.PASS


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("inputs", "KeyError: 'inputs'"),
        ("collect", "ZeroDivisionError: plugin bug"),
        ("judge", "TypeError: judge bug"),
    ],
)
def test_a_check_that_crashes_becomes_an_error_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, error: str
) -> None:
    install_check(monkeypatch, "crashy", "tests.helpers:CrashingCheck")
    crashy = (
        f'[[gates.criteria]]\nid = "plugin"\ncheck = "crashy"\nparams = {{ step = "{step}" }}\n'
    )
    _policy(tmp_path, JUNIT + crashy)
    write_junit(tmp_path / "reports/junit.xml")

    report = evaluate(tmp_path)

    result = result_of(report, "quality.plugin")
    assert result.status is Status.ERROR
    assert result.reason == f"the crashy check crashed: {error}"
    assert result_of(report, "quality.tests").status is Status.PASS
    assert report.verdict is Verdict.NO_GO


def test_a_criterion_whose_glob_matches_nothing_is_not_applicable(tmp_path: Path) -> None:
    _policy(
        tmp_path,
        JUNIT.replace('id = "tests"', 'id = "tests"\napplies_if = { exists = ["docker/*.yml"] }'),
    )

    report = evaluate(tmp_path)

    result = result_of(report, "quality.tests")
    assert result.status is Status.NOT_APPLICABLE
    assert result.reason == "nothing matches docker/*.yml"
    assert report.verdict is Verdict.GO


def test_a_criterion_whose_glob_matches_applies(tmp_path: Path) -> None:
    _policy(
        tmp_path,
        JUNIT.replace('id = "tests"', 'id = "tests"\napplies_if = { exists = ["docker/*.yml"] }'),
    )
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker/compose.yml").write_text("services: {}\n", encoding="utf-8")
    write_junit(tmp_path / "reports/junit.xml")

    assert result_of(evaluate(tmp_path), "quality.tests").status is Status.PASS


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("/etc/*", "'/etc/*' is not a path in the project"),
        ("", "'' is not a path in the project"),
        ("docker/a**", "`**` must be a whole path segment"),
    ],
)
def test_an_applies_if_glob_that_cannot_be_searched_is_refused_when_the_policy_loads(
    tmp_path: Path, glob: str, expected: str
) -> None:
    _policy(
        tmp_path,
        JUNIT.replace('id = "tests"', f'id = "tests"\napplies_if = {{ exists = ["{glob}"] }}'),
    )

    with pytest.raises(PolicyInvalid) as caught:
        load_policy(tmp_path / "gonogo.toml")

    assert "applies_if.exists" in str(caught.value)
    assert expected in str(caught.value)


def test_a_missing_report_file_is_not_reported(tmp_path: Path) -> None:
    _policy(tmp_path, JUNIT)

    report = evaluate(tmp_path)

    result = result_of(report, "quality.tests")
    assert result.status is Status.NOT_REPORTED
    assert "no JUnit report at reports/junit.xml" in result.reason
    assert report.verdict is Verdict.NO_GO


def test_a_missing_document_is_not_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    _policy(
        tmp_path,
        JUNIT
        + """
        [[gates.criteria]]
        id = "runbook"
        check = "file"
        params = { path = "RUNBOOK.md", sections = ["Rollback"] }
        """,
    )
    write_junit(tmp_path / "reports/junit.xml")

    report = evaluate(tmp_path)

    runbook = result_of(report, "quality.runbook")
    assert runbook.status is Status.NOT_REPORTED
    assert runbook.reason.startswith("RUNBOOK.md does not exist")
    assert result_of(report, "quality.tests").status is Status.PASS


def test_a_document_written_after_a_not_reported_run_is_collected(tmp_path: Path) -> None:
    _policy(
        tmp_path,
        '[[gates.criteria]]\nid = "readme"\ncheck = "file"\nparams = { path = "README.md" }\n',
    )
    evaluate(tmp_path)
    (tmp_path / "README.md").write_text("# Demo\n", encoding="utf-8")

    result = result_of(evaluate(tmp_path), "quality.readme")

    assert (result.status, result.cached) == (Status.PASS, False)


def test_an_ingest_criterion_with_nothing_ingested_is_not_reported(tmp_path: Path) -> None:
    _policy(tmp_path, JUNIT.replace('id = "tests"', 'id = "tests"\nsource = "ingest"'))
    write_junit(tmp_path / "reports/junit.xml")  # ignored: the criterion waits for ingest

    result = result_of(evaluate(tmp_path), "quality.tests")

    assert result.status is Status.NOT_REPORTED
    assert "gonogo ingest quality.tests FILE" in result.reason


WAIVER = """
[[waivers]]
criterion = "quality.tests"
reason = "flaky suite, fix tracked in SHOP-12"
approver = "qa"
expires = {expires}
"""


def test_an_unexpired_waiver_turns_a_failure_into_waived(tmp_path: Path) -> None:
    _policy(tmp_path, JUNIT, extra=WAIVER.format(expires="2999-12-31"))
    write_junit(tmp_path / "reports/junit.xml", passed=1, failed=2)

    report = evaluate(tmp_path)

    result = result_of(report, "quality.tests")
    assert result.status is Status.WAIVED
    assert result.reason.startswith("waived until 2999-12-31 by qa: flaky suite")
    assert "(was fail:" in result.reason
    assert result.waiver == {
        "reason": "flaky suite, fix tracked in SHOP-12",
        "approver": "qa",
        "expires": "2999-12-31",
    }
    assert report.gates[0].outcome is Outcome.PASS


def test_an_expired_waiver_stops_counting_and_says_it_expired(tmp_path: Path) -> None:
    _policy(tmp_path, JUNIT, extra=WAIVER.format(expires="2000-01-01"))
    write_junit(tmp_path / "reports/junit.xml", passed=1, failed=2)

    report = evaluate(tmp_path)

    result = result_of(report, "quality.tests")
    assert result.status is Status.FAIL
    assert result.reason.endswith("(waiver expired on 2000-01-01)")
    assert result.waiver is None
    assert report.verdict is Verdict.NO_GO


def test_a_waiver_leaves_a_passing_criterion_alone(tmp_path: Path) -> None:
    _policy(tmp_path, JUNIT, extra=WAIVER.format(expires="2999-12-31"))
    write_junit(tmp_path / "reports/junit.xml")

    assert result_of(evaluate(tmp_path), "quality.tests").status is Status.PASS


def test_weighted_gate_reports_its_score_and_a_key_criterion_vetoes(tmp_path: Path) -> None:
    _policy(
        tmp_path,
        JUNIT.replace('id = "tests"', 'id = "tests"\nweight = 5')
        + COVERAGE.replace('id = "coverage"', 'id = "coverage"\nkey = true'),
        gate='aggregation = "weighted"\npass_score = 0.8\nwarn_score = 0.5',
    )
    write_junit(tmp_path / "reports/junit.xml")
    write_coverage(tmp_path / "reports/coverage.json", 60)

    gate = evaluate(tmp_path).gates[0]

    assert gate.score == pytest.approx(5 / 6)
    assert gate.outcome is Outcome.FAIL
    assert any("coverage is a key criterion" in reason for reason in gate.reasons)


# -- parallel runs and timeouts -------------------------------------------------------------


def test_a_hanging_command_times_out_while_the_other_criteria_complete(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    _policy(
        tmp_path,
        JUNIT
        + """
        [[gates.criteria]]
        id = "hangs"
        check = "command"
        params = { run = ["sh", "-c", "echo $$ > sleeper.pid; exec sleep 30"] }
        timeout = 1

        [[gates.criteria]]
        id = "quick"
        check = "command"
        params = { run = "true" }
        """,
    )
    write_junit(tmp_path / "reports/junit.xml")

    report = evaluate(tmp_path, jobs=2)

    hangs = result_of(report, "quality.hangs")
    assert hangs.status is Status.ERROR
    assert "timed out" in hangs.reason
    assert result_of(report, "quality.quick").status is Status.PASS
    assert result_of(report, "quality.tests").status is Status.PASS
    sleeper = int(pid_file.read_text(encoding="utf-8"))
    with pytest.raises(ProcessLookupError):
        os.kill(sleeper, 0)


def test_a_hanging_plugin_check_is_stopped_waiting_for_at_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    HANG_RELEASED.clear()
    install_check(monkeypatch, "hangs", "tests.helpers:HangingCheck")
    monkeypatch.setattr(engine, "_GRACE", 0.1)  # the engine allows 5 s over the timeout
    _policy(tmp_path, JUNIT + '[[gates.criteria]]\nid = "plugin"\ncheck = "hangs"\ntimeout = 0.2\n')
    write_junit(tmp_path / "reports/junit.xml")

    try:
        report = evaluate(tmp_path)
        # the abandoned collection may not keep the gonogo process alive at exit
        stuck = [t for t in threading.enumerate() if t.name == "gonogo-check-quality.plugin"]
        assert stuck
        assert all(t.daemon for t in stuck)
    finally:
        HANG_RELEASED.set()

    result = result_of(report, "quality.plugin")
    assert result.status is Status.ERROR
    assert result.reason.startswith("timed out after 0.2s")
    assert result_of(report, "quality.tests").status is Status.PASS


# -- cache ----------------------------------------------------------------------------------

COUNTED = """
[[gates.criteria]]
id = "lint"
check = "command"
params = { run = ["sh", "-c", "echo ran >> runs.log"], inputs = ["src/*.py"] }
"""


def _runs(root: Path) -> int:
    return len((root / "runs.log").read_text(encoding="utf-8").splitlines())


def test_an_unchanged_rerun_is_served_from_the_cache(tmp_path: Path) -> None:
    _policy(tmp_path, COUNTED)
    (tmp_path / "src").mkdir()
    (tmp_path / "src/app.py").write_text("print('hi')\n", encoding="utf-8")

    first = result_of(evaluate(tmp_path), "quality.lint")
    second = result_of(evaluate(tmp_path), "quality.lint")

    assert (first.cached, second.cached) == (False, True)
    assert second.status is Status.PASS
    assert second.input_digest == first.input_digest
    assert _runs(tmp_path) == 1


def test_changing_an_input_file_runs_the_command_again(tmp_path: Path) -> None:
    _policy(tmp_path, COUNTED)
    (tmp_path / "src").mkdir()
    source = tmp_path / "src/app.py"
    source.write_text("print('hi')\n", encoding="utf-8")
    first = result_of(evaluate(tmp_path), "quality.lint")

    source.write_text("print('hello')\n", encoding="utf-8")
    second = result_of(evaluate(tmp_path), "quality.lint")

    assert second.cached is False
    assert second.input_digest != first.input_digest
    assert _runs(tmp_path) == 2


def test_without_the_cache_every_criterion_is_collected(tmp_path: Path) -> None:
    _policy(tmp_path, COUNTED)
    (tmp_path / "src").mkdir()
    (tmp_path / "src/app.py").write_text("print('hi')\n", encoding="utf-8")
    evaluate(tmp_path)

    again = result_of(evaluate(tmp_path, use_cache=False), "quality.lint")

    assert again.cached is False
    assert _runs(tmp_path) == 2


def test_a_command_without_inputs_is_never_cached(tmp_path: Path) -> None:
    _policy(tmp_path, COUNTED.replace(', inputs = ["src/*.py"]', ""))

    evaluate(tmp_path)
    again = result_of(evaluate(tmp_path), "quality.lint")

    assert again.cached is False
    assert _runs(tmp_path) == 2


def test_a_cached_result_keeps_the_evaluation_digest(tmp_path: Path) -> None:
    _policy(tmp_path, JUNIT)
    write_junit(tmp_path / "reports/junit.xml")

    first = evaluate(tmp_path).gates[0]
    second = evaluate(tmp_path).gates[0]

    assert second.criteria[0].cached is True
    assert second.digest == first.digest


# -- relative thresholds --------------------------------------------------------------------

RELATIVE = """
[[gates.criteria]]
id = "coverage"
check = "coverage"
params = { path = "reports/coverage.json" }
threshold = { relative_to = "last_pass", tolerance = 1.0 }
"""


def test_the_first_release_passes_a_relative_threshold_and_says_why(tmp_path: Path) -> None:
    _policy(tmp_path, RELATIVE)
    create_release(tmp_path, "1.0")
    write_coverage(tmp_path / "reports/coverage.json", 90)

    result = result_of(evaluate(tmp_path, release="1.0"), "quality.coverage")

    assert result.status is Status.PASS
    assert "no earlier passing release" in result.reason


@pytest.mark.parametrize(
    ("percent", "status"), [(88.5, Status.FAIL), (89.0, Status.PASS), (89.5, Status.PASS)]
)
def test_a_relative_threshold_compares_with_the_last_passing_release(
    tmp_path: Path, percent: float, status: Status
) -> None:
    _policy(tmp_path, RELATIVE)
    create_release(tmp_path, "1.0")
    write_coverage(tmp_path / "reports/coverage.json", 90)
    evaluate(tmp_path, release="1.0")
    create_release(tmp_path, "1.1")
    write_coverage(tmp_path / "reports/coverage.json", percent)

    result = result_of(evaluate(tmp_path, release="1.1"), "quality.coverage")

    assert result.status is status
    assert result.expected == "overall >= 89"
    assert "last passing release measured 90" in result.reason


def test_a_failing_release_does_not_become_the_baseline(tmp_path: Path) -> None:
    _policy(tmp_path, RELATIVE)
    create_release(tmp_path, "1.0")
    write_coverage(tmp_path / "reports/coverage.json", 90)
    evaluate(tmp_path, release="1.0")
    create_release(tmp_path, "1.1")
    write_coverage(tmp_path / "reports/coverage.json", 80)
    assert result_of(evaluate(tmp_path, release="1.1"), "quality.coverage").status is Status.FAIL
    create_release(tmp_path, "1.2")
    write_coverage(tmp_path / "reports/coverage.json", 89.5)

    result = result_of(evaluate(tmp_path, release="1.2"), "quality.coverage")

    assert result.status is Status.PASS
    assert "last passing release measured 90" in result.reason
