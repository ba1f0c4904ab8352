"""The ``builtin`` metric source: the builtin router's own per-request measurements.

The :class:`~gonogo.rollout.route.builtin.BuiltinRouter` counts every request it proxies
for the variant and version it chose. :class:`BuiltinSource` reads those cumulative
counters for the two versions it is bound to, both at the same instant, so there is no
scrape interval and no query language: a snapshot is exactly what the proxy has served.
"""

from __future__ import annotations

import time
from typing import ClassVar, Literal, Self

from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import SourceError
from gonogo.rollout.route.builtin import BuiltinRouter
from gonogo.rollout.source.interface import Snapshot
from gonogo.strict import StrictModel

__all__ = ["BuiltinSource", "BuiltinSourceConfig"]


class BuiltinSourceConfig(StrictModel):
    """``[rollout.source]`` with ``type = "builtin"`` (it has no other keys)."""

    type: Literal["builtin"] = "builtin"


class BuiltinSource:
    """Per-variant totals measured by a builtin router; see the module docstring."""

    name: ClassVar[str] = "builtin"

    def __init__(self, router: BuiltinRouter) -> None:
        self.router = router
        self._versions: dict[Variant, str] | None = None

    @classmethod
    def from_config(cls, config: BuiltinSourceConfig, router: BuiltinRouter) -> Self:
        """A source reading ``router`` (the builtin source only works with the builtin router)."""
        del config  # no settings: everything comes from the router
        return cls(router)

    def bind(self, baseline: Backend, canary: Backend) -> None:
        """Report these versions: the baseline's and the canary's."""
        self._versions = {Variant.BASELINE: baseline.version, Variant.CANARY: canary.version}

    def snapshot(self) -> Snapshot:
        """Cumulative totals of the bound versions; SourceError when the router is down."""
        versions = self._versions
        if versions is None:
            raise SourceError(
                "the builtin metric source has no versions to report",
                hint="bind it to the baseline and the canary first",
            )
        if not self.router.running:
            raise SourceError(
                "the builtin router is not running, so nothing measures the traffic",
                hint="configure the builtin router before reading its measurements",
            )
        at = time.monotonic()
        read = self.router.read(versions.items())
        return Snapshot(
            at, {variant: read[variant, version] for variant, version in versions.items()}
        )

    def close(self) -> None:
        """Nothing to release: the router belongs to whoever configured it."""
