"""The Markdown summary of a CI run, for the job page (GitHub's step summary, GitLab notes)."""

from __future__ import annotations

from gonogo.ci.run import CiRun
from gonogo.gates.results import Outcome, Status
from gonogo.report.interface import counts_line, format_measured
from gonogo.report.markdown import STATUS_MARKERS, escape_inline

_OUTCOME_MARKERS = {Outcome.PASS: "✅", Outcome.WARN: "⚠️", Outcome.FAIL: "❌"}


def render_summary(run: CiRun) -> str:
    """A short Markdown page: the answer, then one table per Phase-4 gate."""
    report = run.report
    subject = escape_inline(report.project)
    if report.release:
        subject += f" {escape_inline(report.release)}"
    if run.green:
        head = f"## ✅ gonogo ci: green — {subject}"
    else:
        red = ", ".join(f"`{g.gate}`" for g in run.red)
        head = f"## ❌ gonogo ci: red — {subject} (failing: {red})"
    lines = [head, "", escape_inline(counts_line(report))]
    for gate in report.gates:
        lines += [
            "",
            f"### {_OUTCOME_MARKERS[gate.outcome]} `{gate.gate}` — "
            f"{escape_inline(gate.title)}: {gate.outcome.value}",
            "",
            "| status | criterion | measured | expected | reason |",
            "| --- | --- | --- | --- | --- |",
        ]
        for criterion in gate.criteria:
            name = f"`{criterion.criterion}` ({escape_inline(criterion.check)})"
            if criterion.cached:
                name += " _(cached)_"
            if not criterion.blocking:
                name += " _(advisory)_"
            cells = [
                f"{STATUS_MARKERS[criterion.status]} {criterion.status.value}",
                name,
                escape_inline(format_measured(criterion.measured)),
                escape_inline(criterion.expected) if criterion.expected else "—",
                escape_inline(criterion.reason),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    pending = [g for g in run.recorded.gates if g.owners and g.outcome is not Outcome.FAIL]
    if pending:
        owners = sorted({o for g in pending for o in g.owners})
        lines += [
            "",
            f"_Sign-offs are not part of this job: the owners ({', '.join(owners)}) sign "
            "this evaluation with `gonogo signoff GATE --role ROLE`._",
        ]
    errors = sum(1 for g in report.gates for c in g.criteria if c.status is Status.ERROR)
    if errors:
        lines += ["", f"_{errors} criteria could not be evaluated (status `error`); see above._"]
    return "\n".join(lines) + "\n"
