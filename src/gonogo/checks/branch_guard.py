"""``branch-guard``: every commit on the release branch had its required evaluation green.

The gate engine records the commit it evaluated (``git rev-parse HEAD``, with ``-dirty``
when tracked files were modified) in each ``gate.evaluated`` audit event; see
:func:`evaluated_commit`. This check walks the commits on the release branch that are not
on the base branch (``git log BASE..BRANCH``) and reads those events from the store: a
commit whose newest evaluation of a required gate was red, or that was never evaluated
clean, fails the guard.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.checks.stored import audit_events
from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef, Status
from gonogo.perf import git as gitq
from gonogo.vcs import DIRTY

_LISTED = 20


class BranchGuardParams(CheckParams):
    """Parameters of the ``branch-guard`` check."""

    gates: list[str] = Field(min_length=1)
    branch: str = "HEAD"
    base: str | None = None
    require: Literal["pass", "go"] = "pass"
    release: str | None = None
    max_commits: int = Field(default=1000, ge=1)


class BranchGuardCheck:
    """Reads gonogo's own evaluations per commit; measured: commits without a green one."""

    name: ClassVar[str] = "branch-guard"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = BranchGuardParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Never cached: it depends on the store and the repository."""
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """List the branch's commits and find each one's newest evaluation per required gate."""
        assert isinstance(params, BranchGuardParams)  # noqa: S101 - the engine parsed it
        if ctx.gate in params.gates:
            raise CheckError(
                f"the guard cannot require its own gate {ctx.gate!r}: it is being evaluated now",
                hint="put the guard in a gate of its own and list the gates it checks",
            )
        try:
            base, commits = _commits(params, ctx.root)
        except GonogoError as exc:
            raise CheckError(str(exc)) from None
        found = _evaluations(ctx.root, {c for c, _ in commits}, params, ctx.store_url)
        bad = []
        for commit, subject in commits:
            problems = {}
            for gate in params.gates:
                problem = _problem(
                    found.get((commit, gate)), (commit + DIRTY, gate) in found, params
                )
                if problem:
                    problems[gate] = problem
            if problems:
                bad.append({"commit": commit, "subject": subject[:80], "problems": problems})
        return Observation(
            measured=len(bad),
            details={
                "branch": params.branch,
                "base": base,
                "gates": list(params.gates),
                "require": params.require,
                "commits": len(commits),
                "bad": bad[:_LISTED],
            },
            evidence=(
                EvidenceRef(kind="git-range", uri=f"{base}..{params.branch}", binding=False),
            ),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass when every commit has a green evaluation of every required gate."""
        assert isinstance(params, BranchGuardParams)  # noqa: S101 - the engine parsed it
        d = observation.details
        gates = ", ".join(d["gates"])
        green = "green" if d["require"] == "pass" else "go"
        expected = f"every commit on {d['branch']} has a {green} evaluation of {gates}"
        where = f"{d['branch']} since {d['base']}"
        if not observation.measured:
            if not d["commits"]:
                return Judgement(Status.PASS, f"no commits on {where}", expected)
            return Judgement(
                Status.PASS, f"all {d['commits']} commit(s) on {where} are {green}", expected
            )
        listed = "; ".join(
            f"{b['commit'][:10]} {b['subject']!r} ("
            + ", ".join(f"{g}: {p}" for g, p in b["problems"].items())
            + ")"
            for b in d["bad"][:3]
        )
        count = int(observation.measured)
        more = count - min(3, len(d["bad"]))
        return Judgement(
            Status.FAIL,
            f"{count} of {d['commits']} commit(s) on {where} lack a {green} "
            f"evaluation: {listed}" + (f" and {more} more" if more > 0 else ""),
            expected,
        )


def _commits(params: BranchGuardParams, root: Path) -> tuple[str, list[tuple[str, str]]]:
    if not gitq.is_repository(root):
        raise CheckError(f"{root} is not a git repository", hint="run the guard in the checkout")
    tip = gitq.resolve(root, params.branch)
    if tip is None:
        raise CheckError(
            f"branch {params.branch!r} is not in the repository",
            hint="fetch it (CI: a full clone, e.g. fetch-depth: 0) or fix `branch`",
        )
    base = params.base or gitq.default_branch(root)
    if base is None:
        raise CheckError("cannot tell the default branch", hint='set `base`, e.g. base = "main"')
    base_commit = gitq.resolve(root, base)
    if base_commit is None:
        raise CheckError(
            f"base ref {base!r} is not in the repository",
            hint="fetch it (CI: a full clone, e.g. fetch-depth: 0) or fix `base`",
        )
    commits = gitq.commits_between(root, base_commit, tip)
    if len(commits) > params.max_commits:
        raise CheckError(
            f"{len(commits)} commits on {params.branch} since {base}, more than "
            f"max_commits = {params.max_commits}",
            hint="check `base` (is it the branch the release was cut from?) or raise max_commits",
        )
    return base, commits


def _evaluations(
    root: Path, commits: set[str], params: BranchGuardParams, store_url: str | None
) -> dict[tuple[str, str], dict[str, Any]]:
    """The newest ``gate.evaluated`` payload per (recorded commit, gate) for these commits."""
    wanted = commits | {c + DIRTY for c in commits}
    gates = set(params.gates)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    if not commits:
        return found
    for payload in _evaluated_events(root, store_url):
        commit, gate = payload.get("commit"), payload.get("gate")
        if commit not in wanted or gate not in gates:
            continue
        if params.release is not None and payload.get("release") != params.release:
            continue
        found[(str(commit), str(gate))] = payload  # events come oldest first: the newest wins
    return found


def _evaluated_events(root: Path, store_url: str | None) -> Iterator[dict[str, Any]]:
    for event in audit_events(root, store_url, "gate.evaluated"):
        yield dict(event.payload)


def _problem(
    payload: dict[str, Any] | None, dirty_only: bool, params: BranchGuardParams
) -> str | None:
    if payload is None:
        return "evaluated only with uncommitted changes" if dirty_only else "not evaluated"
    if params.require == "go":
        verdict = payload.get("verdict")
        return None if verdict == "go" else f"verdict {verdict}"
    outcome = payload.get("outcome")
    return None if outcome in {"pass", "warn"} else f"red ({outcome})"
