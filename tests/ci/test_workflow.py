"""``gonogo ci init`` writes a CI job that ``gonogo ci verify`` accepts; verify catches bypasses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from gonogo.ci.workflow import PINNED_ACTIONS
from tests.helpers import Project

CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2"

#: a hand-written workflow that does require the gates; each case below breaks it one way
GOOD = f"""
name: ci
on:
  pull_request:
  push:
    branches: [main, "release/**"]
permissions:
  contents: read
jobs:
  gates:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT}
      - run: pip install -e . gonogo
      - name: gates
        if: ${{{{ !cancelled() }}}}
        run: |
          mkdir -p reports
          python -m gonogo --project . ci --junit reports/ci.xml
"""

BYPASSES = {
    "path filter on pull requests": (
        ("  pull_request:\n", "  pull_request:\n    paths: ['src/**']\n"),
        "on.pull_request.paths",
    ),
    "paths-ignore on pushes": (
        (
            '    branches: [main, "release/**"]\n',
            '    branches: [main, "release/**"]\n    paths-ignore: ["docs/**"]\n',
        ),
        "on.push.paths-ignore",
    ),
    "condition on the job": (
        (
            "    runs-on: ubuntu-latest\n",
            "    runs-on: ubuntu-latest\n    if: github.actor != 'dependabot[bot]'\n",
        ),
        "jobs.gates.if",
    ),
    "condition on the step": (
        ("if: ${{ !cancelled() }}", "if: github.event_name == 'push'"),
        "jobs.gates.steps[2].if",
    ),
    "job continue-on-error": (
        (
            "    runs-on: ubuntu-latest\n",
            "    runs-on: ubuntu-latest\n    continue-on-error: true\n",
        ),
        "jobs.gates.continue-on-error",
    ),
    "step continue-on-error": (
        ("      - name: gates\n", "      - name: gates\n        continue-on-error: true\n"),
        "jobs.gates.steps[2].continue-on-error",
    ),
    "unpinned action": ((CHECKOUT, "actions/checkout@v4"), "jobs.gates.steps[0].uses"),
    "write-all token": (
        ("permissions:\n  contents: read\n", "permissions: write-all\n"),
        "permissions",
    ),
    "no pull requests": (("  pull_request:\n", ""), "on: does not run on pull requests"),
    "release branches not pushed": (
        ('branches: [main, "release/**"]', "branches: [main]"),
        "on.push.branches: does not cover release branches",
    ),
    "release branches ignored": (
        ('branches: [main, "release/**"]', 'branches-ignore: ["release/**"]'),
        "on.push.branches-ignore",
    ),
    "exit code swallowed": (
        ("--junit reports/ci.xml", "--junit reports/ci.xml || true"),
        "jobs.gates.steps[2].run",
    ),
    "gates never run": (("--project . ci --junit", "ci verify --junit"), "jobs: no job runs"),
    "no permissions at all": (
        ("permissions:\n  contents: read\n", ""),
        "jobs.gates: no `permissions`",
    ),
    "new pull request commits not rerun": (
        ("  pull_request:\n", "  pull_request:\n    types: [opened]\n"),
        "on.pull_request.types",
    ),
}

GITLAB_GOOD = """
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH =~ /^release\\//
gonogo:
  image: python:3.11
  script:
    - pip install -e . gonogo
    - gonogo ci --junit reports/ci.xml
"""

GITLAB_BYPASSES = {
    "allow_failure": (("  image:", "  allow_failure: true\n  image:"), "gonogo.allow_failure"),
    "rules changes": (
        ("  image:", "  rules:\n    - changes: [src/**/*]\n  image:"),
        "gonogo.rules[0].changes",
    ),
    "manual job": (("  image:", "  when: manual\n  image:"), "gonogo.when"),
    "exit ignored": (("reports/ci.xml", "reports/ci.xml || true"), "gonogo.script"),
    "only branches": (("  image:", "  only: [main]\n  image:"), "gonogo.only"),
    "except merge requests": (
        ("  image:", "  except: [merge_requests]\n  image:"),
        "gonogo.except",
    ),
    "no merge request pipelines": (
        ('    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n', ""),
        "workflow.rules: no rule runs merge request pipelines",
    ),
    "pipelines skipped by path": (
        ("    - if: $CI_COMMIT_BRANCH", "    - changes: [src/**/*]\n    - if: $CI_COMMIT_BRANCH"),
        "workflow.rules[1].changes",
    ),
    "gates never run": (("gonogo ci --junit", "gonogo ci verify --junit"), "jobs: no job runs"),
}


def _write(project: Project, name: str, text: str) -> Path:
    path = project.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_generated_github_workflow_passes_verify(project: Project) -> None:
    init = project.run("ci", "init", "github")
    path = _write(project, ".github/workflows/gonogo.yml", init.out)

    verify = project.run("ci", "verify", str(path))

    assert init.code == 0
    assert verify.code == 0, verify.out
    assert verify.out.strip().endswith("OK: job gonogo runs `gonogo ci` and nothing lets it off")


def test_the_generated_workflow_is_least_privilege_and_pinned(project: Project) -> None:
    text = project.run("ci", "init", "github", "--before", "bash scripts/reports.sh").out
    workflow = yaml.safe_load(text)

    assert workflow["permissions"] == {"contents": "read"}
    assert set(workflow[True]) >= {"pull_request", "push"}  # YAML 1.1 reads `on` as true
    assert workflow[True]["push"]["branches"] == ["release/**"]
    steps = workflow["jobs"]["gonogo"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses == [f"{p.repo}@{p.sha}" for p in PINNED_ACTIONS.values()]
    for pin in PINNED_ACTIONS.values():
        assert re.fullmatch(r"[0-9a-f]{40}", pin.sha)
        assert f"{pin.repo}@{pin.sha}  # {pin.version}" in text
    assert steps[1]["with"]["cache"] == "pip"
    runs = [s.get("run") for s in steps]
    assert runs.index("bash scripts/reports.sh") < runs.index(
        "gonogo ci --junit reports/gonogo-ci.xml --sarif reports/gonogo-ci.sarif "
        "--summary reports/gonogo-ci.md"
    )
    assert steps[-1]["with"]["path"] == "reports/"


def test_init_prints_the_ruleset_that_makes_the_job_required(project: Project) -> None:
    result = project.run("ci", "init", "github")

    assert "Require status checks to pass" in result.err
    body = result.err.split("<<'EOF'\n", 1)[1].split("\nEOF\n", 1)[0]
    ruleset = json.loads(body)
    checks = next(r for r in ruleset["rules"] if r["type"] == "required_status_checks")
    assert checks["parameters"]["required_status_checks"] == [{"context": "gonogo"}]
    assert "refs/heads/release/**" in ruleset["conditions"]["ref_name"]["include"]
    assert ruleset["bypass_actors"] == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--python", ""), "--python '' is not a Python version"),
        (("--python", "3.11; rm -rf /"), "is not a Python version"),
        (("--install", " "), "--install ' ' is not a command"),
        (("--before", "make\nreports"), "--before 'make\\nreports' is not a command"),
        (("--release-branches", ""), "--release-branches '' is not a branch pattern"),
    ],
)
def test_init_refuses_values_that_would_write_a_job_that_cannot_run(
    project: Project, args: tuple[str, ...], expected: str
) -> None:
    target = project.root / ".github" / "workflows" / "gonogo.yml"

    result = project.run("ci", "init", "github", *args, "--output", str(target))

    assert result.code == 2
    assert expected in result.assert_one_error_line()
    assert not target.exists()


def test_init_takes_the_python_versions_setup_python_does(project: Project) -> None:
    for version in ("3.12", "3.x", "3.13-dev", "pypy3.10"):
        text = project.run("ci", "init", "github", "--python", version).out
        assert f'python-version: "{version}"' in text


def test_init_writes_the_file_with_output(project: Project) -> None:
    target = project.root / ".github" / "workflows" / "gates.yml"

    result = project.run("ci", "init", "github", "--output", str(target))

    assert result.code == 0
    assert result.out == ""
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["name"] == "gonogo"
    assert project.run("ci", "verify").code == 0  # found under .github/workflows


def test_the_generated_gitlab_job_passes_verify(project: Project) -> None:
    init = project.run("ci", "init", "gitlab")
    path = _write(project, ".gitlab-ci.yml", init.out)

    verify = project.run("ci", "verify", str(path))

    config = yaml.safe_load(init.out)
    assert verify.code == 0, verify.out
    assert config["gonogo"]["artifacts"]["reports"]["junit"] == "reports/gonogo-ci.xml"
    assert "Pipelines must succeed" in init.err


def test_a_hand_written_workflow_that_requires_the_gates_passes(project: Project) -> None:
    path = _write(project, "ci.yml", GOOD)

    result = project.run("ci", "verify", str(path))

    assert result.code == 0, result.out


@pytest.mark.parametrize("case", sorted(BYPASSES))
def test_verify_flags_each_bypass(project: Project, case: str) -> None:
    (old, new), expected = BYPASSES[case]
    assert old in GOOD
    path = _write(project, "ci.yml", GOOD.replace(old, new))

    result = project.run("ci", "verify", str(path))

    assert result.code == 1
    assert f"{path}: {expected}" in result.out
    assert re.search(r": (1 way|([2-9]|[1-9]\d+) ways) around the gates$", result.out.strip())


@pytest.mark.parametrize("case", sorted(GITLAB_BYPASSES))
def test_verify_flags_each_gitlab_bypass(project: Project, case: str) -> None:
    (old, new), expected = GITLAB_BYPASSES[case]
    assert old in GITLAB_GOOD
    clean = project.run("ci", "verify", str(_write(project, ".gitlab-ci.yml", GITLAB_GOOD)))
    path = _write(project, ".gitlab-ci.yml", GITLAB_GOOD.replace(old, new, 1))

    result = project.run("ci", "verify", str(path))

    assert clean.code == 0, clean.out
    assert result.code == 1
    assert f"{path}: {expected}" in result.out


def test_verify_reports_json(project: Project) -> None:
    path = _write(project, "ci.yml", GOOD.replace(CHECKOUT, "actions/checkout@v4"))

    result = project.run("ci", "verify", str(path), "--format", "json")

    report = result.json()
    assert report["schema"] == "gonogo.ci-verify/v1"
    assert report["ok"] is False
    assert report["jobs"] == ["gates"]
    assert [f["where"] for f in report["findings"]] == ["jobs.gates.steps[0].uses"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("on: [push\njobs: {}\n", "not valid YAML at line"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_a_broken_ci_file_is_one_error_line(project: Project, text: str, message: str) -> None:
    path = _write(project, "ci.yml", text)

    result = project.run("ci", "verify", str(path))

    assert result.code == 2
    assert message in result.assert_one_error_line()


def test_a_missing_ci_file_is_one_error_line(project: Project) -> None:
    named = project.run("ci", "verify", str(project.root / "nope.yml"))
    found = project.run("ci", "verify")

    assert named.code == found.code == 2
    assert "no such file" in named.assert_one_error_line()
    assert "no CI file in" in found.assert_one_error_line()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("ci.yml", "on: [push, pull_request]\njobs: {a: {runs-on: x, steps: 5}}\n"),
        ("ci.yml", "on: [push, pull_request]\njobs: {a: {runs-on: x, steps: {run: gonogo ci}}}\n"),
        (".gitlab-ci.yml", 'gate: {script: ["gonogo ci"], rules: 8}\n'),
    ],
    ids=["github-steps-a-number", "github-steps-a-mapping", "gitlab-rules-a-number"],
)
def test_verify_reads_a_list_of_the_wrong_type_as_no_list_not_a_crash(
    project: Project, name: str, text: str
) -> None:
    result = project.run("ci", "verify", str(_write(project, name, text)))

    assert result.code in (0, 1)
    assert result.err == ""
    assert "Traceback" not in result.out
    assert result.out.strip()
