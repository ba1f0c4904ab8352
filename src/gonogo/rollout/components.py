"""Build a rollout's deployer, router and metric source from the plan's tables.

Each ``[rollout.deployer]``, ``[rollout.router]`` and ``[rollout.source]`` table names
its ``type``; that type's own config model validates the rest of the table, so an
unknown key or a bad value is reported with the table's name.

Types are found through the entry-point groups ``gonogo.deployers``, ``gonogo.routers``
and ``gonogo.sources`` (:mod:`gonogo.rollout.registry`). The built-ins register there
too (see ``pyproject.toml``), so a type from another package is found exactly like
ours: its entry point names a :class:`ComponentType`. The gateway-api router imports
its optional extra, and the Prometheus source its module, only when they are built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from gonogo.rollout import registry
from gonogo.rollout.controller import Components
from gonogo.rollout.deploy.command import CommandDeployer, CommandDeployerConfig
from gonogo.rollout.deploy.interface import Deployer
from gonogo.rollout.deploy.local import LocalDeployer, LocalDeployerConfig
from gonogo.rollout.errors import RolloutError
from gonogo.rollout.judges import judge_type
from gonogo.rollout.plan import ComponentPlan, RolloutPlan
from gonogo.rollout.route.builtin import BuiltinRouter, BuiltinRouterConfig
from gonogo.rollout.route.gateway_api import GatewayApiRouter, GatewayApiRouterConfig
from gonogo.rollout.route.interface import Router
from gonogo.rollout.route.nginx import NginxRouter, NginxRouterConfig
from gonogo.rollout.source.builtin import BuiltinSource, BuiltinSourceConfig
from gonogo.rollout.source.interface import MetricSource
from gonogo.security.httpclient import redact_url


@dataclass(frozen=True)
class BuildContext:
    """What a component type is built with besides its validated settings."""

    state_dir: Path
    """this rollout's folder (``.gonogo/rollouts/ID``) for files the component keeps"""
    saved: Mapping[str, Any] = field(default_factory=dict)
    """a resumed rollout's saved state (``router_url``, ...); empty for a new one"""
    router: Router | None = None
    """for a metric source: the router already built for this rollout"""


@dataclass(frozen=True)
class ComponentType:
    """One deployer, router or metric-source type, as its entry point names it.

    ``config`` returns the pydantic model that validates the type's whole table (``type``
    included); ``build`` turns a validated model into the component (a
    :class:`~gonogo.rollout.deploy.interface.Deployer`,
    :class:`~gonogo.rollout.route.interface.Router` or
    :class:`~gonogo.rollout.source.interface.MetricSource`).
    """

    config: Callable[[], type[BaseModel]]
    build: Callable[[Any, BuildContext], Any]


def _builtin_router(config: BuiltinRouterConfig, context: BuildContext) -> Router:
    url = context.saved.get("router_url")
    if isinstance(url, str) and url.startswith("http://") and config.listen.endswith(":0"):
        # a resumed controller serves on the address clients already use
        config = config.model_copy(update={"listen": url.removeprefix("http://")})
    return BuiltinRouter.from_config(config)


def _builtin_source(config: BuiltinSourceConfig, context: BuildContext) -> MetricSource:
    if not isinstance(context.router, BuiltinRouter):
        raise RolloutError(
            "rollout.source: the builtin source reads the builtin router's measurements",
            hint='use type = "builtin" under [rollout.router], or a prometheus source',
        )
    return BuiltinSource(context.router)


def _prometheus_config() -> type[BaseModel]:
    from gonogo.rollout.source.prometheus import PrometheusSourceConfig  # noqa: PLC0415

    return PrometheusSourceConfig


def _prometheus(config: Any, context: BuildContext) -> MetricSource:
    from gonogo.rollout.source.prometheus import PrometheusSource  # noqa: PLC0415

    source: MetricSource = PrometheusSource(config)
    return source


# The built-in types, registered under these names in pyproject.toml's entry points.
LOCAL_DEPLOYER = ComponentType(
    lambda: LocalDeployerConfig, lambda c, x: LocalDeployer(c, x.state_dir)
)
COMMAND_DEPLOYER = ComponentType(
    lambda: CommandDeployerConfig, lambda c, x: CommandDeployer(c, x.state_dir)
)
BUILTIN_ROUTER = ComponentType(lambda: BuiltinRouterConfig, _builtin_router)
# one managed nginx per project, kept across rollouts (clients keep its address)
NGINX_ROUTER = ComponentType(
    lambda: NginxRouterConfig, lambda c, x: NginxRouter(c, x.state_dir.parent.parent / "nginx")
)
GATEWAY_API_ROUTER = ComponentType(lambda: GatewayApiRouterConfig, lambda c, x: GatewayApiRouter(c))
BUILTIN_SOURCE = ComponentType(lambda: BuiltinSourceConfig, _builtin_source)
PROMETHEUS_SOURCE = ComponentType(_prometheus_config, _prometheus)


def available(area: str) -> tuple[str, ...]:
    """The installed types of ``area`` (``deployer``, ``router`` or ``source``), sorted."""
    return registry.available(area)


def component_type(area: str, name: str) -> ComponentType:
    """The type ``name`` of ``area``; RolloutError naming the known types when it is none."""
    return cast(ComponentType, registry.load(area, name, ComponentType))


def _validated(area: str, part: ComponentPlan) -> tuple[ComponentType, Any]:
    kind = component_type(area, part.type)
    try:
        return kind, kind.config().model_validate(part.settings())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        key = f"rollout.{area}.{where}" if where else f"rollout.{area}"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise RolloutError(
            f"{key}: {message}", hint=f"see the {part.type!r} {area} in docs/rollout*.md"
        ) from None


def validate(plan: RolloutPlan) -> None:
    """Check the judge and every component table against its type's config model."""
    judge_type(plan.judge)
    _validated("deployer", plan.deployer)
    _validated("router", plan.router)
    _validated("source", plan.source)
    if plan.source.type == "builtin" and plan.router.type != "builtin":
        raise RolloutError(
            "rollout.source: the builtin source reads the builtin router's measurements",
            hint='use type = "builtin" under [rollout.router], or a prometheus source',
        )


def build(plan: RolloutPlan, state_dir: Path, saved: Mapping[str, Any] | None = None) -> Components:
    """The deployer, router and source of a plan (``saved``: a resumed rollout's state)."""
    validate(plan)
    context = BuildContext(state_dir, saved or {})
    state_dir.mkdir(parents=True, exist_ok=True)
    kind, config = _validated("deployer", plan.deployer)
    deployer: Deployer = kind.build(config, context)
    kind, config = _validated("router", plan.router)
    router: Router = kind.build(config, context)
    kind, config = _validated("source", plan.source)
    info = source_info(config)
    source: MetricSource = kind.build(config, BuildContext(state_dir, context.saved, router))
    return Components(deployer, router, source, info)


def source_info(config: BaseModel) -> dict[str, Any]:
    """What a decision's numbers come from: the source's type, address and queries.

    Only settings that say *what* was measured are kept (never headers or credentials).
    """
    data = config.model_dump(mode="json")
    keep = ("type", "url", "queries", "metrics", "latency_unit")
    info = {key: data[key] for key in keep if key in data}
    if isinstance(info.get("url"), str):
        # decisions are shown by status, reports and the timeline: no user info or query
        info["url"] = redact_url(info["url"])
    return info
