"""Read-only git queries the baseline and branch-guard checks need."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gonogo.perf import PerfError

_TIMEOUT = 30.0


class GitError(PerfError):
    """git is missing, or a repository or ref it was asked about is not there."""


def git(root: Path, *args: str) -> str | None:
    """Stdout of ``git ARGS`` run in ``root`` (stripped), or None when git says no.

    Raises :class:`GitError` only when git itself is not installed.
    """
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        if not root.is_dir():
            return None
        raise GitError("git is not installed", hint="install git (apt-get install git)") from None
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def is_repository(root: Path) -> bool:
    """Whether ``root`` is inside a git work tree."""
    return git(root, "rev-parse", "--is-inside-work-tree") == "true"


def head_commit(root: Path) -> str | None:
    """The full id of the checked-out commit, or None outside a repository (or before one)."""
    return git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")


def is_dirty(root: Path) -> bool:
    """Whether tracked files differ from the checked-out commit (untracked files do not count)."""
    status = git(root, "status", "--porcelain", "--untracked-files=no")
    return bool(status)


def current_branch(root: Path) -> str | None:
    """The checked-out branch, or None on a detached HEAD or outside a repository."""
    return git(root, "symbolic-ref", "--quiet", "--short", "HEAD")


def default_branch(root: Path) -> str | None:
    """The repository's default branch.

    The remote's HEAD (``origin/HEAD``, set by ``git clone``) first, then ``init.defaultBranch``
    when that branch exists, then ``main`` or ``master``; None when none of them is there.
    """
    remote = git(root, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    if remote:
        return remote.split("/", 1)[1] if "/" in remote else remote
    candidates = [git(root, "config", "--get", "init.defaultBranch"), "main", "master"]
    for name in candidates:
        if name and resolve(root, f"refs/heads/{name}") is not None:
            return name
    return None


def resolve(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names, or None when the repository has no such ref."""
    if ref.startswith("-"):
        return None  # never let a ref from a policy be read as an option
    return git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def commits_between(root: Path, base: str, tip: str) -> list[tuple[str, str]]:
    """``(id, subject)`` of every commit reachable from ``tip`` but not ``base``, newest first."""
    listing = git(root, "log", "--format=%H %s", f"{base}..{tip}", "--")
    if listing is None:
        raise GitError(f"cannot list the commits between {base} and {tip}")
    pairs = []
    for line in listing.splitlines():
        commit, _, subject = line.partition(" ")
        pairs.append((commit, subject))
    return pairs
