"""Audit events from the store a run records into, for checks that judge past events."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from gonogo.audit import chain
from gonogo.checks.interface import CheckError
from gonogo.errors import GonogoError
from gonogo.store.db import default_url, missing_sqlite_file, open_store

ENV_DATABASE_URL = "GONOGO_DATABASE_URL"


def audit_events(root: Path, store_url: str | None, type_prefix: str) -> Iterator[chain.Event]:
    """The store's events of ``type_prefix``, oldest first; none when there is no store yet.

    ``store_url``: the store the run records into (``CheckContext.store_url``); else
    GONOGO_DATABASE_URL, else the project's default store. A missing SQLite store is not
    created. A store that cannot be read is a CheckError.
    """
    url = store_url or os.environ.get(ENV_DATABASE_URL) or default_url(root / ".gonogo")
    if missing_sqlite_file(url):
        return
    try:
        store = open_store(url)
    except GonogoError as exc:
        raise CheckError(str(exc)) from None
    try:
        with store.read() as conn:
            yield from chain.events(conn, type_prefix=type_prefix)
    except GonogoError as exc:
        raise CheckError(str(exc)) from None
    finally:
        store.close()
