"""``gonogo ci verify``: does this CI file really require the gates, or can a change slip by?

A workflow can run ``gonogo ci`` and still let a red change through: the job is
skipped by a path filter or an ``if:``, its failure is ignored, it does not run on
pull requests or on the release branches, or an action it uses is a moving tag that
someone else can repoint. Each of these is one finding, with the key it is at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from gonogo.ci.gitlab_verify import verify_gitlab
from gonogo.ci.shell import Finding, ignores_exit, runs_gonogo_ci
from gonogo.errors import UsageError

Kind = Literal["github", "gitlab"]

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_ALWAYS = re.compile(
    r"^\s*(?:\$\{\{)?\s*(?:always\(\)|success\(\)|!\s*cancelled\(\))\s*(?:\}\})?\s*$"
)


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found in one CI file."""

    file: Path
    kind: Kind
    jobs: tuple[str, ...]
    """The jobs that run ``gonogo ci``."""
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Whether the file really requires the gates."""
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        """JSON form (``gonogo.ci-verify/v1``)."""
        return {
            "schema": "gonogo.ci-verify/v1",
            "file": str(self.file),
            "kind": self.kind,
            "ok": self.ok,
            "jobs": list(self.jobs),
            "findings": [{"where": f.where, "message": f.message} for f in self.findings],
        }


def find_ci_file(root: Path) -> Path:
    """The CI file to verify: the GitHub workflow running ``gonogo ci``, else .gitlab-ci.yml."""
    workflows = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    for path in workflows:
        try:
            if "gonogo" in path.read_text(encoding="utf-8"):
                return path
        except (OSError, UnicodeDecodeError):
            continue
    gitlab = root / ".gitlab-ci.yml"
    if gitlab.is_file():
        return gitlab
    if workflows:
        return workflows[0]
    raise UsageError(
        f"no CI file in {root} (.github/workflows/*.yml or .gitlab-ci.yml)",
        hint="pass the file: `gonogo ci verify FILE`, or write one with `gonogo ci init github`",
    )


def load_yaml(path: Path) -> dict[Any, Any]:
    """Parse a CI file; every failure is one UsageError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file", hint="pass the CI file to verify") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot read it ({exc})", hint="pass the CI file, saved as UTF-8 text"
        ) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise UsageError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(document, dict):
        raise UsageError(f"{path}: expected a mapping of keys (a CI file), found something else")
    return document


def verify_file(path: Path, *, release_branch: str = "release/1.0.0") -> Verification:
    """Verify one CI file; ``release_branch`` is a sample name the triggers must cover."""
    document = load_yaml(path)
    if "jobs" in document and ("on" in document or True in document):
        jobs, findings = verify_github(document, release_branch=release_branch)
        return Verification(path, "github", tuple(jobs), tuple(findings))
    if path.name.endswith(".gitlab-ci.yml") or "jobs" not in document:
        jobs, findings = verify_gitlab(document, release_branch=release_branch)
        return Verification(path, "gitlab", tuple(jobs), tuple(findings))
    raise UsageError(f"{path}: a workflow without `on:` triggers", hint="add `on:` or fix the file")


# -- GitHub Actions ------------------------------------------------------------------------


def verify_github(
    document: dict[Any, Any], *, release_branch: str
) -> tuple[list[str], list[Finding]]:
    """The jobs running ``gonogo ci`` and every bypass in a GitHub workflow."""
    findings = _triggers(_on(document), release_branch)
    listed = document.get("jobs")
    jobs: dict[Any, Any] = listed if isinstance(listed, dict) else {}
    gated: list[str] = []
    for name, job in jobs.items():
        if not isinstance(job, dict):
            continue
        findings += _unpinned(f"jobs.{name}", job)
        raw_steps = job.get("steps")
        steps: list[Any] = raw_steps if isinstance(raw_steps, list) else []
        running = [
            (i, s)
            for i, s in enumerate(steps)
            if isinstance(s, dict) and runs_gonogo_ci(str(s.get("run", "")))
        ]
        if not running:
            continue
        gated.append(str(name))
        findings += _job_bypasses(f"jobs.{name}", job, running)
    if not gated:
        findings.append(Finding("jobs", "no job runs `gonogo ci`, so nothing requires the gates"))
    findings += _permissions(document, jobs, gated)
    return gated, findings


def _on(document: Mapping[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads a bare `on` key as the boolean true
    raw = document.get("on", document.get(True))
    if isinstance(raw, str):
        return {raw: None}
    if isinstance(raw, list):
        return {str(item): None for item in raw}
    return {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}


def _triggers(on: dict[str, Any], release_branch: str) -> list[Finding]:
    findings: list[Finding] = []
    if "pull_request" not in on:
        message = "does not run on pull requests, so a red change can be merged"
        if "pull_request_target" in on:
            message += " (pull_request_target runs the base branch's workflow, not the change)"
        findings.append(Finding("on", message))
    if "push" not in on:
        findings.append(
            Finding("on", f"does not run on pushes, so a push to {release_branch} is not gated")
        )
    for event in ("pull_request", "push"):
        spec = on.get(event)
        if not isinstance(spec, dict):
            continue
        for key in ("paths", "paths-ignore"):
            if key in spec:
                findings.append(
                    Finding(
                        f"on.{event}.{key}",
                        "a path filter skips the workflow for some changes; a skipped required "
                        "job never reports, so remove the filter",
                    )
                )
        findings += _branch_filter(event, spec, release_branch)
        types = spec.get("types")
        if event == "pull_request" and isinstance(types, list) and "synchronize" not in types:
            findings.append(
                Finding("on.pull_request.types", "new commits on a pull request do not re-run it")
            )
    return findings


def _branch_filter(event: str, spec: dict[str, Any], release_branch: str) -> list[Finding]:
    branches = spec.get("branches")
    ignored = spec.get("branches-ignore")
    if event == "push" and branches is None and ignored is None and "tags" in spec:
        return [Finding("on.push", f"runs only for tags, not for pushes to {release_branch}")]
    if isinstance(branches, list) and not branch_matches(branches, release_branch):
        return [
            Finding(f"on.{event}.branches", f"does not cover release branches ({release_branch})")
        ]
    if isinstance(ignored, list) and branch_matches(ignored, release_branch):
        return [
            Finding(f"on.{event}.branches-ignore", f"skips release branches ({release_branch})")
        ]
    return []


def branch_matches(patterns: Iterable[object], branch: str) -> bool:
    """GitHub's filter rule: the last matching pattern wins; ``!`` patterns exclude."""
    matched = False
    for pattern in patterns:
        text = str(pattern)
        if text.startswith("!"):
            if _glob(text[1:]).fullmatch(branch):
                matched = False
        elif _glob(text).fullmatch(branch):
            matched = True
    return matched


def _glob(pattern: str) -> re.Pattern[str]:
    """GitHub filter syntax: ``**`` any characters, ``*`` any but ``/``, ``?``/``+`` quantify."""
    out = ""
    index = 0
    while index < len(pattern):
        ch = pattern[index]
        if pattern.startswith("**", index):
            out += ".*"
            index += 2
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch in "?+" and out:
            out += ch
        elif ch == "[":
            end = pattern.find("]", index)
            if end == -1:
                out += re.escape(ch)
            else:
                out += pattern[index : end + 1]
                index = end
        else:
            out += re.escape(ch)
        index += 1
    try:
        return re.compile(out)
    except re.error:
        return re.compile(re.escape(pattern))


def _job_bypasses(
    where: str, job: dict[str, Any], running: list[tuple[int, dict[str, Any]]]
) -> list[Finding]:
    findings = []
    if "if" in job:
        findings.append(Finding(f"{where}.if", "a condition on the job can skip the gates"))
    if _truthy(job.get("continue-on-error")):
        findings.append(
            Finding(f"{where}.continue-on-error", "the job's failure is ignored, so red passes")
        )
    for index, step in running:
        at = f"{where}.steps[{index}]"
        condition = step.get("if")
        if condition is not None and not _ALWAYS.match(str(condition)):
            findings.append(Finding(f"{at}.if", "a condition on the step can skip `gonogo ci`"))
        if _truthy(step.get("continue-on-error")):
            findings.append(
                Finding(f"{at}.continue-on-error", "the step's failure is ignored, so red passes")
            )
        if ignores_exit(str(step.get("run", ""))):
            findings.append(Finding(f"{at}.run", "the script ignores the exit code of `gonogo ci`"))
    return findings


def _truthy(value: object) -> bool:
    # an expression may evaluate to true: only a literal false (or absence) is safe
    return value is not None and value is not False and str(value).lower() != "false"


def _unpinned(where: str, job: dict[str, Any]) -> list[Finding]:
    uses = [(f"{where}.uses", job.get("uses"))]
    steps = job.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict):
            uses.append((f"{where}.steps[{index}].uses", step.get("uses")))
    findings = []
    for at, value in uses:
        if not isinstance(value, str) or value.startswith("./"):
            continue
        if value.startswith("docker://"):
            if "@sha256:" not in value:
                findings.append(Finding(at, f"{value} is not pinned by digest (@sha256:…)"))
            continue
        ref = value.rpartition("@")[2] if "@" in value else ""
        if not _FULL_SHA.match(ref):
            findings.append(
                Finding(at, f"{value} is not pinned to a full commit SHA; a tag can be moved")
            )
    return findings


def _permissions(document: dict[Any, Any], jobs: dict[Any, Any], gated: list[str]) -> list[Finding]:
    findings = []
    if document.get("permissions") == "write-all":
        findings.append(Finding("permissions", "write-all gives every job a write token"))
    for name, job in jobs.items():
        if isinstance(job, dict) and job.get("permissions") == "write-all":
            findings.append(
                Finding(f"jobs.{name}.permissions", "write-all gives the job a write token")
            )
    if "permissions" not in document:
        for name in gated:
            if "permissions" not in jobs[name]:
                findings.append(
                    Finding(
                        f"jobs.{name}",
                        "no `permissions`: the token gets the repository default, which may "
                        "write; set `permissions: contents: read`",
                    )
                )
    return findings
