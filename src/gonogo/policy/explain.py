"""The policy as the checklist a human reads (Markdown)."""

from __future__ import annotations

from datetime import date

from gonogo.policy.model import Aggregation, Criterion, DepsException, Policy
from gonogo.report.interface import clean_text
from gonogo.report.markdown import escape_inline

PHASES = {
    1: "gates",
    2: "scope",
    3: "environments",
    4: "CI gates",
    5: "security",
    6: "operations",
    7: "rollout",
    8: "stabilise",
}


def _threshold(criterion: Criterion) -> str:
    t = criterion.threshold
    if t is None:
        return "check's own rule"
    if t.relative_to:
        return f"no worse than the last passing release (tolerance {t.tolerance:g})"
    parts = []
    if t.min is not None:
        parts.append(f">= {t.min:g}")
    if t.max is not None:
        parts.append(f"<= {t.max:g}")
    return " and ".join(parts)


def _params(criterion: Criterion) -> str:
    if not criterion.params:
        return ""
    return _code(", ".join(f"{k}={v!r}" for k, v in sorted(criterion.params.items())))


# The policy's free text (names, titles, identities, reasons, globs) is the author's, not
# Markdown: it is escaped so it reads as written and cannot add links, HTML or terminal
# escape sequences to the checklist.
def _heading(text: str) -> str:
    return escape_inline(" ".join(text.splitlines()))


def _code(text: str) -> str:
    """A code span that no backtick or line break in ``text`` can end early."""
    return "`" + " ".join(clean_text(text).replace("`", "'").splitlines()) + "`"


def expired_exceptions(policy: Policy, today: date) -> list[DepsException]:
    """The ``[deps]`` exceptions whose last day in force is before ``today``."""
    return [e for e in policy.deps.exceptions if e.expires < today]


def explain(policy: Policy, *, today: date) -> str:
    """A Markdown checklist: owners, each gate's criteria, waivers, dependency exceptions."""
    lines = [f"# Release readiness policy: {_heading(policy.project.name)}", "", "## Owners", ""]
    for role, people in policy.owners.items():
        lines.append(f"- **{role}**: {', '.join(escape_inline(p) for p in people)}")
    for gate in sorted(policy.gates, key=lambda g: (g.phase, g.id)):
        lines += [
            "",
            f"## Phase {gate.phase} ({PHASES[gate.phase]}): {_heading(gate.title)} (`{gate.id}`)",
            "",
        ]
        owners = ", ".join(gate.owners) or "none (no sign-off needed)"
        lines.append(f"Signed off by: {owners}.")
        if gate.aggregation is Aggregation.WEIGHTED:
            lines.append(
                f"Weighted score: pass at {gate.pass_score:g}, warn at {gate.warn_score:g}; "
                "key criteria veto."
            )
        else:
            lines.append("Every blocking criterion must pass.")
        lines.append("")
        for criterion in gate.criteria:
            flags = []
            if not criterion.blocking:
                flags.append("advisory")
            if criterion.key:
                flags.append("key")
            if criterion.weight != 1.0:
                flags.append(f"weight {criterion.weight:g}")
            if criterion.applies_if:
                globs = " or ".join(_code(g) for g in criterion.applies_if.exists)
                flags.append(f"only if {globs} exists")
            if criterion.source == "ingest":
                flags.append(f"evidence pushed with `gonogo ingest {gate.id}.{criterion.id}`")
            extra = f" ({'; '.join(flags)})" if flags else ""
            params = _params(criterion)
            title = _heading(criterion.title or criterion.id)
            lines.append(
                f"- [ ] **{title}** (`{gate.id}.{criterion.id}`): "
                f"{_code(criterion.check)} {params}, threshold: {_threshold(criterion)}{extra}"
            )
    lines += _waivers(policy, today)
    lines += _exceptions(policy, today)
    lines.append("")
    return "\n".join(lines)


def _waivers(policy: Policy, today: date) -> list[str]:
    if not policy.waivers:
        return []
    lines = ["", "## Waivers", ""]
    for waiver in policy.waivers:
        state = "EXPIRED" if waiver.expires < today else f"until {waiver.expires}"
        lines.append(
            f"- `{waiver.criterion}` {state}, approved by {waiver.approver}: "
            f"{escape_inline(waiver.reason)}"
        )
    return lines


def _exceptions(policy: Policy, today: date) -> list[str]:
    if not policy.deps.exceptions:
        return []
    lines = ["", "## Dependency exceptions", ""]
    for exception in policy.deps.exceptions:
        state = (
            f"EXPIRED on {exception.expires} (covers nothing: the vulnerability fails again)"
            if exception.expires < today
            else f"until {exception.expires}"
        )
        lines.append(
            f"- {_code(exception.id)} {state}, approved by {exception.approver}: "
            f"{escape_inline(exception.reason)}"
        )
    return lines
