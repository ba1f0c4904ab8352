"""What an audit reads: the dependency files, the database folder, the policy's rules.

Shared by ``gonogo deps audit``/``sbom`` and the ``vulns`` check, so both
resolve paths and settings the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from gonogo.errors import UsageError
from gonogo.evidence.lockfiles import Dependency, discover, installed_packages, load_all
from gonogo.policy.model import Deps
from gonogo.security.audit import AuditPolicy, AuditReport, ExceptionRule, audit, parse_threshold
from gonogo.security.osv import load_database


def default_db_dir() -> Path:
    """``$XDG_CACHE_HOME/gonogo/osv`` (``~/.cache/gonogo/osv``): where ``deps sync`` writes."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "gonogo" / "osv"


#: the environment variable that names the database folder (over the policy's ``deps.db``)
ENV_OSV_DB = "GONOGO_OSV_DB"


def resolve_db(explicit: Path | None, deps: Deps, root: Path) -> Path:
    """The database folder: ``explicit`` (flag or the check's parameter), else
    ``$GONOGO_OSV_DB``, else the policy's ``deps.db`` (relative to the project root),
    else :func:`default_db_dir`. The commands and the ``vulns`` check agree on it."""
    if explicit is not None:
        return explicit.expanduser()
    from_env = os.environ.get(ENV_OSV_DB)
    if from_env:
        return Path(from_env).expanduser()
    if deps.db:
        path = Path(deps.db).expanduser()
        return path if path.is_absolute() else root / path
    return default_db_dir()


def audit_policy(
    deps: Deps, *, threshold: str | None = None, fail_unscored: bool | None = None
) -> AuditPolicy:
    """The policy's ``[deps]`` rules, with a threshold or unscored rule given on top."""
    return AuditPolicy(
        threshold=parse_threshold(deps.threshold if threshold is None else threshold),
        fail_unscored=deps.fail_unscored if fail_unscored is None else fail_unscored,
        exceptions=tuple(
            ExceptionRule(id=e.id, reason=e.reason, approver=e.approver, expires=e.expires)
            for e in deps.exceptions
        ),
    )


@dataclass(frozen=True)
class Inputs:
    """The files found and the dependencies they declare."""

    files: tuple[Path, ...]
    dependencies: tuple[Dependency, ...]
    installed_python: str | None = None


def gather(paths: list[Path], *, python: str | None = None, installed: bool = False) -> Inputs:
    """Parse the dependency files under ``paths``, plus the environment of ``python``
    when ``installed``. Raises when there is nothing to audit."""
    files = discover(paths) if paths else []
    deps = load_all(files)
    if installed:
        deps += installed_packages(python)
    if not files and not installed:
        where = ", ".join(str(p) for p in paths) or "nowhere"
        raise UsageError(
            f"nothing to audit: no lockfile, requirements file or pyproject.toml in {where}",
            hint="name the files, or pass --installed to audit an environment",
        )
    return Inputs(tuple(files), tuple(deps), python if installed else None)


def run(inputs: Inputs, db_dir: Path, policy: AuditPolicy, *, today: date) -> AuditReport:
    """Load the database and audit the inputs."""
    wanted = [(str(d.ecosystem), d.name) for d in inputs.dependencies if d.pinned]
    return audit(inputs.dependencies, load_database(db_dir, wanted), policy, today=today)
