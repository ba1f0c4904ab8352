"""Shared test setup.

* ``isolated_environment`` (autouse): every test runs with HOME and the XDG directories in
  its own ``tmp_path``, without ``GONOGO_*`` variables from the developer's shell (except
  ``GONOGO_TEST_POSTGRES_URL``), without the user's or system's git configuration, with a
  fixed git identity, and with a wide, colourless, dumb terminal so rendered output is stable.
* ``postgres_server`` / ``postgres_url``: a real PostgreSQL on loopback, see
  ``tests/postgres.py``.  Tests using either get the ``postgres`` marker automatically, so
  ``pytest -m "not postgres"`` deselects them.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.postgres import ENV_URL, postgres_server, postgres_url  # noqa: F401

ALLOWED_GONOGO_VARIABLES = frozenset({ENV_URL})
POSTGRES_FIXTURES = frozenset({"postgres_server", "postgres_url"})

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Gonogo Test",
    "GIT_AUTHOR_EMAIL": "test@gonogo.invalid",
    "GIT_COMMITTER_NAME": "Gonogo Test",
    "GIT_COMMITTER_EMAIL": "test@gonogo.invalid",
}

# Set by git hooks and some shells; any of them would point git at the wrong repository.
GIT_REPOSITORY_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG",
    "GIT_CONFIG_COUNT",
)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Isolate the test from the real machine; returns the temporary HOME."""
    root = tmp_path / "_env"
    home = root / "home"
    xdg = {
        "XDG_CONFIG_HOME": root / "config",
        "XDG_CACHE_HOME": root / "cache",
        "XDG_STATE_HOME": root / "state",
    }
    for directory in (home, *xdg.values()):
        directory.mkdir(parents=True)
    gitconfig = root / "gitconfig"
    gitconfig.write_text("", encoding="utf-8")

    monkeypatch.setenv("HOME", str(home))
    for name, directory in xdg.items():
        monkeypatch.setenv(name, str(directory))

    for name in list(os.environ):
        if name.startswith("GONOGO_") and name not in ALLOWED_GONOGO_VARIABLES:
            monkeypatch.delenv(name)

    for name in GIT_REPOSITORY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return home


@pytest.hookimpl(tryfirst=True)  # before `-m` deselection, which runs in pytest's own hook
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs PostgreSQL with ``postgres``."""
    for item in items:
        if POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    """Under CI, a skipped test is a failure: every component the suite needs is installed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("CI", "").lower() in {"true", "1"}:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run every test: {report.longrepr}"


# Shared CI machines are slow and noisy: hypothesis must judge correctness, not speed.
hypothesis_settings.register_profile(
    "gonogo", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("gonogo")
