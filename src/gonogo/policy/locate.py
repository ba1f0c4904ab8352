"""Map a key path such as ``gates[1].criteria[0].check`` to its line in a TOML file.

``tomllib`` keeps no positions, so this follows the file's table headers and
``key =`` lines. It is a best effort: when a path cannot be placed exactly, the
line of its nearest located ancestor is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

KeyPath = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def _split_dotted(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


class Locator:
    """Line numbers for key paths of one TOML document."""

    def __init__(self, text: str, prefix: Sequence[str] = ()) -> None:
        self._lines: dict[KeyPath, int] = {}
        self._prefix = tuple(prefix)
        self._scan(text)

    def _scan(self, text: str) -> None:
        counters: dict[KeyPath, int] = {}
        current: KeyPath = ()
        # TOML breaks lines only at LF (or CRLF); str.splitlines would also split inside
        # strings at U+2028, form feeds and the like, and shift every later line number
        for number, raw in enumerate(text.split("\n"), start=1):
            line = raw.removesuffix("\r")
            header = _HEADER.match(line)
            if header:
                current = self._header_path(header, counters)
                self._lines.setdefault(current, number)
                if current and isinstance(current[-1], int):  # the array itself: first element
                    self._lines.setdefault(current[:-1], number)
                continue
            key = _KEY.match(line)
            if key and current is not None:
                parts = _split_dotted(key.group(1))
                # `threshold.min = 1` also places `threshold`, the table it implicitly opens
                for end in range(1, len(parts) + 1):
                    self._lines.setdefault(current + parts[:end], number)

    def _header_path(self, header: re.Match[str], counters: dict[KeyPath, int]) -> KeyPath:
        names = _split_dotted(header.group(2))
        is_array = header.group(1) == "[["
        path: KeyPath = ()
        for position, name in enumerate(names):
            path = (*path, name)
            last = position == len(names) - 1
            if (path in counters) and not (last and is_array):
                path = (*path, counters[path])
            elif last and is_array:
                index = counters.get(path, -1) + 1
                counters[path] = index
                # a new element resets the counters of its nested arrays
                for key in [k for k in counters if k[: len(path)] == path and len(k) > len(path)]:
                    del counters[key]
                path = (*path, index)
        return path

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path`` or of its nearest located ancestor; None if none is."""
        full: KeyPath = self._prefix + tuple(path)
        while full:
            if full in self._lines:
                return self._lines[full]
            full = full[:-1]
        return None


def format_path(path: Sequence[str | int]) -> str:
    """``("gates", 1, "criteria", 0, "check")`` → ``gates[1].criteria[0].check``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # a quoted TOML key may hold a newline; keep the problem on one line
            name = part if part.isprintable() else json.dumps(part)
            out += f".{name}" if out else name
    return out or "(top level)"
