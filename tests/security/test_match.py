"""Version matching: semver precedence for npm, PEP 440 ranges for PyPI, on real PYSEC entries."""

from __future__ import annotations

import itertools

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gonogo.security.match import (
    UnknownEcosystem,
    is_affected,
    smallest_fix,
    upgrade_target,
)
from gonogo.security.osv import Affected, Range, parse_advisory
from gonogo.security.semver import InvalidSemver, Semver
from tests.security.osvdata import VULNS


def _affected(package: str, advisory: str) -> Affected:
    data = yaml.safe_load((VULNS / package / f"{advisory}.yaml").read_text(encoding="utf-8"))
    return parse_advisory(data).affected[0]


# -- semver -------------------------------------------------------------------------------

SPEC_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "2.0.0",
    "10.0.0",
]


def test_semver_precedence_is_the_one_semver_org_gives() -> None:
    parsed = [Semver.parse(v) for v in SPEC_ORDER]
    assert sorted(parsed[7:] + parsed[:7]) == parsed
    assert all(a < b for a, b in itertools.pairwise(parsed))


def test_build_metadata_is_ignored_and_v_prefix_accepted() -> None:
    assert Semver.parse("1.2.3+build.7") == Semver.parse("v1.2.3")
    assert str(Semver.parse("1.2.3-rc.1+b5")) == "1.2.3-rc.1+b5"


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-", "1.2.3-01", "a.b.c", ""])
def test_invalid_semver_is_refused(text: str) -> None:
    with pytest.raises(InvalidSemver):
        Semver.parse(text)


identifier = st.one_of(
    st.integers(0, 50).map(str), st.text("abcxyz-", min_size=1, max_size=4).map(lambda s: "x" + s)
)
versions = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + ("-" + ".".join(pre) if pre else ""),
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(0, 20),
    st.lists(identifier, max_size=3),
)


@given(versions, versions, versions)
def test_semver_order_is_total_and_transitive(a: str, b: str, c: str) -> None:
    x, y, z = Semver.parse(a), Semver.parse(b), Semver.parse(c)
    assert (x < y) + (y < x) + (x == y) == 1
    if x < y < z:
        assert x < z


@given(versions)
def test_a_prerelease_sorts_before_its_release(text: str) -> None:
    version = Semver.parse(text)
    release = Semver(version.major, version.minor, version.patch)
    assert version <= release
    assert (version == release) == (not version.prerelease)


# -- npm ranges (SEMVER events) ----------------------------------------------------------


def _npm(events: list[tuple[str, str]], versions: tuple[str, ...] = ()) -> Affected:
    return Affected("npm", "pkg", (Range("SEMVER", tuple(events)),), versions)


@pytest.mark.parametrize(
    ("version", "hit"),
    [
        ("6.9.9", False),
        ("7.0.0-beta.1", False),  # before the range opens at 7.0.0-rc.1
        ("7.0.0-rc.1", True),
        ("7.0.0-rc.2", True),
        ("7.0.0", True),
        ("7.5.1", True),
        ("7.5.2-alpha", True),  # a pre-release of the fix is still before the fix
        ("7.5.2", False),
        ("8.0.0", False),
    ],
)
def test_npm_semver_range_with_prereleases(version: str, hit: bool) -> None:
    affected = _npm([("introduced", "7.0.0-rc.1"), ("fixed", "7.5.2")])
    assert is_affected("npm", version, affected) is hit


def test_npm_last_affected_is_inclusive_and_versions_list_counts() -> None:
    affected = _npm([("introduced", "1.0.0"), ("last_affected", "1.2.0")], ("0.9.0",))
    assert is_affected("npm", "1.2.0", affected)
    assert not is_affected("npm", "1.2.1", affected)
    assert is_affected("npm", "0.9.0", affected)  # listed explicitly
    assert not is_affected("npm", "0.9.1", affected)


def test_unknown_ecosystem_is_refused() -> None:
    with pytest.raises(UnknownEcosystem):
        is_affected("Maven", "1.0", _npm([("introduced", "0")]))


# -- PyPI ranges on real advisories --------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "hit", "fix"),
    [
        # PYSEC-2023-192: events listed as [2.0.0, 2.0.6) then [0, 1.26.17), out of order
        ("1.26.16", True, "1.26.17"),
        ("1.26.17", False, None),
        ("1.26.18", False, None),
        ("2.0.0a1", False, None),  # a pre-release sorts before 2.0.0, after 1.26.x: not affected
        ("2.0.0", True, "2.0.6"),
        ("2.0.5", True, "2.0.6"),
        ("2.0.6", False, None),
        ("2.2.0", False, None),
    ],
)
def test_pypi_two_intervals_in_one_range(version: str, hit: bool, fix: str | None) -> None:
    affected = _affected("urllib3", "PYSEC-2023-192")
    assert is_affected("PyPI", version, affected) is hit
    if hit:
        assert smallest_fix("PyPI", version, affected) == fix


def test_pypi_last_affected_range_covers_unlisted_versions() -> None:
    # PYSEC-2022-42969: py through 1.11.0 (last_affected); 1.10.5 is not in its versions list
    affected = _affected("py", "PYSEC-2022-42969")
    assert "1.10.5" not in affected.versions
    assert is_affected("PyPI", "1.10.5", affected)
    assert is_affected("PyPI", "1.11.0", affected)
    assert not is_affected("PyPI", "1.11.1", affected)
    assert smallest_fix("PyPI", "1.11.0", affected) is None  # no fixed release exists


def test_pypi_versions_list_only_entry() -> None:
    # PYSEC-2024-1: gratient 0.5 carried malware; the entry has no ranges at all
    affected = _affected("gratient", "PYSEC-2024-1")
    assert affected.ranges == ()
    assert is_affected("PyPI", "0.5", affected)
    assert is_affected("PyPI", "0.5.0", affected)  # PEP 440 equality
    assert not is_affected("PyPI", "0.6", affected)


def test_pep440_normalisation_and_local_versions() -> None:
    affected = _affected("flask", "PYSEC-2023-62")  # [0, 2.2.5) and [2.3.0, 2.3.2)
    assert is_affected("PyPI", "2.2.4", affected)
    assert is_affected("PyPI", "2.2.4+local.1", affected)
    assert not is_affected("PyPI", "2.2.5", affected)
    assert not is_affected("PyPI", "2.3.0rc1", affected)  # between the two intervals
    assert is_affected("PyPI", "2.3.0", affected)
    assert is_affected("PyPI", "2.3.1", affected)
    assert smallest_fix("PyPI", "2.3.1", affected) == "2.3.2"
    assert not is_affected("PyPI", "2.3.2", affected)


def test_unparsable_installed_version_only_matches_the_list() -> None:
    affected = Affected("PyPI", "x", (Range("ECOSYSTEM", (("introduced", "0"),)),), ("weird-1",))
    assert is_affected("PyPI", "weird-1", affected)
    assert not is_affected("PyPI", "weird-2", affected)


def test_git_ranges_are_left_to_the_versions_list() -> None:
    affected = Affected("PyPI", "x", (Range("GIT", (("introduced", "abc123"),)),), ("1.0",))
    assert is_affected("PyPI", "1.0", affected)
    assert not is_affected("PyPI", "1.1", affected)


def test_upgrade_target_clears_every_advisory_of_the_package() -> None:
    found = [_affected("urllib3", "PYSEC-2023-192"), _affected("urllib3", "PYSEC-2023-212")]
    # 2.0.6 fixes the first, but the second ([2.0.0, 2.0.7)) still affects it
    assert upgrade_target("PyPI", "2.0.5", found) == "2.0.7"
    assert upgrade_target("PyPI", "1.26.16", found) == "1.26.18"


def test_the_snapshot_is_there() -> None:
    assert (VULNS / "urllib3").is_dir(), "the shared OSV snapshot is missing (../shared/osv)"
