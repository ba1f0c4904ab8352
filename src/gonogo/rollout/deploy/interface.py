"""What a deployer is.

A deployer runs the two variants of a rollout: the *baseline* (the version production
runs now) and the *canary* (the release candidate). The controller asks it to deploy
each variant, checks that both stay healthy at every analysis interval, and on the way
out either promotes the canary (it becomes the baseline) or rolls it back.

Every method is idempotent, so a controller that was killed half-way through can call it
again on resume. :meth:`Deployer.state` returns what the deployer needs to find its
targets again (process ids, ports, …); the controller persists it in the store and hands
it back through :meth:`Deployer.attach` when it resumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

__all__ = ["Backend", "Deployer", "Health", "Variant"]


class Variant(StrEnum):
    """The two sides of a canary comparison."""

    BASELINE = "baseline"
    CANARY = "canary"


@dataclass(frozen=True)
class Backend:
    """One running variant: its version and the HTTP address that serves it."""

    variant: Variant
    version: str
    url: str
    """``http://host:port`` without a trailing slash"""

    def to_json(self) -> dict[str, str]:
        """JSON form."""
        return {"variant": self.variant.value, "version": self.version, "url": self.url}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Backend:
        """Inverse of :meth:`to_json`."""
        return cls(Variant(data["variant"]), str(data["version"]), str(data["url"]))


@dataclass(frozen=True)
class Health:
    """Whether a variant is alive and answers its health check, and why not."""

    healthy: bool
    detail: str = ""


@runtime_checkable
class Deployer(Protocol):
    """Runs the baseline and the canary; see the module docstring."""

    name: ClassVar[str]

    def deploy(self, variant: Variant, version: str) -> Backend:
        """Put ``version`` on the variant's target and wait until it is healthy.

        Returns the backend serving it. Raises :class:`~gonogo.rollout.errors.DeployError`
        when the version cannot be started or never becomes healthy. Deploying the version
        a variant already runs returns the running backend.
        """
        ...

    def health(self, variant: Variant) -> Health:
        """Whether the variant is alive and healthy now (cheap: called every interval)."""
        ...

    def rollback(self) -> None:
        """Take the canary down (its traffic is already at 0%); the baseline keeps running."""
        ...

    def promote(self) -> None:
        """The canary becomes the baseline (its traffic is already at 100%)."""
        ...

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state that lets :meth:`attach` find the targets again."""
        ...

    def attach(self, state: Mapping[str, Any]) -> None:
        """Adopt targets started by an earlier (killed) controller from its :meth:`state`."""
        ...

    def close(self) -> None:
        """Release what this process holds (does not stop targets that must keep serving)."""
        ...
