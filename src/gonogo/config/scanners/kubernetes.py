"""Kubernetes manifests: container ``env``/``envFrom``, ConfigMaps and Secrets.

Every container (``containers``, ``initContainers``, ``ephemeralContainers`` at any
depth, so Deployments, StatefulSets, Jobs, CronJobs and Pods alike) defines its ``env``
entries: a ``value`` (classified like any value), a ``valueFrom.secretKeyRef`` (secret,
injected from the Secret store), a ``configMapKeyRef`` (the ConfigMap's value when the
ConfigMap is among the scanned manifests), a ``fieldRef``/``resourceFieldRef``.
``envFrom`` expands the keys of a ConfigMap or Secret found in any scanned manifest
(with its ``prefix``). A ``Secret`` manifest with ``data``/``stringData`` is itself a
set of secret definitions: plain text (or base64) in the repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from yaml.nodes import Node

from gonogo.config.refs import ValueKind, value_kind
from gonogo.config.scanners import environments
from gonogo.config.scanners.interface import Definition, FileInput, FileScan, Source
from gonogo.config.scanners.yamlnodes import documents, get, is_mapping, items, line, pairs, scalar

_CONTAINER_KEYS = frozenset({"containers", "initContainers", "ephemeralContainers"})
_MANIFEST = re.compile(r"^apiVersion\s*:", re.MULTILINE)
_KIND = re.compile(r"^kind\s*:", re.MULTILINE)


def looks_like_manifest(text: str) -> bool:
    """Whether a YAML text has top-level ``apiVersion`` and ``kind`` keys."""
    return _MANIFEST.search(text) is not None and _KIND.search(text) is not None


@dataclass(frozen=True)
class _Entry:
    value: str | None
    rel: str
    line: int


@dataclass
class _Objects:
    config_maps: dict[str, dict[str, _Entry]] = field(default_factory=dict)
    secrets: dict[str, dict[str, _Entry]] = field(default_factory=dict)


def scan_kubernetes(files: list[FileInput]) -> FileScan:
    """Every definition in a set of manifests (ConfigMaps and Secrets are shared)."""
    result = FileScan()
    parsed: list[tuple[FileInput, list[Node]]] = []
    objects = _Objects()
    for file in files:
        docs, warning = documents(file.text, file.rel)
        if warning is not None:
            result.warnings.append(warning)
            continue
        parsed.append((file, docs))
        for doc in docs:
            _index(doc, file.rel, objects)
    for file, docs in parsed:
        environment = environments.kubernetes(file.rel)
        for doc in docs:
            result.definitions += _secret_data(doc, file.rel, environment)
            workload = f"{scalar(get(doc, 'kind')) or 'object'} {_name(doc)}"
            for container in _containers(doc):
                context = f"{workload}, container {scalar(get(container, 'name')) or '?'}"
                scan = _Container(file.rel, environment, context, objects)
                result.definitions += scan.env(get(container, "env"))
                result.definitions += scan.env_from(get(container, "envFrom"))
    return result


def _name(doc: Node) -> str:
    return scalar(get(get(doc, "metadata"), "name")) or "?"


def _index(doc: Node, rel: str, objects: _Objects) -> None:
    kind = scalar(get(doc, "kind"))
    if kind not in {"ConfigMap", "Secret"}:
        return
    entries: dict[str, _Entry] = {}
    for section in ("data", "stringData"):
        for key, value in pairs(get(doc, section)):
            entries[str(key.value)] = _Entry(scalar(value), rel, line(key))
    target = objects.config_maps if kind == "ConfigMap" else objects.secrets
    target.setdefault(_name(doc), {}).update(entries)


def _secret_data(doc: Node, rel: str, environment: str) -> list[Definition]:
    if scalar(get(doc, "kind")) != "Secret":
        return []
    found = []
    for section in ("data", "stringData"):
        for key, value in pairs(get(doc, section)):
            text = scalar(value)
            found.append(
                Definition(
                    name=str(key.value),
                    path=rel,
                    line=line(key),
                    source=Source.KUBERNETES,
                    environment=environment,
                    kind=value_kind(text),
                    value=text,
                    secret=True,
                    context=f"Secret {_name(doc)} {section}",
                )
            )
    return found


def _containers(node: Node | None) -> list[Node]:
    found: list[Node] = []
    if is_mapping(node):
        for key, value in pairs(node):
            if key.value in _CONTAINER_KEYS:
                found += [c for c in items(value) if is_mapping(c)]
            else:
                found += _containers(value)
    else:
        for item in items(node):
            found += _containers(item)
    return found


@dataclass(frozen=True)
class _Container:
    rel: str
    environment: str
    context: str
    objects: _Objects

    def _define(
        self,
        name: str,
        at: int,
        kind: ValueKind,
        value: str | None = None,
        *,
        secret: bool = False,
        context: str = "",
    ) -> Definition:
        return Definition(
            name=name,
            path=self.rel,
            line=at,
            source=Source.KUBERNETES,
            environment=self.environment,
            kind=kind,
            value=value,
            secret=secret,
            context=self.context + context,
        )

    def env(self, node: Node | None) -> list[Definition]:
        found = []
        for entry in items(node):
            name = scalar(get(entry, "name"))
            if name is None:
                continue
            value_from = get(entry, "valueFrom")
            if value_from is None:
                value = scalar(get(entry, "value"))
                found.append(self._define(name, line(entry), value_kind(value), value))
            elif (ref := get(value_from, "secretKeyRef")) is not None:
                where = f", from Secret {scalar(get(ref, 'name'))}"
                kind = ValueKind.SECRET_STORE
                found.append(self._define(name, line(entry), kind, secret=True, context=where))
            elif (ref := get(value_from, "configMapKeyRef")) is not None:
                config_map = scalar(get(ref, "name")) or "?"
                held = self.objects.config_maps.get(config_map, {}).get(
                    scalar(get(ref, "key")) or ""
                )
                value = held.value if held else None
                kind = value_kind(value) if held else ValueKind.CONFIG_REF
                where = f", from ConfigMap {config_map}"
                found.append(self._define(name, line(entry), kind, value, context=where))
            else:
                found.append(self._define(name, line(entry), ValueKind.FIELD_REF))
        return found

    def env_from(self, node: Node | None) -> list[Definition]:
        found = []
        for entry in items(node):
            prefix = scalar(get(entry, "prefix")) or ""
            if (ref := get(entry, "configMapRef")) is not None:
                source_name = scalar(get(ref, "name")) or "?"
                for key, held in self.objects.config_maps.get(source_name, {}).items():
                    where = f", envFrom ConfigMap {source_name}"
                    kind = value_kind(held.value)
                    found.append(
                        self._define(prefix + key, line(entry), kind, held.value, context=where)
                    )
            if (ref := get(entry, "secretRef")) is not None:
                source_name = scalar(get(ref, "name")) or "?"
                for key in self.objects.secrets.get(source_name, {}):
                    where = f", envFrom Secret {source_name}"
                    found.append(
                        self._define(
                            prefix + key,
                            line(entry),
                            ValueKind.SECRET_STORE,
                            secret=True,
                            context=where,
                        )
                    )
        return found
