"""Find and load one environment's definitions, where the policy says they are.

``[env.sources]`` gives patterns for every environment (``.env.{env}``,
``k8s/overlays/{env}``, ``values-{env}.yaml`` …, see
:class:`gonogo.policy.environments.EnvSources`); an environment under
``[env.environments.NAME]`` may name its own instead. A pattern that matches nothing is
no error; a plain path an environment names itself must exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gonogo.config.parity import helm, kubernetes
from gonogo.config.parity.kustomize import Build
from gonogo.config.parity.model import DefinitionError, EnvironmentDefinition, Fact, Setting
from gonogo.config.parity.yamlfiles import read_text, relative
from gonogo.config.scanners.dotenv import parse_dotenv
from gonogo.config.scanners.environments import EXAMPLE_SUFFIXES
from gonogo.policy.environments import EnvPolicy, UnknownEnvironment

CATEGORIES = ("env_files", "kubernetes", "helm_values")
_GLOB = re.compile(r"[*?\[]")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_NOT_ENVIRONMENTS = frozenset(
    {"base", "bases", "overlays", "components", "common", "shared", "templates", "charts", "crds"}
)


@dataclass(frozen=True)
class Sources:
    """The definition files and folders of one environment."""

    env_files: tuple[Path, ...]
    kubernetes: tuple[Path, ...]
    helm_values: tuple[Path, ...]

    def __bool__(self) -> bool:
        return bool(self.env_files or self.kubernetes or self.helm_values)


def find_sources(root: Path, env: EnvPolicy, name: str) -> Sources:
    """Where environment ``name`` is defined; DefinitionError for a named path that is missing."""
    declared = env.environments.get(name)
    found: dict[str, tuple[Path, ...]] = {}
    for category in CATEGORIES:
        own = getattr(declared, category) if declared is not None else None
        patterns = own if own is not None else getattr(env.sources, category)
        paths: list[Path] = []
        for pattern in patterns:
            for path in _expand(root, pattern.replace("{env}", name)):
                if path not in paths:
                    paths.append(path)
            if own is not None and not _GLOB.search(pattern) and not _at(root, pattern).exists():
                raise DefinitionError(
                    f"{pattern} does not exist (named by [env.environments.{name}].{category})",
                    hint="create it or fix the path in the policy",
                )
        found[category] = tuple(paths)
    return Sources(**found)


def _at(root: Path, relative_path: str) -> Path:
    path = Path(relative_path)
    return path if path.is_absolute() else root / path


def _expand(root: Path, pattern: str) -> list[Path]:
    if not _GLOB.search(pattern) or Path(pattern).is_absolute():
        path = _at(root, pattern)
        return [path] if path.exists() else []
    return sorted(root.glob(pattern))


def known_environments(root: Path, env: EnvPolicy) -> list[str]:
    """The environments the policy declares, then those the default patterns find."""
    names = list(env.environments)
    for category in CATEGORIES:
        for pattern in getattr(env.sources, category):
            shape = _shape(pattern)
            for path in root.glob(pattern.replace("{env}", "*")):
                match = shape.match(relative(path, root))
                candidate = match.group("env") if match else ""
                if _NAME.match(candidate) and candidate not in names and not _generic(candidate):
                    names.append(candidate)
    return names


def _shape(pattern: str) -> re.Pattern[str]:
    """A regular expression matching what ``pattern`` matches, the environment a group."""
    parts = [
        re.escape(part).replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        for part in pattern.split("{env}")
    ]
    first, *rest = parts
    return re.compile("^" + first + "(?P<env>[^/]+)" + "(?P=env)".join(rest) + "$")


def _generic(name: str) -> bool:
    """Folder and file names that patterns find but that name no environment."""
    return name.lower() in EXAMPLE_SUFFIXES or name in _NOT_ENVIRONMENTS


def load_environment(root: Path, env: EnvPolicy, name: str) -> EnvironmentDefinition:
    """Everything environment ``name`` declares; UnknownEnvironment when nothing does."""
    if not _NAME.match(name):
        raise UnknownEnvironment(
            f"{name!r} is not an environment name",
            hint="use lower-case letters, digits, - and _ (staging, production, eu-prod)",
        )
    sources = find_sources(root, env, name)
    if not sources and name not in env.environments:
        known = ", ".join(sorted(known_environments(root, env))) or "none"
        raise UnknownEnvironment(
            f"unknown environment {name!r}: the policy does not declare it and no definition "
            "names it",
            hint=f"known environments: {known}",
        )
    declared = env.environments.get(name)
    files: list[str] = []
    warnings: list[str] = []
    variables: dict[str, Setting] = {}
    for path in sources.env_files:
        variables.update(_dotenv(path, root, name, files, warnings))
    facts: dict[str, Fact] = {}
    build = Build(root)
    for path in sources.kubernetes:
        objects = build.path(path)
        for key, setting in kubernetes.settings(objects).items():
            variables.setdefault(key, setting)
        facts.update(kubernetes.facts(objects))
    files += [f for f in build.files if f not in files]
    warnings += build.warnings
    facts.update(helm.values_facts(list(sources.helm_values), root, files))
    return EnvironmentDefinition(
        name=name,
        variables=variables,
        facts=facts,
        toggles=dict(declared.toggles) if declared is not None else {},
        files=tuple(files),
        warnings=tuple(warnings),
    )


def _dotenv(
    path: Path, root: Path, name: str, files: list[str], warnings: list[str]
) -> dict[str, Setting]:
    if path.is_dir():
        raise DefinitionError(f"{relative(path, root)} is a folder, not an env file")
    rel = relative(path, root)
    files.append(rel)
    parsed = parse_dotenv(read_text(path, root), rel, name)
    warnings += [str(w) for w in parsed.warnings]
    found: dict[str, Setting] = {}
    for definition in parsed.definitions:
        found.setdefault(
            definition.name,
            Setting(
                name=definition.name,
                where=definition.location,
                kind=definition.kind,
                value=definition.value,
            ),
        )
    return found
