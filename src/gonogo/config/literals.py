"""Secret variables given a literal value by a config file in the repository.

A variable is secret by its name, by how it is read (a ``SecretStr`` field), by how it
is defined anywhere (``secretKeyRef``, a reference, a ``Secret`` manifest, a URL with
credentials) or because the inventory marks it ``secret = true``. Any config file that
gives such a variable a literal value is a finding: ``.env*`` files, compose files,
Kubernetes manifests, Dockerfiles and GitHub workflows. Empty values, pass-throughs
(``${VAR}``), references (``ref+vault://…``, ``op://…``, ``sm://…``), secret stores
(``secretKeyRef``, ``${{ secrets.X }}``) and mounted files (``/run/secrets/…``) are
managed. Placeholders (``<your token>``, ``changeme``) are allowed unless asked not to.

A finding names the place and the variable, never the value.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from gonogo.config.build import is_secret
from gonogo.config.inventory import Inventory
from gonogo.config.refs import RefError, ValueKind, parse_ref
from gonogo.config.scan import ScanResult
from gonogo.config.scanners.interface import Definition, Read


@dataclass(frozen=True)
class LiteralSecret:
    """A secret variable a config file gives a value it should not hold."""

    name: str
    path: str
    line: int
    source: str
    environment: str
    context: str
    problem: str

    @property
    def location(self) -> str:
        """``path:line``."""
        return f"{self.path}:{self.line}"

    def describe(self) -> str:
        """One line for people, without the value."""
        where = ", ".join(p for p in (self.source, self.context) if p)
        return f"{self.location}: {self.name} ({where}): {self.problem}"

    def to_json(self) -> dict[str, Any]:
        """JSON form (no value)."""
        return {
            "name": self.name,
            "path": self.path,
            "line": self.line,
            "source": self.source,
            "environment": self.environment,
            "context": self.context,
            "problem": self.problem,
        }


def secret_literals(
    result: ScanResult,
    inventory: Inventory | None = None,
    *,
    allow_placeholders: bool = True,
) -> list[LiteralSecret]:
    """Every place a config file gives a secret variable a literal value, in path order."""
    reads: dict[str, list[Read]] = defaultdict(list)
    for read in result.reads:
        reads[read.name].append(read)
    definitions: dict[str, list[Definition]] = defaultdict(list)
    for definition in result.definitions:
        definitions[definition.name].append(definition)
    marked = {v.name for v in inventory if v.secret} if inventory is not None else set()
    findings: list[LiteralSecret] = []
    for name, defined in definitions.items():
        if name not in marked and not is_secret(name, reads.get(name, []), defined):
            continue
        for definition in defined:
            problem = _problem(definition, allow_placeholders=allow_placeholders)
            if problem is not None:
                findings.append(
                    LiteralSecret(
                        name=name,
                        path=definition.path,
                        line=definition.line,
                        source=definition.source.value,
                        environment=definition.environment,
                        context=definition.context,
                        problem=problem,
                    )
                )
    unique = {(f.path, f.line, f.name): f for f in findings}
    return sorted(unique.values(), key=lambda f: (f.path, f.line, f.name))


def _problem(definition: Definition, *, allow_placeholders: bool) -> str | None:
    advice = "use a reference (ref+vault://…), a secret store or a mounted file"
    length = len(definition.value or "")
    if definition.kind is ValueKind.LITERAL:
        return f"a literal value ({length} chars) for a secret; {advice}"
    if definition.kind is ValueKind.PLACEHOLDER and not allow_placeholders:
        return f"a placeholder value for a secret; leave it empty or {advice}"
    if definition.kind is ValueKind.REFERENCE:
        try:
            parse_ref(definition.value or "")
        except RefError as exc:
            return f"a malformed secret reference: {exc.hint or 'see docs/environments.md'}"
    return None
