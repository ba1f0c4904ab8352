"""What a router is.

A router splits the traffic of one front address between the baseline and the canary
backends. The controller sets the canary's share in percent (0 to 100) at every step
change and sets it to 0 at once on a rollback. :meth:`Router.weight` reads the split
back from the router itself (the proxy's table, nginx's config, the HTTPRoute), so a
resumed controller can tell what split traffic is actually under.

Every method is idempotent. A router that cannot apply a split raises
:class:`~gonogo.rollout.errors.RouterError`; the controller then rolls back and reports it.
"""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

from gonogo.rollout.deploy.interface import Backend

__all__ = ["Router"]


@runtime_checkable
class Router(Protocol):
    """Sets and reads back the canary's traffic share; see the module docstring."""

    name: ClassVar[str]

    @property
    def url(self) -> str:
        """The front address clients send traffic to (``http://host:port``)."""
        ...

    def configure(self, baseline: Backend, canary: Backend | None, canary_percent: float) -> None:
        """Route to these backends with this split (starting the router when needed)."""
        ...

    def set_weight(self, canary_percent: float) -> None:
        """Change the canary's share of traffic (0 to 100) on the configured backends."""
        ...

    def weight(self) -> float | None:
        """The canary's share the router applies now, read back; None when unconfigured."""
        ...

    def close(self) -> None:
        """Release what this process holds (an embedded proxy stops serving)."""
        ...
