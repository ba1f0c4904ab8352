"""The bundled example, end to end: evidence, release, check, every owner signs, go, audit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.helpers import Project
from tests.security.osvdata import SNAPSHOT

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shopapi"
CACHES = ("reports", ".gonogo", "__pycache__", ".pytest_cache", ".benchmarks", ".coverage")


@pytest.fixture
def shopapi(project: Project) -> Project:
    """A copy of examples/shopapi with fresh evidence from its own collect script."""
    shutil.rmtree(project.root)
    shutil.copytree(EXAMPLE, project.root, ignore=shutil.ignore_patterns(*CACHES))
    # as a user runs it: this interpreter first on PATH, no PYTEST_* from the outer run (xdist)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    collected = subprocess.run(
        ["bash", "scripts/collect-evidence.sh"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert (project.root / "reports/junit.xml").is_file()
    assert (project.root / "reports/coverage.json").is_file()
    # the dependency audit's advisories: the shared PyPA snapshot, linked by the example's script
    linked = subprocess.run(
        ["bash", "scripts/advisories.sh"],
        cwd=project.root,
        env={**env, "GONOGO_OSV_DB": str(SNAPSHOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert linked.returncode == 0, linked.stdout + linked.stderr
    return project


@pytest.mark.slow
def test_the_example_goes_from_no_go_to_go_once_every_owner_signs(shopapi: Project) -> None:
    policy = tomllib.loads((shopapi.root / "gonogo.toml").read_text(encoding="utf-8"))
    people = {role: names[0] for role, names in policy["owners"].items()}
    owners = {g["id"]: g["owners"] for g in policy["gates"]}

    assert shopapi.run("release", "create", "1.4.0").code == 0
    for name, credential in policy["security"]["credentials"].items():
        rotated = shopapi.run("security", "rotated", name, user=people[credential["owner"]])
        assert rotated.code == 0, rotated.err
    code, report = shopapi.check_json()
    assert code == 1, "sign-offs are missing"
    assert all(
        c["status"] == "pass"
        for g in report["gates"]
        if g["id"] != "release"
        for c in g["criteria"]
    ), report

    # A gate can be signed once its criteria pass; the release gate passes only once the
    # gates it depends on are go, so sign what passes, check again, until all is signed.
    signed: set[str] = set()
    for _ in range(len(owners)):
        for gate in report["gates"]:
            if gate["id"] in signed or gate["outcome"] == "fail":
                continue
            for role in owners[gate["id"]]:
                signing = shopapi.run("signoff", gate["id"], "--role", role, user=people[role])
                assert signing.code == 0, signing.err
            signed.add(gate["id"])
        code, report = shopapi.check_json()
        if code == 0:
            break

    assert code == 0, report
    assert signed == set(owners)
    markdown = shopapi.run("status", "--format", "markdown")
    assert markdown.code == 0
    for gate in policy["gates"]:
        assert f"· {gate['id']} — {gate['title']}: ✅ GO" in markdown.out
    verify = shopapi.run("audit", "verify")
    assert verify.code == 0
    assert verify.out.startswith("audit trail OK")
