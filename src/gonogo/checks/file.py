"""``file``: a file exists; a Markdown document has the required sections."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

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
        """The file itself."""
        assert isinstance(params, FileParams)  # noqa: S101 - the engine parsed it
        return CheckInputs(files=(self._path(params, ctx),))

    def _path(self, params: FileParams, ctx: CheckContext) -> Any:
        return ctx.ingested() or ctx.resolve(params.path)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Read the file and list its missing sections."""
        assert isinstance(params, FileParams)  # noqa: S101 - the engine parsed it
        path = self._path(params, ctx)
        if not path.exists():
            raise NotReported(f"{params.path} does not exist", hint="write it or fix `path`")
        if path.is_dir():
            raise CheckError(f"{params.path} is a folder, not a file", hint="fix `path`")
        try:
            data = path.read_bytes()[:_MAX_BYTES]
        except OSError as exc:
            raise CheckError(f"cannot read {params.path}: {exc.strerror}") from None
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
