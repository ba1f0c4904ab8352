"""Errors of the rollout areas: deployers, routers, metric sources and the controller."""

from __future__ import annotations

from gonogo.errors import GonogoError


class RolloutError(GonogoError):
    """A rollout cannot proceed as asked (bad plan, bad state, bad command)."""


class DeployError(RolloutError):
    """A deployer could not put a version on a target, check it, or take it down."""


class RouterError(RolloutError):
    """A router could not apply (or read back) a traffic split."""


class SourceError(RolloutError):
    """A metric source could not be read (unreachable, bad query, bad answer)."""
