"""What the version-control system says about the project, as the engine records it."""

from __future__ import annotations

from pathlib import Path

from gonogo.errors import GonogoError
from gonogo.perf import git as gitq

DIRTY = "-dirty"


def evaluated_commit(root: Path) -> str | None:
    """The commit an evaluation in ``root`` is recorded against; None outside a git repository.

    The full id of HEAD, with ``-dirty`` appended when tracked files differ from it: such an
    evaluation says nothing certain about the commit, and the branch guard does not count it.
    """
    try:
        commit = gitq.head_commit(root)
        if commit is None:
            return None
        return commit + DIRTY if gitq.is_dirty(root) else commit
    except GonogoError:  # git is not installed: nothing to record
        return None
