"""The state store: SQLAlchemy tables, transactions and migrations."""

from gonogo.store.db import Store, default_url, head_revision, open_store

__all__ = ["Store", "default_url", "head_revision", "open_store"]
