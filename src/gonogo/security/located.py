"""Load YAML and JSON documents with the line of every value, to point findings at lines.

``load_documents(path)`` returns one :class:`LocatedDoc` per document: the plain value
(dicts, lists, scalars) and a map from each value's path (``("rules", 0, "verbs")``) to
its 1-based line. YAML goes through ``yaml.compose_all`` (node marks); JSON through a
small parser of our own, since the standard one keeps no positions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # untyped in typeshed
from pathlib import Path
from typing import Any

import yaml

from gonogo.security.findings import SecurityInputError

PathKey = tuple[str | int, ...]

#: suffixes read as YAML (JSON is read by its own parser)
YAML_SUFFIXES = frozenset({".yaml", ".yml"})
JSON_SUFFIXES = frozenset({".json"})


@dataclass(frozen=True)
class LocatedDoc:
    """One document: its value and the line of every value in it."""

    value: Any
    lines: Mapping[PathKey, int] = field(default_factory=dict)
    line: int = 1

    def line_of(self, path: PathKey) -> int:
        """Line of the value at ``path``, or of its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return self.line


def load_documents(path: Path, *, label: str | None = None) -> list[LocatedDoc]:
    """Every document in ``path`` (YAML or JSON by suffix); SecurityInputError when malformed."""
    name = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SecurityInputError(f"{name}: not UTF-8 text", hint="point at a text file") from None
    except OSError as exc:
        raise SecurityInputError(f"cannot read {name}: {exc.strerror}") from None
    if path.suffix.lower() in JSON_SUFFIXES:
        return [parse_json(text, name)] if text.strip() else []
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> list[LocatedDoc]:
    """Every document of a YAML stream, with lines from the composer's node marks."""
    docs: list[LocatedDoc] = []
    try:
        for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if node is None:
                continue
            lines: dict[PathKey, int] = {}
            value = _from_node(node, (), lines, set())
            docs.append(LocatedDoc(value, lines, node.start_mark.line + 1))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise SecurityInputError(
            f"{name}{where}: invalid YAML: {problem}", hint="fix the file or leave it out"
        ) from None
    except yaml.YAMLError as exc:
        raise SecurityInputError(f"{name}: invalid YAML: {exc}") from None
    except RecursionError:
        raise SecurityInputError(f"{name}: invalid YAML: nested too deeply") from None
    return docs


_SCALARS = yaml.constructor.SafeConstructor()


def _from_node(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], seen: set[int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        if id(node) in seen:  # an alias cycle: keep the value, not its recursion
            return {}
        seen = seen | {id(node)}
        out: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            key = str(_scalar(key_node)) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key == "<<":  # merged after the explicit keys, which win (lines included)
                merges += (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                continue
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _from_node(value_node, (*path, key), lines, seen)
        for merge in merges:
            merged_lines: dict[PathKey, int] = {}
            merged = _from_node(merge, path, merged_lines, seen)
            for where, line in merged_lines.items():
                lines.setdefault(where, line)
            if isinstance(merged, dict):
                out = {**merged, **out}
        return out
    if isinstance(node, yaml.SequenceNode):
        if id(node) in seen:
            return []
        seen = seen | {id(node)}
        return [_from_node(item, (*path, i), lines, seen) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    """A scalar's value; tags the safe loader does not know (``!Ref``) stay strings."""
    if node.tag.startswith("tag:yaml.org,2002:") and node.tag != "tag:yaml.org,2002:timestamp":
        try:
            return _SCALARS.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            return str(node.value)
    return str(node.value)


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


class _JsonParser:
    """A recursive-descent JSON parser that records the line of every value."""

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self.lines: dict[PathKey, int] = {}
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line_at(self, index: int) -> int:
        lo, hi = 0, len(self.newlines)
        while lo < hi:  # count the newlines before index
            mid = (lo + hi) // 2
            if self.newlines[mid] < index:
                lo = mid + 1
            else:
                hi = mid
        return lo + 1

    def fail(self, index: int, what: str) -> SecurityInputError:
        return SecurityInputError(
            f"{self.name}:{self.line_at(index)}: invalid JSON: {what}",
            hint="fix the file or leave it out",
        )

    def skip(self, index: int) -> int:
        match = _WS.match(self.text, index)
        return match.end() if match else index

    def value(self, index: int, path: PathKey) -> tuple[Any, int]:
        index = self.skip(index)
        self.lines.setdefault(path, self.line_at(index))
        if index >= len(self.text):
            raise self.fail(index, "unexpected end of file")
        char = self.text[index]
        if char == "{":
            return self.object(index + 1, path)
        if char == "[":
            return self.array(index + 1, path)
        if char == '"':
            return self.string(index)
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, index):
                return literal, index + len(word)
        number = _NUMBER.match(self.text, index)
        if number:
            token = number.group()
            return (float(token) if any(c in token for c in ".eE") else int(token)), number.end()
        raise self.fail(index, f"unexpected {char!r}")

    def string(self, index: int) -> tuple[str, int]:
        try:
            text, end = scanstring(self.text, index + 1, True)
            return str(text), int(end)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.pos, exc.msg) from None

    def object(self, index: int, path: PathKey) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        index = self.skip(index)
        if self.text.startswith("}", index):
            return out, index + 1
        while True:
            index = self.skip(index)
            if not self.text.startswith('"', index):
                raise self.fail(index, "expected a quoted key")
            key_line = self.line_at(index)
            key, index = self.string(index)
            index = self.skip(index)
            if not self.text.startswith(":", index):
                raise self.fail(index, "expected ':' after a key")
            self.lines[(*path, key)] = key_line
            out[key], index = self.value(index + 1, (*path, key))
            index = self.skip(index)
            if self.text.startswith(",", index):
                index += 1
                continue
            if self.text.startswith("}", index):
                return out, index + 1
            raise self.fail(index, "expected ',' or '}'")

    def array(self, index: int, path: PathKey) -> tuple[list[Any], int]:
        out: list[Any] = []
        index = self.skip(index)
        if self.text.startswith("]", index):
            return out, index + 1
        while True:
            item, index = self.value(index, (*path, len(out)))
            out.append(item)
            index = self.skip(index)
            if self.text.startswith(",", index):
                index += 1
                continue
            if self.text.startswith("]", index):
                return out, index + 1
            raise self.fail(index, "expected ',' or ']'")


def parse_json(text: str, name: str) -> LocatedDoc:
    """One JSON document with the line of every value."""
    parser = _JsonParser(text, name)
    start = parser.skip(1 if text.startswith("\ufeff") else 0)
    try:
        value, end = parser.value(start, ())
    except RecursionError:
        raise SecurityInputError(f"{name}: invalid JSON: nested too deeply") from None
    end = parser.skip(end)
    if end != len(text):
        raise parser.fail(end, "extra data after the document")
    return LocatedDoc(value, parser.lines, parser.line_at(start))
