"""``file``: a file exists; a Markdown document has the required sections."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from gonogo.checks.globs import kind_of
from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    NotReported,
    Observation,
)
from gonogo.digest import sha256_bytes
from gonogo.evidence.markdown import headings, missing_sections
from gonogo.gates.results import EvidenceRef, Status

_MAX_BYTES = 10 * 1024 * 1024


class FileParams(CheckParams):
    """Parameters of the ``file`` check."""

    path: str = Field(min_length=1)
    sections: list[str] = Field(default_factory=list)


class FileCheck:
    """Checks a document is there and has the sections a reader needs."""

    name: ClassVar[str] = "file"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = FileParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The file itself; anything but a regular file is not cached (collect refuses it)."""
        assert isinstance(params, FileParams)  # noqa: S101 - the engine parsed it
        path = self._path(params, ctx)
        if kind_of(path, key="path", shown=params.path) in ("other", "folder"):
            # digesting /dev/zero would never end, and a FIFO would wait for a writer
            return CheckInputs(cacheable=False)
        return CheckInputs(files=(path,))

    def _path(self, params: FileParams, ctx: CheckContext) -> Any:
        return ctx.ingested() or ctx.resolve(params.path)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Read the file and list its missing sections."""
        assert isinstance(params, FileParams)  # noqa: S101 - the engine parsed it
        path = self._path(params, ctx)
        kind = kind_of(path, key="path", shown=params.path)
        if kind == "missing":
            raise NotReported(f"{params.path} does not exist", hint="write it or fix `path`")
        if kind == "folder":
            raise CheckError(f"{params.path} is a folder, not a file", hint="fix `path`")
        if kind == "other":
            # a device or a pipe never ends (/dev/zero) or never starts (a FIFO)
            raise CheckError(
                f"{params.path} is not a regular file (a device, pipe or socket)",
                hint="fix `path`",
            )
        try:
            with path.open("rb") as handle:
                data = handle.read(_MAX_BYTES)
        except OSError as exc:
            raise CheckError(
                f"cannot read {params.path}: {exc.strerror or exc}", hint="fix `path`"
            ) from None
        missing: tuple[str, ...] = ()
        if params.sections:
            text = data.decode("utf-8", errors="replace")
            missing = missing_sections(text, params.sections)
            found = [h.title for h in headings(text)]
        else:
            found = []
        return Observation(
            measured=len(missing),
            details={"missing": list(missing), "headings": found[:50], "bytes": len(data)},
            evidence=(EvidenceRef(kind="file", uri=params.path, sha256=sha256_bytes(data)),),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass when nothing required is missing."""
        assert isinstance(params, FileParams)  # noqa: S101 - the engine parsed it
        missing = list(observation.details.get("missing", []))
        if not params.sections:
            return Judgement(Status.PASS, f"{params.path} exists", "exists")
        expected = "sections: " + ", ".join(params.sections)
        if missing:
            return Judgement(
                Status.FAIL, f"{params.path} lacks section(s): {', '.join(missing)}", expected
            )
        return Judgement(Status.PASS, f"{params.path} has every required section", expected)
