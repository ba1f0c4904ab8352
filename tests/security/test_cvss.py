"""CVSS scoring: v3.0/v3.1 base formulas, v4.0 MacroVector scoring, v2, bands, ratings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonogo.security.cvss import (
    CvssError,
    Severity,
    _roundup_30,
    _roundup_31,
    band,
    rate,
    score_v2,
    score_v3,
    score_v4,
)


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        # by hand: ISS .56, impact 6.42*.56 = 3.595, exploitability 8.22*.85*.77*.85*.85 = 3.887
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),
        # ISS .9148, impact 5.873; exploitability 8.22*.55*.77*.62*.85 = 1.835; 7.708 -> 7.8
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        # scope changed: 1.08 * (6.048 + 3.887) > 10 -> capped at 10.0
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        # ISS .22, impact 1.412; exploitability 8.22*.2*.44*.27*.62 = 0.121; 1.534 -> 1.6
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        # PR:L weighs .68 when scope changes: ISS .3916, impact 2.727, exploitability 3.110;
        # 1.08 * 5.837 = 6.304 -> 6.4
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
        # urllib3's PYSEC-2023-192 in the shared snapshot
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N", 8.1),
        ("CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", 4.2),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        # temporal and environmental metrics are allowed and do not change the base score
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C", 9.8),
    ],
)
def test_v3_base_scores_follow_the_specification(vector: str, expected: float) -> None:
    assert score_v3(vector) == expected


def test_v31_roundup_is_exact_where_v30_ceiling_overshoots() -> None:
    # CVSS v3.1 Appendix A: 4.000000000000001 must round up to 4.0, not 4.1
    assert _roundup_31(4.000000000000001) == 4.0
    assert _roundup_31(4.02) == 4.1
    assert _roundup_30(4.000000000000001) == 4.1


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9),
        ("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.6),
        ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:L/VI:L/VA:N/SC:H/SI:N/SA:N", 4.9),
        ("CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N", 4.0),
        ("CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:L/VA:L/SC:L/SI:N/SA:N", 1.8),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0),
        # threat and environmental metrics take part (E:A is the default; MAV:A lowers it)
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A", 8.7),
        # by hand: E:U moves 000200 (9.3) to MacroVector 000220, whose table score is 8.1;
        # the vector is that MacroVector's highest, so nothing is subtracted
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 8.1),
    ],
)
def test_v4_scores_match_the_first_calculator(vector: str, expected: float) -> None:
    assert score_v4(vector) == expected


def test_v2_base_scores() -> None:
    assert score_v2("AV:N/AC:L/Au:N/C:P/I:P/A:P") == 7.5
    assert score_v2("(AV:N/AC:L/Au:N/C:C/I:C/A:C)") == 10.0
    assert score_v2("AV:N/AC:M/Au:N/C:N/I:P/A:N") == 4.3


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # bad value
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # twice
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",  # unknown metric
        "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # unknown version
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # no prefix
        "",
    ],
)
def test_malformed_v3_vectors_are_refused(vector: str) -> None:
    with pytest.raises(CvssError):
        score_v3(vector)


def test_malformed_v4_vector_is_refused() -> None:
    with pytest.raises(CvssError, match="lacks base metrics"):
        score_v4("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H")


@pytest.mark.parametrize(
    ("score", "level"),
    [(0.0, "none"), (0.1, "low"), (3.9, "low"), (4.0, "medium"), (6.9, "medium"),
     (7.0, "high"), (8.9, "high"), (9.0, "critical"), (10.0, "critical")],
)  # fmt: skip
def test_severity_bands(score: float, level: str) -> None:
    assert band(score) is Severity(level)


def test_rating_prefers_v4_then_v3_and_notes_bad_vectors() -> None:
    rating = rate(
        [
            ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            ("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N"),
            ("CVSS_V3", "CVSS:3.1/garbage"),
        ]
    )
    assert (rating.method, rating.score, rating.severity) == ("CVSS:4.0", 6.9, Severity.MEDIUM)
    assert "garbage" in rating.note


def test_rating_falls_back_to_the_database_word_then_unknown() -> None:
    word = rate([], "MODERATE")
    assert (word.severity, word.score, word.method) == (Severity.MEDIUM, None, "advisory")
    assert rate([]).severity is Severity.UNKNOWN
    assert rate([("CVSS_V3", "not a vector")]).severity is Severity.UNKNOWN


_V3_METRICS = {
    "AV": "NALP",
    "AC": "LH",
    "PR": "NLH",
    "UI": "NR",
    "S": "UC",
}
_IMPACT = "NLH"  # ascending


def _v3(base: dict[str, str], cia: tuple[str, str, str]) -> str:
    parts = [f"{k}:{v}" for k, v in base.items()]
    parts += [f"{k}:{v}" for k, v in zip(("C", "I", "A"), cia, strict=True)]
    return "CVSS:3.1/" + "/".join(parts)


def _v4(base: dict[str, str], impacts: tuple[str, ...]) -> str:
    parts = [f"{k}:{v}" for k, v in base.items()]
    keys = ("VC", "VI", "VA", "SC", "SI", "SA")
    parts += [f"{k}:{v}" for k, v in zip(keys, impacts, strict=True)]
    return "CVSS:4.0/" + "/".join(parts)


v3_base = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _V3_METRICS.items()})
v4_base = st.fixed_dictionaries(
    {
        "AV": st.sampled_from("NALP"),
        "AC": st.sampled_from("LH"),
        "AT": st.sampled_from("NP"),
        "PR": st.sampled_from("NLH"),
        "UI": st.sampled_from("NPA"),
    }
)
impact = st.sampled_from(_IMPACT)


@given(v3_base, st.tuples(impact, impact, impact), st.integers(0, 2))
def test_v3_scores_are_in_range_and_monotone_in_impact(
    base: dict[str, str], cia: tuple[str, str, str], which: int
) -> None:
    score = score_v3(_v3(base, cia))
    assert 0.0 <= score <= 10.0
    if cia[which] != "H":
        raised = list(cia)
        raised[which] = _IMPACT[_IMPACT.index(cia[which]) + 1]
        assert score_v3(_v3(base, (raised[0], raised[1], raised[2]))) >= score


@given(v4_base, st.tuples(*[impact] * 6), st.integers(0, 5))
def test_v4_scores_are_in_range_and_monotone_in_impact(
    base: dict[str, str], impacts: tuple[str, ...], which: int
) -> None:
    score = score_v4(_v4(base, impacts))
    assert 0.0 <= score <= 10.0
    if impacts[which] != "H":
        raised = list(impacts)
        raised[which] = _IMPACT[_IMPACT.index(impacts[which]) + 1]
        assert score_v4(_v4(base, tuple(raised))) >= score
