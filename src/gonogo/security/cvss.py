"""CVSS base scores and severity bands.

* v3.0 and v3.1: the base-score formulas of the FIRST specifications, with
  each version's Roundup (v3.1's integer-exact one; v3.0's plain ceiling).
* v4.0: the MacroVector scoring of :mod:`gonogo.security.cvss4`.
* v2.0: the base equation, kept because older advisories carry only v2.

Severity bands (v3 and v4): none 0.0, low 0.1 to 3.9, medium 4.0 to 6.9, high
7.0 to 8.9, critical 9.0 to 10.0; v2 uses NVD's low < 4.0 <= medium < 7.0 <= high.
An advisory without any usable score is ``unknown``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from gonogo.security.cvss4 import score_v4
from gonogo.security.cvss_common import CvssError, parse_metrics

__all__ = ["CvssError", "Rating", "Severity", "band", "rate", "score_v2", "score_v3", "score_v4"]


class Severity(StrEnum):
    """Qualitative severity. ``unknown``: no score could be found or computed."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Order for thresholds: none 0 … critical 4; unknown -1 (handled apart)."""
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """A severity word; advisory spellings ``moderate`` and ``important`` are accepted."""
        word = text.strip().lower()
        word = {"moderate": "medium", "important": "high"}.get(word, word)
        return cls(word)


_RANK = {
    Severity.UNKNOWN: -1,
    Severity.NONE: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


def band(score: float) -> Severity:
    """The v3/v4 qualitative band of a base score."""
    if score <= 0.0:
        return Severity.NONE
    if score < 4.0:
        return Severity.LOW
    if score < 7.0:
        return Severity.MEDIUM
    if score < 9.0:
        return Severity.HIGH
    return Severity.CRITICAL


def _band_v2(score: float) -> Severity:
    if score < 4.0:
        return Severity.LOW
    if score < 7.0:
        return Severity.MEDIUM
    return Severity.HIGH


# -- v3 ----------------------------------------------------------------------------------

_V3_ALLOWED = {
    "AV": ("N", "A", "L", "P"),
    "AC": ("L", "H"),
    "PR": ("N", "L", "H"),
    "UI": ("N", "R"),
    "S": ("U", "C"),
    "C": ("H", "L", "N"),
    "I": ("H", "L", "N"),
    "A": ("H", "L", "N"),
    # temporal and environmental metrics may be present; the base score ignores them
    "E": ("X", "U", "P", "F", "H"),
    "RL": ("X", "O", "T", "W", "U"),
    "RC": ("X", "U", "R", "C"),
    "CR": ("X", "L", "M", "H"),
    "IR": ("X", "L", "M", "H"),
    "AR": ("X", "L", "M", "H"),
    "MAV": ("X", "N", "A", "L", "P"),
    "MAC": ("X", "L", "H"),
    "MPR": ("X", "N", "L", "H"),
    "MUI": ("X", "N", "R"),
    "MS": ("X", "U", "C"),
    "MC": ("X", "N", "L", "H"),
    "MI": ("X", "N", "L", "H"),
    "MA": ("X", "N", "L", "H"),
}
_V3_BASE = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}


def _roundup_31(value: float) -> float:
    """CVSS v3.1 Appendix A Roundup: exact to 5 decimals, so 4.000000000001 stays 4.0."""
    as_int = round(value * 100_000)
    if as_int % 10_000 == 0:
        return as_int / 100_000.0
    return (math.floor(as_int / 10_000) + 1) / 10.0


def _roundup_30(value: float) -> float:
    """CVSS v3.0 Roundup: the smallest one-decimal number at or above the value."""
    return math.ceil(value * 10) / 10


def score_v3(vector: str) -> float:
    """The base score of a ``CVSS:3.0/…`` or ``CVSS:3.1/…`` vector."""
    version = vector.strip().split("/", 1)[0]
    if version not in ("CVSS:3.0", "CVSS:3.1"):
        raise CvssError(f"CVSS vector {vector!r} does not start with CVSS:3.0/ or CVSS:3.1/")
    m = parse_metrics(vector, prefix=version, allowed=_V3_ALLOWED, required=_V3_BASE)
    roundup = _roundup_31 if version == "CVSS:3.1" else _roundup_30
    changed = m["S"] == "C"
    iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    pr = (_PR_CHANGED if changed else _PR_UNCHANGED)[m["PR"]]
    exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * pr * _UI[m["UI"]]
    if impact <= 0:
        return 0.0
    if changed:
        return roundup(min(1.08 * (impact + exploitability), 10))
    return roundup(min(impact + exploitability, 10))


# -- v2 ----------------------------------------------------------------------------------

_V2_ALLOWED = {
    "AV": ("L", "A", "N"),
    "AC": ("H", "M", "L"),
    "Au": ("M", "S", "N"),
    "C": ("N", "P", "C"),
    "I": ("N", "P", "C"),
    "A": ("N", "P", "C"),
    "E": ("U", "POC", "F", "H", "ND"),
    "RL": ("OF", "TF", "W", "U", "ND"),
    "RC": ("UC", "UR", "C", "ND"),
    "CDP": ("N", "L", "LM", "MH", "H", "ND"),
    "TD": ("N", "L", "M", "H", "ND"),
    "CR": ("L", "M", "H", "ND"),
    "IR": ("L", "M", "H", "ND"),
    "AR": ("L", "M", "H", "ND"),
}
_V2_BASE = ("AV", "AC", "Au", "C", "I", "A")
_V2_AV = {"L": 0.395, "A": 0.646, "N": 1.0}
_V2_AC = {"H": 0.35, "M": 0.61, "L": 0.71}
_V2_AU = {"M": 0.45, "S": 0.56, "N": 0.704}
_V2_CIA = {"N": 0.0, "P": 0.275, "C": 0.660}


def score_v2(vector: str) -> float:
    """The base score of a CVSS v2 vector (``AV:N/AC:L/Au:N/C:P/I:P/A:P``, optionally
    in parentheses or prefixed ``CVSS:2.0/``)."""
    text = vector.strip().strip("()")
    text = text.removeprefix("CVSS:2.0/")
    m = parse_metrics(text, prefix=None, allowed=_V2_ALLOWED, required=_V2_BASE)
    impact = 10.41 * (1 - (1 - _V2_CIA[m["C"]]) * (1 - _V2_CIA[m["I"]]) * (1 - _V2_CIA[m["A"]]))
    exploitability = 20 * _V2_AV[m["AV"]] * _V2_AC[m["AC"]] * _V2_AU[m["Au"]]
    f_impact = 0.0 if impact == 0 else 1.176
    raw = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f_impact
    return float(Decimal(repr(round(raw, 10))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# -- rating an advisory ------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """How severe an advisory is, and where that came from."""

    severity: Severity
    score: float | None = None
    vector: str | None = None
    method: str = "none"
    """``CVSS:4.0``, ``CVSS:3.1``, ``CVSS:3.0``, ``CVSS:2.0``, ``advisory`` (the
    database's qualitative word) or ``none``."""
    note: str = ""


_PREFERENCE = {"CVSS:4.0": 0, "CVSS:3.1": 1, "CVSS:3.0": 2, "CVSS:2.0": 3}


def _score(kind: str, vector: str) -> tuple[str, float]:
    text = vector.strip()
    if kind == "CVSS_V4" or text.startswith("CVSS:4.0/"):
        return "CVSS:4.0", score_v4(text)
    if kind == "CVSS_V3" or text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
        return text.split("/", 1)[0], score_v3(text)
    if kind == "CVSS_V2":
        return "CVSS:2.0", score_v2(text)
    raise CvssError(f"severity type {kind!r} is not a CVSS vector")


def rate(severity: Iterable[tuple[str, str]], database_severity: str | None = None) -> Rating:
    """Rate an advisory from its OSV ``severity`` entries (the newest CVSS version wins),
    else from ``database_specific.severity``, else ``unknown``."""
    scored: list[tuple[int, str, str, float]] = []
    problems: list[str] = []
    for kind, vector in severity:
        try:
            method, value = _score(kind, vector)
        except CvssError as exc:
            problems.append(str(exc))
            continue
        scored.append((_PREFERENCE[method], method, vector.strip(), value))
    note = "; ".join(problems)
    if scored:
        _, method, vector, value = min(scored)
        level = _band_v2(value) if method == "CVSS:2.0" else band(value)
        return Rating(level, value, vector, method, note)
    if database_severity:
        try:
            level = Severity.parse(database_severity)
        except ValueError:
            level = Severity.UNKNOWN
        if level is not Severity.UNKNOWN:
            why = "no CVSS vector: severity word of the advisory database"
            return Rating(level, None, None, "advisory", "; ".join(filter(None, [why, note])))
    return Rating(Severity.UNKNOWN, None, None, "none", note or "the advisory carries no score")
