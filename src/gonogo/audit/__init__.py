"""The tamper-evident audit trail: hash-chained events, verify, export."""

from gonogo.audit.chain import (
    GENESIS,
    Event,
    Verification,
    append,
    event_hash,
    events,
    head,
    verify,
)

__all__ = ["GENESIS", "Event", "Verification", "append", "event_hash", "events", "head", "verify"]
