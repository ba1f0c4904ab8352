"""Build gonogo projects in a temp dir and drive the real CLI through ``main(argv)``.

* ``write_policy`` / ``write_junit`` / ``write_coverage``: the files a project holds.
* ``Project``: a project folder plus ``run(...)``, which calls ``gonogo.cli.main.main``
  with ``--project`` and returns the exit code with what went to stdout and stderr.
* ``store_counts``: rows per table of the project's store, to prove a failure lost nothing.
* ``make_signing_key`` / ``require_signing``: a real ed25519 key in allowed_signers, and the
  policy's ``[signing]`` table.
* ``open_workspace`` / ``evaluate``: the gate engine on a project, without the CLI.
* ``CrashingCheck`` / ``install_check``: a third-party-like check type whose collection
  raises, registered like a plugin.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from gonogo.checks import registry
from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.cli.main import main
from gonogo.gates import plan
from gonogo.gates.engine import Engine
from gonogo.gates.results import CriterionResult, RunReport, Status
from gonogo.policy.load import find_policy, load_policy
from gonogo.scope import releases
from gonogo.store.db import default_url, open_store
from gonogo.workspace import Workspace

ALICE = "alice@example.com"
QUINN = "quinn@example.com"
SAM = "sam@example.com"

#: a small policy: one quality gate reading a JUnit and a coverage report, two owners
BASIC_POLICY = """
version = 1

[project]
name = "demo"

[owners]
engineering = ["alice@example.com"]
qa = ["quinn@example.com"]
security = ["sam@example.com"]

[[gates]]
id = "quality"
title = "Quality"
phase = 4
owners = ["engineering", "qa"]

[[gates.criteria]]
id = "tests"
check = "junit"
title = "Tests pass"
params = { path = "reports/junit.xml" }

[[gates.criteria]]
id = "coverage"
check = "coverage"
title = "Coverage at least 80%"
params = { path = "reports/coverage.json" }
threshold = { min = 80 }
"""


def write_policy(root: Path, text: str) -> Path:
    """Write ``text`` (dedented) as ``root/gonogo.toml``."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "gonogo.toml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def junit_xml(*, passed: int = 3, failed: int = 0) -> str:
    """A pytest-style JUnit report with ``passed`` passing and ``failed`` failing tests."""
    cases = [
        f'<testcase classname="tests.t" name="test_ok_{i}" time="0.01"/>' for i in range(passed)
    ]
    cases += [
        f'<testcase classname="tests.t" name="test_bad_{i}" time="0.01">'
        f'<failure message="assert 1 == 2">assert 1 == 2</failure></testcase>'
        for i in range(failed)
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" '
        f'tests="{passed + failed}" failures="{failed}" errors="0" skipped="0" time="0.1">'
        + "".join(cases)
        + "</testsuite></testsuites>"
    )


def write_junit(path: Path, *, passed: int = 3, failed: int = 0) -> Path:
    """Write a JUnit report (see :func:`junit_xml`), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(passed=passed, failed=failed), encoding="utf-8")
    return path


def coverage_json(percent: float) -> str:
    """A coverage.py JSON report whose overall coverage is ``percent`` (to 0.1)."""
    statements = 1000
    covered = round(percent * 10)
    summary = {
        "num_statements": statements,
        "covered_lines": covered,
        "missing_lines": statements - covered,
        "percent_covered": covered / statements * 100,
    }
    return json.dumps(
        {
            "meta": {"format": 3, "version": "7.6.0"},
            "files": {"src/app.py": {"summary": summary}},
            "totals": summary,
        }
    )


def write_coverage(path: Path, percent: float) -> Path:
    """Write a coverage.py JSON report (see :func:`coverage_json`), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(coverage_json(percent), encoding="utf-8")
    return path


def make_signing_key(path: Path, *, identity: str, allowed_signers: Path) -> Path:
    """A passphrase-less ed25519 key at ``path``, listed for ``identity`` in ``allowed_signers``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", identity, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    algorithm, blob, *_ = path.with_suffix(".pub").read_text(encoding="utf-8").split()
    with allowed_signers.open("a", encoding="utf-8") as listing:
        listing.write(f'{identity} namespaces="gonogo-signoff" {algorithm} {blob}\n')
    return path


def require_signing(root: Path, *, required: bool) -> None:
    """Add ``[signing]`` (allowed_signers file ``allowed_signers``) to the project's policy."""
    text = (root / "gonogo.toml").read_text(encoding="utf-8")
    table = (
        f'[signing]\nallowed_signers = "allowed_signers"\nrequired = {str(required).lower()}\n\n'
    )
    write_policy(root, text.replace("[[gates]]", table + "[[gates]]", 1))


@dataclass(frozen=True)
class Run:
    """What one ``gonogo`` invocation did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """Stdout parsed as JSON."""
        return json.loads(self.out)

    @property
    def err_lines(self) -> list[str]:
        """The non-empty lines on stderr."""
        return [line for line in self.err.splitlines() if line.strip()]

    def assert_one_error_line(self) -> str:
        """Stderr is exactly one ``gonogo: error:`` line, with no traceback; return it."""
        assert len(self.err_lines) == 1, self.err
        line = self.err_lines[0]
        assert line.startswith("gonogo: error:"), line
        assert "Traceback" not in self.err + self.out
        return line


@dataclass
class Project:
    """A project folder and the CLI pointed at it."""

    root: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def policy(self, text: str) -> Path:
        """Write the policy file."""
        return write_policy(self.root, text)

    def junit(self, *, passed: int = 3, failed: int = 0, name: str = "reports/junit.xml") -> Path:
        """Write the JUnit report."""
        return write_junit(self.root / name, passed=passed, failed=failed)

    def coverage(self, percent: float, name: str = "reports/coverage.json") -> Path:
        """Write the coverage report."""
        return write_coverage(self.root / name, percent)

    def run(self, *args: str, user: str | None = None) -> Run:
        """``gonogo --project ROOT ARGS…``; ``user`` sets GONOGO_USER for this call only."""
        self.capsys.readouterr()
        with self.monkeypatch.context() as patch:
            if user is not None:
                patch.setenv("GONOGO_USER", user)
            code = main(["--project", str(self.root), *args])
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def check_json(self, *args: str) -> tuple[int, dict[str, Any]]:
        """``gonogo check --format json ARGS…``: the exit code and the report."""
        result = self.run("check", "--format", "json", *args)
        return result.code, result.json()

    @property
    def database(self) -> Path:
        """The default SQLite store."""
        return self.root / ".gonogo" / "state.db"


def criterion(report: dict[str, Any], ref: str) -> dict[str, Any]:
    """The criterion ``gate.criterion`` of a JSON report."""
    gate_id, _, criterion_id = ref.partition(".")
    gate = next(g for g in report["gates"] if g["id"] == gate_id)
    return next(c for c in gate["criteria"] if c["criterion"] == criterion_id)


def gate(report: dict[str, Any], gate_id: str) -> dict[str, Any]:
    """The gate ``gate_id`` of a JSON report."""
    return next(g for g in report["gates"] if g["id"] == gate_id)


STORE_TABLES = (
    "releases",
    "evaluations",
    "criterion_results",
    "signoffs",
    "result_cache",
    "ingested",
    "audit_events",
)


def store_counts(database: Path) -> dict[str, int]:
    """Rows per table of a SQLite store (all zero when there is no store yet)."""
    if not database.exists():
        return dict.fromkeys(STORE_TABLES, 0)
    with sqlite3.connect(database) as conn:
        return {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
            for table in STORE_TABLES
        }


class CrashParams(CheckParams):
    """Parameters of :class:`CrashingCheck`: which step raises."""

    step: Literal["inputs", "collect", "judge"] = "collect"


class CrashingCheck:
    """A check type as a careless plugin might write it: one step raises a plain error."""

    name: ClassVar[str] = "crashy"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = CrashParams

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Never cached."""
        if params.step == "inputs":
            raise KeyError("inputs")
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Measure 1."""
        if params.step == "collect":
            raise ZeroDivisionError("plugin bug")
        return Observation(measured=1)

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass."""
        if params.step == "judge":
            raise TypeError("judge bug")
        return Judgement(Status.PASS, "fine")


#: set by a test to let :class:`HangingCheck` threads finish once the run is over
HANG_RELEASED = threading.Event()


class HangingCheck(CrashingCheck):
    """A plugin check whose collection hangs (until :data:`HANG_RELEASED` is set)."""

    name: ClassVar[str] = "hangs"

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Wait, far past any deadline."""
        HANG_RELEASED.wait(timeout=60)
        return Observation(measured=1)


def install_check(monkeypatch: pytest.MonkeyPatch, name: str, target: str) -> None:
    """Register ``target`` (``module:Class``) as check type ``name``, as a plugin would."""
    found = {**registry._entry_points(), name: EntryPoint(name, target, registry.GROUP)}
    monkeypatch.setattr(registry, "_entry_points", lambda: found)
    registry.load.cache_clear()


@contextlib.contextmanager
def open_workspace(root: Path, *, actor: str = "tester@example.com") -> Iterator[Workspace]:
    """The project's workspace with its policy loaded and its default store open."""
    loaded = load_policy(find_policy(root))
    store = open_store(default_url(root / ".gonogo"))
    try:
        yield Workspace(root=root, store=store, actor=actor, policy=loaded)
    finally:
        store.close()


def create_release(root: Path, version: str) -> None:
    """Create release ``version`` in the project's store."""
    with open_workspace(root) as ws:
        releases.create(ws, version)


def evaluate(
    root: Path, *, release: str | None = None, use_cache: bool = True, jobs: int = 4
) -> RunReport:
    """Run every gate of the project's policy through the engine (for ``release``, if named)."""
    with open_workspace(root) as ws:
        current = None
        if release is not None:
            with ws.store.read() as conn:
                current = releases.get(conn, release)
        engine = Engine(ws, current, jobs=jobs, use_cache=use_cache)
        return engine.run(plan.build(ws.require_policy()))


def result_of(report: RunReport, ref: str) -> CriterionResult:
    """The result of criterion ``gate.criterion`` in a run report."""
    return next(c for g in report.gates for c in g.criteria if c.ref == ref)
