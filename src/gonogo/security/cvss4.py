"""CVSS v4.0 scores: the MacroVector lookup and interpolation of the FIRST specification.

A vector falls in one MacroVector (six equivalence classes EQ1..EQ6); the
MacroVector's score, taken from the table FIRST's experts set, belongs to its
highest-severity vectors. The vector's own score moves down from there by the
mean, over the EQs, of (its severity distance from the highest vector / the
depth of the MacroVector) * (the score gap to the next lower MacroVector).
This follows section 8 of the specification and its reference calculator
(FIRST, Red Hat and contributors, BSD-2-Clause), whose table is reproduced
below; arithmetic is IEEE double, as there, so the results agree.
"""

from __future__ import annotations

import math
from itertools import product

from gonogo.security.cvss_common import parse_metrics

BASE = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")
ALLOWED: dict[str, tuple[str, ...]] = {
    "AV": ("N", "A", "L", "P"),
    "AC": ("L", "H"),
    "AT": ("N", "P"),
    "PR": ("N", "L", "H"),
    "UI": ("N", "P", "A"),
    "VC": ("H", "L", "N"),
    "VI": ("H", "L", "N"),
    "VA": ("H", "L", "N"),
    "SC": ("H", "L", "N"),
    "SI": ("H", "L", "N"),
    "SA": ("H", "L", "N"),
    "E": ("X", "A", "P", "U"),
    "CR": ("X", "H", "M", "L"),
    "IR": ("X", "H", "M", "L"),
    "AR": ("X", "H", "M", "L"),
    "MAV": ("X", "N", "A", "L", "P"),
    "MAC": ("X", "L", "H"),
    "MAT": ("X", "N", "P"),
    "MPR": ("X", "N", "L", "H"),
    "MUI": ("X", "N", "P", "A"),
    "MVC": ("X", "H", "L", "N"),
    "MVI": ("X", "H", "L", "N"),
    "MVA": ("X", "H", "L", "N"),
    "MSC": ("X", "H", "L", "N"),
    "MSI": ("X", "S", "H", "L", "N"),
    "MSA": ("X", "S", "H", "L", "N"),
    "S": ("X", "N", "P"),
    "AU": ("X", "N", "Y"),
    "R": ("X", "A", "U", "I"),
    "V": ("X", "D", "C"),
    "RE": ("X", "L", "M", "H"),
    "U": ("X", "Clear", "Green", "Amber", "Red"),
}

# MacroVector scores by EQ1 EQ2 EQ3, listed over EQ4 EQ5 EQ6 in ascending order
# (EQ3 = 2 only exists with EQ6 = 1)
_SUFFIX_FULL = [f"{a}{b}{c}" for a, b, c in product("012", "012", "01")]
_SUFFIX_EQ3_2 = [f"{a}{b}1" for a, b in product("012", "012")]
_ROWS: dict[str, tuple[float, ...]] = {
    "000": (10, 9.9, 9.8, 9.5, 9.5, 9.2, 10, 9.6, 9.3,
            8.7, 9.1, 8.1, 9.3, 9, 8.9, 8, 8.1, 6.8),
    "001": (9.8, 9.5, 9.5, 9.2, 9, 8.4, 9.3, 9.2, 8.9,
            8.1, 8.1, 6.5, 8.8, 8, 7.8, 7, 6.9, 4.8),
    "002": (9.2, 8.2, 7.2, 7.9, 6.9, 5, 6.9, 5.5, 2.7),
    "010": (9.9, 9.7, 9.5, 9.2, 9.2, 8.5, 9.5, 9.1, 9,
            8.3, 8.4, 7.1, 9.2, 8.1, 8.2, 7.1, 7.2, 5.3),
    "011": (9.5, 9.3, 9.2, 8.5, 8.5, 7.3, 9.2, 8.2, 8,
            7.2, 7, 5.9, 8.4, 7, 7.1, 5.2, 5, 3),
    "012": (8.6, 7.5, 5.2, 7.1, 5.2, 2.9, 6.3, 2.9, 1.7),
    "100": (9.8, 9.5, 9.4, 8.7, 9.1, 8.1, 9.4, 8.9, 8.6,
            7.4, 7.7, 6.4, 8.7, 7.5, 7.4, 6.3, 6.3, 4.9),
    "101": (9.4, 8.9, 8.8, 7.7, 7.6, 6.7, 8.6, 7.6, 7.4,
            5.8, 5.9, 5, 7.2, 5.7, 5.7, 5.2, 5.2, 2.5),
    "102": (8.3, 7, 5.4, 6.5, 5.8, 2.6, 5.3, 2.1, 1.3),
    "110": (9.5, 9, 8.8, 7.6, 7.6, 7, 9, 7.7, 7.5,
            6.2, 6.1, 5.3, 7.7, 6.6, 6.8, 5.9, 5.2, 3),
    "111": (8.9, 7.8, 7.6, 6.7, 6.2, 5.8, 7.4, 5.9, 5.7,
            5.7, 4.7, 2.3, 6.1, 5.2, 5.7, 2.9, 2.4, 1.6),
    "112": (7.1, 5.9, 3, 5.8, 2.6, 1.5, 2.3, 1.3, 0.6),
    "200": (9.3, 8.7, 8.6, 7.2, 7.5, 5.8, 8.6, 7.4, 7.4,
            6.1, 5.6, 3.4, 7, 5.4, 5.2, 4, 4, 2.2),
    "201": (8.5, 7.5, 7.4, 5.5, 6.2, 5.1, 7.2, 5.7, 5.5,
            4.1, 4.6, 1.9, 5.3, 3.6, 3.4, 1.9, 1.9, 0.8),
    "202": (6.4, 5.1, 2, 4.7, 2.1, 1.1, 2.4, 0.9, 0.4),
    "210": (8.8, 7.5, 7.3, 5.3, 6, 5, 7.3, 5.5, 5.9,
            4, 4.1, 2, 5.4, 4.3, 4.5, 2.2, 2, 1.1),
    "211": (7.5, 5.5, 5.8, 4.5, 4, 2.1, 6.1, 5.1, 4.8,
            1.8, 2, 0.9, 4.6, 1.8, 1.7, 0.7, 0.8, 0.2),
    "212": (5.3, 2.4, 1.4, 2.4, 1.2, 0.5, 1, 0.3, 0.1),
}  # fmt: skip
LOOKUP: dict[str, float] = {
    prefix + suffix: float(score)
    for prefix, scores in _ROWS.items()
    for suffix, score in zip(
        _SUFFIX_EQ3_2 if prefix[2] == "2" else _SUFFIX_FULL, scores, strict=True
    )
}

_LEVELS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.0, "A": 0.1, "L": 0.2, "P": 0.3},
    "PR": {"N": 0.0, "L": 0.1, "H": 0.2},
    "UI": {"N": 0.0, "P": 0.1, "A": 0.2},
    "AC": {"L": 0.0, "H": 0.1},
    "AT": {"N": 0.0, "P": 0.1},
    "VC": {"H": 0.0, "L": 0.1, "N": 0.2},
    "VI": {"H": 0.0, "L": 0.1, "N": 0.2},
    "VA": {"H": 0.0, "L": 0.1, "N": 0.2},
    "SC": {"H": 0.1, "L": 0.2, "N": 0.3},
    "SI": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
    "SA": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
    "CR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "IR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "AR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "E": {"U": 0.2, "P": 0.1, "A": 0.0},
}

# the highest-severity vectors of each EQ class (EQ3 keyed by EQ3 then EQ6)
_MAX_EQ1 = {0: ["AV:N/PR:N/UI:N"], 1: ["AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"],
            2: ["AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"]}  # fmt: skip
_MAX_EQ2 = {0: ["AC:L/AT:N"], 1: ["AC:H/AT:N", "AC:L/AT:P"]}
_MAX_EQ3_EQ6 = {
    (0, 0): ["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"],
    (0, 1): ["VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"],
    (1, 0): ["VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"],
    (1, 1): [
        "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H",
        "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
        "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
        "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
        "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M",
    ],
    (2, 1): ["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"],
}
_MAX_EQ4 = {0: ["SC:H/SI:S/SA:S"], 1: ["SC:H/SI:H/SA:H"], 2: ["SC:L/SI:L/SA:L"]}
_MAX_EQ5 = {0: ["E:A"], 1: ["E:P"], 2: ["E:U"]}

# depth of each MacroVector (max severity distance + 1), in steps of 0.1
_DEPTH_EQ1 = {0: 1, 1: 4, 2: 5}
_DEPTH_EQ2 = {0: 1, 1: 2}
_DEPTH_EQ3_EQ6 = {(0, 0): 7, (0, 1): 6, (1, 0): 8, (1, 1): 8, (2, 1): 10}
_DEPTH_EQ4 = {0: 6, 1: 5, 2: 4}
_STEP = 0.1

_WORST_DEFAULTS = {"E": "A", "CR": "H", "IR": "H", "AR": "H"}


def parse_v4(vector: str) -> dict[str, str]:
    """The metrics of a ``CVSS:4.0/…`` vector, every optional one defaulting to ``X``."""
    metrics = parse_metrics(vector, prefix="CVSS:4.0", allowed=ALLOWED, required=BASE)
    return {key: metrics.get(key, "X") for key in ALLOWED}


def _effective(metrics: dict[str, str], metric: str) -> str:
    value = metrics.get(metric, "X")
    if value == "X" and metric in _WORST_DEFAULTS:
        return _WORST_DEFAULTS[metric]
    modified = metrics.get("M" + metric, "X")
    if modified != "X":
        return modified
    return value


def macro_vector(metrics: dict[str, str]) -> str:
    """The six EQ classes of a parsed vector, e.g. ``"002201"``."""

    def m(name: str) -> str:
        return _effective(metrics, name)

    av, pr, ui = m("AV"), m("PR"), m("UI")
    if av == "N" and pr == "N" and ui == "N":
        eq1 = 0
    elif (av == "N" or pr == "N" or ui == "N") and av != "P":
        eq1 = 1
    else:
        eq1 = 2
    eq2 = 0 if (m("AC") == "L" and m("AT") == "N") else 1
    vc, vi, va = m("VC"), m("VI"), m("VA")
    if vc == "H" and vi == "H":
        eq3 = 0
    elif "H" in (vc, vi, va):
        eq3 = 1
    else:
        eq3 = 2
    if m("MSI") == "S" or m("MSA") == "S":
        eq4 = 0
    elif "H" in (m("SC"), m("SI"), m("SA")):
        eq4 = 1
    else:
        eq4 = 2
    eq5 = {"A": 0, "P": 1, "U": 2}[m("E")]
    high = (m("CR") == "H" and vc == "H") or (m("IR") == "H" and vi == "H")
    eq6 = 0 if high or (m("AR") == "H" and va == "H") else 1
    return f"{eq1}{eq2}{eq3}{eq4}{eq5}{eq6}"


def _parts(text: str) -> dict[str, str]:
    return dict(part.split(":") for part in text.split("/"))


def score_v4(vector: str) -> float:
    """The CVSS v4.0 score (CVSS-B, -BT, -BE or -BTE, whichever metrics it carries)."""
    metrics = parse_v4(vector)
    if all(_effective(metrics, k) == "N" for k in ("VC", "VI", "VA", "SC", "SI", "SA")):
        return 0.0
    macro = macro_vector(metrics)
    eq1, eq2, eq3, eq4, eq5, eq6 = (int(c) for c in macro)
    value = LOOKUP[macro]

    def lower(*eqs: int) -> float | None:
        return LOOKUP.get("".join(str(e) for e in eqs))

    lower_eq1 = lower(eq1 + 1, eq2, eq3, eq4, eq5, eq6)
    lower_eq2 = lower(eq1, eq2 + 1, eq3, eq4, eq5, eq6)
    if (eq3, eq6) == (0, 0):
        left = lower(eq1, eq2, eq3, eq4, eq5, eq6 + 1)
        right = lower(eq1, eq2, eq3 + 1, eq4, eq5, eq6)
        lower_eq3eq6 = None if left is None or right is None else max(left, right)
    elif (eq3, eq6) == (1, 0):
        lower_eq3eq6 = lower(eq1, eq2, eq3, eq4, eq5, eq6 + 1)
    elif (eq3, eq6) in ((0, 1), (1, 1)):
        lower_eq3eq6 = lower(eq1, eq2, eq3 + 1, eq4, eq5, eq6)
    else:
        lower_eq3eq6 = None  # 21 → 32 does not exist
    lower_eq4 = lower(eq1, eq2, eq3, eq4 + 1, eq5, eq6)
    lower_eq5 = lower(eq1, eq2, eq3, eq4, eq5 + 1, eq6)

    distances = _distances(metrics, eq1, eq2, eq3, eq4, eq5, eq6)
    current = (
        distances["AV"] + distances["PR"] + distances["UI"],
        distances["AC"] + distances["AT"],
        distances["VC"] + distances["VI"] + distances["VA"]
        + distances["CR"] + distances["IR"] + distances["AR"],
        distances["SC"] + distances["SI"] + distances["SA"],
    )  # fmt: skip
    depths = (
        _DEPTH_EQ1[eq1] * _STEP,
        _DEPTH_EQ2[eq2] * _STEP,
        _DEPTH_EQ3_EQ6[(eq3, eq6)] * _STEP,
        _DEPTH_EQ4[eq4] * _STEP,
    )
    total = 0.0
    existing = 0
    for below, distance, depth in zip(
        (lower_eq1, lower_eq2, lower_eq3eq6, lower_eq4), current, depths, strict=True
    ):
        if below is not None:
            existing += 1
            total += (value - below) * (distance / depth)
    if lower_eq5 is not None:
        existing += 1  # EQ5 has no depth: its proportion is always 0
    mean = total / existing if existing else 0.0
    return _round_half_up(max(0.0, min(10.0, value - mean)))


def _distances(metrics: dict[str, str], *eqs: int) -> dict[str, float]:
    eq1, eq2, eq3, eq4, eq5, eq6 = eqs
    distances: dict[str, float] = {}
    for combo in product(
        _MAX_EQ1[eq1], _MAX_EQ2[eq2], _MAX_EQ3_EQ6[(eq3, eq6)], _MAX_EQ4[eq4], _MAX_EQ5[eq5]
    ):
        highest = _parts("/".join(combo))
        distances = {
            name: levels[_effective(metrics, name)] - levels[highest[name]]
            for name, levels in _LEVELS.items()
        }
        if all(d >= 0 for d in distances.values()):
            break  # the first highest vector at or above this one; else, as the reference
            # calculator does, the last one tried
    return distances


def _round_half_up(value: float) -> float:
    """One decimal, halves away from zero (JavaScript's Math.round on positives)."""
    return math.floor(value * 10 + 0.5) / 10
