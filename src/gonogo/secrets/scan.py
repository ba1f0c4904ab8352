"""Scanning the working tree: list the files, read them as bytes, detect, in parallel.

Files are listed by the calling process (``git ls-files`` in a work tree, so ignored files
are left out; a plain walk elsewhere, never into ``.git``), sorted by size and handed to a
pool of worker processes in chunks. Each worker compiles the rules once. Anything wrong
with one file (unreadable, a symlink loop, binary, too large) becomes a :class:`Notice`;
nothing about a single file stops the scan.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import stat
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from gonogo.secrets.detect import Detector
from gonogo.secrets.model import FileOutcome, Notice, NoticeKind, RuleSet, SecretsError
from gonogo.secrets.redact import printable

#: files larger than this are skipped with a notice
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: bytes sniffed for a NUL to call a file binary
_SNIFF = 8000
#: an average line longer than this makes a file "minified"
_MINIFIED_LINE = 4096
#: below this much data, a pool costs more than it saves
_POOL_MIN_BYTES = 2 * 1024 * 1024
_CHUNK_BYTES = 4 * 1024 * 1024
_CHUNK_FILES = 400

_detector: Detector | None = None


@dataclass(frozen=True)
class Target:
    """A file to scan: where it is, how the report names it, its size."""

    path: str
    name: str
    size: int


def default_jobs() -> int:
    """Worker processes by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def pool(jobs: int, ruleset: RuleSet) -> Executor:
    """A process pool whose workers each hold a compiled :class:`Detector`.

    A single-threaded caller forks: the workers inherit the detector compiled here, with
    nothing to import or compile. A caller with threads (the gate engine) must not fork,
    so its workers come from a ``forkserver`` (or ``spawn``) and compile the rules once.
    """
    global _detector  # noqa: PLW0603 - the compiled rules forked workers inherit
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        _detector = Detector(ruleset)
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context(method),
        initializer=init_worker,
        initargs=(ruleset,),
    )


def init_worker(ruleset: RuleSet) -> None:
    """Compile the rules once per worker process (unless inherited by fork)."""
    global _detector  # noqa: PLW0603 - one detector per worker process, by design
    if _detector is None or _detector.ruleset != ruleset:
        _detector = Detector(ruleset)


def worker_detector() -> Detector:
    """The detector of this worker process."""
    if _detector is None:  # pragma: no cover - init_worker always runs first
        raise RuntimeError("worker not initialised")
    return _detector


def _relative(path: str, root: str) -> str:
    """``path`` relative to ``root`` with forward slashes (as given when outside it).

    The name is reported, hashed into fingerprints and written to baselines: a byte
    that is not UTF-8, or a control character, is shown as its escape.
    """
    prefix = root.rstrip(os.sep) + os.sep
    inside = path[len(prefix) :] if path.startswith(prefix) else path
    return printable(inside.replace(os.sep, "/"))


def _git_listing(folder: str) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files under ``folder``, or None outside git."""
    try:
        run = subprocess.run(
            ["git", "-C", folder, "ls-files", "-z", "-co", "--exclude-standard"],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    listed = [os.fsdecode(p) for p in run.stdout.split(b"\0") if p]
    # outside a work tree, or a folder git ignores as a whole: walk it instead
    return listed if run.returncode == 0 and listed else None


def _walk(folder: str) -> Iterator[str]:
    """Every entry under ``folder`` without following folder symlinks, never into .git."""
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            yield current  # reported as unreadable by _classify
            continue
        for entry in entries:
            if entry.name == ".git":
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            else:
                yield entry.path


def _classify(path: str, name: str, max_bytes: int) -> Target | Notice | None:
    """A regular file to scan, a notice saying why not, or None to pass over quietly."""
    try:
        info = os.stat(path)  # noqa: PTH116 - plain strings: 10^5 files, no Path objects
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Notice(name, NoticeKind.SYMLINK_LOOP, "symlink loop; skipped")
        if os.path.islink(path):  # noqa: PTH114 - see above
            return Notice(name, NoticeKind.NOT_REGULAR, "broken symlink; skipped")
        if exc.errno == errno.ENOENT:
            return None  # tracked by git but deleted from the work tree
        return Notice(name, NoticeKind.UNREADABLE, f"cannot read: {exc.strerror}; skipped")
    if stat.S_ISREG(info.st_mode):
        if info.st_size > max_bytes:
            size = f"{info.st_size / 2**20:.1f} MiB is over the {max_bytes / 2**20:g} MiB limit"
            return Notice(name, NoticeKind.TOO_LARGE, f"{size}; skipped")
        return Target(path, name, info.st_size)
    if stat.S_ISDIR(info.st_mode):
        if os.path.islink(path):  # noqa: PTH114 - see above
            return Notice(name, NoticeKind.NOT_REGULAR, "symlink to a folder; not followed")
        if not os.access(path, os.R_OK | os.X_OK):
            return Notice(name, NoticeKind.UNREADABLE, "cannot list this folder; skipped")
        return None  # a submodule or nested repository that git lists as one entry
    return Notice(name, NoticeKind.NOT_REGULAR, "not a regular file; skipped")


def _candidates(given: Path, root: str) -> list[tuple[str, str]]:
    """(path, report name) of every file ``given`` stands for."""
    if not given.exists() and not given.is_symlink():
        raise SecretsError(f"{given} does not exist", hint="name a file or folder to scan")
    folder = str(given)
    if not given.is_dir() or given.is_symlink():
        return [(folder, _relative(folder, root))]
    listed = _git_listing(folder)
    # plain strings: a large tree has 10^5 files, and Path objects cost more than the scan
    found = [os.path.join(folder, p) for p in listed] if listed is not None else _walk(folder)  # noqa: PTH118
    return [(p, _relative(p, root)) for p in found]


def list_targets(
    root: Path, paths: Sequence[Path] = (), *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Target], list[Notice]]:
    """The files to scan under ``root`` (or just ``paths``), and notices about the rest."""
    targets: list[Target] = []
    notices: list[Notice] = []
    seen: set[str] = set()
    for given in paths or [root]:
        for path, name in _candidates(given, str(root)):
            if name in seen:
                continue
            seen.add(name)
            classified = _classify(path, name, max_bytes)
            if isinstance(classified, Target):
                targets.append(classified)
            elif classified is not None:
                notices.append(classified)
    return targets, notices


def scan_bytes(detector: Detector, data: bytes, name: str) -> tuple[list[Notice], bool]:
    """Notices about ``data`` (invalid UTF-8, minified) and whether it is binary."""
    if b"\0" in data[:_SNIFF]:
        return [Notice(name, NoticeKind.BINARY, "binary file; skipped")], True
    notices = []
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            notices.append(
                Notice(
                    name,
                    NoticeKind.INVALID_UTF8,
                    f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                    "scanned as raw bytes",
                )
            )
    lines = data.count(b"\n") + 1
    if len(data) > _MINIFIED_LINE and len(data) / lines > _MINIFIED_LINE:
        notices.append(
            Notice(
                name,
                NoticeKind.MINIFIED,
                f"minified ({len(data)} bytes on {lines} line(s)); scanned, see columns",
            )
        )
    return notices, False


def scan_target(detector: Detector, target: Target) -> FileOutcome:
    """Read and scan one file; every problem becomes a notice."""
    if detector.path_allowed(target.name):
        return FileOutcome(target.name, 0)
    hits = detector.scan_path(target.name)
    try:
        with open(target.path, "rb") as handle:  # noqa: PTH123 - bytes, one syscall path
            data = handle.read(_SNIFF)
            if b"\0" not in data:  # a binary file is never read past its first bytes
                data += handle.read()
    except OSError as exc:
        reason = "symlink loop" if exc.errno == errno.ELOOP else f"cannot read: {exc.strerror}"
        kind = NoticeKind.SYMLINK_LOOP if exc.errno == errno.ELOOP else NoticeKind.UNREADABLE
        return FileOutcome(target.name, 0, tuple(hits), (Notice(target.name, kind, reason),))
    notices, binary = scan_bytes(detector, data, target.name)
    if binary:
        return FileOutcome(target.name, 0, tuple(hits), tuple(notices))
    hits += detector.scan(data, target.name)
    return FileOutcome(target.name, len(data), tuple(hits), tuple(notices))


def scan_chunk(targets: Sequence[Target]) -> list[FileOutcome]:
    """Worker entry point: scan a chunk of files with this worker's detector."""
    detector = worker_detector()
    return [scan_target(detector, t) for t in targets]


def chunks(targets: Sequence[Target], jobs: int) -> list[list[Target]]:
    """Split ``targets`` (largest first) into chunks that keep every worker busy."""
    total = sum(t.size for t in targets)
    budget = max(256 * 1024, min(_CHUNK_BYTES, total // max(1, jobs * 8)))
    out: list[list[Target]] = []
    current: list[Target] = []
    size = 0
    for target in sorted(targets, key=lambda t: t.size, reverse=True):
        current.append(target)
        size += target.size
        if size >= budget or len(current) >= _CHUNK_FILES:
            out.append(current)
            current, size = [], 0
    if current:
        out.append(current)
    return out


def scan_targets(targets: Sequence[Target], ruleset: RuleSet, jobs: int) -> list[FileOutcome]:
    """Scan every target, in worker processes when there is enough to share."""
    total = sum(t.size for t in targets)
    if jobs > 1 and total >= _POOL_MIN_BYTES and len(targets) >= jobs * 2:
        try:
            with pool(jobs, ruleset) as executor:
                results: Iterable[list[FileOutcome]] = executor.map(
                    scan_chunk, chunks(targets, jobs)
                )
                return [outcome for chunk in results for outcome in chunk]
        except BrokenProcessPool:
            pass  # workers could not start here (an embedded interpreter): scan in-process
    detector = Detector(ruleset)
    return [scan_target(detector, t) for t in targets]
