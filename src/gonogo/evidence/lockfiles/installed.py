"""The packages installed in a Python environment, read with ``importlib.metadata``.

The interpreter is run as a child process, so any environment can be audited (a
virtualenv's ``bin/python``, a container's interpreter), not only gonogo's own.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from gonogo.evidence.lockfiles.model import Dependency, Ecosystem, LockfileError, normalise

_SCRIPT = """
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]  # not the current folder
import json, importlib.metadata as md
out = []
for dist in md.distributions():
    name = dist.metadata["Name"]
    if name:
        out.append([name, dist.version, str(getattr(dist, "_path", "") or "")])
print(json.dumps(out))
"""
_TIMEOUT = 120.0


def installed_packages(python: str | None = None) -> list[Dependency]:
    """Every distribution the interpreter ``python`` (default: the running one) can import.

    The first of duplicate names wins, as for ``import``. The source of each is
    its ``.dist-info`` (or ``.egg-info``) folder.
    """
    exe = python or sys.executable
    found = shutil.which(exe) if not Path(exe).is_file() else exe
    if not found:
        raise LockfileError(
            f"python interpreter {exe!r} not found", hint="pass the path of its `python`"
        )
    try:
        run = subprocess.run(
            [found, "-c", _SCRIPT],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LockfileError(
            f"{found} did not list its packages within {_TIMEOUT:g} s",
            hint="check that it is a working Python interpreter",
        ) from None
    except OSError as exc:
        raise LockfileError(
            f"cannot run {found}: {exc.strerror or exc}",
            hint="pass the path of a Python interpreter (its `python`)",
        ) from None
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise LockfileError(f"{found} could not list its packages: {last}")
    try:
        rows = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise LockfileError(f"{found} printed something other than its package list") from None
    out: list[Dependency] = []
    seen: set[str] = set()
    for name, version, where in rows:
        key = normalise(Ecosystem.PYPI, name)
        if key in seen:
            continue
        seen.add(key)
        out.append(Dependency(Ecosystem.PYPI, key, version, where or f"{found} (installed)"))
    return out
