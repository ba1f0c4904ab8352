"""The ``[env]`` section of the policy: environments, where they are defined, parity.

::

    [env]
    runbook = "RUNBOOK.md"

    [env.sources]                       # where each environment is defined; {env} is its name
    env_files = [".env.{env}", "config/{env}.env"]
    kubernetes = ["k8s/overlays/{env}"]
    helm_values = ["helm/values-{env}.yaml"]

    [env.environments.staging]
    description = "Pre-production, same topology as production"
    deploy = ["kubectl apply -k k8s/overlays/staging"]
    rollback = ["kubectl rollout undo deployment/api -n staging"]
    verify = ["curl -fsS https://staging.example.com/healthz"]
    toggles = { new_checkout = true }

    [[env.parity.allow]]
    key = "replicas"
    reason = "production runs three replicas, staging one"

The deploy, rollback and verify commands are the runbook's (``gonogo env runbook``) and
the rollout's: :func:`environment_commands` hands them to Phase 7. See
docs/environments.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from gonogo.errors import ConfigError
from gonogo.strict import StrictModel

_ENV_NAME = r"^[a-z][a-z0-9_-]*$"
EnvName = Annotated[str, Field(pattern=_ENV_NAME, max_length=64)]
Command = Annotated[str, Field(min_length=1)]
Pattern = Annotated[str, Field(min_length=1)]
ToggleName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=128)]


class ParityKind(StrEnum):
    """What kind of difference between two environments."""

    MISSING = "missing"
    """A variable (or a Helm value) one environment defines and the other does not."""
    FLAG = "flag"
    """A feature flag (an on/off variable or value) that differs."""
    TOGGLE = "toggle"
    """A toggle of the policy (``[env.environments.NAME.toggles]``) that differs."""
    VALUE = "value"
    """Any other value that differs (compared only with ``values = "all"``)."""
    SECRET = "secret"  # noqa: S105 - a kind of difference, not a password
    """A secret whose source differs (never its value)."""
    REPLICAS = "replicas"
    RESOURCES = "resources"
    IMAGE = "image"
    DEPENDENCY = "dependency"
    """An object, container or chart dependency one environment has and the other lacks."""


class EnvSources(StrictModel):
    """Where every environment's definitions are found: globs, ``{env}`` its name."""

    env_files: tuple[Pattern, ...] = (
        ".env.{env}",
        "{env}.env",
        "config/{env}.env",
        "env/{env}.env",
    )
    kubernetes: tuple[Pattern, ...] = (
        "k8s/overlays/{env}",
        "kustomize/overlays/{env}",
        "deploy/overlays/{env}",
        "kubernetes/overlays/{env}",
        "k8s/{env}",
        "deploy/{env}",
    )
    helm_values: tuple[Pattern, ...] = (
        "values-{env}.yaml",
        "values.{env}.yaml",
        "helm/values-{env}.yaml",
        "chart/values-{env}.yaml",
        "charts/*/values-{env}.yaml",
    )

    @field_validator("env_files", "kubernetes", "helm_values")
    @classmethod
    def _names_the_environment(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            if "{env}" not in pattern:
                raise ValueError(f"{pattern!r} must contain {{env}}, the environment's name")
        return patterns


class Environment(StrictModel):
    """One environment: its commands, its toggles, and where it is defined if not by default.

    ``env_files``, ``kubernetes`` and ``helm_values`` replace the ``[env.sources]``
    patterns for this environment (paths or globs from the project root); a plain path
    named here must exist.
    """

    description: str = ""
    deploy: tuple[Command, ...] = ()
    rollback: tuple[Command, ...] = ()
    verify: tuple[Command, ...] = ()
    toggles: dict[ToggleName, bool | int | float | str] = Field(default_factory=dict)
    env_files: tuple[Pattern, ...] | None = None
    kubernetes: tuple[Pattern, ...] | None = None
    helm_values: tuple[Pattern, ...] | None = None


class ParityAllow(StrictModel):
    """A difference the policy accepts, with the reason.

    ``key`` is a glob matched against the whole key of a difference
    (``k8s.Deployment/api.replicas``) or any dotted tail of it (``replicas``);
    ``kind`` matches its kind. ``environments``, when given, limits it to comparisons
    of two of those environments.
    """

    key: Annotated[str, Field(min_length=1)] | None = None
    kind: ParityKind | None = None
    environments: tuple[EnvName, ...] = ()
    reason: Annotated[str, Field(min_length=3)]

    @model_validator(mode="after")
    def _says_what(self) -> ParityAllow:
        if self.key is None and self.kind is None:
            raise ValueError("an allowed difference needs a `key`, a `kind` or both")
        if not self.reason.strip():
            raise ValueError("an allowed difference needs a reason")
        return self

    def covers(self, key: str, kind: ParityKind, environments: tuple[str, str]) -> bool:
        """Whether this entry allows a difference of ``kind`` at ``key`` between two envs."""
        if self.kind is not None and self.kind is not kind:
            return False
        if self.environments and not set(environments) <= set(self.environments):
            return False
        return self.key is None or key_matches(self.key, key)


def key_matches(pattern: str, key: str) -> bool:
    """Whether glob ``pattern`` matches ``key`` whole or one of its dotted tails."""
    return fnmatchcase(key, pattern) or fnmatchcase(key, "*." + pattern)


class Parity(StrictModel):
    """How ``gonogo env diff`` and the ``env-parity`` check compare two environments."""

    values: Literal["flags", "all"] = "flags"
    """``flags``: compare the values of flags only; ``all``: every non-secret value."""
    allow: tuple[ParityAllow, ...] = ()


class EnvPolicy(StrictModel):
    """The ``[env]`` section; see the module docstring."""

    runbook: Annotated[str, Field(min_length=1)] = "RUNBOOK.md"
    sources: EnvSources = EnvSources()
    parity: Parity = Parity()
    environments: dict[EnvName, Environment] = Field(default_factory=dict)

    def allowed(self, key: str, kind: ParityKind, environments: tuple[str, str]) -> str | None:
        """The reason the policy gives for allowing this difference, or None."""
        entry = next((a for a in self.parity.allow if a.covers(key, kind, environments)), None)
        return entry.reason if entry is not None else None


class UnknownEnvironment(ConfigError):
    """An environment name the policy does not declare (or no definition names)."""


@dataclass(frozen=True)
class EnvironmentCommands:
    """An environment's deploy, rollback and verification commands, as the policy gives them."""

    environment: str
    deploy: tuple[str, ...]
    rollback: tuple[str, ...]
    verify: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """Which of ``deploy``, ``rollback``, ``verify`` has no command."""
        return tuple(name for name in ("deploy", "rollback", "verify") if not getattr(self, name))


def environment_commands(env: EnvPolicy, name: str) -> EnvironmentCommands:
    """The commands of environment ``name`` (for the runbook and the rollout)."""
    declared = env.environments.get(name)
    if declared is None:
        known = ", ".join(env.environments) or "none"
        raise UnknownEnvironment(
            f"no environment {name!r} under [env.environments] in the policy",
            hint=f"declared: {known}",
        )
    return EnvironmentCommands(name, declared.deploy, declared.rollback, declared.verify)
