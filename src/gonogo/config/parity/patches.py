"""Kustomize patches on plain objects: strategic merge (the common subset) and JSON 6902.

Strategic merge: mappings merge key by key, ``null`` deletes a key, lists of objects
merge by their merge key (``name`` for containers, env, volumes…; ``containerPort`` for
ports; ``mountPath`` for volume mounts), other lists are replaced, and
``$patch: delete`` / ``$patch: replace`` work on mappings and list items. JSON 6902:
``add``, ``remove``, ``replace``, ``copy``, ``move`` and ``test`` on JSON pointers.
"""

from __future__ import annotations

import copy
from typing import Any

DELETE = object()
"""Returned by :func:`strategic_merge` when the patch deletes the object itself."""

_MERGE_KEYS = {"ports": "containerPort", "volumeMounts": "mountPath", "volumeDevices": "devicePath"}


class PatchError(ValueError):
    """A patch that cannot be applied; the message says why."""


def strategic_merge(base: Any, patch: Any, field: str = "") -> Any:
    """``base`` with ``patch`` merged in (neither is changed)."""
    if isinstance(patch, dict) and isinstance(base, dict):
        directive = patch.get("$patch")
        if directive == "delete":
            return DELETE
        if directive == "replace":
            return _clean(patch)
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            if key.startswith("$"):
                continue  # directives such as $setElementOrder change no value
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                result = strategic_merge(merged[key], value, key)
                if result is DELETE:
                    merged.pop(key, None)
                else:
                    merged[key] = result
            else:
                merged[key] = _clean(value)
        return merged
    if isinstance(patch, list) and isinstance(base, list):
        return _merge_list(base, patch, field)
    return _clean(patch)


def _merge_list(base: list[Any], patch: list[Any], field: str) -> list[Any]:
    key = _MERGE_KEYS.get(field, "name")
    keyed = all(isinstance(item, dict) and key in item for item in [*base, *patch])
    if not keyed or not patch:
        return [_clean(item) for item in patch if not _is_directive(item)]
    merged = copy.deepcopy(base)
    for item in patch:
        index = next((i for i, old in enumerate(merged) if old.get(key) == item[key]), None)
        if index is None:
            if item.get("$patch") != "delete":
                merged.append(_clean(item))
            continue
        result = strategic_merge(merged[index], item, field)
        if result is DELETE:
            del merged[index]
        else:
            merged[index] = result
    return merged


def _is_directive(item: Any) -> bool:
    return isinstance(item, dict) and "$patch" in item and len(item) == 1


def _clean(value: Any) -> Any:
    """A copy without ``$``-directives."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not str(k).startswith("$")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


# --- JSON 6902 ---------------------------------------------------------------------------


def json6902(document: Any, operations: list[Any]) -> Any:
    """``document`` with the operations applied (the document is not changed)."""
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError(f"operation {index + 1} needs `op` and `path`")
        result = _apply(result, operation, index + 1)
    return result


def _apply(document: Any, operation: dict[str, Any], number: int) -> Any:
    op, path = operation["op"], str(operation["path"])
    try:
        if op == "add":
            return _add(document, _pointer(path), copy.deepcopy(operation.get("value")))
        if op == "remove":
            return _remove(document, _pointer(path))[0]
        if op == "replace":
            document, _ = _remove(document, _pointer(path))
            return _add(document, _pointer(path), copy.deepcopy(operation.get("value")))
        if op in {"copy", "move"}:
            source = _pointer(str(operation.get("from", "")))
            value = copy.deepcopy(_get(document, source))
            if op == "move":
                document, _ = _remove(document, source)
            return _add(document, _pointer(path), value)
        if op == "test":
            if _get(document, _pointer(path)) != operation.get("value"):
                raise PatchError(f"operation {number} (test {path}) does not hold")
            return document
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        if isinstance(exc, PatchError):
            raise
        raise PatchError(f"operation {number} ({op} {path}) does not apply: no such path") from None
    raise PatchError(f"operation {number}: unknown op {op!r}")


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"{path!r} is not a JSON pointer (it must start with /)")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _get(document: Any, parts: list[str]) -> Any:
    for part in parts:
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def _add(document: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _get(document, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            position = int(last)
            if not 0 <= position <= len(parent):
                raise IndexError(position)
            parent.insert(position, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise TypeError(last)
    return document


def _remove(document: Any, parts: list[str]) -> tuple[Any, Any]:
    if not parts:
        raise KeyError("")
    parent = _get(document, parts[:-1])
    last = parts[-1]
    removed = parent.pop(int(last)) if isinstance(parent, list) else parent.pop(last)
    return document, removed
