"""Least privilege over a set of files: Kubernetes RBAC manifests and AWS IAM policies together.

``find_files`` expands paths, folders and globs to the YAML and JSON files under them;
``scan`` reads every file (each document with its line numbers) and returns a
:class:`~gonogo.security.findings.Report` of RBAC and IAM findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gonogo.security import iam, rbac
from gonogo.security.findings import Finding, Report, SecurityInputError, sort_findings
from gonogo.security.located import JSON_SUFFIXES, YAML_SUFFIXES, load_documents

TOOL = "least-privilege"
MANIFEST_SUFFIXES = YAML_SUFFIXES | JSON_SUFFIXES
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv", ".venv"})


def find_files(patterns: Iterable[str], root: Path) -> list[Path]:
    """The manifest files named by ``patterns``: files, folders (walked) or globs under ``root``.

    A named file or folder that does not exist is an error; a glob may match nothing.
    """
    found: dict[Path, None] = {}
    for pattern in patterns:
        path = Path(pattern)
        if any(ch in pattern for ch in "*?["):
            matches = root.glob(pattern) if not path.is_absolute() else _abs_glob(path)
            candidates = sorted(p for p in matches if p.is_file())
            found.update(dict.fromkeys(p for p in candidates if _manifest(p)))
            continue
        full = path if path.is_absolute() else root / path
        if full.is_dir():
            found.update(dict.fromkeys(_walk(full)))
        elif full.is_file():
            found[full] = None
        else:
            raise SecurityInputError(f"no such file or folder: {pattern}", hint="check the path")
    return list(found)


def _abs_glob(path: Path) -> Iterable[Path]:
    anchor = Path(path.anchor)
    return anchor.glob(str(path.relative_to(anchor)))


def _manifest(path: Path) -> bool:
    return path.suffix.lower() in MANIFEST_SUFFIXES


def _walk(folder: Path) -> list[Path]:
    out = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p in SKIPPED_FOLDERS for p in parts[:-1]):
            continue
        if path.is_file() and _manifest(path):
            out.append(path)
    return out


def label(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it, else as it is."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def scan(files: list[Path], root: Path, *, target: str = "") -> Report:
    """Read every file and report its RBAC and IAM findings."""
    findings: list[Finding] = []
    objects: list[rbac.K8sObject] = []
    labels = []
    for file in files:
        name = label(file, root)
        labels.append(name)
        docs = load_documents(file, label=name)
        objects += rbac.objects(name, docs)
        for doc in docs:
            for policy in iam.policies(name, doc, default_name=file.stem):
                findings += iam.analyse(policy)
    findings += rbac.analyse(objects)
    return Report(
        tool=TOOL,
        target=target or ", ".join(labels),
        findings=sort_findings(findings),
        scanned=tuple(labels),
    )
