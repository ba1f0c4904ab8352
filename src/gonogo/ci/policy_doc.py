"""The Phase-4 CI gate policy document, generated from the policy (a deliverable).

It says, for people rather than for gonogo: which gates block a release change in
CI, what each criterion checks and against which bar, who owns each gate, which
waivers are in force, how to run the same gates locally, and how the job is made
required. Regenerated, never edited: it cannot drift from the policy.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from gonogo import __version__
from gonogo.ci.run import CI_PHASE
from gonogo.ci.workflow import CI_COMMAND
from gonogo.policy.load import LoadedPolicy
from gonogo.policy.model import Aggregation, Criterion, Gate, Policy

#: what each built-in check's measured value is, in words
MEASURES: dict[str, str] = {
    "tests": "tests run",
    "junit": "tests run",
    "lint": "lint issues",
    "typecheck": "type errors",
    "coverage": "overall coverage (%)",
    "coverage-critical": "lowest of the critical modules' and changed lines' coverage (%)",
    "no-regression": "a count that must not rise above the last passing release",
    "command": "exit status",
}


def policy_doc(loaded: LoadedPolicy, *, root: Path, today: date) -> str:
    """The document as Markdown."""
    policy = loaded.policy
    gates = [g for g in policy.gates if g.phase == CI_PHASE]
    try:
        source = loaded.file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        source = loaded.file.name
    lines = [
        f"# Phase-4 CI gate policy — {_md(policy.project.name)}",
        "",
        f"Generated from `{source}` (policy digest `{loaded.digest[:12]}`) by gonogo "
        f"{__version__}. Do not edit: change the policy and run "
        "`gonogo ci policy-doc --output FILE` again.",
        "",
        "## The rule",
        "",
        "Every pull request and every push to a release branch runs one blocking CI job, "
        "`gonogo ci`. It evaluates the Phase-4 gates below on that change, in parallel, "
        "reusing results whose inputs did not change. The job fails (exit 1) when a "
        "blocking criterion of any gate is `fail`, `error` or `not_reported`; an error or "
        "a missing report is never counted as a pass. Branch rules make the job a required "
        "check, so a release branch moves forward only when every gate is green. Owners "
        "then sign off the evaluation CI recorded (`gonogo signoff GATE --role ROLE`).",
    ]
    if not gates:
        lines += ["", "_This policy has no Phase-4 gate: `gonogo ci` has nothing to run._"]
    for gate in gates:
        lines += ["", *_gate(policy, gate, today)]
    lines += ["", *_locally(gates), "", *_required(), ""]
    return "\n".join(lines)


def _gate(policy: Policy, gate: Gate, today: date) -> list[str]:
    owners = []
    for role in gate.owners:
        people = ", ".join(_md(p) for p in policy.owners.get(role, ())) or "nobody listed"
        owners.append(f"{_md(role)} ({people})")
    if gate.aggregation is Aggregation.WEIGHTED:
        rule = (
            f"weighted: passes at a score of {gate.pass_score:g}, warns at "
            f"{gate.warn_score:g}; key criteria veto"
        )
    else:
        rule = "every blocking criterion must pass; advisory ones only warn"
    lines = [
        f"## Gate `{gate.id}` — {_md(gate.title)}",
        "",
        f"- **Owners:** {'; '.join(owners) or 'none (no sign-off needed)'}",
        f"- **Rule:** {rule}",
        "",
        "| criterion | check | measures | bar | blocking | timeout |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for criterion in gate.criteria:
        blocking = "yes" if criterion.blocking else "advisory"
        if gate.aggregation is Aggregation.WEIGHTED:
            blocking = f"{'key, ' if criterion.key else ''}weight {criterion.weight:g}"
        name = f"`{criterion.id}`"
        if criterion.title:
            name += f" {_md(criterion.title)}"
        cells = [
            name,
            f"`{criterion.check}`",
            MEASURES.get(criterion.check, "see the check's docs"),
            _bar(criterion),
            blocking,
            f"{criterion.timeout:g} s",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    waivers = [w for w in policy.waivers if w.criterion.split(".", 1)[0] == gate.id]
    if waivers:
        lines += ["", "Waivers:", ""]
        for waiver in waivers:
            state = "**expired**" if waiver.expires < today else f"until {waiver.expires}"
            lines.append(
                f"- `{waiver.criterion}` {state}, approved by {_md(waiver.approver)}: "
                f"{_md(waiver.reason)}"
            )
    return lines


def _bar(criterion: Criterion) -> str:
    parts = [f"`{k} = {_toml(v)}`" for k, v in sorted(criterion.params.items())]
    threshold = criterion.threshold
    if threshold is not None:
        if threshold.relative_to:
            parts.append(
                f"no worse than the last passing release (tolerance {threshold.tolerance:g})"
            )
        if threshold.min is not None:
            parts.append(f"at least {threshold.min:g}")
        if threshold.max is not None:
            parts.append(f"at most {threshold.max:g}")
    if criterion.applies_if:
        parts.append("only if " + " or ".join(f"`{p}`" for p in criterion.applies_if.exists))
    if criterion.source == "ingest":
        parts.append("evidence pushed with `gonogo ingest`")
    return "<br>".join(p.replace("|", "\\|") for p in parts) or "the check's own rule"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _locally(gates: list[Gate]) -> list[str]:
    commands = [("gonogo ci", "every Phase-4 gate, as CI runs it")]
    commands += [(f"gonogo check --gate {g.id}", "the gate with its sign-offs") for g in gates]
    commands.append((CI_COMMAND, "and the reports CI keeps"))
    width = max(len(command) for command, _ in commands) + 2
    return [
        "## Run it locally",
        "",
        "The same gates, on your working tree, before you push:",
        "",
        "```sh",
        *(f"{command.ljust(width)}# {note}" for command, note in commands),
        "```",
        "",
        "`gonogo ci --no-cache` collects every criterion again. Exit codes: 0 green, "
        "1 red, 2 a usage or policy error.",
    ]


def _required() -> list[str]:
    return [
        "## How the job is made required",
        "",
        "- GitHub: `gonogo ci init github --output .github/workflows/gonogo.yml` writes the "
        "workflow (read-only token, actions pinned by commit SHA) and prints the ruleset "
        "that requires its `gonogo` check on the default and release branches.",
        "- GitLab: `gonogo ci init gitlab --output .gitlab-ci.yml`, with "
        '"Pipelines must succeed" and protected release branches.',
        "- `gonogo ci verify` fails when the CI file could skip or ignore the job: path "
        "filters, `if:` conditions, `continue-on-error`, unpinned actions, a write-all token.",
    ]


def _md(text: str) -> str:
    """Plain text safe inside Markdown tables and headings."""
    return " ".join(text.split()).replace("|", "\\|")
