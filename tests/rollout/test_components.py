"""Deployer, router and metric-source types are found by entry point, ours and others'.

The plugin here is a real installed distribution as Python sees one: a module and a
``.dist-info`` folder with ``entry_points.txt`` on ``sys.path``, found by
``importlib.metadata`` exactly as a ``pip install``-ed package would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gonogo.rollout import components, registry
from gonogo.rollout.analysis.interface import Judge
from gonogo.rollout.errors import RolloutError
from gonogo.rollout.judges import SEQUENTIAL, judge_type, make_judge
from gonogo.rollout.plan import RolloutPlan
from gonogo.rollout.route.builtin import BuiltinRouter
from tests.helpers import BASIC_POLICY, Project
from tests.rollout.plugins import install_plugin, uninstall_plugin

PLUGIN = """
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gonogo.rollout.analysis.threshold import ThresholdConfig, ThresholdJudge
from gonogo.rollout.components import BuildContext, ComponentType
from gonogo.rollout.judges import JudgeType


class AcmeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["acme"]
    endpoint: str


class AcmeRouter:
    def __init__(self, config: AcmeConfig, state_dir: Path) -> None:
        self.config = config
        self.state_dir = state_dir

    def close(self) -> None:
        pass


ROUTER = ComponentType(lambda: AcmeConfig, lambda c, x: AcmeRouter(c, x.state_dir))
NOT_A_TYPE = object()


class StrictThreshold(ThresholdJudge):
    name = "acme-strict"


JUDGE = JudgeType(lambda plan: StrictThreshold(ThresholdConfig(interval_s=plan.interval_s)))
"""

ENTRY_POINTS = """
[gonogo.routers]
acme = acme_router:ROUTER
odd = acme_router:NOT_A_TYPE
gone = acme_missing_module:ROUTER

[gonogo.judges]
acme-strict = acme_router:JUDGE
odd = acme_router:ROUTER
"""

PLAN = """
[rollout]
[[rollout.steps]]
weight = 20
[rollout.deployer]
type = "local"
command = ["serve", "--port", "{port}", "--version", "{version}"]
[rollout.router]
type = "acme"
endpoint = "https://lb.example.com"
[rollout.source]
type = "prometheus"
url = "http://127.0.0.1:9090"
"""


def _forget() -> None:
    registry.forget()


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The ``acme-router`` distribution installed for this test only."""
    install_plugin(tmp_path / "site", "acme_router", PLUGIN, ENTRY_POINTS, monkeypatch)
    yield tmp_path / "site"
    uninstall_plugin("acme_router", monkeypatch)


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    return Project(root=root, capsys=capsys, monkeypatch=monkeypatch)


def test_the_built_in_types_are_registered_by_entry_point() -> None:
    _forget()
    assert {"builtin", "nginx", "gateway-api"} <= set(components.available("router"))
    assert {"local", "command"} <= set(components.available("deployer"))
    assert {"builtin", "prometheus"} <= set(components.available("source"))
    assert components.component_type("router", "builtin") is components.BUILTIN_ROUTER
    assert {"sequential", "mannwhitney", "threshold"} <= set(registry.available("judge"))
    assert judge_type("sequential") is SEQUENTIAL


def test_a_plugin_router_is_validated_by_its_own_model_and_built(
    plugin: Path, project: Project, tmp_path: Path
) -> None:
    project.policy(BASIC_POLICY + PLAN)
    assert project.run("policy", "validate").code == 0
    assert "acme" in components.available("router")

    project.policy(BASIC_POLICY + PLAN.replace("endpoint =", "endpont ="))
    result = project.run("policy", "validate")
    assert result.code == 2
    line = result.assert_one_error_line()
    assert "rollout.router.endpoint: Field required" in line

    plan = RolloutPlan.model_validate(
        {
            "steps": [{"weight": 20}],
            "deployer": {"type": "local", "command": ["serve", "{port}", "{version}"]},
            "router": {"type": "acme", "endpoint": "https://lb.example.com"},
            "source": {"type": "prometheus", "url": "http://127.0.0.1:9090"},
        }
    )
    built = components.build(plan, tmp_path / "rollouts" / "1")
    try:
        assert type(built.router).__name__ == "AcmeRouter"
        assert built.router.config.endpoint == "https://lb.example.com"  # type: ignore[attr-defined]
        assert built.router.state_dir == tmp_path / "rollouts" / "1"  # type: ignore[attr-defined]
    finally:
        built.close()


def test_an_unknown_type_names_the_installed_ones_plugins_included(
    plugin: Path, project: Project
) -> None:
    project.policy(BASIC_POLICY + PLAN.replace('type = "acme"', 'type = "acne"'))

    result = project.run("policy", "validate")

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "rollout.router: unknown type 'acne'" in line
    assert "known types: acme, builtin, gateway-api, gone, nginx, odd" in line


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("odd", "type 'odd' (acme_router:NOT_A_TYPE) is not a ComponentType"),
        ("gone", "type 'gone' (acme_missing_module:ROUTER) cannot be loaded: ModuleNotFoundError"),
    ],
)
def test_a_broken_plugin_entry_is_one_clear_error(plugin: Path, name: str, expected: str) -> None:
    with pytest.raises(RolloutError, match=r"^rollout\.router: ") as caught:
        components.component_type("router", name)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_builtin_source_still_needs_the_builtin_router(tmp_path: Path) -> None:
    _forget()
    plan = RolloutPlan.model_validate(
        {
            "steps": [{"weight": 20}],
            "deployer": {"type": "local", "command": ["serve", "{port}", "{version}"]},
            "router": {"type": "builtin", "listen": "127.0.0.1:0"},
            "source": {"type": "builtin"},
        }
    )
    built = components.build(plan, tmp_path / "rollouts" / "1")
    try:
        assert isinstance(built.router, BuiltinRouter)
        assert built.source.__class__.__name__ == "BuiltinSource"
    finally:
        built.close()
    with pytest.raises(RolloutError, match="builtin source reads the builtin router"):
        components.BUILTIN_SOURCE.build(None, components.BuildContext(tmp_path))


def test_a_plugin_judge_is_named_by_the_plan_and_built_for_the_rollout(
    plugin: Path, project: Project
) -> None:
    plan_text = PLAN.replace("[rollout]\n", '[rollout]\njudge = "acme-strict"\ninterval_s = 2\n')
    project.policy(BASIC_POLICY + plan_text)
    assert project.run("policy", "validate").code == 0

    plan = RolloutPlan.model_validate(
        {
            "judge": "acme-strict",
            "interval_s": 2,
            "steps": [{"weight": 20}],
            "deployer": {"type": "local", "command": ["serve", "{port}", "{version}"]},
            "router": {"type": "builtin", "listen": "127.0.0.1:0"},
            "source": {"type": "builtin"},
        }
    )
    judge: Judge = make_judge(plan)
    assert judge.name == "acme-strict"

    project.policy(BASIC_POLICY + plan_text.replace("acme-strict", "odd"))
    line = project.run("policy", "validate").assert_one_error_line()
    assert "rollout.judge: type 'odd' (acme_router:ROUTER) is not a JudgeType" in line
    project.policy(BASIC_POLICY + plan_text.replace("acme-strict", "psychic"))
    line = project.run("policy", "validate").assert_one_error_line()
    assert "rollout.judge: unknown type 'psychic'" in line
    assert "known types: acme-strict, mannwhitney, odd, sequential, threshold" in line


def test_the_source_every_decision_names_never_carries_the_url_s_credentials(
    tmp_path: Path,
) -> None:
    """The source's address is stored with each decision and shown by ``rollout status``,
    the reports and the timeline: user info in it stays out."""
    _forget()
    plan = RolloutPlan.model_validate(
        {
            "steps": [{"weight": 20}],
            "deployer": {"type": "local", "command": ["serve", "{port}", "{version}"]},
            "router": {"type": "builtin", "listen": "127.0.0.1:0"},
            "source": {"type": "prometheus", "url": "http://prom:s3cr3t-pw@127.0.0.1:9/prom"},
        }
    )
    built = components.build(plan, tmp_path / "rollouts" / "1")
    try:
        assert built.source_info["url"] == "http://127.0.0.1:9/prom"
        assert "s3cr3t" not in repr(built.source_info)
    finally:
        built.close()
