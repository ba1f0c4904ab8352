"""The rollout controller: drives one rollout through its persisted state machine.

``pending`` deploys (or finds) the baseline and points the router at it. ``staging``
deploys the candidate as the canary with 0% of the traffic, sends it smoke requests and
runs the plan's staging gates with ``GONOGO_CANARY_URL`` set. ``canary`` walks the steps:
at each step the router gives the canary its weight, the judge starts a fresh step, and
every ``interval_s`` the controller

1. handles operator requests (abort, promote, a new version),
2. renews its lease,
3. checks both variants' health (a dead canary rolls back),
4. reads the metric source and feeds the judge the interval's increments (an unreadable
   source is inconclusive; past ``max_source_errors`` in a row it rolls back),
5. acts on the decision: roll back at once, advance a step (after the last: promote to
   100%), or on *inconclusive* re-run the step until ``max_inconclusive`` is used up,
   then roll back. Inconclusive never promotes.

A rollback sets the router to 0% first and then runs the deployer's rollback. Every
transition is an audit event, every decision a row of the rollout's timeline with its
numbers. Weight changes are written ahead (see :mod:`gonogo.rollout.state`), so a
killed controller is resumed by :meth:`Controller.run` on a fresh instance: it re-adopts
the targets, restores the recorded split and re-runs the interrupted step with a fresh
e-process, or rolls back when the canary did not survive.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from gonogo.errors import GonogoError, one_line
from gonogo.gates import plan as gate_plan
from gonogo.gates.engine import Engine
from gonogo.gates.results import Outcome, Status
from gonogo.rollout import state as store
from gonogo.rollout.analysis.guardrails import GuardrailMonitor
from gonogo.rollout.analysis.histogram import LatencyHistogram
from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    Judge,
    Moments,
    Observation,
    Step,
    VariantSample,
)
from gonogo.rollout.deploy.interface import Backend, Deployer, Health, Variant
from gonogo.rollout.errors import DeployError, RolloutError, RouterError, SourceError
from gonogo.rollout.judges import make_judge
from gonogo.rollout.route.interface import Router
from gonogo.rollout.source.interface import MetricSource, Snapshot, source_lag
from gonogo.rollout.state import RequestKind, RolloutRecord, RolloutState
from gonogo.scope import releases
from gonogo.workspace import Workspace

#: environment variables the staging gates' checks see
CANARY_URL_ENV = "GONOGO_CANARY_URL"
BASELINE_URL_ENV = "GONOGO_BASELINE_URL"
CANDIDATE_VERSION_ENV = "GONOGO_ROLLOUT_VERSION"

#: fault injection for crash tests: the controller exits hard (as if SIGKILLed) at this point
CRASH_AT_ENV = "GONOGO_ROLLOUT_CRASH_AT"


@dataclass
class Components:
    """What carries a rollout out."""

    deployer: Deployer
    router: Router
    source: MetricSource
    source_info: Mapping[str, Any] = field(default_factory=dict)
    """what the numbers come from (type, address, queries): carried by every decision"""

    def close(self) -> None:
        """Release what this process holds (targets keep serving)."""
        for part in (self.source, self.router, self.deployer):
            # the rollout is over or handed on: a component that fails to let go (a
            # plugin's bug included) must not turn that into a crash
            with contextlib.suppress(Exception):
                part.close()


@dataclass
class Tick:
    """What the live view is told after every change: the record and the latest numbers."""

    record: RolloutRecord
    action: str | None = None
    reason: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


Listener = Callable[[Tick], None]


class _Accumulator:
    """Per-variant totals of one step, for the timeline and the live view."""

    def __init__(self) -> None:
        self.requests = [0, 0]
        self.errors = [0, 0]
        self.latency: list[dict[int, int]] = [{}, {}]

    def add(self, observation: Observation) -> None:
        for i, sample in enumerate((observation.baseline, observation.canary)):
            self.requests[i] += sample.requests
            self.errors[i] += sample.errors
            counts = self.latency[i]
            for bucket, count in sample.latency.counts.items():
                counts[bucket] = counts.get(bucket, 0) + count

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, variant in enumerate(("baseline", "canary")):
            histogram = LatencyHistogram(self.latency[i])
            requests = self.requests[i]
            out[variant] = {
                "requests": requests,
                "errors": self.errors[i],
                "error_rate": self.errors[i] / requests if requests else None,
                "p50_ms": histogram.quantile(0.5),
                "p99_ms": histogram.quantile(0.99),
            }
        return out


def increment(now: VariantSample, before: VariantSample) -> VariantSample | None:
    """What a variant served between two cumulative totals; None when a total went down.

    A total goes down when a process restarted (its counters start again from zero) or,
    for a source that sums series (Prometheus), when one of them left the sum (a
    replica restarted or scaled in): what was served in between cannot be told from the
    totals. Counting the new total as the increment would be right for the first and
    would count every other replica's history again for the second.
    """
    if now.requests < before.requests or now.errors < before.errors:
        return None
    counts: dict[int, int] = {}
    for bucket, count in now.latency.counts.items():
        delta = count - before.latency.counts.get(bucket, 0)
        if delta < 0:
            return None
        if delta:
            counts[bucket] = delta
    metrics: dict[str, Moments] = {}
    for name, moments in now.metrics.items():
        previous = before.metrics.get(name, Moments())
        if moments.count < previous.count:
            return None
        metrics[name] = moments - previous
    requests = now.requests - before.requests
    errors = min(now.errors - before.errors, requests)
    return VariantSample(requests, errors, LatencyHistogram(counts), metrics)


def observed(at: float, now: Snapshot, before: Snapshot | str) -> Observation | str | None:
    """The interval between two snapshots; None without totals before (``before`` was
    unreadable), the reason when a total went down (see :func:`increment`)."""
    if isinstance(before, str):
        return None
    baseline = increment(now.of(Variant.BASELINE), before.of(Variant.BASELINE))
    canary = increment(now.of(Variant.CANARY), before.of(Variant.CANARY))
    if baseline is None or canary is None:
        down = [name for name, got in (("baseline", baseline), ("canary", canary)) if got is None]
        whose = "both variants'" if len(down) == 2 else f"the {down[0]}'s"
        return (
            f"{whose} totals went down (a process restarted, or a series left the "
            "query's sum): this interval is not counted"
        )
    return Observation(at, baseline, canary)


@contextlib.contextmanager
def failing_as(error: type[GonogoError], part: str) -> Iterator[None]:
    """Report any failure of ``part`` (a component, often another package's) as ``error``.

    A deployer, router, metric source or judge that raises something other than its
    area's error (a bug in it, an error type it forgot to translate) would otherwise end
    the controller with traffic still on the canary; as its area's error the controller
    handles it like any failure of that area: it rolls back (or, for a metric source,
    counts the read as unreadable) and names the part and what it raised.
    """
    try:
        yield
    except error:
        raise
    except Exception as exc:
        detail = str(exc) if isinstance(exc, GonogoError) else f"{type(exc).__name__}: {exc}"
        raise error(f"{part} failed: {one_line(detail)}") from exc


class Controller:
    """Drives one rollout; see the module docstring."""

    def __init__(
        self,
        ws: Workspace,
        record: RolloutRecord,
        components: Components,
        *,
        listener: Listener | None = None,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ws = ws
        self.record = record
        self.plan = record.plan
        self.parts = components
        self.listener = listener
        self.stop = stop or threading.Event()
        self.clock = clock
        self.token = uuid.uuid4().hex[:12]
        self.baseline: Backend | None = None
        self.canary: Backend | None = None
        self._analysis: tuple[Judge, GuardrailMonitor, float] | None = None
        self._unadopted: str | None = None  # why the deployer could not adopt its targets
        # a rollback or promotion under way ({"action", "reason"}), saved with the
        # components: a controller killed half-way through leaves it for the next to finish
        self._finishing: dict[str, str] | None = None

    def _deployer(self) -> contextlib.AbstractContextManager[None]:
        return failing_as(DeployError, f"the {self.plan.deployer.type!r} deployer")

    def _router(self) -> contextlib.AbstractContextManager[None]:
        return failing_as(RouterError, f"the {self.plan.router.type!r} router")

    def _source(self) -> contextlib.AbstractContextManager[None]:
        return failing_as(SourceError, f"the {self.plan.source.type!r} metric source")

    def _judging(self) -> contextlib.AbstractContextManager[None]:
        return failing_as(RolloutError, f"the {self.plan.judge!r} judge")

    def _health(self) -> Health:
        """The canary's health; a health check that fails counts as unhealthy."""
        try:
            with self._deployer():
                return self.parts.deployer.health(Variant.CANARY)
        except DeployError as exc:
            return Health(False, f"its health check failed: {exc}")

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> RolloutRecord:
        """Drive the rollout until promoted or rolled back (or :attr:`stop` is set)."""
        with self.ws.transaction() as tx:
            self.record = store.claim(tx, self.record, self.token)
            if self.record.state is not RolloutState.PENDING or self.record.components:
                self.record = store.change(
                    tx,
                    self.record,
                    event="rollout.resumed",
                    payload={"controller": self.record.controller},
                )
        try:
            self._adopt()
            if self.record.state.active:
                self._finish_begun()
            while self.record.state.active and not self.stop.is_set():
                if self.record.state is RolloutState.PENDING:
                    self._pending()
                elif self.record.state is RolloutState.STAGING:
                    self._staging()
                else:
                    self._canary()
        finally:
            self._release()
        return self.record

    def _finish_begun(self) -> None:
        """On resume: finish a rollback or promotion a killed controller had begun.

        Its decision stands: the split is not moved back to the step's weight and judged
        again. A deployer that cannot adopt its targets rolls back whatever was begun.
        """
        begun = self._finishing
        if self._unadopted is not None:
            action, reason = "rollback", self._unadopted
        elif begun is not None:
            action = begun["action"]
            reason = f"{begun['reason']} (finished after the controller was restarted)"
        else:
            return
        self._reroute(0.0 if action == "rollback" else self.record.weight)
        if action == "rollback":
            self._rollback(reason)
        else:
            self._promote(reason)

    def _reroute(self, weight: float) -> None:
        """Tell this process's router the recorded backends (a resumed controller's, or
        one acting without a controller, has not been told them yet)."""
        if self.baseline is not None:
            with contextlib.suppress(RouterError), self._router():
                self.parts.router.configure(self.baseline, self.canary, weight)

    def _release(self) -> None:
        with contextlib.suppress(GonogoError), self.ws.transaction() as tx:
            current = store.load(tx.conn, self.record.id)
            if current.controller == store.controller_id(self.token):
                self.record = store.change(tx, current, controller=None, heartbeat_at=None)

    def _adopt(self) -> None:
        """On resume: adopt the targets a killed controller left running."""
        saved = self.record.components
        if saved.get("deployer"):
            try:
                with self._deployer():
                    self.parts.deployer.attach(saved["deployer"])
            except DeployError as exc:
                # it cannot check or take down what it cannot find: the caller rolls back
                self._unadopted = f"the deployer could not adopt its targets: {exc}"
        if saved.get("baseline"):
            self.baseline = Backend.from_json(saved["baseline"])
        if saved.get("canary"):
            self.canary = Backend.from_json(saved["canary"])
        begun = saved.get("finishing")
        if isinstance(begun, Mapping) and begun.get("action") in ("rollback", "promote"):
            self._finishing = {"action": str(begun["action"]), "reason": str(begun.get("reason"))}

    def _take_over(self) -> None:
        """A new rollout's deployer adopts what the previous rollout left serving.

        So the baseline it deploys is the running one (the same version: reused) or
        replaces it (another version: the old one is stopped), instead of a second copy
        started beside it. A state of another deployer type, or one this deployer cannot
        read, is left alone.
        """
        if self.record.components.get("deployer"):
            return  # a resumed rollout: _adopt took its own state
        with self.ws.store.read() as conn:
            before = store.previous(conn, self.record.id)
        saved = before.components.get("deployer") if before is not None else None
        if isinstance(saved, Mapping) and saved.get("type") == self.record.plan.deployer.type:
            with contextlib.suppress(DeployError), self._deployer():
                self.parts.deployer.attach(saved)

    def _deployer_state(self) -> Any:
        """What lets a resumed controller find the targets (the last saved, if it fails)."""
        try:
            with self._deployer():
                return self.parts.deployer.state()
        except DeployError:
            return self.record.components.get("deployer")

    def _save(self, **values: Any) -> None:
        components = {
            "deployer": self._deployer_state(),
            "router_url": self._router_url(),
            "baseline": self.baseline.to_json() if self.baseline else None,
            "canary": self.canary.to_json() if self.canary else None,
        }
        if self._finishing is not None and values.get("state", self.record.state).active:
            components["finishing"] = self._finishing
        event = values.pop("event", None)
        payload = values.pop("payload", None)
        with self.ws.transaction() as tx:
            self.record = store.change(
                tx, self.record, event=event, payload=payload, components=components, **values
            )
        self._tell()

    def _router_url(self) -> str | None:
        try:
            with self._router():
                return self.parts.router.url
        except RouterError:
            return None

    def _tell(
        self, decision: Decision | None = None, payload: Mapping[str, Any] | None = None
    ) -> None:
        if self.listener is not None:
            self.listener(
                Tick(
                    self.record,
                    decision.action.value if decision else None,
                    decision.reason if decision else None,
                    dict(payload or {}),
                )
            )

    def _crash_point(self, name: str) -> None:
        if os.environ.get(CRASH_AT_ENV) == name:
            os._exit(137)

    # -- phases -----------------------------------------------------------------------------

    def _pending(self) -> None:
        self._take_over()
        try:
            with self._deployer():
                self.baseline = self.parts.deployer.deploy(
                    Variant.BASELINE, self.record.baseline_version
                )
            with self._router():
                self.parts.router.configure(self.baseline, None, 0.0)
        except (DeployError, RouterError) as exc:
            self._finish(RolloutState.ROLLED_BACK, f"baseline could not be set up: {exc}")
            return
        self._save(state=RolloutState.STAGING, event="rollout.staging")

    def _staging(self) -> None:
        try:
            baseline = _known(self.baseline, "baseline")
            with self._deployer():
                self.canary = self.parts.deployer.deploy(Variant.CANARY, self.record.version)
            with self._router():
                self.parts.router.configure(baseline, self.canary, 0.0)
        except (DeployError, RouterError) as exc:
            self._rollback(f"staging: the candidate could not be deployed: {exc}")
            return
        self._save()
        problem = self._smoke() or self._staging_gates()
        if problem:
            self._rollback(f"staging: {problem}")
            return
        self._crash_point("staging-passed")
        self._save(
            state=RolloutState.CANARY,
            step=0,
            event="rollout.canary",
            payload={"staging": "passed"},
        )

    def _smoke(self) -> str | None:
        canary = _known(self.canary, "canary")
        staging = self.plan.staging
        if staging.smoke_requests == 0:
            return None
        failures: list[str] = []
        url = canary.url + staging.smoke_path
        with httpx.Client(timeout=10.0) as client:
            for _ in range(staging.smoke_requests):
                try:
                    status = client.get(url).status_code
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}")
                    continue
                if status >= 500:
                    failures.append(f"HTTP {status}")
        if failures:
            return (
                f"{len(failures)} of {staging.smoke_requests} smoke requests to "
                f"{staging.smoke_path} failed (first: {failures[0]})"
            )
        return None

    def _staging_gates(self) -> str | None:
        gates = self.plan.staging.gates
        if not gates or self.ws.policy is None:
            return None
        canary, baseline = _known(self.canary, "canary"), _known(self.baseline, "baseline")
        loaded = self.ws.require_policy()
        run_plan = gate_plan.build(loaded, gate_ids=gates)
        with self.ws.store.read() as conn:
            release = releases.current(conn, self.record.release)
        env = {
            CANARY_URL_ENV: canary.url,
            BASELINE_URL_ENV: baseline.url,
            CANDIDATE_VERSION_ENV: self.record.version,
        }
        with _environment(env):
            report = Engine(self.ws, release, use_cache=False).run(run_plan)
        failed = [g for g in report.gates if g.outcome is Outcome.FAIL]
        if not failed:
            return None
        bad = [
            f"{c.gate}.{c.criterion}: {c.reason}"
            for g in failed
            for c in g.criteria
            if c.status in (Status.FAIL, Status.ERROR)
        ]
        names = ", ".join(g.gate for g in failed)
        return f"staging gate {names} failed" + (f" ({bad[0]})" if bad else "")

    def _canary(self) -> None:
        record = self.record
        if self.canary is None or self.baseline is None:
            self._rollback("the backends of the rollout are unknown (state lost)")
            return
        step_plan = self.plan.steps[record.step]
        try:
            with self._router():
                self.parts.router.configure(self.baseline, self.canary, record.weight)
        except RouterError as exc:
            self._rollback(f"router failed: {exc}")
            return
        if self._handle_requests():  # an abort a killed controller took up but never did
            return
        # a fresh step, or a weight change a killed controller left half-done
        moving = record.target_weight is not None or record.weight != step_plan.weight
        if moving and not self._set_weight(step_plan.weight):
            return
        health = self._health()
        if not health.healthy:
            self._rollback(f"the canary is unhealthy: {health.detail}")
            return
        self._run_step(step_plan.weight / 100.0)

    def _start_analysis(self, share: float) -> tuple[Judge, GuardrailMonitor, float, float] | None:
        """The step's judge started and the source bound: (judge, guardrails, the clock's
        origin, the step's start).

        None after rolling back: no analysis can run, and the canary must not keep its
        share unjudged.
        """
        step_plan = self.plan.steps[self.record.step]
        try:
            with self._judging():
                if self._analysis is None:
                    # one judge per rollout run: each step starts a fresh e-process and
                    # the steps' e-values multiply (a new version or a resume starts over)
                    self._analysis = (
                        make_judge(self.plan),
                        GuardrailMonitor(tuple(g.guardrail() for g in self.plan.guardrails)),
                        self.clock(),
                    )
                judge, guardrails, origin = self._analysis
                started = self.clock()
                judge.begin_step(
                    Step(
                        index=self.record.step,
                        weight=share,
                        started_at=started - origin,
                        max_dwell_s=step_plan.max_dwell_s,
                        warmup_s=step_plan.warmup_s,
                        min_dwell_s=step_plan.min_dwell_s,
                        count_lag_s=source_lag(self.parts.source),
                    )
                )
            baseline, canary = _known(self.baseline, "baseline"), _known(self.canary, "canary")
            with self._source():
                self.parts.source.bind(baseline, canary)
        except RolloutError as exc:
            self._rollback(f"the analysis could not start: {exc}")
            return None
        return judge, guardrails, origin, started

    def _run_step(self, share: float) -> None:
        analysis = self._start_analysis(share)
        if analysis is None:
            return
        judge, guardrails, origin, started = analysis
        totals = _Accumulator()
        source_errors = 0
        previous = self._read_source()
        next_tick = started + self.plan.interval_s
        while not self.stop.is_set():
            self.stop.wait(max(0.0, next_tick - self.clock()))
            if self.stop.is_set():
                return
            next_tick += self.plan.interval_s
            at = self.clock() - origin
            if self._handle_requests():
                return
            with self.ws.transaction() as tx:
                self.record = store.heartbeat(tx, self.record, self.token)
            health = self._health()
            if not health.healthy:
                self._rollback(f"the canary is unhealthy: {health.detail}")
                return
            snapshot = self._read_source()
            seen = snapshot if isinstance(snapshot, str) else observed(at, snapshot, previous)
            if not isinstance(snapshot, str):
                previous = snapshot  # the next interval counts from these totals
            if isinstance(seen, str):
                source_errors += 1
                if self._unread(seen, source_errors, at, totals):
                    return
                continue
            source_errors = 0
            if seen is None:  # the first totals: the next interval counts from them
                continue
            observation = seen
            totals.add(observation)
            try:
                with self._judging():
                    decision = guardrails.observe(observation) or judge.observe(observation)
            except RolloutError as exc:
                self._rollback(f"the analysis failed: {exc}")
                return
            self._decide(decision, totals)
            if self._act(decision):
                return

    def _act(self, decision: Decision) -> bool:
        """Carry out a decision that ends the step (True), or carry on (False)."""
        if decision.action is Action.ROLLBACK:
            self._rollback(decision.reason, decision)
        elif decision.action is Action.PROMOTE_STEP:
            self._advance(decision)
        elif decision.action is Action.INCONCLUSIVE:
            self._inconclusive(decision)
        else:
            return False
        return True

    def _unread(self, why: str, in_a_row: int, at: float, totals: _Accumulator) -> bool:
        """An interval not counted: recorded as inconclusive, never as healthy; True when
        that was one too many in a row and the rollout rolled back."""
        limit = self.plan.max_source_errors
        reason = f"metric source unreadable ({in_a_row} in a row): {why}"
        self._decide(Decision(Action.INCONCLUSIVE, Basis.INSUFFICIENT_EVIDENCE, reason, at), totals)
        if in_a_row <= limit:
            return False
        times = "once" if in_a_row == 1 else f"{in_a_row} times in a row"
        self._rollback(f"metric source unreadable {times} (limit {limit}): {why}")
        return True

    def _read_source(self) -> Snapshot | str:
        try:
            with self._source():
                return self.parts.source.snapshot()
        except SourceError as exc:
            return str(exc)

    def _decide(self, decision: Decision, totals: _Accumulator) -> None:
        payload: dict[str, Any] = {"decision": decision.to_json(), "totals": totals.to_json()}
        if decision.action is not Action.CONTINUE and self.parts.source_info:
            payload["source"] = dict(self.parts.source_info)
        with self.ws.transaction() as tx:
            store.add_decision(
                tx,
                self.record,
                action=decision.action.value,
                basis=decision.basis.value,
                reason=decision.reason,
                payload=payload,
            )
        self._tell(decision, payload)

    # -- transitions ------------------------------------------------------------------------

    def _set_weight(self, weight: float) -> bool:
        """Move the split, written ahead; False (after rolling back) when the router fails."""
        before, pending = self.record.weight, self.record.target_weight
        self._save(target_weight=weight)
        self._crash_point("weight-written-ahead")
        try:
            with self._router():
                self.parts.router.set_weight(weight)
        except RouterError as exc:
            self._rollback(f"router failed to set {weight:g}%: {exc}")
            return False
        self._crash_point("weight-applied")
        # the same split again (on resume) is no change, unless another was written ahead
        moved = before != weight or pending not in (None, weight)
        self._save(
            weight=weight,
            target_weight=None,
            event="rollout.weight" if moved else None,
            payload={"from": before, "to": weight} if moved else None,
        )
        return True

    def _advance(self, decision: Decision) -> None:
        if self.record.step + 1 < len(self.plan.steps):
            self._save(
                step=self.record.step + 1,
                inconclusive=0,
                event="rollout.step_passed",
                payload={"decision": decision.to_json()},
            )
            return
        self._promote(f"every step passed: {decision.reason}", decision)

    def _inconclusive(self, decision: Decision) -> None:
        count = self.record.inconclusive + 1
        if count > self.plan.max_inconclusive:
            self._rollback(
                f"inconclusive {count} time(s) (limit {self.plan.max_inconclusive}): "
                f"{decision.reason}",
                decision,
            )
            return
        self._save(
            inconclusive=count,
            event="rollout.step_inconclusive",
            payload={"decision": decision.to_json(), "rerun": True},
        )

    def _promote(self, reason: str, decision: Decision | None = None) -> None:
        self._finishing = {"action": "promote", "reason": reason}
        if not self._set_weight(100.0):
            return
        self._crash_point("promoting")
        try:
            with self._deployer():
                self.parts.deployer.promote()
        except DeployError as exc:
            reason = f"{reason}; the deployer's promote failed: {exc}"
        self.baseline, self.canary = self.canary, None
        self._finish(RolloutState.PROMOTED, reason, decision)

    def _rollback(self, reason: str, decision: Decision | None = None) -> None:
        self._finishing = {"action": "rollback", "reason": reason}
        problems: list[str] = []
        before, pending = self.record.weight, self.record.target_weight
        with contextlib.suppress(GonogoError):
            self._save(target_weight=0.0)
        try:
            with self._router():
                self.parts.router.set_weight(0.0)
        except RouterError as exc:
            problems.append(f"the router could not be set to 0%: {exc}")
        else:
            with contextlib.suppress(GonogoError):
                moved = before != 0.0 or pending not in (None, 0.0)
                self._save(
                    weight=0.0,
                    target_weight=None,
                    event="rollout.weight" if moved else None,
                    payload={"from": before, "to": 0.0} if moved else None,
                )
        self._crash_point("rolling-back")
        try:
            with self._deployer():
                self.parts.deployer.rollback()
        except DeployError as exc:
            problems.append(f"the deployer's rollback failed: {exc}")
        full = reason + ("; " + "; ".join(problems) if problems else "")
        self._finish(RolloutState.ROLLED_BACK, full, decision)

    def _finish(self, state: RolloutState, reason: str, decision: Decision | None = None) -> None:
        event = "rollout.promoted" if state is RolloutState.PROMOTED else "rollout.rolled_back"
        payload: dict[str, Any] = {"reason": reason}
        if decision is not None:
            payload["decision"] = decision.to_json()
        self._save(state=state, reason=reason, event=event, payload=payload)

    # -- operator requests ------------------------------------------------------------------

    def _handle_requests(self) -> bool:
        """Act on pending requests; True when the current step must stop."""
        with self.ws.store.read() as conn:
            pending = store.pending_requests(conn, self.record.id)
        # a request is marked handled only once acted on: a controller killed in between
        # leaves it pending, and the one that resumes acts on it before anything else
        for item in pending:
            self._crash_point(f"{item.kind.value}-received")
            stop = True
            if item.kind is RequestKind.ABORT:
                self._rollback(f"aborted by {item.created_by}")
            elif item.kind is RequestKind.PROMOTE:
                self._promote(f"promoted by {item.created_by} (analysis skipped)")
            elif item.argument and item.argument != self.record.version:
                self._restart(item.argument, item.created_by)
            else:  # a restart to the version the rollout already runs: done before a crash
                stop = False
            with self.ws.transaction() as tx:
                store.handled(tx, item.id)
            if stop:
                return True
        return False

    def _restart(self, version: str, who: str) -> None:
        """A new version arrived: take the old canary out and start over from staging."""
        old = self.record.version
        if not self._set_weight(0.0):
            return
        try:
            with self._deployer():
                self.parts.deployer.rollback()
        except DeployError as exc:
            self._rollback(f"the old canary {old} could not be taken down: {exc}")
            return
        self.canary = None
        self._analysis = None
        self._save(
            version=version,
            state=RolloutState.STAGING,
            step=-1,
            inconclusive=0,
            event="rollout.restarted",
            payload={"from_version": old, "to_version": version, "by": who},
        )

    def promote_now(self, reason: str) -> RolloutRecord:
        """Promote without a running controller (``gonogo rollout promote`` after a crash).

        Refused when the deployer cannot find the targets it would promote.
        """

        def promote() -> None:
            if self._unadopted is not None:
                raise RolloutError(
                    f"cannot promote: {self._unadopted}", hint="abort the rollout instead"
                )
            if self._finishing is not None and self._finishing["action"] == "rollback":
                raise RolloutError(
                    f"cannot promote: a rollback was under way ({self._finishing['reason']})",
                    hint="finish it with `gonogo rollout resume` or `gonogo rollout abort`",
                )
            self._promote(reason)

        return self._directly(promote)

    def abort_now(self, reason: str) -> RolloutRecord:
        """Roll back without a running controller (``gonogo rollout abort`` after a crash)."""
        return self._directly(
            lambda: self._rollback(reason + (f"; {self._unadopted}" if self._unadopted else ""))
        )

    def _directly(self, action: Callable[[], None]) -> RolloutRecord:
        with self.ws.transaction() as tx:
            self.record = store.claim(tx, self.record, self.token)
        try:
            self._adopt()
            if self.canary is not None:
                self._reroute(self.record.weight)
            action()
        finally:
            self._release()
        return self.record


def _known(backend: Backend | None, variant: str) -> Backend:
    if backend is None:
        raise RolloutError(f"the {variant}'s backend is unknown", hint="abort the rollout")
    return backend


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
