"""The gate engine: run criteria in parallel, judge them, aggregate gates, persist.

Collection runs in bounded daemon threads, each criterion with its own
deadline; a criterion past its deadline is reported as an error while the run
goes on. Observations are cached by a digest of their inputs.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, select

from gonogo import __version__
from gonogo.checks.interface import Bound, CheckContext, CheckError, NotReported, Observation
from gonogo.clock import iso
from gonogo.digest import sha256_file, sha256_json
from gonogo.gates import evidence_store, signoffs
from gonogo.gates.aggregate import outcome as aggregate
from gonogo.gates.plan import Plan, PlannedCriterion, PlannedGate
from gonogo.gates.results import (
    CriterionResult,
    GateResult,
    Outcome,
    RoleSignoff,
    RunReport,
    SignoffState,
    Status,
    Verdict,
    evaluation_digest,
)
from gonogo.policy.model import Gate, Threshold, Waiver
from gonogo.scope.releases import Release
from gonogo.store.schema import criterion_results, evaluations
from gonogo.vcs import evaluated_commit
from gonogo.workspace import Workspace

_GRACE = 5.0
_POLL = 0.05
_NEGATIVE = frozenset({Status.FAIL, Status.ERROR, Status.NOT_REPORTED})


class Observer(Protocol):
    """Progress while a run goes on (the CLI shows a bar; the core never prints)."""

    def started(self, total: int) -> None:
        """The run will judge ``total`` criteria."""

    def finished(self, result: CriterionResult) -> None:
        """One criterion is judged."""


class _Silent:
    def started(self, total: int) -> None:
        pass

    def finished(self, result: CriterionResult) -> None:
        pass


@dataclass
class _Lookup:
    """Other gates' verdicts and sign-off states, from this run or from the store."""

    fallback: Callable[[str], GateResult | None]
    done: dict[str, GateResult] = field(default_factory=dict)

    def _get(self, gate: str) -> GateResult | None:
        if gate not in self.done:
            stored = self.fallback(gate)
            if stored is None:
                return None
            self.done[gate] = stored
        return self.done[gate]

    def verdict(self, gate: str) -> Verdict | None:
        result = self._get(gate)
        return result.verdict if result else None

    def signoff_states(self, gate: str) -> Mapping[str, SignoffState]:
        result = self._get(gate)
        return {s.role: s.state for s in result.signoffs} if result else {}


@dataclass
class Engine:
    """Runs a plan for one release."""

    ws: Workspace
    release: Release | None
    jobs: int = 4
    observer: Observer = field(default_factory=_Silent)
    use_cache: bool = True

    def run(self, plan: Plan) -> RunReport:
        """Evaluate every gate of ``plan``, persist the evaluations, return the report."""
        loaded = self.ws.require_policy()
        today = self.ws.clock.now().date()
        lookup = _Lookup(fallback=lambda gate: stored_result(self.ws, self.release, gate))
        self.observer.started(sum(len(g.criteria) for g in plan.gates))
        gate_results: list[GateResult] = []
        new_cache: dict[str, tuple[str, dict[str, object]]] = {}
        with tempfile.TemporaryDirectory(prefix="gonogo-ingest-") as scratch:
            for level in plan.levels:
                level_results = self._run_level(level, lookup, Path(scratch), today, new_cache)
                for planned in level:
                    result = self._gate_result(planned, level_results[planned.gate.id])
                    lookup.done[planned.gate.id] = result
                    gate_results.append(result)
        self._persist(gate_results, new_cache, loaded.digest)
        return RunReport(
            project=loaded.policy.project.name,
            release=self.release.version if self.release else None,
            generated_at=iso(self.ws.clock.now()),
            policy_digest=loaded.digest,
            gates=tuple(gate_results),
            audit_head=self.ws.audit_head(),
            tool_version=__version__,
        )

    # -- criteria ---------------------------------------------------------------------------

    def _run_level(
        self,
        level: Iterable[PlannedGate],
        lookup: _Lookup,
        scratch: Path,
        today: date,
        new_cache: dict[str, tuple[str, dict[str, object]]],
    ) -> dict[str, list[CriterionResult]]:
        planned = [c for g in level for c in g.criteria]
        results: dict[str, CriterionResult] = {}
        pending: dict[cf.Future[Observation], tuple[PlannedCriterion, str | None, float]] = {}
        pool = _DaemonPool(self.jobs)
        try:
            for item in planned:
                early, ctx, digest = self._prepare(item, lookup, scratch)
                if early is not None:
                    results[item.ref] = self._finish(item, early, 0.0, today)
                    continue
                assert ctx is not None  # noqa: S101 - _prepare returns a context unless early
                cached = self._cached(digest)
                if cached is not None:
                    results[item.ref] = self._finish(
                        item, self._judge(item, cached, digest, 0.0, cached=True), 0.0, today
                    )
                    continue
                future = pool.submit(item, ctx)
                pending[future] = (item, digest, time.monotonic())
            self._wait(pending, results, new_cache, today)
        finally:
            pool.cancel_queued()
        by_gate: dict[str, list[CriterionResult]] = {}
        for item in planned:
            by_gate.setdefault(item.gate.id, []).append(results[item.ref])
        return by_gate

    def _wait(
        self,
        pending: dict[cf.Future[Observation], tuple[PlannedCriterion, str | None, float]],
        results: dict[str, CriterionResult],
        new_cache: dict[str, tuple[str, dict[str, object]]],
        today: date,
    ) -> None:
        while pending:
            done, _ = cf.wait(pending, timeout=_POLL, return_when=cf.FIRST_COMPLETED)
            for future in done:
                item, digest, started = pending.pop(future)
                elapsed = time.monotonic() - started
                result = self._from_future(item, future, digest, elapsed)
                # only an observation is cached: a collect that raised (NotReported) has none
                if (
                    result.status is not Status.ERROR
                    and digest is not None
                    and future.exception() is None
                ):
                    observation = future.result()
                    new_cache[digest] = (item.check.name, observation.to_json())
                results[item.ref] = self._finish(item, result, elapsed, today)
            now = time.monotonic()
            for future, (item, _digest, started) in list(pending.items()):
                if future.running() and now - started > item.criterion.timeout + _GRACE:
                    pending.pop(future)
                    future.cancel()
                    results[item.ref] = self._finish(
                        item,
                        self._error(
                            item,
                            f"timed out after {item.criterion.timeout:g}s; raise `timeout` "
                            "on the criterion or find what hangs",
                        ),
                        now - started,
                        today,
                    )
            # queued (not yet running) futures keep their clock from when they start
            for future, (item, digest, _started) in list(pending.items()):
                if not future.running() and not future.done():
                    pending[future] = (item, digest, now)

    def _prepare(
        self, item: PlannedCriterion, lookup: _Lookup, scratch: Path
    ) -> tuple[CriterionResult | None, CheckContext | None, str | None]:
        criterion = item.criterion
        root = self.ws.root
        if criterion.applies_if and not _any_exists(root, criterion.applies_if.exists):
            globs = ", ".join(criterion.applies_if.exists)
            return self._result(item, Status.NOT_APPLICABLE, f"nothing matches {globs}"), None, None
        ingested: Path | None = None
        if criterion.source == "ingest":
            with self.ws.store.read() as conn:
                ingested = evidence_store.materialize(
                    conn, ref=item.ref, release=self.release, into=scratch
                )
            if ingested is None:
                return (
                    self._result(
                        item,
                        Status.NOT_REPORTED,
                        f"no evidence ingested yet; push it with `gonogo ingest {item.ref} FILE`",
                    ),
                    None,
                    None,
                )
        ctx = CheckContext(
            root=root,
            gate=item.gate.id,
            criterion=criterion.id,
            timeout=criterion.timeout,
            gates=lookup,
            ingested=lambda: ingested,
            store_url=self.ws.store.given_url,
        )
        try:
            inputs = item.check.inputs(item.params, ctx)
        except NotReported as exc:
            return self._result(item, Status.NOT_REPORTED, str(exc)), None, None
        except CheckError as exc:
            return self._error(item, str(exc)), None, None
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not sink the whole run
            return self._crashed(item, exc), None, None
        digest = None
        if inputs.cacheable and self.use_cache:
            files: list[list[str | None]] = []
            for path in inputs.files:
                try:
                    files.append([str(path), sha256_file(path)])
                except OSError:
                    files.append([str(path), None])
            digest = sha256_json(
                {
                    "check": item.check.name,
                    "version": item.check.version,
                    "params": item.params.model_dump(mode="json"),
                    "files": files,
                    "values": dict(inputs.values),
                    "gonogo": __version__,
                }
            )
        return None, ctx, digest

    def _cached(self, digest: str | None) -> Observation | None:
        if digest is None:
            return None
        with self.ws.store.read() as conn:
            payload = evidence_store.cache_get(conn, digest)
        return Observation.from_json(payload) if payload is not None else None

    def _from_future(
        self,
        item: PlannedCriterion,
        future: cf.Future[Observation],
        digest: str | None,
        elapsed: float,
    ) -> CriterionResult:
        try:
            observation = future.result()
        except NotReported as exc:
            return self._result(item, Status.NOT_REPORTED, str(exc))
        except CheckError as exc:
            return self._error(item, str(exc))
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not sink the whole run
            return self._crashed(item, exc)
        return self._judge(item, observation, digest, elapsed, cached=False)

    def _judge(
        self,
        item: PlannedCriterion,
        observation: Observation,
        digest: str | None,
        elapsed: float,
        *,
        cached: bool,
    ) -> CriterionResult:
        bound, note = self._bound(item)
        try:
            judgement = item.check.judge(observation, item.params, bound)
        except CheckError as exc:
            return self._error(item, str(exc))
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not sink the whole run
            return self._crashed(item, exc)
        reason = judgement.reason + (f" ({note})" if note else "")
        return CriterionResult(
            gate=item.gate.id,
            criterion=item.criterion.id,
            check=item.check.name,
            title=item.criterion.title or item.criterion.id,
            status=judgement.status,
            reason=reason,
            measured=observation.measured,
            expected=judgement.expected,
            details=dict(observation.details),
            evidence=observation.evidence,
            blocking=item.criterion.blocking,
            duration=elapsed,
            cached=cached,
            input_digest=digest,
        )

    def _bound(self, item: PlannedCriterion) -> tuple[Bound | None, str | None]:
        threshold: Threshold | None = item.criterion.threshold
        if threshold is None:
            return None, None
        if threshold.relative_to is None:
            return Bound(min=threshold.min, max=threshold.max), None
        with self.ws.store.read() as conn:
            baseline = evidence_store.last_passing_value(conn, item.ref, self.release)
        if baseline is None:
            if threshold.min is None and threshold.max is None:
                return None, "no earlier passing release to compare with yet"
            return Bound(min=threshold.min, max=threshold.max), "no earlier passing release yet"
        lower_is_better = getattr(item.check, "lower_is_better", False)
        if lower_is_better:
            limit = baseline + threshold.tolerance
            high = limit if threshold.max is None else min(limit, threshold.max)
            return Bound(min=threshold.min, max=high), f"last passing release measured {baseline:g}"
        limit = baseline - threshold.tolerance
        low = limit if threshold.min is None else max(limit, threshold.min)
        return Bound(min=low, max=threshold.max), f"last passing release measured {baseline:g}"

    def _finish(
        self, item: PlannedCriterion, result: CriterionResult, elapsed: float, today: date
    ) -> CriterionResult:
        result = _with_duration(result, elapsed)
        if result.status in _NEGATIVE:
            waiver = _waiver(self.ws.require_policy().policy.waivers, item.ref)
            if waiver is not None:
                if waiver.expires >= today:
                    result = _waived(result, waiver)
                else:
                    result = _replace(
                        result, reason=f"{result.reason} (waiver expired on {waiver.expires})"
                    )
        self.observer.finished(result)
        return result

    def _result(self, item: PlannedCriterion, status: Status, reason: str) -> CriterionResult:
        return CriterionResult(
            gate=item.gate.id,
            criterion=item.criterion.id,
            check=item.check.name,
            title=item.criterion.title or item.criterion.id,
            status=status,
            reason=reason,
            blocking=item.criterion.blocking,
        )

    def _error(self, item: PlannedCriterion, reason: str) -> CriterionResult:
        return self._result(item, Status.ERROR, reason)

    def _crashed(self, item: PlannedCriterion, exc: Exception) -> CriterionResult:
        return self._error(
            item, f"the {item.check.name} check crashed: {type(exc).__name__}: {exc}"
        )

    # -- gates ------------------------------------------------------------------------------

    def _gate_result(self, planned: PlannedGate, results: list[CriterionResult]) -> GateResult:
        loaded = self.ws.require_policy()
        gate = planned.gate
        outcome, score, reasons = aggregate(gate, results)
        criteria = tuple(results)
        digest = evaluation_digest(gate.id, criteria)
        latest: dict[str, signoffs.StoredSignoff] = {}
        if self.release is not None:
            with self.ws.store.read() as conn:
                latest = signoffs.latest_by_role(conn, self.release, signoffs.GATE, gate.id)
        states = signoffs.states(loaded, gate.owners, latest, digest=digest, release=self.release)
        return _verdict(
            gate,
            criteria=criteria,
            outcome=outcome,
            score=score,
            digest=digest,
            states=states,
            reasons=reasons,
            release=self.release,
        )

    def _persist(
        self,
        gates: list[GateResult],
        new_cache: dict[str, tuple[str, dict[str, object]]],
        policy_digest: str,
    ) -> None:
        now = iso(self.ws.clock.now())
        commit = evaluated_commit(self.ws.root)  # the branch-guard check reads it per commit
        with self.ws.transaction() as tx:
            for digest, (check, payload) in new_cache.items():
                evidence_store.cache_put(tx.conn, digest, check, payload, now)
            for gate in gates:
                payload = gate.to_json()
                inserted = tx.conn.execute(
                    evaluations.insert().values(
                        release_id=self.release.id if self.release else None,
                        gate_id=gate.gate,
                        digest=gate.digest,
                        outcome=gate.outcome.value,
                        policy_digest=policy_digest,
                        created_at=now,
                        created_by=self.ws.actor,
                        payload=json.dumps(payload, sort_keys=True),
                    )
                )
                evaluation_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
                for criterion in gate.criteria:
                    tx.conn.execute(
                        criterion_results.insert().values(
                            evaluation_id=evaluation_id,
                            criterion_ref=criterion.ref,
                            status=criterion.status.value,
                            measured=_numeric(criterion.measured),
                        )
                    )
                tx.record(
                    "gate.evaluated",
                    {
                        "release": self.release.version if self.release else None,
                        "gate": gate.gate,
                        "digest": gate.digest,
                        "outcome": gate.outcome.value,
                        "verdict": gate.verdict.value,
                        "policy_digest": policy_digest,
                        "commit": commit,
                        "criteria": {c.criterion: c.status.value for c in gate.criteria},
                    },
                )


@dataclass(frozen=True)
class StoredEvaluation:
    """The newest stored evaluation of a gate."""

    gate: str
    digest: str
    outcome: Outcome
    score: float | None
    criteria: tuple[CriterionResult, ...]
    created_at: str


def stored_result(ws: Workspace, release: Release | None, gate_id: str) -> GateResult | None:
    """A gate's verdict from its newest stored evaluation (None if never evaluated)."""
    loaded = ws.require_policy()
    gate = loaded.policy.gate(gate_id)
    if gate is None:
        return None
    with ws.store.read() as conn:
        stored = latest_evaluation(conn, release, gate_id)
        latest = (
            signoffs.latest_by_role(conn, release, signoffs.GATE, gate_id)
            if release is not None
            else {}
        )
    if stored is None:
        return None
    states = signoffs.states(loaded, gate.owners, latest, digest=stored.digest, release=release)
    outcome, score, reasons = aggregate(gate, stored.criteria)
    return _verdict(
        gate,
        criteria=stored.criteria,
        outcome=outcome,
        score=score,
        digest=stored.digest,
        states=states,
        reasons=reasons,
        release=release,
    )


def latest_evaluation(
    conn: Connection, release: Release | None, gate_id: str
) -> StoredEvaluation | None:
    """The newest evaluation of ``gate_id`` for ``release`` (or for no release)."""
    query = select(evaluations).where(evaluations.c.gate_id == gate_id)
    if release is None:
        query = query.where(evaluations.c.release_id.is_(None))
    else:
        query = query.where(evaluations.c.release_id == release.id)
    row = conn.execute(query.order_by(evaluations.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    payload = json.loads(row.payload)
    return StoredEvaluation(
        gate=gate_id,
        digest=row.digest,
        outcome=Outcome(row.outcome),
        score=payload.get("score"),
        criteria=tuple(CriterionResult.from_json(c) for c in payload.get("criteria", [])),
        created_at=row.created_at,
    )


def _verdict(
    gate: Gate,
    *,
    criteria: tuple[CriterionResult, ...],
    outcome: Outcome,
    score: float | None,
    digest: str,
    states: tuple[RoleSignoff, ...],
    reasons: list[str],
    release: Release | None,
) -> GateResult:
    reasons = list(reasons)
    for state in states:
        if state.state is SignoffState.MISSING:
            hint = "" if release else " (create a release first: `gonogo release create VERSION`)"
            reasons.append(f"needs sign-off by {state.role}{hint}")
        elif state.state is SignoffState.STALE:
            reasons.append(
                f"{state.role} sign-off by {state.identity} is stale: the evidence changed"
            )
        elif state.state is SignoffState.INVALID:
            reasons.append(
                f"{state.role} sign-off by {state.identity} is not valid under this policy"
            )
    signed = all(s.state is SignoffState.VALID for s in states)
    verdict = Verdict.GO if outcome is not Outcome.FAIL and signed else Verdict.NO_GO
    return GateResult(
        gate=gate.id,
        title=gate.title,
        phase=gate.phase,
        owners=gate.owners,
        criteria=criteria,
        outcome=outcome,
        score=score,
        digest=digest,
        signoffs=states,
        verdict=verdict,
        reasons=tuple(reasons),
    )


class _DaemonPool:
    """At most ``jobs`` collections at once, each in a daemon thread.

    Unlike ThreadPoolExecutor's workers, a daemon thread stuck in a hung check
    does not keep the process alive after the run has given up on it.
    """

    def __init__(self, jobs: int) -> None:
        self._slots = threading.BoundedSemaphore(max(1, jobs))
        self._futures: list[cf.Future[Observation]] = []

    def submit(self, item: PlannedCriterion, ctx: CheckContext) -> cf.Future[Observation]:
        future: cf.Future[Observation] = cf.Future()
        self._futures.append(future)

        def work() -> None:
            with self._slots:
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    future.set_result(item.check.collect(item.params, ctx))
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting run
                    future.set_exception(exc)

        threading.Thread(target=work, name=f"gonogo-check-{item.ref}", daemon=True).start()
        return future

    def cancel_queued(self) -> None:
        """Drop collections that have not started (the run is over or gave up)."""
        for future in self._futures:
            future.cancel()


def _any_exists(root: Path, globs: Iterable[str]) -> bool:
    for pattern in globs:
        if not any(ch in pattern for ch in "*?["):
            if (root / pattern).exists():
                return True
        elif next(iter(root.glob(pattern)), None) is not None:
            return True
    return False


def _waiver(waivers: Iterable[Waiver], ref: str) -> Waiver | None:
    return next((w for w in waivers if w.criterion == ref), None)


def _replace(result: CriterionResult, **changes: Any) -> CriterionResult:
    return replace(result, **changes)


def _with_duration(result: CriterionResult, elapsed: float) -> CriterionResult:
    return _replace(result, duration=elapsed) if elapsed else result


def _waived(result: CriterionResult, waiver: Waiver) -> CriterionResult:
    return _replace(
        result,
        status=Status.WAIVED,
        reason=f"waived until {waiver.expires} by {waiver.approver}: {waiver.reason} "
        f"(was {result.status.value}: {result.reason})",
        waiver={
            "reason": waiver.reason,
            "approver": waiver.approver,
            "expires": str(waiver.expires),
        },
    )


def _numeric(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
