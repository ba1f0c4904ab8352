"""YAML as nodes with line numbers (PyYAML's composer, safe, no objects built)."""

from __future__ import annotations

from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gonogo.config.scanners.interface import ScanWarning


def documents(text: str, rel: str) -> tuple[list[Node], ScanWarning | None]:
    """The documents of a YAML text; a warning naming the file when it does not parse."""
    try:
        nodes = [n for n in yaml.compose_all(text, Loader=yaml.SafeLoader) if n is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        return [], ScanWarning(rel, f"cannot parse YAML ({where}{problem}); skipped")
    except RecursionError:
        return [], ScanWarning(rel, "cannot parse YAML (nested too deeply); skipped")
    return nodes, None


def line(node: Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


def pairs(node: Node | None) -> Iterator[tuple[ScalarNode, Node]]:
    """The key/value pairs of a mapping, with ``<<`` merge keys expanded (keys first)."""
    if not isinstance(node, MappingNode):
        return
    merged: list[Node] = []
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "<<" and key.tag.endswith(":merge"):
            merged += value.value if isinstance(value, SequenceNode) else [value]
        elif isinstance(key, ScalarNode):
            yield key, value
    for other in merged:
        yield from pairs(other)


def get(node: Node | None, key: str) -> Node | None:
    """The value under ``key`` in a mapping node (first wins, as YAML overrides merges)."""
    return next((value for k, value in pairs(node) if k.value == key), None)


def scalar(node: Node | None) -> str | None:
    """A scalar's text; None for null, a mapping or a sequence."""
    if not isinstance(node, ScalarNode) or node.tag.endswith(":null"):
        return None
    return str(node.value)


def items(node: Node | None) -> list[Node]:
    """The items of a sequence node ([] for anything else)."""
    return list(node.value) if isinstance(node, SequenceNode) else []


def is_mapping(node: Node | None) -> bool:
    """Whether the node is a mapping."""
    return isinstance(node, MappingNode)
