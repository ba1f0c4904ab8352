"""``secret-refs``: no config file in the repository gives a secret variable a literal value."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from gonogo.checks.env_inventory import scan_root
from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.config.inventory import FILENAME, Inventory, InventoryError, load_inventory
from gonogo.config.literals import secret_literals
from gonogo.config.scan import discover, scan_tree
from gonogo.digest import sha256_file
from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef, Status

_SHOWN = 20


class SecretRefsParams(CheckParams):
    """Parameters of the ``secret-refs`` check."""

    path: str = "."
    inventory: str | None = None
    exclude: list[str] = Field(default_factory=list)
    allow_placeholders: bool = True


class SecretRefsCheck:
    """Scans config files; the measured value is the number of literal secrets."""

    name: ClassVar[str] = "secret-refs"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = SecretRefsParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False

    def _inventory_file(self, params: SecretRefsParams, ctx: CheckContext) -> Path:
        if params.inventory is not None:
            return ctx.resolve(params.inventory)
        return ctx.resolve(params.path) / FILENAME

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Every file the scan reads, and the inventory if there is one."""
        assert isinstance(params, SecretRefsParams)  # noqa: S101 - the engine parsed it
        root = scan_root(params.path, ctx)
        files = [path for path, _, _ in discover(root, params.exclude)]
        return CheckInputs(files=(self._inventory_file(params, ctx), *files))

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Scan and list every literal secret (never its value)."""
        assert isinstance(params, SecretRefsParams)  # noqa: S101 - the engine parsed it
        root = scan_root(params.path, ctx)
        inventory: Inventory | None = None
        file = self._inventory_file(params, ctx)
        try:
            if params.inventory is not None or file.is_file():
                inventory = load_inventory(file)
            result = scan_tree(root, exclude=params.exclude)
        except InventoryError as exc:
            raise CheckError(exc.message, hint=exc.hint) from None
        except GonogoError as exc:
            raise CheckError(str(exc)) from None
        findings = secret_literals(result, inventory, allow_placeholders=params.allow_placeholders)
        paths = sorted({f.path for f in findings})
        evidence = tuple(
            EvidenceRef(kind="config", uri=p, sha256=sha256_file(root / p)) for p in paths
        )
        return Observation(
            measured=len(findings),
            details={
                "files": len(result.files),
                "findings": [f.describe() for f in findings[:_SHOWN]],
                "places": [f"{f.name} at {f.location}" for f in findings[:_SHOWN]],
                "more": max(0, len(findings) - _SHOWN),
                "warnings": [str(w) for w in result.warnings[:_SHOWN]],
            },
            evidence=evidence,
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass when every secret comes from a managed source."""
        details = observation.details
        count = int(observation.measured or 0)
        if count == 0:
            return Judgement(
                Status.PASS,
                f"no literal secret in {details['files']} scanned files",
                "0 literal secrets",
            )
        listed = ", ".join(details["places"][:3])
        more = f" (and {count - 3} more)" if count > 3 else ""
        noun = "literal secret" if count == 1 else "literal secrets"
        return Judgement(Status.FAIL, f"{count} {noun}: {listed}{more}", "0 literal secrets")
