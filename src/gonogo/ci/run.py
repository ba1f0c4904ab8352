"""``gonogo ci``: run the policy's Phase-4 gates as the one blocking CI job.

The run is the gate engine's (``gonogo check --phase 4``): the same plan, parallel
collection and result cache, stored and audited like any evaluation. What differs is
the question: CI asks whether the *evidence* is green. Owner sign-offs come after, on
the evaluation CI produced, so the CI view of the report leaves them out and a gate is
red only when its criteria fail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gonogo.gates import plan
from gonogo.gates.aggregate import outcome as aggregate
from gonogo.gates.engine import Engine, Observer
from gonogo.gates.results import GateResult, Outcome, RunReport, Verdict
from gonogo.policy.load import LoadedPolicy
from gonogo.scope import releases
from gonogo.workspace import Workspace

#: the phase whose gates CI runs
CI_PHASE = 4


@dataclass(frozen=True)
class CiRun:
    """The outcome of one ``gonogo ci``."""

    report: RunReport
    """The CI view: gates judged on their criteria, sign-offs left out."""
    recorded: RunReport
    """The evaluation as the engine stored it (with sign-off states)."""

    @property
    def red(self) -> tuple[GateResult, ...]:
        """The gates whose criteria fail."""
        return tuple(g for g in self.report.gates if g.outcome is Outcome.FAIL)

    @property
    def green(self) -> bool:
        """Whether every required criterion got through."""
        return not self.red


def run_ci(
    ws: Workspace,
    *,
    release: str | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    observer: Observer | None = None,
) -> CiRun:
    """Evaluate every Phase-4 gate for ``release`` (default: the newest open one, if any)."""
    loaded = ws.require_policy()
    run_plan = plan.build(loaded, phase=CI_PHASE)
    with ws.store.read() as conn:
        current = releases.current(conn, release)
    engine = Engine(ws, current, jobs=jobs or loaded.policy.project.jobs, use_cache=use_cache)
    if observer is not None:
        engine.observer = observer
    recorded = engine.run(run_plan)
    return CiRun(report=ci_view(recorded, loaded), recorded=recorded)


def ci_view(report: RunReport, loaded: LoadedPolicy) -> RunReport:
    """``report`` with gates judged on their criteria alone (no owners, no sign-offs)."""
    gates = []
    for gate in report.gates:
        model = loaded.policy.gate(gate.gate)
        reasons = aggregate(model, gate.criteria)[2] if model is not None else []
        gates.append(
            replace(
                gate,
                owners=(),
                signoffs=(),
                reasons=tuple(reasons),
                verdict=Verdict.NO_GO if gate.outcome is Outcome.FAIL else Verdict.GO,
            )
        )
    return replace(report, gates=tuple(gates), approvals=())
