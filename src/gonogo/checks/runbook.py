"""``runbook``: the runbook is written, up to date, and every environment has its commands."""

from __future__ import annotations

from typing import Any, ClassVar

from gonogo.checks.env_parity import project_policy
from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.config.parity.yamlfiles import relative
from gonogo.config.runbook import Runbook, generate, staleness
from gonogo.digest import sha256_file
from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef, Status


class RunbookParams(CheckParams):
    """Parameters of the ``runbook`` check."""

    path: str | None = None
    inventory: str | None = None


def _runbook(params: RunbookParams, ctx: CheckContext) -> Runbook:
    loaded = project_policy(ctx)
    inventory = ctx.resolve(params.inventory) if params.inventory else None
    if inventory is not None and not inventory.is_file():
        raise CheckError(f"{params.inventory} does not exist", hint="fix `inventory`")
    try:
        book = generate(loaded, inventory)
    except GonogoError as exc:
        raise CheckError(exc.message, hint=exc.hint) from None
    if params.path is not None:
        return Runbook(ctx.resolve(params.path), book.text, book.problems, book.files)
    return book


class RunbookCheck:
    """Regenerates the runbook; the measured value is the number of problems found."""

    name: ClassVar[str] = "runbook"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = RunbookParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The runbook file and everything it is generated from."""
        assert isinstance(params, RunbookParams)  # noqa: S101 - the engine parsed it
        book = _runbook(params, ctx)
        return CheckInputs(
            files=(book.path, *(ctx.root / f for f in book.files)),
            values={"files": list(book.files)},
        )

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Compare the file with what would be generated now; list the missing commands."""
        assert isinstance(params, RunbookParams)  # noqa: S101 - the engine parsed it
        book = _runbook(params, ctx)
        shown = relative(book.path, ctx.root)
        problems = list(book.problems)
        stale = staleness(book, shown)
        if stale is not None:
            problems.insert(0, stale)
        evidence = (
            (EvidenceRef(kind="runbook", uri=shown, sha256=sha256_file(book.path)),)
            if book.path.is_file()
            else ()
        )
        return Observation(
            measured=len(problems),
            details={"problems": problems, "runbook": shown, "files": len(book.files)},
            evidence=evidence,
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass when the runbook is current and complete."""
        details = observation.details
        problems: list[str] = list(details["problems"])
        expected = "an up-to-date runbook with deploy, rollback and verify for every environment"
        if not problems:
            return Judgement(Status.PASS, f"{details['runbook']} is up to date", expected)
        more = f" (and {len(problems) - 2} more)" if len(problems) > 2 else ""
        return Judgement(Status.FAIL, "; ".join(problems[:2]) + more, expected)
