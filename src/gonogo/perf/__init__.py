"""Performance baselines and reproducibility: timings, statistics, stored baselines, output diffs.

Used by the ``perf-baseline``, ``determinism`` and ``branch-guard`` check types. Every
expected failure here raises :class:`PerfError` (or a subclass) with one line and a hint.
"""

from __future__ import annotations

from gonogo.errors import GonogoError


class PerfError(GonogoError):
    """A measurement, baseline or comparison could not be made."""


class StatsUnavailable(PerfError):
    """numpy or scipy (the ``stats`` extra) is not installed."""
