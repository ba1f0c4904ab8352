"""Helm values files as compared facts.

An environment's values file (``values-staging.yaml``) is merged over the chart's
``values.yaml`` beside it, as ``helm install -f`` does, and flattened to dotted keys:
``helm.replicaCount``, ``helm.resources.limits.cpu`` (``helm.CHART.…`` when a
``Chart.yaml`` beside it names the chart). Each key is classified by its path: secret
(a secret word such as ``password`` or ``token`` in it: compared by source, never
shown), replicas (``replicaCount``, ``replicas``, ``minReplicas``, ``maxReplicas``),
resources, image, dependency (a top-level ``X.enabled``: a subchart switched on or off),
flag (under ``features``/``flags``/``toggles``, ``…Enabled``, or a true/false value) or
a plain value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gonogo.config.classify import secret_by_name, words
from gonogo.config.parity.kubernetes import quantity
from gonogo.config.parity.model import DefinitionError, Fact
from gonogo.config.parity.patches import strategic_merge
from gonogo.config.parity.yamlfiles import load_documents, relative
from gonogo.config.refs import value_kind
from gonogo.policy.environments import ParityKind

_REPLICA_KEYS = frozenset({"replicaCount", "replicas", "minReplicas", "maxReplicas"})
_FLAG_GROUPS = frozenset({"features", "featureflags", "flags", "toggles", "featuretoggles"})
_FLAG_WORDS = frozenset({"ENABLED", "DISABLED", "ENABLE", "DISABLE"})


def values_facts(files: list[Path], root: Path, read: list[str]) -> dict[str, Fact]:
    """The facts of an environment's values files; the files read are appended to ``read``."""
    found: dict[str, Fact] = {}
    for file in files:
        merged: Any = {}
        base = file.parent / "values.yaml"
        for layer in ([base] if base.is_file() and base != file else []) + [file]:
            rel = relative(layer, root)
            if rel not in read:
                read.append(rel)
            merged = strategic_merge(merged, _mapping(layer, root))
        prefix = _chart_prefix(file.parent, root, read)
        where = relative(file, root)
        for path, value in _flatten(merged, ()):
            key = ".".join(["helm", *prefix, *path])
            found[key] = _fact(key, path, value, where)
    return found


def _mapping(file: Path, root: Path) -> dict[str, Any]:
    documents = load_documents(file, root)
    if not documents:
        return {}
    if len(documents) > 1 or not isinstance(documents[0], dict):
        raise DefinitionError(f"{relative(file, root)}: Helm values must be one YAML mapping")
    return documents[0]


def _chart_prefix(folder: Path, root: Path, read: list[str]) -> tuple[str, ...]:
    chart = folder / "Chart.yaml"
    if not chart.is_file():
        return ()
    if relative(chart, root) not in read:
        read.append(relative(chart, root))
    documents = load_documents(chart, root)
    name = documents[0].get("name") if documents and isinstance(documents[0], dict) else None
    return (str(name),) if name else ()


def _flatten(value: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict) and value:
        found: list[tuple[tuple[str, ...], str]] = []
        for key, item in value.items():
            found += _flatten(item, (*path, str(key)))
        return found
    if not path:
        return []
    return [(path, _scalar(value))]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return str(value)


def _fact(key: str, path: tuple[str, ...], value: str, where: str) -> Fact:
    last = path[-1]
    if any(secret_by_name(part) for part in path):
        return Fact(key, ParityKind.SECRET, value, where, secret=True, value_kind=value_kind(value))
    if last in _REPLICA_KEYS:
        return Fact(key, ParityKind.REPLICAS, value, where)
    if "resources" in path:
        return Fact(key, ParityKind.RESOURCES, value, where, quantity(value))
    if "image" in path or last.lower().endswith("image"):
        return Fact(key, ParityKind.IMAGE, value, where)
    if len(path) == 2 and last == "enabled":
        return Fact(key, ParityKind.DEPENDENCY, value, where)
    flagged = any(p.lower() in _FLAG_GROUPS for p in path[:-1]) or bool(
        _FLAG_WORDS & set(words(last))
    )
    if flagged or value in {"true", "false"}:
        return Fact(key, ParityKind.FLAG, value, where)
    return Fact(key, ParityKind.VALUE, value, where)
