"""Build a rollout's deployer, router and metric source from the plan's tables.

Each ``[rollout.deployer]``, ``[rollout.router]`` and ``[rollout.source]`` table names
its ``type``; that type's own config model validates the rest of the table, so an
unknown key or a bad value is reported with the table's name. Implementations are
imported with this module; the gateway-api router imports its optional extra only when
it is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gonogo.rollout.controller import Components
from gonogo.rollout.deploy.command import CommandDeployer, CommandDeployerConfig
from gonogo.rollout.deploy.interface import Deployer
from gonogo.rollout.deploy.local import LocalDeployer, LocalDeployerConfig
from gonogo.rollout.errors import RolloutError
from gonogo.rollout.plan import ComponentPlan, RolloutPlan
from gonogo.rollout.route.builtin import BuiltinRouter, BuiltinRouterConfig
from gonogo.rollout.route.gateway_api import GatewayApiRouter, GatewayApiRouterConfig
from gonogo.rollout.route.interface import Router
from gonogo.rollout.route.nginx import NginxRouter, NginxRouterConfig
from gonogo.rollout.source.builtin import BuiltinSource, BuiltinSourceConfig
from gonogo.rollout.source.interface import MetricSource


@dataclass(frozen=True)
class Kind:
    """One implementation: its config model and how to build it."""

    config: Callable[[], type[BaseModel]]
    build: Callable[[Any, Path, Mapping[str, Any]], Any]


def _builtin_router(
    config: BuiltinRouterConfig, state_dir: Path, saved: Mapping[str, Any]
) -> Router:
    url = saved.get("router_url")
    if isinstance(url, str) and url.startswith("http://") and config.listen.endswith(":0"):
        # a resumed controller serves on the address clients already use
        config = config.model_copy(update={"listen": url.removeprefix("http://")})
    return BuiltinRouter.from_config(config)


def _prometheus_config() -> type[BaseModel]:
    from gonogo.rollout.source.prometheus import PrometheusSourceConfig  # noqa: PLC0415

    return PrometheusSourceConfig


def _prometheus(config: Any, state_dir: Path, saved: Mapping[str, Any]) -> MetricSource:
    from gonogo.rollout.source.prometheus import PrometheusSource  # noqa: PLC0415

    source: MetricSource = PrometheusSource(config)
    return source


DEPLOYERS: dict[str, Kind] = {
    "local": Kind(lambda: LocalDeployerConfig, lambda c, d, s: LocalDeployer(c, d)),
    "command": Kind(lambda: CommandDeployerConfig, lambda c, d, s: CommandDeployer(c, d)),
}
ROUTERS: dict[str, Kind] = {
    "builtin": Kind(lambda: BuiltinRouterConfig, _builtin_router),
    # one managed nginx per project, kept across rollouts (clients keep its address)
    "nginx": Kind(
        lambda: NginxRouterConfig, lambda c, d, s: NginxRouter(c, d.parent.parent / "nginx")
    ),
    "gateway-api": Kind(lambda: GatewayApiRouterConfig, lambda c, d, s: GatewayApiRouter(c)),
}
SOURCES: dict[str, Kind] = {
    "builtin": Kind(lambda: BuiltinSourceConfig, lambda c, d, s: None),
    "prometheus": Kind(_prometheus_config, _prometheus),
}


def _validated(area: str, kinds: Mapping[str, Kind], part: ComponentPlan) -> tuple[Kind, Any]:
    kind = kinds.get(part.type)
    if kind is None:
        raise RolloutError(
            f"rollout.{area}: unknown type {part.type!r}",
            hint=f"known types: {', '.join(sorted(kinds))}",
        )
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
    """Check every component table against its type's config model."""
    _validated("deployer", DEPLOYERS, plan.deployer)
    _validated("router", ROUTERS, plan.router)
    _validated("source", SOURCES, plan.source)
    if plan.source.type == "builtin" and plan.router.type != "builtin":
        raise RolloutError(
            "rollout.source: the builtin source reads the builtin router's measurements",
            hint='use type = "builtin" under [rollout.router], or a prometheus source',
        )


def build(plan: RolloutPlan, state_dir: Path, saved: Mapping[str, Any] | None = None) -> Components:
    """The deployer, router and source of a plan (``saved``: a resumed rollout's state)."""
    validate(plan)
    saved = saved or {}
    state_dir.mkdir(parents=True, exist_ok=True)
    kind, config = _validated("deployer", DEPLOYERS, plan.deployer)
    deployer: Deployer = kind.build(config, state_dir, saved)
    kind, config = _validated("router", ROUTERS, plan.router)
    router: Router = kind.build(config, state_dir, saved)
    kind, config = _validated("source", SOURCES, plan.source)
    info = source_info(config)
    if isinstance(router, BuiltinRouter) and plan.source.type == "builtin":
        source: MetricSource = BuiltinSource(router)
    else:
        source = kind.build(config, state_dir, saved)
    return Components(deployer, router, source, info)


def source_info(config: BaseModel) -> dict[str, Any]:
    """What a decision's numbers come from: the source's type, address and queries.

    Only settings that say *what* was measured are kept (never headers or credentials).
    """
    data = config.model_dump(mode="json")
    keep = ("type", "url", "queries", "metrics", "latency_unit")
    return {key: data[key] for key in keep if key in data}
