"""JavaScript and TypeScript: ``process.env`` reads.

Found: ``process.env.X``, ``process.env["X"]``, ``process.env?.X``, Vite's
``import.meta.env.X``, and destructuring ``const { A, B = "d" } = process.env``. A
fallback (``process.env.X || "d"``, ``?? "d"``, a destructuring default) is the default.
JavaScript cannot say a variable is required (a missing one is ``undefined``), so no
read is: mark ``required = true`` in the inventory by hand. ``parseInt(…)``/``Number(…)``,
``parseFloat(…)`` and a comparison with ``"true"`` give the type. Comments are ignored;
assignments to ``process.env.X`` are not reads.
"""

from __future__ import annotations

import re

from gonogo.config.inventory import VarType
from gonogo.config.scanners.interface import FileInput, FileScan, Read, Source
from gonogo.config.scanners.text import LineIndex, blank_c_comments

_ENV = r"(?:process\s*\.\s*env|import\s*\.\s*meta\s*\.\s*env)"
_ACCESS = re.compile(
    _ENV + r"\s*(?:\?\.\s*|\.\s*)(?P<dot>[A-Za-z_$][\w$]*)"
    r"|" + _ENV + r"\s*(?:\?\.)?\s*\[\s*(?P<q>['\"`])(?P<key>[^'\"`]+)(?P=q)\s*\]"
)
_DESTRUCTURE = re.compile(
    r"\b(?:const|let|var)\s*\{(?P<body>(?:[^{}'\"]|'[^']*'|\"[^\"]*\")*)\}\s*=\s*"
    + _ENV
    + r"(?![\w$.\[])"
)
_FALLBACK = re.compile(
    r"\s*(?:\|\||\?\?)\s*(?P<value>'[^']*'|\"[^\"]*\"|`[^`$]*`|-?\d+(?:\.\d+)?|true|false)"
)
_ASSIGNMENT = re.compile(r"\s*=(?!=)")
_BOOL_COMPARE = re.compile(r"\s*[!=]==?\s*['\"](?:true|false|1|0|yes|no)['\"]", re.IGNORECASE)
_WRAPPERS = (
    (re.compile(r"(?:parseInt|Number\.parseInt)\s*\(\s*$"), VarType.INT),
    (re.compile(r"(?:parseFloat|Number\.parseFloat)\s*\(\s*$"), VarType.FLOAT),
    (re.compile(r"\bNumber\s*\(\s*$"), VarType.INT),
    (re.compile(r"\bBoolean\s*\(\s*$"), VarType.BOOL),
    (re.compile(r"JSON\s*\.\s*parse\s*\(\s*$"), VarType.JSON),
    (re.compile(r"new\s+URL\s*\(\s*$"), VarType.URL),
)
_MEMBER = re.compile(
    r"^\s*(?P<name>[A-Za-z_$][\w$]*|(?P<q>['\"])(?P<quoted>[^'\"]+)(?P=q))"
    r"\s*(?::\s*[A-Za-z_$][\w$]*)?\s*(?:=\s*(?P<default>.+?))?\s*$",
    re.DOTALL,
)


def scan_javascript(file: FileInput) -> FileScan:
    """Every ``process.env`` read in one JS/TS file."""
    text = blank_c_comments(file.text, backtick=True)
    lines = LineIndex(text)
    reads: list[Read] = []
    for match in _ACCESS.finditer(text):
        name = match.group("dot") or match.group("key")
        tail = text[match.end() :]
        if _ASSIGNMENT.match(tail):
            continue
        fallback = _FALLBACK.match(tail)
        default = _unquote(fallback.group("value")) if fallback else None
        var_type = _type_around(text[: match.start()], tail)
        reads.append(
            Read(
                name=name,
                path=file.rel,
                line=lines.line(match.start()),
                source=Source.JAVASCRIPT,
                default=default,
                type=var_type,
            )
        )
    for match in _DESTRUCTURE.finditer(text):
        body_start = match.start("body")
        offset = 0
        for member in match.group("body").split(","):
            start = body_start + offset + len(member) - len(member.lstrip())
            offset += len(member) + 1
            found = _MEMBER.match(member)
            if found is None or member.strip().startswith("..."):
                continue
            name = found.group("quoted") or found.group("name")
            default = found.group("default")
            reads.append(
                Read(
                    name=name,
                    path=file.rel,
                    line=lines.line(start),
                    source=Source.JAVASCRIPT,
                    default=_unquote(default.strip()) if default else None,
                )
            )
    return FileScan(reads=reads)


def _type_around(before: str, after: str) -> VarType | None:
    window = before[-40:]
    for pattern, var_type in _WRAPPERS:
        if pattern.search(window):
            return var_type
    if _BOOL_COMPARE.match(after):
        return VarType.BOOL
    return None


def _unquote(value: str) -> str | None:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"`":
        return value[1:-1]
    if re.fullmatch(r"-?\d+(?:\.\d+)?|true|false", value):
        return value
    return None
