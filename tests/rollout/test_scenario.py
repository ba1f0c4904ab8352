"""Scenario files: validated with errors naming the key; simulate through the CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gonogo.cli.main import main
from gonogo.cli.rollout_cmd import app
from gonogo.rollout.analysis.scenario import ScenarioError, load_scenario, parse_scenario
from tests.rollout.helpers import LOGNORMAL, scenario

GOOD = """
name = "errors-5x"
seed = 7
duration_s = 120
rps = 100
steps = [10, 50, 100]
step_s = 60

[baseline]
error_rate = 0.01
latency = { dist = "lognormal", median_ms = 80, sigma = 0.5 }

[canary]
error_rate = 0.05
latency = { dist = "gamma", median_ms = 80, shape = 4 }
"""


def _raw(**changes: object) -> dict[str, object]:
    data = scenario().model_dump()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        (
            {"canary": {"error_rate": 0.1, "latency": {"dist": "lognormal", "median_ms": 5}}},
            "canary.latency: sigma is required",
        ),
        (
            {"baseline": {"error_rate": 0.1, "latency": {"dist": "pareto", "median_ms": 5}}},
            "baseline.latency: shape is required",
        ),
        ({"baseline": {"error_rate": 1.5, "latency": LOGNORMAL}}, "baseline.error_rate"),
        ({"steps": [50, 10]}, "steps: weights must increase"),
        ({"steps": [0]}, "steps: every weight"),
        ({"steps": [100]}, "steps: no weight below 100"),
        ({"seed": -5}, "seed: Input should be greater than or equal to 0"),
        (
            {"canary": {"error_rate": 0.1, "latency": LOGNORMAL, "regression_at_s": 500}},
            "(top level): canary.regression_at_s 500 is not before duration_s 300",
        ),
        ({"warmup_s": 600}, "(top level): warmup_s leaves no time"),
        ({"duration_s": 0.5}, "(top level): duration_s is shorter than one interval_s"),
        ({"rps": -1}, "rps"),
        # TOML reads inf and nan: the simulation would crash on them
        ({"rps": float("inf")}, "rps: Input should be a finite number"),
        ({"duration_s": float("inf")}, "duration_s: Input should be a finite number"),
        ({"rps": 1e300}, "rps: Input should be less than or equal to 1000000000"),
        ({"interval_s": 1e9}, "interval_s: Input should be less than or equal to 3600"),
        ({"scrape_interval_s": -15}, "scrape_interval_s: Input should be greater than or equal"),
        # a shape near 0 puts the median out of a float's range
        (
            {
                "baseline": {
                    "error_rate": 0.1,
                    "latency": {"dist": "pareto", "median_ms": 5, "shape": 1e-300},
                }
            },
            "baseline.latency.shape: Input should be greater than or equal to 0.05",
        ),
        (
            {
                "canary": {
                    "error_rate": 0.1,
                    "latency": {"dist": "lognormal", "median_ms": 5, "sigma": 50},
                }
            },
            "canary.latency.sigma: Input should be less than or equal to 10",
        ),
        ({"colour": "red"}, "colour: unknown key"),
        (
            {"canary": {"error_rate": 0.1, "latency": {"dist": "weibull", "median_ms": 5}}},
            "canary.latency.dist",
        ),
    ],
)
def test_a_malformed_scenario_names_the_key(changes: dict[str, object], key: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(_raw(**changes), "s.toml")
    assert str(caught.value).startswith(f"s.toml: {key}")


def test_a_missing_key_is_named() -> None:
    data = _raw()
    del data["duration_s"]
    with pytest.raises(ScenarioError, match=r"s\.toml: duration_s: required key is missing"):
        parse_scenario(data, "s.toml")


def test_unreadable_and_invalid_files_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(broken)
    latin = tmp_path / "latin.toml"
    latin.write_bytes('name = "caf\u00e9"'.encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin\.toml: byte 11 is not UTF-8; save"):
        load_scenario(latin)


def test_simulate_reports_the_documented_json_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "report.json"

    result = CliRunner().invoke(
        app,
        [
            "simulate",
            str(path),
            "--judge",
            "sequential",
            "--runs",
            "3",
            "--format",
            "json",
            "--output",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["schema"] == "gonogo.rollout.simulation/v1"
    assert {
        "scenario",
        "judge",
        "runs",
        "false_rollback_rate",
        "detection_rate",
        "mean_detection_s",
        "median_detection_s",
        "p95_detection_s",
        "mean_exposed_requests",
        "inconclusive_rate",
        "promoted_rate",
    } <= set(report)
    assert report["scenario"] == "errors-5x" and report["runs"] == 3
    assert report["detection_rate"] == 1.0


def test_simulate_prints_a_text_summary_and_is_seeded(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD, encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["simulate", str(path), "--judge", "oracle", "--runs", "2"])
    second = runner.invoke(app, ["simulate", str(path), "--judge", "oracle", "--runs", "2"])

    assert first.exit_code == 0
    assert first.output == second.output
    assert "scenario errors-5x: regression; judge oracle, 2 runs" in first.output
    assert "detected             100.0%" in first.output


def test_simulate_renders_markdown_and_html_with_the_same_numbers(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD, encoding="utf-8")
    runner = CliRunner()
    args = ["simulate", str(path), "--judge", "oracle", "--runs", "2", "--format"]
    markdown = runner.invoke(app, [*args, "markdown"])
    html = runner.invoke(app, [*args, "html"])

    assert markdown.exit_code == 0 and html.exit_code == 0
    assert markdown.output.startswith("# Simulation: errors-5x, judge oracle\n")
    assert "| runs | 2 |" in markdown.output
    assert "| detected | 100.00% |" in markdown.output
    page = ET.fromstring(html.output)  # noqa: S314 - our own output
    cells = [["".join(td.itertext()) for td in tr] for tr in page.iter("tr")]
    assert ["detected", "100.00%"] in cells


def test_simulate_refuses_a_bad_scenario_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace(", sigma = 0.5 }", " }"), encoding="utf-8")

    result = CliRunner().invoke(app, ["simulate", str(path), "--runs", "1"])

    assert isinstance(result.exception, ScenarioError)
    assert "baseline.latency: sigma is required" in str(result.exception)


def test_simulate_refuses_an_unknown_judge_naming_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD, encoding="utf-8")

    code = main(["rollout", "simulate", str(path), "--judge", "psychic", "--runs", "1"])

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("gonogo: error: --judge: unknown type 'psychic'; known types: ")
    assert "mannwhitney, oracle, sequential, threshold" in err
    assert err.count("\n") == 1


def test_simulate_takes_a_built_in_judge_s_name_in_any_case(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(GOOD, encoding="utf-8")

    result = CliRunner().invoke(
        app, ["simulate", str(path), "--judge", "Oracle", "--runs", "1", "--format", "json"]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["judge"] == "oracle"
