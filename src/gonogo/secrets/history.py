"""Scanning git history: every commit's added lines, streamed from ``git log -p``.

``git log -p --all --no-color -U0`` is read as it is produced; the lines each commit adds
to a file form one fragment, scanned like a file, and a hit's line is mapped back to the
line number in that commit's version of the file. Only added lines are scanned, so a secret
is reported for the commit that introduced it, even when a later commit deleted it.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from gonogo.secrets.detect import Detector
from gonogo.secrets.model import FileOutcome, Hit, Notice, NoticeKind, RuleSet, SecretsError
from gonogo.secrets.redact import printable
from gonogo.secrets.scan import DEFAULT_MAX_BYTES, pool, scan_bytes, worker_detector

_MARK = b"\x1e"
_FORMAT = "--format=%x1e%H%x1f%an <%ae>%x1f%aI"
_HUNK = re.compile(rb"^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,\d+)? @@")
_BATCH_BYTES = 1024 * 1024
_ESCAPES = {b"t": b"\t", b"n": b"\n", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b"}


@dataclass(frozen=True)
class Fragment:
    """The lines one commit added to one file."""

    path: str
    commit: str
    author: str
    date: str
    data: bytes
    lines: tuple[int, ...]
    """The file's line number of each line in ``data``."""
    oversized: bool = False


def require_repository(folder: Path) -> None:
    """Raise a one-line error unless ``folder`` is inside a git work tree."""
    try:
        run = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        raise SecretsError("git is not installed", hint="--history reads git's log") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SecretsError(f"cannot run git: {exc}") from None
    if run.returncode != 0 or run.stdout.strip() != "true":
        raise SecretsError(
            f"{folder} is not inside a git repository",
            hint="--history reads git's log: run it in a clone, or drop --history",
        )


def _unquote(raw: bytes) -> bytes:
    """Undo git's C-style quoting of a path (``"a\\tb"``, octal escapes)."""
    if not (raw.startswith(b'"') and raw.endswith(b'"')):
        return raw
    body, out, i = raw[1:-1], bytearray(), 0
    while i < len(body):
        if body[i : i + 1] == b"\\" and i + 1 < len(body):
            octal = re.match(rb"[0-7]{3}", body[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 4
                continue
            out += _ESCAPES.get(body[i + 1 : i + 2], body[i + 1 : i + 2])
            i += 2
            continue
        out += body[i : i + 1]
        i += 1
    return bytes(out)


class LogReader:
    """Streams ``git log -p`` of a work tree as fragments; counts the commits it saw."""

    def __init__(self, folder: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Read the history of ``folder`` (paths relative to it, changes outside left out)."""
        self.folder = folder
        self.max_bytes = max_bytes
        self.commits = 0

    def command(self) -> list[str]:
        """The git command line, immune to the user's diff and log configuration."""
        return [
            "git",
            "-C",
            str(self.folder),
            "-c",
            "core.quotePath=false",
            "-c",
            "log.showSignature=false",
            "log",
            "-p",
            "--all",
            "--no-color",
            "-U0",
            "--no-ext-diff",
            "--no-textconv",
            "--relative",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            _FORMAT,
        ]

    def fragments(self) -> Iterator[Fragment]:
        """Every (commit, file) with added lines, newest commit first."""
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=errors)
            assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
            try:
                yield from self._parse(process.stdout)
            finally:
                process.stdout.close()
                code = process.wait()
            if code != 0:
                errors.seek(0)
                message = errors.read().decode("utf-8", "replace").strip().splitlines()
                first = message[0] if message else f"exit status {code}"
                raise SecretsError(f"git log failed: {first}")

    def _parse(self, stream: Iterator[bytes]) -> Iterator[Fragment]:
        commit = author = date = ""
        path: str | None = None
        in_header = False
        added: list[bytes] = []
        lines: list[int] = []
        size, oversized, next_line = 0, False, 0

        def flush() -> Fragment | None:
            if path is None or not lines:
                return None
            data = b"" if oversized else b"".join(added)
            return Fragment(path, commit, author, date, data, tuple(lines), oversized)

        for raw in stream:
            first = raw[:1]
            if first == b"+" and not in_header:
                if path is not None:
                    lines.append(next_line)
                    next_line += 1
                    size += len(raw) - 1
                    if size > self.max_bytes:
                        oversized = True
                        added.clear()
                    elif not oversized:
                        added.append(raw[1:])
                continue
            if first == _MARK or raw.startswith(b"diff --git "):
                fragment = flush()
                if fragment is not None:
                    yield fragment
                path, in_header = None, first != _MARK
                added, lines, size, oversized = [], [], 0, False
                if first == _MARK:
                    self.commits += 1
                    fields = raw[1:].rstrip(b"\n").decode("utf-8", "replace").split("\x1f")
                    commit, author, date = [*fields, "", "", ""][:3]
            elif in_header and raw.startswith(b"+++ "):
                # git ends a name that has spaces with a tab; a name with a tab is quoted
                target = _unquote(raw[4:].rstrip(b"\n").removesuffix(b"\t"))
                path = (
                    printable(target[2:].decode("utf-8", "surrogateescape"))
                    if target[:2] == b"b/"
                    else None
                )
            elif first == b"@":
                in_header = False
                hunk = _HUNK.match(raw)
                next_line = int(hunk.group(1)) if hunk else 0
        fragment = flush()
        if fragment is not None:
            yield fragment


def scan_fragment(detector: Detector, fragment: Fragment) -> FileOutcome:
    """Scan one commit's additions to one file; lines are mapped back to the file's."""
    name = f"{fragment.commit[:12]}:{fragment.path}"
    if fragment.oversized:
        notice = Notice(name, NoticeKind.TOO_LARGE, "added lines over the size limit; skipped")
        return _outcome(fragment, (), (notice,))
    notices, binary = scan_bytes(detector, fragment.data, name)
    if binary:
        return FileOutcome(fragment.path, 0, (), tuple(notices), commit=fragment.commit)
    hits = detector.scan(fragment.data, fragment.path, fragment.commit)
    mapped = tuple(
        dataclasses.replace(h, line=fragment.lines[min(h.line, len(fragment.lines)) - 1])
        for h in hits
    )
    return _outcome(fragment, mapped, tuple(notices))


def _outcome(fragment: Fragment, hits: tuple[Hit, ...], notices: tuple[Notice, ...]) -> FileOutcome:
    return FileOutcome(
        fragment.path,
        len(fragment.data),
        hits,
        notices,
        commit=fragment.commit,
        author=fragment.author,
        date=fragment.date,
    )


def scan_batch(batch: Sequence[Fragment]) -> list[FileOutcome]:
    """Worker entry point: scan a batch of fragments with this worker's detector."""
    detector = worker_detector()
    return [scan_fragment(detector, f) for f in batch]


def _batches(fragments: Iterator[Fragment]) -> Iterator[list[Fragment]]:
    batch: list[Fragment] = []
    size = 0
    for fragment in fragments:
        batch.append(fragment)
        size += len(fragment.data)
        if size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def scan_history(
    folder: Path, ruleset: RuleSet, *, jobs: int, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[FileOutcome], int]:
    """Scan every commit reachable from any ref; returns the outcomes and the commit count."""
    require_repository(folder)
    reader = LogReader(folder, max_bytes=max_bytes)
    batches = _batches(reader.fragments())
    head = [b for _, b in zip(range(2), batches, strict=False)]
    if jobs > 1 and len(head) > 1:  # one batch is not worth a pool
        try:
            return _in_pool(chain(head, batches), ruleset, jobs), reader.commits
        except BrokenProcessPool:  # workers could not start here: read the log again, serially
            reader = LogReader(folder, max_bytes=max_bytes)
            head, batches = [], _batches(reader.fragments())
    detector = Detector(ruleset)
    outcomes = [scan_fragment(detector, f) for batch in chain(head, batches) for f in batch]
    return outcomes, reader.commits


def _in_pool(batches: Iterator[list[Fragment]], ruleset: RuleSet, jobs: int) -> list[FileOutcome]:
    outcomes: list[FileOutcome] = []
    with pool(jobs, ruleset) as executor:
        pending: deque[Future[list[FileOutcome]]] = deque()
        for batch in batches:
            pending.append(executor.submit(scan_batch, batch))
            while len(pending) > jobs * 4:
                outcomes += pending.popleft().result()
        while pending:
            outcomes += pending.popleft().result()
    return outcomes
