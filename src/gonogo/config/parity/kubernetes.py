"""From resolved Kubernetes objects to variables and topology facts.

Variables: every key of a ConfigMap or Secret (a ``Secret``'s are secret), and every
container ``env`` entry (a ``value``, a ``secretKeyRef``, a resolved
``configMapKeyRef``), ``envFrom`` with a ``prefix`` adding the prefixed names.

Facts, keyed ``k8s.KIND/NAME…``: each object that is not a ConfigMap or Secret
(a dependency), each container (``.container.NAME``, ``.init.NAME``), its ``image``,
its ``resources`` (quantities compared by value: ``500m`` equals ``0.5``), the
``replicas`` of a Deployment, StatefulSet, ReplicaSet or Rollout (1 when unset) and the
``minReplicas``/``maxReplicas`` of a HorizontalPodAutoscaler.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from gonogo.config.parity.kustomize import K8sObject
from gonogo.config.parity.model import Fact, Setting
from gonogo.config.refs import ValueKind, value_kind
from gonogo.policy.environments import ParityKind

_REPLICATED = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Rollout"})
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([A-Za-z]*)$")
_FACTORS: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def quantity(text: str) -> str:
    """A Kubernetes quantity in a form that compares by value (``500m`` → ``0.5``)."""
    match = _QUANTITY.match(text.strip())
    if match is None or match.group(2) not in _FACTORS:
        return text
    try:
        value = Decimal(match.group(1)) * _FACTORS[match.group(2)]
    except InvalidOperation:
        return text
    return format(value.normalize(), "f")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def settings(objects: list[K8sObject]) -> dict[str, Setting]:
    """Every variable the objects define, by name (a container's own ``env`` wins)."""
    found: dict[str, Setting] = {}
    config_maps: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if obj.kind == "ConfigMap":
            data = obj.body.get("data") or {}
            config_maps[obj.name] = data if isinstance(data, dict) else {}
            for key, value in config_maps[obj.name].items():
                text = _text(value)
                origin = f"ConfigMap {obj.name}"
                where = obj.where("data", str(key))
                found[str(key)] = Setting(str(key), where, value_kind(text), text, False, origin)
        elif obj.kind == "Secret":
            for section, key, text in _secret_data(obj):
                origin = f"Secret {obj.name}"
                where = obj.where(section, key)
                found[key] = Setting(key, where, value_kind(text), text, True, origin)
    for obj in objects:
        for list_key, container in _all_containers(obj):
            name = str(container.get("name", "?"))
            context = f"{obj.kind} {obj.name}, container {name}"
            at = (*pod_path(obj), list_key, name, "env")
            for setting in _env(container, obj, at, context, config_maps):
                found[setting.name] = setting
            for setting in _env_from(container, obj, objects):
                found.setdefault(setting.name, setting)
    return found


def _secret_data(obj: K8sObject) -> list[tuple[str, str, str]]:
    """A Secret's sections, keys and values (``data`` is base64: a literal whatever it holds)."""
    found: list[tuple[str, str, str]] = []
    for section in ("data", "stringData"):
        data = obj.body.get(section) or {}
        if isinstance(data, dict):
            found += [(section, str(k), _text(v)) for k, v in data.items()]
    return found


def _all_containers(obj: K8sObject) -> list[tuple[str, dict[str, Any]]]:
    pod = pod_spec(obj)
    found: list[tuple[str, dict[str, Any]]] = []
    for key in ("initContainers", "containers"):
        value = pod.get(key) or []
        if isinstance(value, list):
            found += [(key, c) for c in value if isinstance(c, dict)]
    return found


def _env(
    container: dict[str, Any],
    obj: K8sObject,
    at: tuple[str, ...],
    context: str,
    config_maps: dict[str, dict[str, Any]],
) -> list[Setting]:
    found = []
    for entry in container.get("env") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        name = entry["name"]
        where = obj.where(*at, name)
        source = entry.get("valueFrom")
        if not isinstance(source, dict):
            text = _text(entry.get("value"))
            found.append(Setting(name, where, value_kind(text), text, False, context))
        elif isinstance(ref := source.get("secretKeyRef"), dict):
            origin = f"Secret {ref.get('name', '?')}, key {ref.get('key', '?')}"
            found.append(Setting(name, where, ValueKind.SECRET_STORE, None, True, origin))
        elif isinstance(ref := source.get("configMapKeyRef"), dict):
            origin = f"ConfigMap {ref.get('name', '?')}, key {ref.get('key', '?')}"
            held = config_maps.get(str(ref.get("name")), {})
            if ref.get("key") in held:
                text = _text(held[ref["key"]])
                found.append(Setting(name, where, value_kind(text), text, False, origin))
            else:
                found.append(Setting(name, where, ValueKind.CONFIG_REF, None, False, origin))
        else:
            found.append(Setting(name, where, ValueKind.FIELD_REF, None, False, context))
    return found


def _env_from(container: dict[str, Any], obj: K8sObject, objects: list[K8sObject]) -> list[Setting]:
    found = []
    for entry in container.get("envFrom") or []:
        prefix = str(entry.get("prefix") or "") if isinstance(entry, dict) else ""
        if not prefix:
            continue  # the ConfigMap's or Secret's own keys are variables already
        for kind, ref_key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = entry.get(ref_key)
            held = next(
                (
                    o
                    for o in objects
                    if isinstance(ref, dict) and (o.kind, o.name) == (kind, ref.get("name"))
                ),
                None,
            )
            if held is not None:
                found += [replace(s, name=prefix + s.name) for s in settings([held]).values()]
    return found


def pod_path(obj: K8sObject) -> tuple[str, ...]:
    """Where a workload's pod spec is in its body."""
    if obj.kind == "Pod":
        return ("spec",)
    if obj.kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")


def pod_spec(obj: K8sObject) -> dict[str, Any]:
    """The pod spec of a workload ({} for anything else)."""
    value: Any = obj.body
    for key in pod_path(obj):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def facts(objects: list[K8sObject]) -> dict[str, Fact]:
    """The topology facts of the objects, by key."""
    found: dict[str, Fact] = {}
    for obj in objects:
        if obj.kind not in {"ConfigMap", "Secret"}:
            found.update(_object_facts(obj))
    return found


def _object_facts(obj: K8sObject) -> dict[str, Fact]:
    found: dict[str, Fact] = {}

    def add(key: str, kind: ParityKind, value: Any, at: tuple[str, ...], compare: str = "") -> None:
        where = obj.where(*at) if at else obj.source
        found[key] = Fact(key, kind, _text(value), where, compare)

    base = f"k8s.{obj.kind}/{obj.name}"
    add(base, ParityKind.DEPENDENCY, "present", ())
    spec = obj.body.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    if obj.kind in _REPLICATED:
        add(f"{base}.replicas", ParityKind.REPLICAS, spec.get("replicas", 1), ("spec", "replicas"))
    if obj.kind == "HorizontalPodAutoscaler":
        for key in ("minReplicas", "maxReplicas"):
            if key in spec:
                add(f"{base}.{key}", ParityKind.REPLICAS, spec[key], ("spec", key))
    for list_key, container in _all_containers(obj):
        name = str(container.get("name", "?"))
        label = "init" if list_key == "initContainers" else "container"
        prefix = f"{base}.{label}.{name}"
        at = (*pod_path(obj), list_key, name)
        add(prefix, ParityKind.DEPENDENCY, "present", ())
        if "image" in container:
            add(f"{prefix}.image", ParityKind.IMAGE, container["image"], (*at, "image"))
        resources = container.get("resources")
        for section in ("requests", "limits"):
            held = resources.get(section) if isinstance(resources, dict) else None
            for resource, amount in held.items() if isinstance(held, dict) else ():
                key = f"{prefix}.resources.{section}.{resource}"
                path = (*at, "resources", section, str(resource))
                add(key, ParityKind.RESOURCES, amount, path, quantity(_text(amount)))
    return found
