"""Find the headings of a Markdown document, to check that required sections exist.

Follows CommonMark where it matters for that: ATX (``# Title``) and setext (``Title`` over
``===`` or ``---``) headings count; fenced code (````` ``` ````` and ``~~~``), indented code,
HTML comments and YAML front matter never do.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ATX = re.compile(r"(#{1,6})(?:[ \t]+(.*?))?[ \t]*")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)")
_SETEXT = re.compile(r"(=+|-+)[ \t]*")
_THEMATIC_BREAK = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*")
_OTHER_BLOCK = re.compile(r">|[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)")
_FRONT_MATTER_END = ("---", "...")
_TRIM = string.whitespace + string.punctuation


@dataclass(frozen=True)
class Heading:
    """A heading: its level (1-6), its text and its 1-based line number."""

    level: int
    title: str
    line: int


def headings(text: str) -> tuple[Heading, ...]:
    """All headings of ``text`` in document order, outside code blocks and comments."""
    lines = _LINE_BREAK.split(text)
    found: list[Heading] = []
    paragraph: list[str] = []
    paragraph_start = 0
    # While inside a fenced code block or an HTML comment: tells which line ends it.
    skip_until: Callable[[str], bool] | None = None
    index = _front_matter_end(lines)
    while index < len(lines):
        raw = lines[index]
        index += 1
        if skip_until is not None:
            skip_until = None if skip_until(raw) else skip_until
            continue
        indent = _indent(raw)
        body = raw.lstrip(" \t")
        if not body:
            paragraph = []
            continue
        if indent >= 4:
            if paragraph:  # a lazy continuation of the paragraph, not indented code
                paragraph.append(body)
            continue
        if paragraph and (setext := _SETEXT.fullmatch(body)):
            level = 1 if setext[1][0] == "=" else 2
            found.append(Heading(level, " ".join(paragraph).strip(), paragraph_start))
            paragraph = []
            continue
        if atx := _ATX.fullmatch(body):
            found.append(Heading(len(atx[1]), _atx_title(atx[2] or ""), index))
        elif opening := _opening_fence(body):
            skip_until = partial(_closes, opening)
        elif body.startswith("<!--"):
            skip_until = None if "-->" in body[4:] else _ends_comment
        elif not (_THEMATIC_BREAK.fullmatch(body) or _OTHER_BLOCK.match(body)):
            if not paragraph:
                paragraph_start = index
            paragraph.append(body.strip())
            continue
        paragraph = []
    return tuple(found)


def missing_sections(text: str, required: Iterable[str]) -> tuple[str, ...]:
    """The ``required`` titles that no heading of ``text`` carries, in the order given.

    Titles compare case-insensitively, ignoring surrounding whitespace and punctuation, so
    ``Rollback plan`` is satisfied by ``## Rollback Plan:``.
    """
    present = {_normal(heading.title) for heading in headings(text)}
    missing: list[str] = []
    for title in required:
        if _normal(title) not in present and title not in missing:
            missing.append(title)
    return tuple(missing)


def _opening_fence(body: str) -> str | None:
    """The fence (three or more backticks or tildes) that ``body`` opens, or None."""
    match = _FENCE.fullmatch(body)
    if match is None or (match[1][0] == "`" and "`" in match[2]):
        return None  # a backtick fence's info string cannot hold a backtick
    return match[1]


def _closes(fence: str, line: str) -> bool:
    """Whether ``line`` closes the fenced code block that ``fence`` opened."""
    stripped = line.strip(" \t")
    return (
        _indent(line) < 4 and len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)
    )


def _ends_comment(line: str) -> bool:
    return "-->" in line


def _front_matter_end(lines: list[str]) -> int:
    """Index of the first line after YAML front matter, 0 when there is none."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in _FRONT_MATTER_END:
            return index + 1
    return 0


def _atx_title(title: str) -> str:
    return _ATX_CLOSING.sub("", title).strip()


def _indent(line: str) -> int:
    prefix = line[: len(line) - len(line.lstrip(" \t"))]
    return len(prefix.expandtabs(4))


def _normal(title: str) -> str:
    return " ".join(title.strip(_TRIM).casefold().split())
