"""Dockerfiles (``ENV``, ``ARG``) and Compose files (``environment``, ``env_file``, ``${VAR}``).

A Dockerfile's ``ENV K=V`` (or legacy ``ENV K V``) and ``ARG K[=default]`` define
variables for the image. A compose service's ``environment`` (a list of ``K=V``/``K``
or a map) and its ``env_file`` files define them for that service; a bare ``K`` (or
``K:`` with no value) is passed through from the shell, so it is injected at run time.
``${VAR}`` interpolation anywhere in a compose file is a read of the host's environment:
``${VAR:?}`` required, ``${VAR:-d}`` with a default.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from yaml.nodes import Node

from gonogo.config.refs import ValueKind, value_kind
from gonogo.config.scanners import environments
from gonogo.config.scanners.dotenv import parse_dotenv
from gonogo.config.scanners.interface import (
    Definition,
    FileInput,
    FileScan,
    Read,
    ScanWarning,
    Source,
)
from gonogo.config.scanners.shell import expansions
from gonogo.config.scanners.yamlnodes import documents, get, items, line, pairs, scalar

_INSTRUCTION = re.compile(r"^\s*(?P<op>ENV|ARG)\s+(?P<args>.*)$", re.IGNORECASE | re.DOTALL)


def scan_dockerfile(file: FileInput) -> FileScan:
    """Every ``ENV`` and ``ARG`` of one Dockerfile."""
    result = FileScan()
    environment = environments.dockerfile(file.rel)
    for number, instruction in _instructions(file.text):
        match = _INSTRUCTION.match(instruction)
        if match is None:
            continue
        op = match.group("op").upper()
        try:
            words = shlex.split(match.group("args"), posix=True)
        except ValueError:
            result.warnings.append(
                ScanWarning(file.rel, f"line {number}: cannot split {op} arguments; skipped")
            )
            continue
        for name, value in _pairs(op, words):
            result.definitions.append(
                Definition(
                    name=name,
                    path=file.rel,
                    line=number,
                    source=Source.DOCKERFILE,
                    environment=environment,
                    kind=value_kind(value),
                    value=value,
                    context=op,
                )
            )
    return result


def _instructions(text: str) -> list[tuple[int, str]]:
    """``(first line, instruction)`` with ``\\`` continuations joined and comments dropped."""
    found: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not current and raw.lstrip().startswith("#"):
            continue
        if not current:
            start = number
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            current.append(stripped[:-1])
            continue
        current.append(stripped)
        found.append((start, " ".join(current)))
        current = []
    if current:
        found.append((start, " ".join(current)))
    return found


def _pairs(op: str, words: list[str]) -> list[tuple[str, str | None]]:
    if not words:
        return []
    if op == "ENV" and "=" not in words[0]:  # legacy form: ENV NAME value with spaces
        return [(words[0], " ".join(words[1:]))]
    pairs_: list[tuple[str, str | None]] = []
    for word in words:
        name, sep, value = word.partition("=")
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            pairs_.append((name, value if sep else None))
    return pairs_


def scan_compose(file: FileInput) -> FileScan:
    """Every definition and interpolation of one compose file."""
    result = FileScan()
    docs, warning = documents(file.text, file.rel)
    if warning is not None:
        result.warnings.append(warning)
        return result
    environment = environments.compose(file.rel)
    for doc in docs:
        for service_key, service in pairs(get(doc, "services")):
            context = f"service {service_key.value}"
            result.extend(_environment(file, get(service, "environment"), environment, context))
            result.extend(_env_files(file, get(service, "env_file"), environment, context))
    result.reads += _interpolations(file)
    return result


def _environment(file: FileInput, node: Node | None, environment: str, context: str) -> FileScan:
    result = FileScan()

    def define(name: str, value: str | None, at: int, passthrough: bool) -> None:
        result.definitions.append(
            Definition(
                name=name,
                path=file.rel,
                line=at,
                source=Source.COMPOSE,
                environment=environment,
                kind=ValueKind.PASSTHROUGH if passthrough else value_kind(value),
                value=value,
                context=context,
            )
        )

    for item in items(node):
        text = scalar(item)
        if text is None:
            continue
        name, sep, given = text.partition("=")
        define(name.strip(), given if sep else None, line(item), passthrough=not sep)
    for key, value_node in pairs(node):
        mapped = scalar(value_node)
        define(str(key.value), mapped, line(key), passthrough=mapped is None)
    return result


def _env_files(file: FileInput, node: Node | None, environment: str, context: str) -> FileScan:
    result = FileScan()
    entries = items(node) or ([node] if node is not None else [])
    for entry in entries:
        target = scalar(entry) or scalar(get(entry, "path"))
        if target is None:
            continue
        path = (file.path.parent / target).resolve()
        try:
            rel = path.relative_to(file.root.resolve()).as_posix()
        except ValueError:
            rel = target
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            optional = scalar(get(entry, "required")) == "false"
            if not optional:
                message = f"env_file {target} of {context} cannot be read; skipped"
                result.warnings.append(ScanWarning(file.rel, message))
            continue
        result.extend(parse_dotenv(text, rel, environment, context))
    result.definitions = [replace(d, source=Source.COMPOSE) for d in result.definitions]
    return result


def _interpolations(file: FileInput) -> list[Read]:
    reads = []
    for number, text in enumerate(file.text.splitlines(), start=1):
        if text.lstrip().startswith("#"):
            continue
        for found in expansions(text):
            reads.append(
                Read(
                    name=found.name,
                    path=file.rel,
                    line=number,
                    source=Source.COMPOSE,
                    required=found.required,
                    default=found.default,
                )
            )
    return reads
