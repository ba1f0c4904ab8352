"""Parsers of the standard artifacts that checks read as evidence.

Each parser takes bytes (or a path) and returns frozen, typed values; anything unreadable
or malformed raises :class:`gonogo.errors.EvidenceError` with one line naming the file.
XML is parsed with ``defusedxml`` and any DOCTYPE is refused.
"""

from __future__ import annotations

from gonogo.evidence.coverage import (
    CoverageFormat,
    CoverageReport,
    FileCoverage,
    parse_coverage,
    parse_coverage_file,
)
from gonogo.evidence.junit import (
    JUnitCase,
    JUnitSummary,
    Outcome,
    merge,
    parse_junit,
    parse_junit_file,
)
from gonogo.evidence.markdown import Heading, headings, missing_sections

__all__ = [
    "CoverageFormat",
    "CoverageReport",
    "FileCoverage",
    "Heading",
    "JUnitCase",
    "JUnitSummary",
    "Outcome",
    "headings",
    "merge",
    "missing_sections",
    "parse_coverage",
    "parse_coverage_file",
    "parse_junit",
    "parse_junit_file",
]
