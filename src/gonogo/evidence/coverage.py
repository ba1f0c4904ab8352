"""Read coverage reports: coverage.py JSON (``coverage json``) and Cobertura XML.

Cobertura XML is what ``coverage xml`` writes and what most other tools (Istanbul, gcovr,
JaCoCo converters) can write too. Percentages combine lines and branches the way coverage.py
does: ``(covered_lines + covered_branches) / (statements + branches) * 100``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal
from xml.etree.ElementTree import Element

from gonogo.errors import EvidenceError, one_line
from gonogo.evidence.xml import count_attribute, load_xml, local_name

CoverageFormat = Literal["coverage.py-json", "cobertura"]

_HINT = "pass the report of `coverage json` or `coverage xml` (Cobertura)"
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_CONDITION = re.compile(r"\((\d+)/(\d+)\)")
_GLOB_CHARS = frozenset("*?[")


def _percent(covered: int, total: int) -> float:
    return 100.0 if total == 0 else covered / total * 100.0


@dataclass(frozen=True)
class FileCoverage:
    """Line and branch counts of one measured file, with its path as the report spells it."""

    path: str
    statements: int
    covered: int
    branches: int
    covered_branches: int

    @property
    def percent(self) -> float:
        """Combined line and branch percent; 100.0 when there is nothing to cover."""
        return _percent(self.covered + self.covered_branches, self.statements + self.branches)


@dataclass(frozen=True)
class CoverageReport:
    """One coverage report: its overall percent and the files it measured."""

    format: CoverageFormat
    percent: float
    files: tuple[FileCoverage, ...]

    def percent_for(self, pattern: str) -> float | None:
        """Aggregate percent over the files ``pattern`` selects; None when it selects none.

        ``pattern`` is a path glob (``src/shop/orders.py``, ``src/shop/**``), a directory
        (``src/shop/``) or a dotted module or package name (``shop.orders``, ``shop``). It may
        match the end of a longer path, so ``shop/orders.py`` selects ``src/shop/orders.py``.
        Cobertura paths are relative to a source directory, so when nothing matches, leading
        directories are dropped from the pattern (``src/shop/**`` then selects
        ``shop/orders.py``).
        """
        forms = _pattern_forms(pattern)
        matched = _select(self.files, forms)
        if not matched:
            matched = _select(self.files, _without_leading_dirs(forms))
        if not matched:
            return None
        return _percent(
            sum(f.covered + f.covered_branches for f in matched),
            sum(f.statements + f.branches for f in matched),
        )


def parse_coverage(data: bytes, *, source: str) -> CoverageReport:
    """Parse coverage.py JSON or Cobertura XML, telling them apart by their first character.

    Raises :class:`EvidenceError` for anything that is not a readable coverage report.
    """
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if not start:
        raise EvidenceError(f"{source}: file is empty, expected a coverage report", hint=_HINT)
    if start in (b"{", b"["):
        return _parse_json(data, source)
    if start == b"<":
        return _parse_cobertura(data, source)
    raise EvidenceError(f"{source}: neither coverage.py JSON nor Cobertura XML", hint=_HINT)


def parse_coverage_file(path: Path) -> CoverageReport:
    """Read and parse a coverage report file; raises :class:`EvidenceError` if it cannot."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EvidenceError(
            f"{path}: cannot read coverage report ({error.strerror or error})", hint=_HINT
        ) from error
    return parse_coverage(data, source=str(path))


# -- coverage.py JSON ----------------------------------------------------------------------


def _parse_json(data: bytes, source: str) -> CoverageReport:
    try:
        document: object = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise EvidenceError(f"{source}: not valid JSON ({one_line(str(error))})") from error
    if not isinstance(document, dict) or not isinstance(document.get("files"), dict):
        raise EvidenceError(
            f'{source}: JSON is not a coverage.py report (no "files" object)', hint=_HINT
        )
    files = tuple(_json_file(str(name), entry, source) for name, entry in document["files"].items())
    totals = document.get("totals")
    if isinstance(totals, dict):
        covered, total = _json_counts(totals, "totals", source)
    elif totals is not None:
        raise EvidenceError(
            f'{source}: "totals" is {type(totals).__name__}, expected an object', hint=_HINT
        )
    elif not files:
        # coverage.py refuses to write a report without data; a file measuring nothing is
        # no evidence that anything was covered
        raise EvidenceError(
            f"{source}: the report measures no files and has no totals",
            hint="run the tests under coverage, then `coverage json`",
        )
    else:
        covered = sum(f.covered + f.covered_branches for f in files)
        total = sum(f.statements + f.branches for f in files)
    return CoverageReport("coverage.py-json", _percent(covered, total), files)


def _json_file(name: str, entry: object, source: str) -> FileCoverage:
    summary = entry.get("summary") if isinstance(entry, dict) else None
    if not isinstance(summary, dict):
        raise EvidenceError(f'{source}: file {name!r} has no "summary" object')
    where = f"summary of {name!r}"
    file = FileCoverage(
        path=name,
        statements=_json_int(summary, "num_statements", where, source),
        covered=_json_int(summary, "covered_lines", where, source),
        branches=_json_int(summary, "num_branches", where, source, optional=True),
        covered_branches=_json_int(summary, "covered_branches", where, source, optional=True),
    )
    _check_covered(file.covered, file.statements, f"{where}: lines", source)
    _check_covered(file.covered_branches, file.branches, f"{where}: branches", source)
    return file


def _json_counts(totals: Mapping[str, object], where: str, source: str) -> tuple[int, int]:
    """(covered lines + covered branches, statements + branches) of a totals object."""
    covered = _json_int(totals, "covered_lines", where, source)
    covered += _json_int(totals, "covered_branches", where, source, optional=True)
    total = _json_int(totals, "num_statements", where, source)
    total += _json_int(totals, "num_branches", where, source, optional=True)
    _check_covered(covered, total, where, source)
    return covered, total


def _json_int(
    mapping: Mapping[str, object], key: str, where: str, source: str, *, optional: bool = False
) -> int:
    value = mapping.get(key)
    if value is None and optional:  # absent when the run measured lines only
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EvidenceError(
            f"{source}: {where}: {key!r} is {one_line(repr(value))[:60]}, "
            "expected a non-negative whole number"
        )
    return value


# -- Cobertura XML -------------------------------------------------------------------------


def _parse_cobertura(data: bytes, source: str) -> CoverageReport:
    root = _xml_root(data, source)
    if local_name(root.tag) != "coverage":
        raise EvidenceError(
            f"{source}: root element is <{one_line(local_name(root.tag))}>, expected <coverage>",
            hint=_HINT,
        )
    lines_by_file: dict[str, dict[int, tuple[int, int, int]]] = {}
    for element in root.iterfind("packages/package/classes/class"):
        filename = element.get("filename", "").strip()
        if not filename:
            raise EvidenceError(
                f"{source}: <class name={element.get('name', '')!r}> has no filename"
            )
        lines = lines_by_file.setdefault(filename, {})
        for line in element.iterfind("lines/line"):
            number, hits, branches, taken = _cobertura_line(line, source)
            old_hits, old_branches, old_taken = lines.get(number, (0, 0, 0))
            lines[number] = (
                max(hits, old_hits),
                max(branches, old_branches),
                max(taken, old_taken),
            )
    files = tuple(_cobertura_file(name, lines) for name, lines in lines_by_file.items())
    return CoverageReport("cobertura", _cobertura_percent(root, files, source), files)


def _cobertura_line(line: Element, source: str) -> tuple[int, int, int, int]:
    """(number, hits, branches, covered branches) of one ``<line>``."""
    number = count_attribute(line, "number", source, optional=False)
    hits = count_attribute(line, "hits", source, optional=False)
    branches = taken = 0
    if line.get("branch", "").lower() == "true":
        match = _CONDITION.search(line.get("condition-coverage", ""))
        if match:
            taken, branches = int(match[1]), int(match[2])
    return number, hits, branches, min(taken, branches)


def _cobertura_file(name: str, lines: Mapping[int, tuple[int, int, int]]) -> FileCoverage:
    return FileCoverage(
        path=name,
        statements=len(lines),
        covered=sum(1 for hits, _, _ in lines.values() if hits > 0),
        branches=sum(branches for _, branches, _ in lines.values()),
        covered_branches=sum(taken for _, _, taken in lines.values()),
    )


def _cobertura_percent(root: Element, files: tuple[FileCoverage, ...], source: str) -> float:
    """The root's totals (what the producer measured), else the sum over files."""
    if root.get("lines-valid") is not None:
        covered = count_attribute(root, "lines-covered", source, optional=False) + count_attribute(
            root, "branches-covered", source
        )
        total = count_attribute(root, "lines-valid", source, optional=False) + count_attribute(
            root, "branches-valid", source
        )
        _check_covered(covered, total, "<coverage>", source)
        return _percent(covered, total)
    if files:
        return _percent(
            sum(f.covered + f.covered_branches for f in files),
            sum(f.statements + f.branches for f in files),
        )
    rate = root.get("line-rate", "").strip()
    try:
        percent = float(rate) * 100.0
    except ValueError:
        percent = math.nan
    if not 0.0 <= percent <= 100.0:
        raise EvidenceError(f"{source}: <coverage> has no line counts, files or valid line-rate")
    return percent


def _check_covered(covered: int, total: int, where: str, source: str) -> None:
    if covered > total:
        raise EvidenceError(f"{source}: {where} claims {covered} covered of only {total}")


def _xml_root(data: bytes, source: str) -> Element:
    return load_xml(data, source=source, what="a coverage report", hint=_HINT)


# -- selecting files by pattern ------------------------------------------------------------

_Form = tuple[str, ...]  # a pattern split into path segments; "**" spans any number of them


def _pattern_forms(pattern: str) -> list[_Form]:
    text = re.sub(r"/+", "/", pattern.strip().replace("\\", "/"))
    text = text.removeprefix("./")
    if not text:
        return []
    forms: list[_Form] = []
    if text.endswith("/"):
        forms.append((*_segments(text), "**"))
    elif _GLOB_CHARS.intersection(text):
        forms.append(_segments(text))
    else:
        forms += [_segments(text), (*_segments(text), "**")]
    if _DOTTED.fullmatch(text):
        *packages, module = text.split(".")
        forms += [(*packages, f"{module}.py"), (*packages, module, "**")]
    return forms


def _without_leading_dirs(forms: Iterable[_Form]) -> list[_Form]:
    shorter: list[_Form] = []
    for form in forms:
        rest = form
        while len(rest) > 2 and not _GLOB_CHARS.intersection(rest[0]):
            rest = rest[1:]
            shorter.append(rest)
    return shorter


def _select(files: Iterable[FileCoverage], forms: list[_Form]) -> list[FileCoverage]:
    return [f for f in files if any(_matches(form, _segments(f.path)) for form in forms)]


def _matches(form: _Form, path: _Form) -> bool:
    """Whether ``form`` matches ``path`` or a trailing part of it, segment by segment."""
    positions = set(range(len(path)))  # the pattern may start at any segment
    for segment in form:
        if not positions:
            return False
        if segment == "**":
            positions = set(range(min(positions), len(path) + 1))
        else:
            positions = {
                i + 1 for i in positions if i < len(path) and fnmatchcase(path[i], segment)
            }
    return len(path) in positions


def _segments(path: str) -> _Form:
    return tuple(re.sub(r"/+", "/", path.replace("\\", "/")).rstrip("/").split("/"))
