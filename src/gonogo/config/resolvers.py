"""Resolve ``ref+vault://`` and ``ref+sops://`` references into their secrets.

* **vault**: HashiCorp Vault's KV version 2 HTTP API (``GET /v1/MOUNT/data/PATH``),
  with httpx (the ``sync`` extra: ``pip install 'gonogo[sync]'``). The address comes
  from ``?address=`` or ``VAULT_ADDR``; the token from ``?token_env=NAME``,
  ``?token_file=PATH``, ``VAULT_TOKEN`` or ``~/.vault-token``; the namespace from
  ``?namespace=`` or ``VAULT_NAMESPACE``; ``?version=N`` reads an older version.
  ``ref+vault://secret/myapp#password`` reads key ``password`` of ``secret/data/myapp``.
* **sops**: runs the ``sops`` binary (``sops --decrypt --output-type json FILE``) and
  follows the ``#/json/pointer`` to the value.

Errors are :class:`~gonogo.config.refs.RefError` and never hold a secret or a token.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gonogo.config.refs import RefError, SecretRef

VAULT_TIMEOUT = 10.0
SOPS_TIMEOUT = 60.0


def resolve_vault(ref: SecretRef, environ: Mapping[str, str]) -> str:
    """The secret a ``ref+vault://MOUNT/PATH#KEY`` reference names."""
    try:
        import httpx  # noqa: PLC0415 - optional extra, imported on use
    except ImportError:
        raise RefError(
            "resolving ref+vault:// references needs httpx", hint="pip install 'gonogo[sync]'"
        ) from None
    address = ref.params.get("address") or environ.get("VAULT_ADDR")
    if not address:
        raise RefError(
            "no Vault address for ref+vault://", hint="set VAULT_ADDR or add ?address=URL"
        )
    headers = {"X-Vault-Token": _vault_token(ref, environ)}
    namespace = ref.params.get("namespace") or environ.get("VAULT_NAMESPACE")
    if namespace:
        headers["X-Vault-Namespace"] = namespace
    mount, _, path = ref.location.partition("/")
    api_path = f"{mount}/{path}" if path.startswith("data/") else f"{mount}/data/{path}"
    query = {"version": ref.params["version"]} if "version" in ref.params else None
    url = f"{address.rstrip('/')}/v1/{api_path}"
    try:
        response = httpx.get(url, headers=headers, params=query, timeout=VAULT_TIMEOUT)
    except httpx.HTTPError as exc:
        raise RefError(f"cannot reach Vault at {address} ({type(exc).__name__})") from None
    where = f"{mount}/{path}"
    if response.status_code == 403:
        raise RefError(f"Vault refused to read {where} (403)", hint="check the token's policy")
    if response.status_code == 404:
        raise RefError(f"Vault has no secret at {where} (404)")
    if response.status_code != 200:
        raise RefError(f"Vault answered {response.status_code} reading {where}")
    try:
        data = response.json()["data"]["data"]
    except (ValueError, KeyError, TypeError):
        raise RefError(f"{where} is not a KV version 2 secret") from None
    if not isinstance(data, dict):
        raise RefError(f"{where} is not a KV version 2 secret")
    return _pick(data, ref.key, where)


def _vault_token(ref: SecretRef, environ: Mapping[str, str]) -> str:
    token: str | None = None
    if "token_env" in ref.params:
        token = environ.get(ref.params["token_env"])
    elif "token_file" in ref.params:
        token = _read_token(Path(ref.params["token_file"]).expanduser())
    else:
        token = environ.get("VAULT_TOKEN")
        if not token:
            home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
            token = _read_token(home / ".vault-token", missing_ok=True)
    if not token:
        raise RefError(
            "no Vault token for ref+vault://", hint="set VAULT_TOKEN or add ?token_env=NAME"
        )
    return token.strip()


def _read_token(path: Path, *, missing_ok: bool = False) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return None
        raise RefError(f"the Vault token file {path} does not exist") from None
    except (OSError, UnicodeDecodeError):
        raise RefError(f"cannot read the Vault token file {path}") from None


def _pick(data: Mapping[str, Any], key: str | None, where: str) -> str:
    if key is None:
        if len(data) == 1:
            return _text(next(iter(data.values())))
        keys = ", ".join(sorted(data)) or "none"
        raise RefError(f"ref+vault://{where} names no key", hint=f"add #KEY; its keys: {keys}")
    if key not in data:
        raise RefError(f"{where} has no key {key!r}", hint=f"its keys: {', '.join(sorted(data))}")
    return _text(data[key])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def resolve_sops(ref: SecretRef, environ: Mapping[str, str]) -> str:
    """The value at ``#/pointer`` in the sops-encrypted file a ``ref+sops://`` names."""
    binary = shutil.which("sops")
    if binary is None:
        raise RefError(
            "resolving ref+sops:// references needs the sops binary, which is not installed",
            hint="install it from https://github.com/getsops/sops/releases",
        )
    file = Path(ref.location).expanduser()
    try:
        done = subprocess.run(
            [binary, "--decrypt", "--output-type", "json", str(file)],
            capture_output=True,
            text=True,
            timeout=SOPS_TIMEOUT,
            env={**os.environ, **environ},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RefError(f"cannot run sops on {file} ({type(exc).__name__})") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1][:200]
        raise RefError(f"sops cannot decrypt {file} (exit {done.returncode}): {reason}")
    try:
        document: Any = json.loads(done.stdout)
    except ValueError:
        raise RefError(f"sops did not print JSON for {file}") from None
    return _text(_pointer(document, ref.key or "", str(file)))


def _pointer(document: Any, pointer: str, where: str) -> Any:
    """Follow a JSON pointer (``/a/b/0``) into ``document``."""
    node = document
    for raw in [p for p in pointer.split("/") if p]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise RefError(f"{where} has nothing at {pointer}")
    if isinstance(node, dict | list) and not pointer.strip("/"):
        raise RefError(f"ref+sops://{where} names no key", hint="add #/path/to/key")
    return node
