"""Resolve what a kustomize overlay declares, without running kustomize.

A folder with a ``kustomization.yaml`` is built the way ``kustomize build`` would: its
``resources`` (and ``bases``, ``components``: files or folders, recursively), then the
``configMapGenerator`` and ``secretGenerator`` entries (``literals``, ``envs``,
``files``; ``behavior`` create, merge or replace), then the patches
(``patchesStrategicMerge``, ``patchesJson6902``, ``patches`` with or without a
``target``), then the ``images`` and ``replicas`` transformers. Name prefixes and
suffixes, namespaces and labels are not applied: environments are compared by the names
their base gives. A folder without one is read as plain manifests (every ``*.yaml``,
``*.yml`` below it); a file as one manifest file. Remote resources are not fetched.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gonogo.config.parity.model import DefinitionError
from gonogo.config.parity.patches import DELETE, PatchError, json6902, strategic_merge
from gonogo.config.parity.yamlfiles import load_documents, parse_documents, read_text, relative
from gonogo.config.scanners.dotenv import parse_dotenv

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REPLICATED = frozenset(
    {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout"}
)
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|github\.com/|git@|gitlab\.com/)")


_changes = itertools.count()


@dataclass
class K8sObject:
    """A Kubernetes object as the overlay declares it, and which file set each of its values.

    ``source`` is the file that declares it; ``origins`` maps a value's path (list items
    named by their ``name``) to the patch or kustomization that last changed it.
    """

    kind: str
    name: str
    body: dict[str, Any]
    source: str
    origins: dict[tuple[str, ...], tuple[int, str]] = field(default_factory=dict)

    def reshape(self, body: dict[str, Any], by: str) -> None:
        """Take ``body`` as the object's new form, ``by`` changing what differs."""
        before, after = leaves(self.body), leaves(body)
        change = next(_changes)
        for path, value in after.items():
            if before.get(path, _ABSENT) != value:
                self.origins[path] = (change, by)
        self.body = body

    def where(self, *path: str) -> str:
        """The file that last set anything at or below ``path``."""
        changed = [origin for at, origin in self.origins.items() if at[: len(path)] == path]
        return max(changed)[1] if changed else self.source


_ABSENT = object()


def leaves(value: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every scalar of a document by path; list items with a ``name`` are named by it."""
    if isinstance(value, dict):
        found: dict[tuple[str, ...], Any] = {}
        for key, item in value.items():
            found.update(leaves(item, (*path, str(key))))
        return found
    if isinstance(value, list):
        found = {}
        for index, item in enumerate(value):
            named = isinstance(item, dict) and isinstance(item.get("name"), str)
            found.update(leaves(item, (*path, item["name"] if named else str(index))))
        return found
    return {path: value}


@dataclass
class Build:
    """One resolution: the files it read and what it could not resolve."""

    root: Path
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _stack: list[Path] = field(default_factory=list)

    def path(self, target: Path) -> list[K8sObject]:
        """The objects a folder (overlay or plain manifests) or a manifest file declares."""
        if target.is_dir():
            kustomization = next(
                (target / n for n in KUSTOMIZATION_FILES if (target / n).is_file()), None
            )
            if kustomization is not None:
                return self._kustomization(kustomization)
            found: list[K8sObject] = []
            for file in sorted(target.rglob("*")):
                if file.suffix in {".yaml", ".yml"} and file.is_file():
                    found += self.manifests(file, strict=False)
            return found
        return self.manifests(target, strict=True)

    def manifests(self, file: Path, *, strict: bool) -> list[K8sObject]:
        """The objects of a manifest file (``kind: List`` expanded)."""
        rel = self._read(file)
        found = []
        for index, doc in enumerate(load_documents(file, self.root)):
            for item in doc.get("items", []) if _kind(doc) == "List" else [doc]:
                obj = _object(item, rel)
                if obj is not None:
                    found.append(obj)
                elif strict:
                    raise DefinitionError(
                        f"{rel}: document {index + 1} is no Kubernetes object "
                        "(it needs `kind` and `metadata.name`)"
                    )
        return found

    def _read(self, file: Path) -> str:
        rel = relative(file, self.root)
        if rel not in self.files:
            self.files.append(rel)
        return rel

    def _kustomization(self, file: Path) -> list[K8sObject]:
        folder = file.parent.resolve()
        rel = self._read(file)
        if folder in self._stack:
            raise DefinitionError(
                f"{rel}: its resources lead back to {relative(folder, self.root)}"
            )
        docs = load_documents(file, self.root)
        data = docs[0] if docs else {}
        if not isinstance(data, dict) or len(docs) > 1:
            raise DefinitionError(f"{rel}: a kustomization must be one YAML mapping")
        self._stack.append(folder)
        try:
            return _Overlay(self, file, rel, data).build()
        finally:
            self._stack.pop()


@dataclass
class _Overlay:
    build_: Build
    file: Path
    rel: str
    data: dict[str, Any]
    objects: list[K8sObject] = field(default_factory=list)

    def build(self) -> list[K8sObject]:
        for key in ("resources", "bases", "components"):
            for entry in self._list(key):
                self._resource(key, entry)
        for entry in self._list("configMapGenerator"):
            self._generate("ConfigMap", entry)
        for entry in self._list("secretGenerator"):
            self._generate("Secret", entry)
        for entry in self._list("patchesStrategicMerge"):
            self._strategic(entry)
        for entry in self._list("patchesJson6902"):
            self._patch(entry, json=True)
        for entry in self._list("patches"):
            self._patch(entry, json=False)
        for entry in self._list("images"):
            self._image(entry)
        for entry in self._list("replicas"):
            self._replicas(entry)
        return self.objects

    def _list(self, key: str) -> list[Any]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            raise DefinitionError(f"{self.rel}: `{key}` must be a list")
        return value

    def _entry_path(self, key: str, entry: Any) -> Path:
        if not isinstance(entry, str) or not entry:
            raise DefinitionError(f"{self.rel}: each `{key}` entry must be a path")
        return self.file.parent / entry

    def _resource(self, key: str, entry: Any) -> None:
        if isinstance(entry, str) and _REMOTE.match(entry):
            self.build_.warnings.append(f"{self.rel}: remote resource {entry} not fetched; skipped")
            return
        target = self._entry_path(key, entry)
        if not target.exists():
            raise DefinitionError(
                f"{self.rel}: {key} entry {entry!r} does not exist",
                hint="fix the path or create it",
            )
        self.objects += self.build_.path(target)

    # --- generators ------------------------------------------------------------------

    def _generate(self, kind: str, entry: Any) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise DefinitionError(
                f"{self.rel}: each {kind[0].lower()}{kind[1:]}Generator needs a name"
            )
        name = entry["name"]
        data = self._generated_data(kind, entry)
        section = "data" if kind == "ConfigMap" else "stringData"
        body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, section: data}
        behavior = entry.get("behavior", "create")
        existing = next((o for o in self.objects if o.kind == kind and o.name == name), None)
        if existing is not None and behavior == "merge":
            merged = dict(existing.body.get(section) or {})
            merged.update(data)
            existing.reshape({**existing.body, section: merged}, self.rel)
            return
        if existing is not None:
            self.objects.remove(existing)
        self.objects.append(K8sObject(kind, name, body, self.rel))

    def _generated_data(self, kind: str, entry: dict[str, Any]) -> dict[str, str]:
        data: dict[str, str] = {}
        for literal in entry.get("literals") or []:
            key, sep, value = str(literal).partition("=")
            if not sep or not key:
                raise DefinitionError(f"{self.rel}: literal {key!r} is not KEY=value")
            data[key] = value.strip('"') if value[:1] == '"' == value[-1:] else value
        env_files = list(entry.get("envs") or []) + ([entry["env"]] if entry.get("env") else [])
        for env_file in env_files:
            path = self._entry_path("envs", env_file)
            if not path.is_file() and kind == "Secret":
                self.build_.warnings.append(
                    f"{self.rel}: secretGenerator file {env_file} not found; its keys are unknown"
                )
                continue
            text = read_text(path, self.build_.root)
            parsed = parse_dotenv(text, self.build_._read(path), "")
            data.update({d.name: d.value or "" for d in parsed.definitions})
        for spec in entry.get("files") or []:
            key, sep, file_name = str(spec).partition("=")
            file_name = file_name if sep else key
            path = self._entry_path("files", file_name)
            if not path.is_file() and kind == "Secret":
                self.build_.warnings.append(
                    f"{self.rel}: secretGenerator file {file_name} not found; skipped"
                )
                continue
            data[key if sep else Path(file_name).name] = read_text(path, self.build_.root)
            self.build_._read(path)
        return data

    # --- patches ---------------------------------------------------------------------

    def _strategic(self, entry: Any) -> None:
        if isinstance(entry, dict):  # kustomize also accepts {path: …}
            entry = entry.get("path") or entry.get("patch")
        inline = isinstance(entry, str) and ("\n" in entry or ":" in entry)
        self._patch({"patch": entry} if inline else {"path": entry}, json=False)

    def _patch(self, entry: Any, *, json: bool) -> None:
        if not isinstance(entry, dict):
            raise DefinitionError(
                f"{self.rel}: each patch must be a mapping with `path` or `patch`"
            )
        what, documents = self._patch_documents(entry)
        target = entry.get("target")
        for document in documents:
            if isinstance(document, list) or json:
                if not isinstance(target, dict):
                    raise DefinitionError(f"{self.rel}: JSON patch {what} needs a `target`")
                operations = document if isinstance(document, list) else []
                for obj in self._select(target, what):
                    self._apply(obj, what, lambda body, ops=operations: json6902(body, ops))
            elif isinstance(document, dict):
                self._merge(document, target, what)
            else:
                raise DefinitionError(f"{self.rel}: patch {what} is neither a mapping nor a list")

    def _patch_documents(self, entry: dict[str, Any]) -> tuple[str, list[Any]]:
        if isinstance(entry.get("path"), str):
            path = self._entry_path("patches", entry["path"])
            if not path.is_file():
                raise DefinitionError(
                    f"{self.rel}: patch file {entry['path']!r} does not exist",
                    hint="fix the path or create it",
                )
            self.build_._read(path)
            return entry["path"], load_documents(path, self.build_.root)
        if isinstance(entry.get("patch"), str):
            return "(inline)", parse_documents(entry["patch"], f"{self.rel} (inline patch)")
        raise DefinitionError(f"{self.rel}: a patch needs `path` or `patch`")

    def _merge(self, document: dict[str, Any], target: Any, what: str) -> None:
        if isinstance(target, dict):
            matched = self._select(target, what)
            identity = {"apiVersion", "kind"}
            patch = {k: v for k, v in document.items() if k not in identity}
            patch["metadata"] = {
                k: v for k, v in (document.get("metadata") or {}).items() if k != "name"
            }
        else:
            kind, name = _kind(document), _name(document)
            matched = [o for o in self.objects if o.kind == kind and o.name == name]
            if not matched:
                raise DefinitionError(
                    f"{self.rel}: patch {what} changes {kind}/{name}, which no resource declares"
                )
            patch = document
        for obj in matched:
            self._apply(obj, what, lambda body: strategic_merge(body, patch))

    def _apply(self, obj: K8sObject, what: str, change: Any) -> None:
        try:
            result = change(obj.body)
        except PatchError as exc:
            raise DefinitionError(
                f"{self.rel}: patch {what} on {obj.kind}/{obj.name}: {exc}"
            ) from None
        if result is DELETE:
            self.objects.remove(obj)
            return
        if not isinstance(result, dict):
            raise DefinitionError(
                f"{self.rel}: patch {what} turns {obj.kind}/{obj.name} into no object"
            )
        inline = what == "(inline)"
        obj.reshape(
            result, self.rel if inline else relative(self.file.parent / what, self.build_.root)
        )

    def _select(self, target: dict[str, Any], what: str) -> list[K8sObject]:
        matched = [o for o in self.objects if _selected(o, target)]
        if not matched:
            self.build_.warnings.append(f"{self.rel}: patch {what} matches no resource")
        return matched

    # --- transformers ----------------------------------------------------------------

    def _image(self, entry: Any) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise DefinitionError(f"{self.rel}: each `images` entry needs a name")
        for obj in self.objects:
            body = copy.deepcopy(obj.body)
            for container in containers(body):
                image = container.get("image")
                if isinstance(image, str) and _repository(image) == entry["name"]:
                    container["image"] = _new_image(image, entry)
            obj.reshape(body, self.rel)

    def _replicas(self, entry: Any) -> None:
        if not isinstance(entry, dict) or "name" not in entry or "count" not in entry:
            raise DefinitionError(f"{self.rel}: each `replicas` entry needs `name` and `count`")
        for obj in self.objects:
            if obj.kind in _REPLICATED and obj.name == entry["name"]:
                spec = obj.body.get("spec")
                spec = spec if isinstance(spec, dict) else {}
                obj.reshape({**obj.body, "spec": {**spec, "replicas": entry["count"]}}, self.rel)


def _kind(doc: Any) -> str | None:
    kind = doc.get("kind") if isinstance(doc, dict) else None
    return kind if isinstance(kind, str) else None


def _name(doc: Any) -> str | None:
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return str(name) if name is not None else None


def _object(doc: Any, rel: str) -> K8sObject | None:
    kind, name = _kind(doc), _name(doc)
    if kind is None or name is None:
        return None
    return K8sObject(kind, name, doc, rel)


def _selected(obj: K8sObject, target: dict[str, Any]) -> bool:
    for key, value in (("kind", obj.kind), ("name", obj.name)):
        wanted = target.get(key)
        if wanted is not None and re.fullmatch(str(wanted), value) is None:
            return False
    labels = (obj.body.get("metadata") or {}).get("labels") or {}
    for clause in str(target.get("labelSelector") or "").split(","):
        key, sep, value = clause.partition("=")
        if clause.strip() and (
            labels.get(key.strip()) != value.strip() if sep else key.strip() not in labels
        ):
            return False
    return True


def containers(body: Any) -> list[dict[str, Any]]:
    """Every container, init container and ephemeral container, at any depth."""
    found: list[dict[str, Any]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key in {"containers", "initContainers", "ephemeralContainers"} and isinstance(
                value, list
            ):
                found += [c for c in value if isinstance(c, dict)]
            else:
                found += containers(value)
    elif isinstance(body, list):
        for item in body:
            found += containers(item)
    return found


def _repository(image: str) -> str:
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _new_image(image: str, entry: dict[str, Any]) -> str:
    repository = str(entry.get("newName") or _repository(image))
    if entry.get("digest"):
        return f"{repository}@{entry['digest']}"
    if entry.get("newTag") is not None:
        return f"{repository}:{entry['newTag']}"
    rest = image[len(_repository(image)) :]
    return repository + rest
