"""Reading CI scripts: does a step run ``gonogo ci``, and does it keep its exit code?"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_GLOBAL_WITH_VALUE = frozenset({"-C", "--project", "--database-url"})
_CI_WITH_VALUE = frozenset(
    {
        "--junit",
        "--sarif",
        "--summary",
        "-f",
        "--format",
        "-o",
        "--output",
        "-r",
        "--release",
        "-j",
        "--jobs",
    }
)
_PROGRAM = "gonogo"
#: words after which the next one is the program that runs (`python -m gonogo`, `uv run gonogo`)
_LAUNCHERS = frozenset({"-m", "exec", "run", "time", "env", "sudo", "command", "nice"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_CI_SUBCOMMANDS = frozenset({"init", "verify", "policy-doc"})
_IGNORED_EXIT = re.compile(r"\|\|\s*(?:true\b|:|exit\s+0\b|echo\b)|\bset\s+\+e\b")


@dataclass(frozen=True)
class Finding:
    """One way the gates can be bypassed, at a key of the file."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def runs_gonogo_ci(script: str) -> bool:
    """Whether a shell script runs ``gonogo ci`` (the gates, not ``ci init`` or ``ci verify``)."""
    return any(_gonogo_ci_at(line) is not None for line in _lines(script))


def ignores_exit(script: str) -> bool:
    """Whether the script swallows the exit code of its ``gonogo ci``."""
    if re.search(r"\bset\s+\+e\b", script):
        return True
    for line in _lines(script):
        at = _gonogo_ci_at(line)
        if at is not None and _IGNORED_EXIT.search(line[at:]):
            return True
    return False


def _lines(script: str) -> list[str]:
    joined = script.replace("\\\n", " ")
    return [part for line in joined.splitlines() for part in re.split(r"&&|;", line)]


def _gonogo_ci_at(line: str) -> int | None:
    """Offset of a ``gonogo … ci`` invocation in ``line``, or None."""
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        tokens = line.split()
    for index, token in enumerate(tokens):
        if not (token == _PROGRAM or token.endswith(f"/{_PROGRAM}")):
            continue
        if not _is_command_word(tokens[:index]):
            continue  # an argument (`echo gonogo ci`), not the program being run
        rest = _skip_options(tokens[index + 1 :], _GLOBAL_WITH_VALUE)
        if not rest or rest[0] != "ci":
            continue
        after = _skip_options(rest[1:], _CI_WITH_VALUE)
        if after and after[0] in _CI_SUBCOMMANDS:
            continue
        return max(line.find("gonogo"), 0)
    return None


def _is_command_word(before: list[str]) -> bool:
    """Whether what precedes ``gonogo`` runs it: nothing, env settings, a launcher."""
    if not before:
        return True
    if before[-1] in _LAUNCHERS:
        return True
    return all(_ASSIGNMENT.match(token) for token in before)


def _skip_options(tokens: list[str], with_value: frozenset[str]) -> list[str]:
    index = 0
    while index < len(tokens) and tokens[index].startswith("-"):
        index += 2 if tokens[index] in with_value else 1
    return tokens[index:]
