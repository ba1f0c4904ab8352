"""The audit head kept outside the database, so a cut-off trail is noticed."""

from __future__ import annotations

import fcntl
import json
from datetime import UTC, datetime
from pathlib import Path

from gonogo.errors import AuditError
from gonogo.files import write_atomic
from gonogo.gates.results import AuditHead

SCHEMA = "gonogo.audit-checkpoint/v1"
FILENAME = "audit-checkpoint.json"


def read(path: Path, store: str) -> AuditHead | None:
    """The checkpoint for ``store``, or None when there is none yet (or for another store)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise AuditError(
            f"cannot read the audit checkpoint {path}: {exc}",
            hint="restore it from backup; deleting it weakens truncation detection",
        ) from None
    hint = "restore it from backup; deleting it weakens truncation detection"
    stores = data.get("stores") if isinstance(data, dict) else None
    if not isinstance(stores, dict):
        raise AuditError(f"the audit checkpoint {path} is malformed: no `stores` object", hint=hint)
    entry = stores.get(store)
    if entry is None:  # a checkpoint kept for other stores only
        return None
    try:
        return AuditHead(seq=int(entry["seq"]), hash=str(entry["hash"]))
    except (KeyError, TypeError, ValueError):
        raise AuditError(
            f"the audit checkpoint {path} is malformed for {store}", hint=hint
        ) from None


def advance(path: Path, store: str, head: AuditHead) -> None:
    """Record ``head`` for ``store`` unless the file already holds a newer one.

    Several processes may advance at once: an exclusive lock on a side file
    serialises the read-compare-write, and the write is atomic (rename).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_suffix(".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = _readable(path)
            stores = data["stores"]
            assert isinstance(stores, dict)  # noqa: S101 - _readable's shape
            current = stores.get(store)
            if isinstance(current, dict) and int(current["seq"]) >= head.seq:
                return
            stores[store] = head.to_json()
            write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _readable(path: Path) -> dict[str, object]:
    """The checkpoint file's content for :func:`advance`: a fresh one when there is none.

    A damaged file (not JSON, another shape, an entry that :func:`read` refuses) is never
    written over: it is set aside for ``audit verify``, which reports it until someone
    has compared it with the trail and removed it.
    """
    fresh: dict[str, object] = {"schema": SCHEMA, "stores": {}}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return fresh
    except (UnicodeDecodeError, ValueError):
        loaded = None
    stores = loaded.get("stores") if isinstance(loaded, dict) else None
    if (
        isinstance(loaded, dict)
        and isinstance(stores, dict)
        and all(map(_entry_ok, stores.values()))
    ):
        return loaded
    _set_aside(path)
    return fresh


def _entry_ok(entry: object) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
        return False
    try:
        int(entry["seq"])
    except (KeyError, TypeError, ValueError):
        return False
    return True


#: how a damaged checkpoint that was set aside is named: ``audit-checkpoint.json.damaged-…``
DAMAGED_SUFFIX = ".damaged-"


def _set_aside(path: Path) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path.replace(path.with_name(f"{path.name}{DAMAGED_SUFFIX}{stamp}"))


def damaged_copies(path: Path) -> list[Path]:
    """Damaged checkpoints :func:`advance` set aside next to ``path``, oldest first."""
    return sorted(path.parent.glob(f"{path.name}{DAMAGED_SUFFIX}*"))


def damaged_problem(copies: list[Path]) -> str:
    """What ``audit verify`` says while a damaged checkpoint is kept aside."""
    return (
        f"the audit checkpoint was found damaged and set aside as {copies[0].name}"
        + (f" (and {len(copies) - 1} more)" if len(copies) > 1 else "")
        + ": events cut off before then cannot be ruled out; compare it with the trail "
        "(or a report's audit head), then remove it"
    )
