"""`gonogo demo`: a real regression rolled back automatically, a healthy release promoted.

Both runs start real sample-service processes, the builtin router and generated load;
they take about half a minute (regressed) and a minute or two (healthy). No duration is
asserted: only the outcome and the evidence behind each decision.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gonogo.cli.demo_cmd import render_text
from gonogo.demo import DemoResult
from gonogo.report.document import to_markdown
from gonogo.report.rollout import demo_document

pytestmark = pytest.mark.slow


def demo(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    gonogo = shutil.which("gonogo")
    assert gonogo, "the gonogo console script is not installed"
    env = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "60"}  # a narrow terminal
    run = subprocess.run(
        [gonogo, "demo", "--format", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert run.stdout, run.stderr[-3000:]
    return run.returncode, json.loads(run.stdout), run.stderr


def decisions(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in report["timeline"] if e["event"] == "rollout.decision"]


def test_the_demo_rolls_a_regressed_v2_back_with_the_numbers(tmp_path: Path) -> None:
    code, report, stderr = demo(tmp_path)
    assert code == 0, stderr[-3000:]
    assert report["schema"] == "gonogo.demo/v1"
    assert report["outcome"] == "rolled_back"
    assert [s["exit"] for s in report["steps"]] == [0, 1, 0, 0]  # no-go, sign, go
    rollback = decisions(report)[-1]
    assert rollback["action"] == "rollback"
    assert rollback["decision"]["e_value"] >= rollback["decision"]["threshold"]
    assert rollback["totals"]["canary"]["requests"] > 0
    events = [e["event"] for e in report["timeline"]]
    assert events[-1] == "rollout.rolled_back"
    assert "rollout.promoted" not in events
    assert list(tmp_path.glob("gonogo-demo-*")) == []  # its project is cleaned up
    # each step is one line on stderr, however narrow the (absent) terminal: a command
    # broken over two lines could not be copied
    step = "nobody signed yet: gonogo check --gate readiness -> exit 1\n"
    assert f"check the readiness gate: no-go, {step}" in stderr
    # the same run as Markdown (what --format markdown prints): gates, outcome, evidence
    page = to_markdown(demo_document(report))
    assert page.startswith("# Rollout #1: v2 over v1\n")
    assert "❌ **rolled back**: " in page
    assert "| gonogo check --gate readiness | 1 |" in page.split("## Gates")[1]
    assert "| decision: rollback |" in page


def test_the_demo_promotes_a_healthy_v2_to_all_traffic(tmp_path: Path) -> None:
    code, report, stderr = demo(tmp_path, "--healthy")
    assert code == 0, stderr[-3000:]
    assert report["outcome"] == "promoted"
    moves = [e["to"] for e in report["timeline"] if e["event"] == "rollout.weight"]
    assert moves[-1] == 100.0
    assert sorted(moves) == moves  # only ever stepped up
    passed = [d for d in decisions(report) if d["action"] == "promote_step"]
    assert len(passed) == 3
    assert all(f["within_tolerance"] for d in passed for f in d["decision"]["findings"])


def test_keep_never_writes_over_a_folder_that_holds_files(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    policy = project / "gonogo.toml"
    policy.write_text("version = 1\n", encoding="utf-8")
    gonogo = shutil.which("gonogo")
    assert gonogo, "the gonogo console script is not installed"

    run = subprocess.run(
        [gonogo, "demo", "--keep", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"gonogo: error: --keep {project} is not empty (it holds gonogo.toml); "
        "name a new or empty folder"
    ]
    assert policy.read_text(encoding="utf-8") == "version = 1\n"  # the project is untouched
    assert sorted(p.name for p in project.iterdir()) == ["gonogo.toml"]


def test_the_text_ends_with_the_load_counts_in_words() -> None:
    result = DemoResult(
        outcome="rolled_back",
        healthy=False,
        load={
            "answered": 1107,
            "arrivals": 1197,
            "by_class": {"2xx": 1095, "5xx": 12},
            "cancelled": 0,
            "dropped": 90,
            "elapsed_s": 5.852,
            "in_flight": 0,
            "sent": 1107,
            "transport_errors": 0,
        },
    )

    last = render_text(result).splitlines()[-1]

    assert last == (
        "load: 1197 arrivals in 5.9 s; 1107 sent, 1107 answered (1095 2xx, 12 5xx), "
        "0 transport errors; 90 not sent (the client's limit of requests in flight)"
    )
