"""Small helpers for the text-based scanners: comments out, line numbers kept."""

from __future__ import annotations

import bisect


class LineIndex:
    """Turns an offset in a text into its 1-based line number."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        self._starts += [i + 1 for i, char in enumerate(text) if char == "\n"]

    def line(self, offset: int) -> int:
        """The line holding ``offset``."""
        return bisect.bisect_right(self._starts, offset)


def blank_c_comments(text: str, *, backtick: bool) -> str:
    """``text`` with ``//`` and ``/* */`` comments replaced by spaces (newlines kept).

    String literals (``"…"``, ``'…'``, and ``` `…` ``` when ``backtick``) are left alone,
    so a URL's ``//`` inside a string is not taken for a comment.
    """
    out: list[str] = []
    i, n = 0, len(text)
    quotes = {'"', "'", "`"} if backtick else {'"', "'"}
    while i < n:
        char = text[i]
        if char in quotes:
            end = _string_end(text, i, char)
            out.append(text[i:end])
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out.append("".join("\n" if c == "\n" else " " for c in text[i:end]))
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _string_end(text: str, start: int, quote: str) -> int:
    i, n = start + 1, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == quote:
            return i + 1
        if char == "\n" and quote != "`":
            return i  # an unterminated string ends at the line's end
        i += 1
    return n
