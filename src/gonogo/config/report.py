"""``gonogo env scan`` and ``gonogo env check`` as report documents (``--format html``…).

Built from the same inventory, scan result and drift the text and JSON output show:
each variable with its type, flags, default, where it is read and where config files
define it; the variables defined but never read; the scan's warnings; and every
difference between the code and the inventory. A secret's value never appears: the
scan writes down no default for a secret, and a default is hidden here whenever the
variable is marked secret (by hand, say).
:mod:`gonogo.report.document` renders them as Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from gonogo.config.build import Difference
from gonogo.config.inventory import Inventory, Variable
from gonogo.config.scan import ScanResult
from gonogo.report.document import MISSING, Document, Outcome, Section, Table
from gonogo.report.markdown import code_cell, escape_inline

__all__ = [
    "CheckVerdict",
    "check_document",
    "check_summary",
    "check_verdict",
    "scan_document",
    "scan_markdown",
    "scan_summary",
]

#: what a secret's default shows instead of its value
HIDDEN = "(hidden: secret)"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _places(places: Sequence[str]) -> str:
    return ", ".join(places) if places else MISSING


def scan_summary(inventory: Inventory) -> str:
    """The count line of ``env scan``: ``42 variables: 9 required, 10 secret.``."""
    required = sum(v.required for v in inventory)
    secret = sum(v.secret for v in inventory)
    return f"{len(inventory)} variables: {required} required, {secret} secret."


def _default(var: Variable) -> str:
    if var.default is None:
        return ""
    if var.secret:
        return HIDDEN
    return var.default or '""'  # an empty default stays visible


def scan_markdown(inventory: Inventory) -> str:
    """``env scan --format markdown``: the inventory as one table for a README or wiki.

    Names and defaults are code spans, descriptions literal text: nothing in them can
    end a cell or add markup. A secret has no default to show (see :func:`_default`).
    """
    lines = [
        "| variable | type | required | secret | default | description | environments |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for var in inventory:
        default = _default(var)
        cells = [
            code_cell(var.name),
            var.type.value,
            _yes(var.required),
            _yes(var.secret),
            code_cell(default) if default and default != HIDDEN else escape_inline(default),
            escape_inline(var.description),
            escape_inline(", ".join(var.environments)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _variables(inventory: Inventory) -> Table:
    header = (
        "variable",
        "type",
        "required",
        "secret",
        "default",
        "description",
        "environments",
        "read at",
        "defined at",
    )
    rows = [
        (
            var.name,
            var.type.value,
            _yes(var.required),
            _yes(var.secret),
            _default(var),
            var.description,
            _places(var.environments),
            _places(var.locations),
            _places(var.definitions),
        )
        for var in inventory
    ]
    return Table.of(header, rows, empty="The scanned code reads no environment variables.")


def scan_document(inventory: Inventory, result: ScanResult) -> Document:
    """The inventory ``env scan`` found, with the unread definitions and the warnings."""
    sections = [Section("Variables", tables=(_variables(inventory),))]
    unread = result.unread()
    if unread:
        rows = [(name, _places([d.location for d in defs])) for name, defs in unread.items()]
        sections.append(
            Section(
                "Defined but not read",
                ("Config files define these, but the scanned code does not read them.",),
                (Table.of(("variable", "defined at"), rows),),
            )
        )
    if result.warnings:
        rows = [(w.path, w.message) for w in result.warnings]
        sections.append(Section("Warnings", tables=(Table.of(("file", "problem"), rows),)))
    return Document(
        title="Environment variables",
        summary=scan_summary(inventory),
        sections=tuple(sections),
    )


class CheckVerdict(NamedTuple):
    """The verdict of ``env check``, worded for the text and for the report document."""

    line: str
    """The text's last line: ``in sync: …`` or the count of differences."""
    summary: str
    """The document's summary, shown beside its outcome (which already says ``in sync``)."""


def check_verdict(listed: Inventory, differences: Sequence[Difference], name: str) -> CheckVerdict:
    """The verdict of ``env check``: its text line and its document summary, built together."""
    if not differences:
        detail = f"the code reads exactly the {len(listed)} variables {name} lists"
        return CheckVerdict(line=f"in sync: {detail}", summary=detail)
    noun = "difference" if len(differences) == 1 else "differences"
    line = f"{len(differences)} {noun}; run `gonogo env scan` to update {name}"
    return CheckVerdict(line=line, summary=line)


def check_summary(listed: Inventory, differences: Sequence[Difference], name: str) -> str:
    """The verdict line of ``env check``'s text."""
    return check_verdict(listed, differences, name).line


def check_document(listed: Inventory, differences: Sequence[Difference], name: str) -> Document:
    """``env check``: in sync or not, and each difference between code and inventory."""
    rows = [(d.name, d.kind.value, d.describe(name), _places(d.locations)) for d in differences]
    table = Table.of(
        ("variable", "drift", "detail", "locations"),
        rows,
        empty=f"None: the code reads exactly the variables {name} lists.",
    )
    return Document(
        title=f"Inventory check: {name}",
        outcome=Outcome("drift", "bad") if differences else Outcome("in sync", "good"),
        summary=check_verdict(listed, differences, name).summary,
        facts=(
            ("inventory", name),
            ("variables listed", str(len(listed))),
            ("differences", str(len(differences))),
        ),
        sections=(Section("Differences", tables=(table,)),),
    )
