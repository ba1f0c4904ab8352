"""The one tree of expected errors.

Every error a user can cause derives from :class:`GonogoError`. The CLI turns
each into one line on stderr and the exit code it carries; anything else is an
internal error (exit 3).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit-code contract shared by every command."""

    OK = 0
    NO_GO = 1
    USAGE = 2
    INTERNAL = 3
    INTERRUPTED = 130


def one_line(text: str) -> str:
    """Collapse whitespace: a tool's, parser's or API's message on one line."""
    return " ".join(text.split())


class GonogoError(Exception):
    """An expected error: reported as one line, never as a traceback.

    ``hint`` says how to fix it; it is appended to the message.
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class UsageError(GonogoError):
    """A command was called with arguments that cannot work."""


class ConfigError(GonogoError):
    """Configuration (policy file, environment) is missing or invalid."""


class PolicyError(ConfigError):
    """The policy file is missing or invalid."""


class StoreError(GonogoError):
    """The state store cannot be used."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock for too long."""


class SchemaTooNewError(StoreError):
    """The store was written by a newer gonogo."""


class EvidenceError(GonogoError):
    """An evidence file is unreadable or malformed."""


class SignoffError(GonogoError):
    """A sign-off was refused (unknown signer, nothing to sign, bad signature)."""


class AuditError(GonogoError):
    """The audit trail cannot be read or written."""


class NoGo(GonogoError):
    """A gate, scan or judge said no: exit 1."""

    exit_code = ExitCode.NO_GO
