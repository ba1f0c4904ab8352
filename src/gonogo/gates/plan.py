"""Turn a loaded policy into a runnable plan: checks resolved, params parsed, gates ordered.

Everything a run could trip over in the policy itself is found here, before
any check runs, and reported with the policy's file, key path and line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from gonogo.checks import registry
from gonogo.checks.interface import Check
from gonogo.errors import PolicyError, UsageError
from gonogo.policy.load import LoadedPolicy, PolicyInvalid, Problem
from gonogo.policy.model import Criterion, Gate


@dataclass(frozen=True)
class PlannedCriterion:
    """A criterion with its check instance and parsed parameters."""

    gate: Gate
    criterion: Criterion
    check: Check
    params: Any

    @property
    def ref(self) -> str:
        """``gate.criterion``."""
        return f"{self.gate.id}.{self.criterion.id}"


@dataclass(frozen=True)
class PlannedGate:
    """A gate with its planned criteria and the gates it depends on."""

    gate: Gate
    criteria: tuple[PlannedCriterion, ...]
    depends_on: frozenset[str]


@dataclass(frozen=True)
class Plan:
    """Gates in dependency levels: each level only needs the levels before it."""

    levels: tuple[tuple[PlannedGate, ...], ...]

    @property
    def gates(self) -> tuple[PlannedGate, ...]:
        """Every gate, in run order."""
        return tuple(g for level in self.levels for g in level)


def referenced_gates(params: Any) -> frozenset[str]:
    """Gates a check's parameters point at (``gate = "…"``)."""
    target = getattr(params, "gate", None)
    return frozenset({target}) if isinstance(target, str) else frozenset()


def problems(loaded: LoadedPolicy) -> list[Problem]:
    """Every problem a run would hit: unknown check types, bad params, bad references, cycles."""
    found: list[Problem] = []
    _plan_all(loaded, found)
    return found


def build(loaded: LoadedPolicy, *, gate_ids: Iterable[str] = (), phase: int | None = None) -> Plan:
    """The plan for the selected gates (all when none are named)."""
    found: list[Problem] = []
    planned = _plan_all(loaded, found)
    if found:
        raise PolicyInvalid(found)
    wanted = set(gate_ids)
    unknown = wanted - {g.gate.id for g in planned}
    if unknown:
        known = ", ".join(g.gate.id for g in planned)
        names = ", ".join(repr(name) for name in sorted(unknown))
        raise UsageError(f"no gate named {names}", hint=f"gates are: {known or 'none'}")
    selected = [
        g
        for g in planned
        if (not wanted or g.gate.id in wanted) and (phase is None or g.gate.phase == phase)
    ]
    if not selected:
        raise UsageError(f"no gate is in phase {phase}", hint="see `gonogo policy explain`")
    return Plan(levels=_levels(selected))


def _plan_all(loaded: LoadedPolicy, found: list[Problem]) -> list[PlannedGate]:
    policy = loaded.policy
    gate_ids = {g.id for g in policy.gates}
    planned: list[PlannedGate] = []
    for gi, gate in enumerate(policy.gates):
        criteria: list[PlannedCriterion] = []
        depends: set[str] = set()
        for ci, criterion in enumerate(gate.criteria):
            where: tuple[str | int, ...] = ("gates", gi, "criteria", ci)
            try:
                check = registry.load(criterion.check)
            except PolicyError as exc:
                found.append(loaded.problem((*where, "check"), str(exc)))
                continue
            try:
                params = check.params_model.model_validate(criterion.params)
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    path = (*where, "params", *error["loc"])
                    message = str(error["msg"]).removeprefix("Value error, ")
                    if error["type"] == "missing":
                        message = f"`{criterion.check}` check needs this parameter"
                    found.append(loaded.problem(path, message))
                continue
            found.extend(_fit_problems(loaded, where, criterion, check))
            for target in referenced_gates(params):
                if target not in gate_ids:
                    found.append(
                        loaded.problem((*where, "params", "gate"), f"no gate named {target!r}")
                    )
                elif target == gate.id:
                    found.append(
                        loaded.problem((*where, "params", "gate"), "a gate cannot depend on itself")
                    )
                else:
                    depends.add(target)
            criteria.append(PlannedCriterion(gate, criterion, check, params))
        planned.append(PlannedGate(gate, tuple(criteria), frozenset(depends)))
    cycle = _find_cycle({g.gate.id: g.depends_on for g in planned})
    if cycle:
        index = next(i for i, g in enumerate(policy.gates) if g.id == cycle[0])
        found.append(
            loaded.problem(
                ("gates", index), "gates depend on each other in a cycle: " + " → ".join(cycle)
            )
        )
    return planned


def _fit_problems(
    loaded: LoadedPolicy, where: tuple[str | int, ...], criterion: Criterion, check: Check
) -> list[Problem]:
    """Criterion keys the check type cannot honour, which would otherwise do nothing."""
    found = []
    if criterion.threshold is not None and not getattr(check, "accepts_threshold", True):
        found.append(
            loaded.problem(
                (*where, "threshold"),
                f"the `{criterion.check}` check has no measured value to hold to a threshold; "
                "remove `threshold` or use the check's own parameters",
            )
        )
    if criterion.source == "ingest" and not getattr(check, "reads_evidence_files", True):
        found.append(
            loaded.problem(
                (*where, "source"),
                f"the `{criterion.check}` check reads no report file, so "
                '`source = "ingest"` cannot feed it; remove `source`',
            )
        )
    return found


def _find_cycle(graph: dict[str, frozenset[str]]) -> list[str] | None:
    # depth-first with an explicit stack: a long chain of gate dependencies must not
    # exhaust Python's recursion limit
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        pending = [iter(sorted(graph.get(start, frozenset())))]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                node = path.pop()
                on_path.discard(node)
                done.add(node)
                pending.pop()
            elif nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                pending.append(iter(sorted(graph.get(nxt, frozenset()))))
    return None


def _levels(selected: list[PlannedGate]) -> tuple[tuple[PlannedGate, ...], ...]:
    ids = {g.gate.id for g in selected}
    remaining = list(selected)
    placed: set[str] = set()
    levels: list[tuple[PlannedGate, ...]] = []
    while remaining:
        # a dependency outside the selection is read from the store, so it does not hold back
        ready = tuple(g for g in remaining if (g.depends_on & ids) <= placed)
        levels.append(ready)
        placed |= {g.gate.id for g in ready}
        remaining = [g for g in remaining if g.gate.id not in placed]
    return tuple(levels)
