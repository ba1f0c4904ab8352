"""The audit head kept outside the database, so a cut-off trail is noticed."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from gonogo.errors import AuditError
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
            data: dict[str, object] = {"schema": SCHEMA, "stores": {}}
            with contextlib.suppress(FileNotFoundError, ValueError):
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict) and isinstance(loaded.get("stores"), dict):
                    data = loaded
            stores = data["stores"]
            assert isinstance(stores, dict)  # noqa: S101 - shape fixed just above
            current = stores.get(store)
            if isinstance(current, dict) and int(current.get("seq", 0)) >= head.seq:
                return
            stores[store] = head.to_json()
            temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            temp.replace(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
