"""Dotenv files (``.env``, ``.env.example``, ``.env.production``, ``app.env``).

``KEY=value`` and ``export KEY=value`` lines, with single, double (possibly multi-line)
or no quotes and trailing `` # comments``. Comment lines right above a key become its
description (the convention ``.env.example`` files follow). A line that is not an
assignment is reported as a warning.
"""

from __future__ import annotations

import re

from gonogo.config.refs import value_kind
from gonogo.config.scanners import environments
from gonogo.config.scanners.interface import Definition, FileInput, FileScan, ScanWarning, Source

_LINE = re.compile(
    r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*(?P<value>.*))?$"
)


def scan_dotenv(file: FileInput) -> FileScan:
    """Every definition in one dotenv file."""
    return parse_dotenv(file.text, file.rel, environments.dotenv(file.rel))


def parse_dotenv(text: str, rel: str, environment: str, context: str = "") -> FileScan:
    """The definitions of dotenv ``text`` for ``environment``."""
    result = FileScan()
    comment: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number, raw = index + 1, lines[index]
        index += 1
        stripped = raw.strip()
        if not stripped:
            comment = []
            continue
        if stripped.startswith("#"):
            comment.append(stripped.lstrip("#").strip())
            continue
        match = _LINE.match(raw)
        if match is None:
            result.warnings.append(
                ScanWarning(rel, f"line {number} is not a KEY=value assignment; skipped")
            )
            comment = []
            continue
        value = match.group("value")
        if value is not None:
            value, index = _value(value, lines, index)
        result.definitions.append(
            Definition(
                name=match.group("name"),
                path=rel,
                line=number,
                source=Source.DOTENV,
                environment=environment,
                kind=value_kind(value),
                value=value,
                description=" ".join(c for c in comment if c),
                context=context,
            )
        )
        comment = []
    return result


def _value(raw: str, lines: list[str], index: int) -> tuple[str, int]:
    """The value after ``=`` (unquoted), and the index of the next line to read."""
    text = raw.strip()
    if text.startswith("'"):
        end = text.find("'", 1)
        return (text[1:end] if end != -1 else text[1:]), index
    if text.startswith('"'):
        body = text[1:]
        while _closing_quote(body) == -1 and index < len(lines):  # a multi-line value
            body += "\n" + lines[index]
            index += 1
        end = _closing_quote(body)
        inner = body[:end] if end != -1 else body
        return inner.replace('\\"', '"').replace("\\n", "\n"), index
    return re.split(r"\s+#", text, maxsplit=1)[0].strip(), index


def _closing_quote(body: str) -> int:
    i = 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        if body[i] == '"':
            return i
        i += 1
    return -1
