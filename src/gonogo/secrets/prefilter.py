"""The keyword prefilter: one Aho-Corasick pass tells which rules can match a fragment.

Keywords are matched on the fragment's bytes lowered (ASCII only, as Go's ``strings.ToLower``
does for gitleaks' keywords) and read as Latin-1, so offsets equal byte offsets. The pass
also records where each keyword starts: a rule whose every match must begin with one of its
keywords (:func:`keyword_anchored`) is then tried only at those offsets instead of searched
across the whole fragment, which gives the same matches for a fraction of the work.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # ships no type stubs

# ``re._parser`` is private, so it is looked up at run time; anything unexpected in it only
# turns the optimisation off (see keyword_anchored).
_parser: Any = importlib.import_module("re._parser")
_MAX_PREFIXES = 64


def normalise(keyword: str) -> str:
    """A keyword as the automaton stores it: UTF-8 bytes, ASCII-lowered, read as Latin-1."""
    return keyword.encode("utf-8").lower().decode("latin-1")


def literal_prefixes(pattern: re.Pattern[bytes]) -> set[bytes] | None:
    """Every literal text a match of ``pattern`` must start with, lowered; None if unknown."""
    try:
        found, _ = _prefixes(list(_parser.parse(pattern.pattern, pattern.flags)), {b""})
    except Exception:  # noqa: BLE001 - a private parser: if it surprises us, scan in full
        return None
    if not found or b"" in found or len(found) > _MAX_PREFIXES:
        return None
    return {p.lower() for p in found}


def _prefixes(items: Iterable[Any], current: set[bytes]) -> tuple[set[bytes], bool]:
    """Extend ``current`` through the leading literals of ``items``.

    Returns the prefixes and whether extension stopped early (at a non-literal), in which
    case whatever follows ``items`` must not be appended.
    """
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            current = {p + bytes((arg,)) for p in current}
        elif name in {"AT", "ASSERT", "ASSERT_NOT"}:
            continue  # zero-width: the match still starts here
        elif name == "IN" and all(str(o) == "LITERAL" for o, _ in arg) and len(arg) <= 8:
            current = {p + bytes((c,)) for p in current for _, c in arg}  # [opr]: branch out
        elif name == "SUBPATTERN":
            current, stopped = _prefixes(list(arg[-1]), current)
            if stopped:
                return current, True
        elif name == "BRANCH":
            merged: set[bytes] = set()
            stopped = False
            for alternative in arg[1]:
                inner, inner_stopped = _prefixes(list(alternative), set(current))
                merged |= inner
                stopped = stopped or inner_stopped
            if len(merged) > _MAX_PREFIXES:
                return current, True
            current = merged
            if stopped:
                return current, True
        else:
            return current, True
        if len(current) > _MAX_PREFIXES:
            return current, True
    return current, False


def keyword_anchored(pattern: re.Pattern[bytes], keywords: Sequence[str]) -> bool:
    """Whether every match of ``pattern`` starts with one of ``keywords`` (case-insensitive)."""
    if not keywords:
        return False
    prefixes = literal_prefixes(pattern)
    if not prefixes:
        return False
    words = [normalise(k).encode("latin-1") for k in keywords]
    return all(any(p.startswith(w) for w in words) for p in prefixes)


class Prefilter:
    """Finds which keywords occur in a fragment, and where."""

    def __init__(self, keywords: Sequence[Sequence[str]]) -> None:
        """``keywords[i]`` are rule ``i``'s keywords; a rule without any always runs."""
        self.always = frozenset(i for i, words in enumerate(keywords) if not words)
        self.words: list[str] = sorted({normalise(w) for words in keywords for w in words})
        index = {word: i for i, word in enumerate(self.words)}
        self.rules_of_word: list[list[int]] = [[] for _ in self.words]
        self.words_of_rule: list[tuple[int, ...]] = []
        for rule, words in enumerate(keywords):
            ids = tuple(sorted({index[normalise(w)] for w in words}))
            self.words_of_rule.append(ids)
            for word in ids:
                self.rules_of_word[word].append(rule)
        self._automaton: Any = None
        if self.words:
            automaton = ahocorasick.Automaton()
            for i, text in enumerate(self.words):
                automaton.add_word(text, (i, len(text)))
            automaton.make_automaton()
            self._automaton = automaton

    def hits(self, data: bytes) -> dict[int, list[int]]:
        """Start offsets of each keyword (by index into :attr:`words`) found in ``data``."""
        found: dict[int, list[int]] = {}
        if self._automaton is None:
            return found
        for end, (word, length) in self._automaton.iter(data.lower().decode("latin-1")):
            starts = found.get(word)
            if starts is None:
                found[word] = [end - length + 1]
            else:
                starts.append(end - length + 1)
        return found

    def rules_hit(self, hits: dict[int, list[int]]) -> set[int]:
        """Indexes of the rules to run: those with a keyword in ``hits``, and those with none."""
        rules = set(self.always)
        for word in hits:
            rules.update(self.rules_of_word[word])
        return rules

    def starts(self, rule: int, hits: dict[int, list[int]]) -> list[int]:
        """Sorted start offsets of ``rule``'s keywords."""
        ids = [w for w in self.words_of_rule[rule] if w in hits]
        if len(ids) == 1:
            return hits[ids[0]]
        return sorted({s for w in ids for s in hits[w]})
