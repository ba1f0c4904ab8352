"""The README's two commands are the ones that work: the demo runs, CI runs the test command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.security.osvdata import SNAPSHOT

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, flags=re.DOTALL)


def test_the_readme_gives_exactly_two_commands() -> None:
    install_and_demo, tests = _commands()
    assert "pip install" in install_and_demo
    assert install_and_demo.endswith("&& gonogo demo")  # tests/test_demo.py runs it
    assert tests == "bash scripts/test.sh"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "exec bash scripts/test.sh" in ci


def test_the_test_command_runs_ruff_mypy_strict_and_pytest() -> None:
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    for step in ("ruff check", "ruff format --check", "mypy --strict", "pytest"):
        assert step in script


@pytest.mark.slow
def test_the_demo_walks_the_example_from_no_go_to_go(tmp_path: Path) -> None:
    gonogo = shutil.which("gonogo")
    assert gonogo, "the gonogo console script is not installed"
    # the dependency audit reads the shared PyPA snapshot in place (no download)
    env = {**os.environ, "TMPDIR": str(tmp_path), "GONOGO_OSV_DB": str(SNAPSHOT)}
    run = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "NO-GO: 4 of 4 gates no-go" in run.stdout
    assert "GO: 4 of 4 gates go" in run.stdout
    assert "audit trail OK" in run.stdout
    checklist = next(tmp_path.glob("gonogo-demo.*/shopapi/readiness.md")).read_text(
        encoding="utf-8"
    )
    assert "# Release readiness checklist — shopapi 1.4.0" in checklist
    assert "- [ ]" not in checklist  # every owner and every approval is ticked
    security = next(tmp_path.glob("gonogo-demo.*/shopapi/security-report.md")).read_text(
        encoding="utf-8"
    )
    assert "**✅ GO: security gate security green and signed off**" in security
    for area in (
        "| Dependency vulnerabilities | security.dependencies | ✅ pass |",
        "| Credential rotation | security.credentials | ✅ pass |",
        "| Least privilege | security.least-privilege | ✅ pass |",
    ):
        assert area in security
    assert "| ✅ ok | staging-deploy-key | operations |" in security  # rotated by the demo
