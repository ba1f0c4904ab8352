"""Compare the outputs of two runs and point at the first difference.

Files are compared by SHA-256 digest. For the first file that differs, archives (wheels,
zips, tarballs, gzip) are opened and their members compared the same way, down to a few
levels; text shows the first differing line with both versions, binary the first differing
byte offset. When an archive's members are equal, the difference is in its metadata
(member timestamps, order or permissions) and that is named instead.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gonogo.digest import sha256_bytes, sha256_file
from gonogo.errors import one_line
from gonogo.perf import PerfError

_MAX_DEPTH = 3
_SHOW = 100
_MAX_MEMBER_BYTES = 256 * 1024 * 1024

Kind = Literal["missing", "added", "content", "metadata"]


@dataclass(frozen=True)
class Difference:
    """Where two runs' outputs first differ."""

    path: str
    """The file, with ``!member`` for each archive level (``dist/x.whl!pkg/stamp.py``)."""
    kind: Kind
    line: int | None = None
    offset: int | None = None
    left: str | None = None
    right: str | None = None

    def describe(self, first: str = "run 1", second: str = "run 2") -> str:
        """One line, e.g. ``x.whl!pkg/stamp.py line 2: 'a = 1' (run 1) vs 'a = 2' (run 2)``."""
        if self.kind == "missing":
            return f"{self.path} is only in {first}"
        if self.kind == "added":
            return f"{self.path} is only in {second}"
        if self.kind == "metadata":
            return f"{self.path}: same members and contents, but {self.left}"
        if self.line is not None:
            return f"{self.path} line {self.line}: {self.left} ({first}) vs {self.right} ({second})"
        return (
            f"{self.path} differs from byte {self.offset}: {self.left} ({first}) "
            f"vs {self.right} ({second})"
        )

    def to_json(self) -> dict[str, object]:
        """JSON form, kept in the observation's details."""
        return {
            "path": self.path,
            "kind": self.kind,
            "line": self.line,
            "offset": self.offset,
            "left": self.left,
            "right": self.right,
        }


def files_under(root: Path, patterns: Iterable[str] = ("**/*",)) -> dict[str, Path]:
    """Files below ``root`` matching any glob, by POSIX path relative to ``root``."""
    found: dict[str, Path] = {}
    for pattern in patterns:
        try:
            matched = sorted(root.glob(pattern))
        except (ValueError, NotImplementedError, OSError) as exc:
            raise PerfError(
                f"output pattern {one_line(pattern)[:100]!r} is not a usable glob "
                f"({one_line(str(exc))})",
                hint="write it relative to the working folder; `**` must be a whole segment",
            ) from None
        for path in matched:
            if path.is_file():
                found.setdefault(path.relative_to(root).as_posix(), path)
    return dict(sorted(found.items()))


def digests(files: Mapping[str, Path]) -> dict[str, str]:
    """SHA-256 of each file."""
    return {name: sha256_file(path) for name, path in files.items()}


def first_difference(left: Mapping[str, Path], right: Mapping[str, Path]) -> Difference | None:
    """The first difference between two runs' files (in path order), or None when equal."""
    left_digests, right_digests = digests(left), digests(right)
    for name in sorted(set(left) | set(right)):
        if name not in right:
            return Difference(name, "missing")
        if name not in left:
            return Difference(name, "added")
        if left_digests[name] != right_digests[name]:
            found = compare_bytes(name, left[name].read_bytes(), right[name].read_bytes())
            if found is not None:
                return found
    return None


def differing_count(left: Mapping[str, Path], right: Mapping[str, Path]) -> int:
    """How many paths are missing, added or different between two runs."""
    left_digests, right_digests = digests(left), digests(right)
    names = set(left_digests) | set(right_digests)
    return sum(1 for n in names if left_digests.get(n) != right_digests.get(n))


def compare_bytes(name: str, left: bytes, right: bytes, depth: int = 0) -> Difference | None:
    """The first difference between two versions of one file's content."""
    if left == right:
        return None
    if depth < _MAX_DEPTH:
        for opener in (_zip_members, _tar_members, _gzip_members):
            pair = opener(left), opener(right)
            if pair[0] is not None and pair[1] is not None:
                return _compare_archives(name, pair[0], pair[1], depth)
    text = _text(left), _text(right)
    if text[0] is not None and text[1] is not None:
        return _compare_text(name, text[0], text[1])
    return _compare_binary(name, left, right)


@dataclass(frozen=True)
class _Archive:
    members: dict[str, bytes]
    metadata: list[tuple[str, str]]
    """Per member in archive order: its name and its metadata, for the metadata diff."""
    what: str


def _compare_archives(name: str, left: _Archive, right: _Archive, depth: int) -> Difference:
    for member in sorted(set(left.members) | set(right.members)):
        path = f"{name}!{member}"
        if member not in right.members:
            return Difference(path, "missing")
        if member not in left.members:
            return Difference(path, "added")
        found = compare_bytes(path, left.members[member], right.members[member], depth + 1)
        if found is not None:
            return found
    order = [m for m, _ in left.metadata], [m for m, _ in right.metadata]
    if order[0] != order[1]:
        return Difference(
            name, "metadata", left=f"the {left.what} lists its members in another order"
        )
    for (member, meta_left), (_, meta_right) in zip(left.metadata, right.metadata, strict=True):
        if meta_left != meta_right:
            return Difference(
                name, "metadata", left=f"{member} has {meta_left} in run 1, {meta_right} in run 2"
            )
    return Difference(name, "metadata", left=f"the {left.what} headers differ")


def _zip_members(data: bytes) -> _Archive | None:
    if not data.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            if sum(i.file_size for i in infos) > _MAX_MEMBER_BYTES:
                return None
            members = {i.filename: archive.read(i) for i in infos}
            metadata = [
                (i.filename, f"time {_zip_time(i.date_time)}, mode {i.external_attr >> 16:o}")
                for i in infos
            ]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None
    return _Archive(members, metadata, "zip")


def _zip_time(stamp: tuple[int, int, int, int, int, int]) -> str:
    year, month, day, hour, minute, second = stamp
    return f"{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}"


def _tar_members(data: bytes) -> _Archive | None:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            members: dict[str, bytes] = {}
            metadata: list[tuple[str, str]] = []
            total = 0
            for info in archive:
                meta = f"mtime {info.mtime}, mode {info.mode:o}, owner {info.uid}:{info.gid}"
                metadata.append((info.name, meta))
                if not info.isfile():
                    continue
                total += info.size
                handle = archive.extractfile(info)
                if handle is None or total > _MAX_MEMBER_BYTES:
                    return None
                members[info.name] = handle.read()
    except (tarfile.TarError, OSError, ValueError, EOFError):
        return None
    return _Archive(members, metadata, "tarball")


def _gzip_members(data: bytes) -> _Archive | None:
    if not data.startswith(b"\x1f\x8b"):
        return None
    try:
        content = gzip.decompress(data)
    except (OSError, EOFError, ValueError):
        return None
    header = f"gzip header {sha256_bytes(data[:10])[:12]}"
    return _Archive({"(content)": content}, [("(header)", header)], "gzip")


def _text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _compare_text(name: str, left: str, right: str) -> Difference:
    left_lines, right_lines = left.splitlines(keepends=True), right.splitlines(keepends=True)
    for number, (a, b) in enumerate(zip(left_lines, right_lines, strict=False), start=1):
        if a != b:
            if a.rstrip("\r\n") == b.rstrip("\r\n"):  # only the line ending differs
                return Difference(name, "content", line=number, left=_ending(a), right=_ending(b))
            return Difference(name, "content", line=number, left=_show(a), right=_show(b))
    number = min(len(left_lines), len(right_lines)) + 1
    return Difference(
        name,
        "content",
        line=number,
        left=_show(left_lines[number - 1]) if number <= len(left_lines) else "end of file",
        right=_show(right_lines[number - 1]) if number <= len(right_lines) else "end of file",
    )


def _ending(line: str) -> str:
    ending = line[len(line.rstrip("\r\n")) :]
    return f"line ending {ending!r}" if ending else "no line ending"


def _show(line: str) -> str:
    line = line.rstrip("\r\n")
    return repr(line if len(line) <= _SHOW else line[:_SHOW] + "…")


def _compare_binary(name: str, left: bytes, right: bytes) -> Difference:
    offset = next(
        (i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b),
        min(len(left), len(right)),
    )
    return Difference(
        name,
        "content",
        offset=offset,
        left=_byte(left, offset),
        right=_byte(right, offset),
    )


def _byte(data: bytes, offset: int) -> str:
    return f"0x{data[offset]:02x}" if offset < len(data) else f"end of file ({len(data)} bytes)"
