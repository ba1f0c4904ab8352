"""``env-inventory``: the code reads exactly the variables ``gonogo.env.toml`` lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    NotReported,
    Observation,
)
from gonogo.config.build import drift
from gonogo.config.inventory import FILENAME, InventoryError, load_inventory
from gonogo.config.scan import discover, scan_tree
from gonogo.digest import sha256_file
from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef, Status

_SHOWN = 20


class EnvInventoryParams(CheckParams):
    """Parameters of the ``env-inventory`` check."""

    path: str = "."
    inventory: str | None = None
    exclude: list[str] = Field(default_factory=list)


def scan_root(path: str, ctx: CheckContext) -> Path:
    """The folder a config check scans; CheckError when it is not one."""
    root = ctx.resolve(path)
    if not root.is_dir():
        raise CheckError(f"{path} is not a folder", hint="fix `path`")
    return root


def inventory_path(params: EnvInventoryParams, ctx: CheckContext) -> Path:
    """The inventory: ``inventory`` (from the project root), else ``<path>/gonogo.env.toml``."""
    if params.inventory is not None:
        return ctx.resolve(params.inventory)
    return ctx.resolve(params.path) / FILENAME


class EnvInventoryCheck:
    """Scans the code; the measured value is the number of differences from the inventory."""

    name: ClassVar[str] = "env-inventory"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = EnvInventoryParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Every file the scan reads, and the inventory."""
        assert isinstance(params, EnvInventoryParams)  # noqa: S101 - the engine parsed it
        root = scan_root(params.path, ctx)
        files = [path for path, _, _ in discover(root, params.exclude)]
        return CheckInputs(files=(inventory_path(params, ctx), *files))

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Scan, read the inventory, list the differences."""
        assert isinstance(params, EnvInventoryParams)  # noqa: S101 - the engine parsed it
        root = scan_root(params.path, ctx)
        file = inventory_path(params, ctx)
        shown = params.inventory or str(Path(params.path) / FILENAME)
        if not file.is_file():
            raise NotReported(f"{shown} does not exist", hint="write it with `gonogo env scan`")
        try:
            inventory = load_inventory(file)
            result = scan_tree(root, exclude=params.exclude)
        except InventoryError as exc:
            raise CheckError(exc.message, hint=exc.hint) from None
        except GonogoError as exc:
            raise CheckError(str(exc)) from None
        differences = drift(inventory, result)
        return Observation(
            measured=len(differences),
            details={
                "variables": len(inventory),
                "differences": [d.describe(file.name) for d in differences[:_SHOWN]],
                "more": max(0, len(differences) - _SHOWN),
                "warnings": [str(w) for w in result.warnings[:_SHOWN]],
            },
            evidence=(EvidenceRef(kind="inventory", uri=shown, sha256=sha256_file(file)),),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass when the code and the inventory agree."""
        details = observation.details
        count = int(observation.measured or 0)
        if count == 0:
            return Judgement(
                Status.PASS, f"inventory in sync: {details['variables']} variables", "0 differences"
            )
        listed = "; ".join(details["differences"][:3])
        more = f" (and {count - 3} more)" if count > 3 else ""
        noun = "difference" if count == 1 else "differences"
        return Judgement(Status.FAIL, f"{count} {noun}: {listed}{more}", "0 differences")
