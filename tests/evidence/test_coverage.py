"""Coverage reports written by real coverage.py (JSON and Cobertura XML) and other producers."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.errors import EvidenceError
from gonogo.evidence import CoverageReport, parse_coverage, parse_coverage_file

DATA = Path(__file__).parent / "data"
SAMPLE_PROJECT = DATA / "sample_project"


@pytest.fixture(scope="session")
def coverage_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project just measured by real `coverage run -m pytest`, `coverage json` and `xml`.

    The sample project's .coveragerc measures branches with ``source = src``, so the JSON
    names ``src/shop/orders.py`` while the XML names ``shop/orders.py`` relative to ``src``.
    """
    project = tmp_path_factory.mktemp("coverage") / "project"
    shutil.copytree(SAMPLE_PROJECT, project)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COVERAGE_"))}
    env |= {"HOME": str(project), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    commands = {
        ("run", "-m", "pytest", "-p", "no:cacheprovider"): 1,  # 1: the sample has failing tests
        ("json", "-o", "coverage.json"): 0,
        ("xml", "-o", "coverage.xml"): 0,
    }
    for arguments, expected in commands.items():
        result = subprocess.run(
            [sys.executable, "-m", "coverage", *arguments],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == expected, result.stdout + result.stderr
    return project


def _coverage_py_json(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((project / "coverage.json").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="session", params=["coverage.json", "coverage.xml"])
def real_report(request: pytest.FixtureRequest, coverage_run: Path) -> CoverageReport:
    """The JSON and then the XML report of the same real run."""
    return parse_coverage_file(coverage_run / str(request.param))


# -- real coverage.py ------------------------------------------------------------------------


def test_json_report_is_recognised_as_coverage_py(coverage_run: Path) -> None:
    report = parse_coverage_file(coverage_run / "coverage.json")
    assert report.format == "coverage.py-json"
    assert [f.path for f in report.files] == [
        "src/shop/__init__.py",
        "src/shop/billing.py",
        "src/shop/orders.py",
    ]


def test_xml_report_is_recognised_as_cobertura(coverage_run: Path) -> None:
    report = parse_coverage_file(coverage_run / "coverage.xml")
    assert report.format == "cobertura"
    assert [f.path for f in report.files] == [
        "shop/__init__.py",
        "shop/billing.py",
        "shop/orders.py",
    ]


def test_overall_percent_is_what_coverage_py_reports(
    real_report: CoverageReport, coverage_run: Path
) -> None:
    expected = _coverage_py_json(coverage_run)["totals"]["percent_covered"]
    assert real_report.percent == pytest.approx(expected, abs=0.01)


def test_json_and_xml_of_one_run_agree_on_the_total(coverage_run: Path) -> None:
    from_json = parse_coverage_file(coverage_run / "coverage.json")
    from_xml = parse_coverage_file(coverage_run / "coverage.xml")
    assert from_json.percent == pytest.approx(from_xml.percent, abs=0.01)
    for json_file, xml_file in zip(from_json.files, from_xml.files, strict=True):
        assert json_file.percent == pytest.approx(xml_file.percent, abs=0.01)


def test_critical_module_percent_matches_coverage_py(
    real_report: CoverageReport, coverage_run: Path
) -> None:
    files = _coverage_py_json(coverage_run)["files"]
    expected = files["src/shop/orders.py"]["summary"]["percent_covered"]
    assert real_report.percent_for("src/shop/orders.py") == pytest.approx(expected, abs=0.01)
    assert real_report.percent_for("shop.orders") == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    ("pattern", "selected"),
    [
        ("src/shop/orders.py", {"orders"}),
        ("shop/orders.py", {"orders"}),
        ("orders.py", {"orders"}),
        ("src/shop/**", {"__init__", "billing", "orders"}),
        ("src/shop/", {"__init__", "billing", "orders"}),
        ("src/shop", {"__init__", "billing", "orders"}),
        ("**/billing.py", {"billing"}),
        ("src/shop/[bo]*.py", {"billing", "orders"}),
        ("shop.orders", {"orders"}),
        ("shop.billing", {"billing"}),
        ("shop", {"__init__", "billing", "orders"}),
    ],
)
def test_pattern_forms_select_the_same_files_in_json_and_xml(
    real_report: CoverageReport, coverage_run: Path, pattern: str, selected: set[str]
) -> None:
    summaries = {
        Path(path).stem: entry["summary"]
        for path, entry in _coverage_py_json(coverage_run)["files"].items()
    }
    covered = sum(
        summaries[s]["covered_lines"] + summaries[s]["covered_branches"] for s in selected
    )
    total = sum(summaries[s]["num_statements"] + summaries[s]["num_branches"] for s in selected)
    assert real_report.percent_for(pattern) == pytest.approx(covered / total * 100, abs=0.01)


@pytest.mark.parametrize("pattern", ["shop.payments", "src/other/**", "lib/", "", "   "])
def test_pattern_that_matches_nothing_gives_none(real_report: CoverageReport, pattern: str) -> None:
    assert real_report.percent_for(pattern) is None


def test_module_with_nothing_to_cover_counts_as_fully_covered(
    real_report: CoverageReport,
) -> None:
    init = next(f for f in real_report.files if f.path.endswith("__init__.py"))
    assert (init.statements, init.branches) == (0, 0)
    assert init.percent == 100.0
    assert real_report.percent_for("shop/__init__.py") == 100.0


@pytest.mark.parametrize("name", ["coveragepy-report.json", "coveragepy-report.xml"])
def test_committed_reports_still_read_the_same(name: str) -> None:
    report = parse_coverage_file(DATA / name)
    assert report.percent == pytest.approx(14 / 19 * 100)
    assert report.percent_for("shop.orders") == pytest.approx(10 / 13 * 100)


# -- other producers -------------------------------------------------------------------------


def test_line_only_json_report_has_no_branches() -> None:
    # `coverage run` without --branch: the summaries carry no branch keys at all.
    report = parse_coverage(
        json.dumps(
            {
                "meta": {"format": 3, "branch_coverage": False},
                "files": {"app.py": {"summary": {"covered_lines": 3, "num_statements": 4}}},
                "totals": {"covered_lines": 3, "num_statements": 4, "percent_covered": 75.0},
            }
        ).encode(),
        source="lines.json",
    )
    assert report.percent == 75.0
    assert report.files[0].branches == 0
    assert report.percent_for("app") == 75.0


def test_cobertura_classes_sharing_a_file_are_merged_per_line() -> None:
    # JaCoCo-to-Cobertura and similar converters emit one <class> per Java (inner) class,
    # several of them naming the same file; older producers omit the root line counts.
    report = parse_coverage(
        b"""<?xml version="1.0"?>
        <coverage line-rate="0.5" branch-rate="0.5" version="1.9" timestamp="1714640000">
          <sources><source>src/main/java</source></sources>
          <packages><package name="com.acme.shop">
            <classes>
              <class name="com.acme.shop.Order" filename="com/acme/shop/Order.java">
                <methods/>
                <lines>
                  <line number="10" hits="4"/>
                  <line number="11" hits="0" branch="true" condition-coverage="50% (1/2)"/>
                  <line number="12" hits="0"/>
                </lines>
              </class>
              <class name="com.acme.shop.Order$Line" filename="com/acme/shop/Order.java">
                <lines><line number="12" hits="2"/><line number="20" hits="0"/></lines>
              </class>
            </classes>
          </package></packages>
        </coverage>""",
        source="cobertura.xml",
    )
    [order] = report.files
    assert (order.statements, order.covered, order.branches, order.covered_branches) == (
        4,
        2,
        2,
        1,
    )
    assert report.percent == pytest.approx(3 / 6 * 100)
    assert report.percent_for("com/acme/shop/**") == pytest.approx(50.0)


def test_istanbul_style_windows_paths_match_forward_slash_patterns() -> None:
    report = parse_coverage(
        b"""<coverage lines-valid="2" lines-covered="2" branches-valid="0" branches-covered="0">
          <packages><package name="src"><classes>
            <class name="cart.ts" filename="src\\cart\\cart.ts">
              <lines><line number="1" hits="1"/><line number="2" hits="7"/></lines>
            </class>
          </classes></package></packages>
        </coverage>""",
        source="cobertura-coverage.xml",
    )
    assert report.percent == 100.0
    assert report.percent_for("src/cart/**") == 100.0


# -- malformed input -------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE coverage [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<coverage lines-valid="1" lines-covered="1"><sources><source>&c;</source></sources></coverage>"""

MALFORMED = {
    "empty": (b"", "empty"),
    "plain-text": (b"TOTAL 120 30 75%", "neither coverage.py JSON nor Cobertura XML"),
    "truncated-xml": (b'<coverage lines-valid="3"><packages><package', "not well-formed"),
    "truncated-json": (b'{"files": {"a.py": {"summary": ', "not valid JSON"),
    "html": (b"<!DOCTYPE html>\n<html><head><title>404</title></head></html>", "HTML page"),
    "junit-instead": (b'<testsuite tests="1"/>', "expected <coverage>"),
    "json-list": (b"[1, 2, 3]", 'no "files" object'),
    "json-files-list": (b'{"files": ["a.py"]}', 'no "files" object'),
    "json-no-summary": (b'{"files": {"a.py": {"executed_lines": [1]}}}', '"summary"'),
    "json-text-count": (
        b'{"files": {"a.py": {"summary": {"num_statements": "ten", "covered_lines": 1}}}}',
        "'num_statements' is 'ten'",
    ),
    "json-negative-total": (
        b'{"files": {}, "totals": {"num_statements": -1, "covered_lines": 0}}',
        "'num_statements' is -1",
    ),
    "xml-negative": (b'<coverage lines-valid="-4" lines-covered="1"/>', "lines-valid='-4'"),
    "xml-bad-hits": (
        b'<coverage><packages><package><classes><class filename="a.py"><lines>'
        b'<line number="1" hits="lots"/></lines></class></classes></package></packages></coverage>',
        "hits='lots'",
    ),
    "xml-no-counts": (b"<coverage/>", "no line counts"),
    "xml-more-covered-than-valid": (
        b'<coverage lines-valid="2" lines-covered="5"/>',
        "claims 5 covered of only 2",
    ),
    "json-more-covered-than-statements": (
        b'{"files": {"a.py": {"summary": {"num_statements": 1, "covered_lines": 3}}}}',
        "claims 3 covered of only 1",
    ),
    "entity-bomb": (BILLION_LAUGHS, "DOCTYPE"),
    # a wrong-shaped "totals" used to be ignored, and a report of nothing passed at 100%
    "json-totals-text": (b'{"files": {}, "totals": "95%"}', '"totals" is str, expected an object'),
    "json-nothing-measured": (b'{"files": {}}', "measures no files and has no totals"),
}


@pytest.mark.parametrize(("data", "complaint"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_report_is_one_line_naming_the_file(data: bytes, complaint: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        parse_coverage(data, source="reports/coverage.out")
    message = str(caught.value)
    assert message.startswith("reports/coverage.out: ")
    assert complaint in message
    assert "\n" not in message


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(EvidenceError, match=re.escape(f"{missing}: cannot read")):
        parse_coverage_file(missing)


# -- properties --------------------------------------------------------------------------------


def _never_crashes(data: bytes) -> None:
    try:
        report = parse_coverage(data, source="fuzz")
    except EvidenceError as error:
        assert str(error).startswith("fuzz: ")
        assert "\n" not in str(error)
    else:
        assert 0.0 <= report.percent <= 100.0
        assert all(0.0 <= f.percent <= 100.0 for f in report.files)


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_a_report_or_an_evidence_error(data: bytes) -> None:
    _never_crashes(data)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["files", "totals", "summary", "num_statements", "covered_lines", "num_branches"]
            )
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=15,
)


@settings(deadline=None)
@given(_JSON)
def test_arbitrary_json_gives_a_report_or_an_evidence_error(value: object) -> None:
    _never_crashes(json.dumps(value).encode())
