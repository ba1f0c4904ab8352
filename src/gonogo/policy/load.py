"""Find, parse and validate the policy; report problems with file, key path and line."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gonogo.digest import sha256_json
from gonogo.errors import PolicyError
from gonogo.policy.locate import Locator, format_path
from gonogo.policy.model import LocatedErrors, Policy

POLICY_FILE = "gonogo.toml"
PYPROJECT = "pyproject.toml"
_MAX_FOUND = 60


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy, located."""

    file: Path
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.path}: {self.message}"


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with where it came from."""

    policy: Policy
    file: Path
    locator: Locator

    @property
    def root(self) -> Path:
        """The project root: the folder holding the policy file."""
        return self.file.parent

    @property
    def digest(self) -> str:
        """Digest of the policy's meaning (not its formatting): what approvals bind to."""
        # defaults left out: a new optional policy section does not invalidate approvals
        return sha256_json(self.policy.model_dump(mode="json", exclude_defaults=True))

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        """A located problem at ``path`` in this policy."""
        return Problem(self.file, format_path(path), self.locator.line(path), message)


class PolicyInvalid(PolicyError):
    """The policy failed validation; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        first = str(problems[0])
        more = (
            f" (and {len(problems) - 1} more: run `gonogo policy validate`)"
            if len(problems) > 1
            else ""
        )
        super().__init__(first + more)
        self.problems = problems


def find_policy(root: Path) -> Path:
    """The policy file of the project at ``root``.

    ``gonogo.toml`` wins; otherwise ``pyproject.toml`` with a ``[tool.gonogo]`` table.
    """
    candidate = root / POLICY_FILE
    if candidate.is_file():
        return candidate
    if candidate.is_dir():
        raise PolicyError(
            f"{candidate} is a folder, not a policy file",
            hint=f"move it away, then run `gonogo init` to write {POLICY_FILE}",
        )
    pyproject = root / PYPROJECT
    if pyproject.is_file() and _has_tool_table(pyproject):
        return pyproject
    raise PolicyError(
        f"no policy found in {root}: neither {POLICY_FILE} nor [tool.gonogo] in {PYPROJECT}",
        hint="run `gonogo init` to write one, or pass --project DIR",
    )


def _has_tool_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "gonogo" in tool


def load_policy(file: Path) -> LoadedPolicy:
    """Parse and validate ``file``; raise PolicyInvalid (every problem, first in the message)."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(
            f"{file}: policy file not found", hint="check the path or run `gonogo init`"
        ) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise PolicyError(
            f"{file}:{line}: cannot read the policy: byte {exc.start} is not UTF-8",
            hint="save the file as UTF-8 (TOML files must be UTF-8)",
        ) from None
    except OSError as exc:
        raise PolicyError(
            f"{file}: cannot read the policy: {exc.strerror or exc}",
            hint="check that the file exists and is readable",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(
            f"{file}: not valid TOML: {exc}", hint="fix the syntax at that line"
        ) from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise PolicyError(
            f"{file}: not valid TOML: arrays or tables nested too deeply",
            hint="flatten the nesting",
        ) from None
    prefix: tuple[str, ...] = ()
    if file.name == PYPROJECT:
        prefix = ("tool", "gonogo")
        tool = data.get("tool")
        table = tool.get("gonogo") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise PolicyError(f"{file}: no [tool.gonogo] table", hint="add one or use gonogo.toml")
        data = table
    locator = Locator(text, prefix)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyInvalid(_problems(file, locator, exc)) from None
    return LoadedPolicy(policy=policy, file=file, locator=locator)


def _problems(file: Path, locator: Locator, exc: ValidationError) -> list[Problem]:
    problems = []
    errors = exc.errors(include_url=False)
    inner = {tuple(e["loc"])[:n] for e in errors for n in range(len(e["loc"]))}
    for error in errors:
        path = tuple(error["loc"])
        if error["type"] == "too_short" and path in inner:
            continue  # pydantic's echo of items that failed inside: "at least 1 item, not 0"
        located = error.get("ctx", {}).get("error")
        if isinstance(located, LocatedErrors):
            for relative, text in located.problems:
                full = (*path, *relative)
                problems.append(Problem(file, format_path(full), locator.line(full), text))
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] not in {"missing", "value_error"} and "input" in error:
            message += f" (found {_short(error['input'])})"
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(Problem(file, format_path(path), locator.line(path), message))
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_FOUND else text[: _MAX_FOUND - 1] + "…"
