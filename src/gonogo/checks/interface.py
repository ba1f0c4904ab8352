"""What a check type is: collect evidence, then judge it.

A check is two layers. :meth:`Check.collect` gathers evidence and measures
(reads a report, runs a command); :meth:`Check.judge` turns that observation
into a status against the criterion's threshold. The engine caches the
observation by a digest of :meth:`Check.inputs`, so an unchanged re-run skips
collection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef, Scalar, SignoffState, Status, Verdict
from gonogo.strict import StrictModel


class CheckError(GonogoError):
    """A check could not collect or judge its evidence; the result is *error*."""


class NotReported(CheckError):
    """The evidence a check reads has not been produced yet; the result is *not_reported*."""


class CheckParams(StrictModel):
    """Base of every check's parameter model: strict and frozen."""


@dataclass(frozen=True)
class Bound:
    """A resolved threshold: the bar a measured value must clear."""

    min: float | None = None
    max: float | None = None

    def describe(self) -> str:
        """Human form, e.g. ``>= 85`` or ``between 1 and 5``."""
        if self.min is not None and self.max is not None:
            return f"between {_num(self.min)} and {_num(self.max)}"
        if self.min is not None:
            return f">= {_num(self.min)}"
        if self.max is not None:
            return f"<= {_num(self.max)}"
        return "any"

    def admits(self, value: float) -> bool:
        """Whether ``value`` clears the bar."""
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)


def _num(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class CheckInputs:
    """What a check's result depends on; their digest keys the cache.

    ``files`` are read for their content digest; ``values`` hold anything else
    (command line, tool versions). ``cacheable=False`` opts out entirely.
    """

    files: tuple[Path, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    cacheable: bool = True


@dataclass(frozen=True)
class Observation:
    """What collection measured, before any judgement."""

    measured: Scalar
    details: Mapping[str, Any] = field(default_factory=dict)
    evidence: tuple[EvidenceRef, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form, stored in the result cache."""
        return {
            "measured": self.measured,
            "details": dict(self.details),
            "evidence": [e.to_json() for e in self.evidence],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Observation:
        """Inverse of :meth:`to_json`."""
        return cls(
            measured=data.get("measured"),
            details=dict(data.get("details") or {}),
            evidence=tuple(EvidenceRef.from_json(e) for e in data.get("evidence") or ()),
        )


@dataclass(frozen=True)
class Judgement:
    """A check's verdict on an observation."""

    status: Status
    reason: str
    expected: str | None = None


class GateLookup(Protocol):
    """Read access to other gates' state during a run (for ``gate`` and ``signoff``)."""

    def verdict(self, gate: str) -> Verdict | None:
        """The verdict of a gate evaluated earlier in this run, or None."""
        ...

    def signoff_states(self, gate: str) -> Mapping[str, SignoffState]:
        """Sign-off state per owner role of a gate evaluated earlier in this run."""
        ...


@dataclass(frozen=True)
class CheckContext:
    """What a check may use: the project, the deadline, other gates, ingested evidence."""

    root: Path
    gate: str
    criterion: str
    timeout: float
    gates: GateLookup
    ingested: Callable[[], Path | None]
    """Path of evidence pushed with ``gonogo ingest`` for this criterion, or None."""
    store_url: str | None = None
    """The URL of the store this run records into (``--database-url``), as given."""

    def resolve(self, relative: str) -> Path:
        """A path from the policy, relative to the project root."""
        path = Path(relative)
        return path if path.is_absolute() else self.root / path


@runtime_checkable
class Check(Protocol):
    """A check type. Implementations are classes registered by entry point."""

    name: ClassVar[str]
    version: ClassVar[str]
    params_model: ClassVar[type[CheckParams]]
    # optional class attributes the engine reads with getattr (defaults in brackets):
    # accepts_threshold [True]: a criterion's `threshold` applies to the measured value;
    # reads_evidence_files [True]: `source = "ingest"` can feed it a file;
    # lower_is_better [False]: direction for relative thresholds.

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """What the observation depends on (the cache key)."""
        ...

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Gather evidence and measure. Raises CheckError or NotReported."""
        ...

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Turn an observation into a status, against a resolved threshold."""
        ...
