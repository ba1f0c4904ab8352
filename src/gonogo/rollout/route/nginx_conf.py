"""The text of the nginx router's files: rendering a split and reading it back.

A file holds, in nginx's http context, a JSON log format, one upstream per variant, the
``split_clients`` block that picks the upstream and a map from upstream to variant name;
managed mode wraps them in a complete ``nginx.conf``. A comment line records the backends
and the split as JSON so a new process can change the split without being told the
backends again; :func:`parse_percent` reads the share from the ``split_clients`` block
itself, which is what nginx applies.
"""

from __future__ import annotations

import grp
import json
import math
import os
import pwd
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import RouterError

METADATA = "# gonogo-router: "
LOOPBACK = "127.0.0.1"
_SAFE_PATH = re.compile(r'^[^"$\\;{}\s]+$')
_TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
_REWRITE = "configure the router again to rewrite it"


@dataclass(frozen=True)
class RoutedSplit:
    """What a file routes: the backends, the canary's share and (managed) the port."""

    baseline: Backend
    canary: Backend | None
    canary_percent: float
    port: int | None = None

    def to_json(self) -> str:
        """The metadata comment's JSON."""
        return json.dumps(
            {
                "baseline": self.baseline.to_json(),
                "canary": self.canary.to_json() if self.canary else None,
                "canary_percent": self.canary_percent,
                "port": self.port,
            },
            sort_keys=True,
        )

    @classmethod
    def from_text(cls, text: str, path: Path) -> RoutedSplit:
        """The split recorded in a file gonogo wrote; RouterError for any other file."""
        for line in text.splitlines():
            if line.startswith(METADATA):
                try:
                    data = json.loads(line.removeprefix(METADATA))
                    canary = data["canary"]
                    return cls(
                        Backend.from_json(data["baseline"]),
                        Backend.from_json(canary) if canary else None,
                        float(data["canary_percent"]),
                        int(data["port"]) if data.get("port") else None,
                    )
                except (ValueError, KeyError, TypeError):
                    break
        raise RouterError(
            f"{path} was not written by gonogo's nginx router (or was edited)", hint=_REWRITE
        )


def render_include(
    split: RoutedSplit, name: str, key: str, listen: str | None, access_log: Path | None
) -> str:
    """External mode: the http-context include, with a server block when ``listen`` is set."""
    lines = [*_header(split), *_http_lines(split, name, key)]
    if listen is not None:
        lines += _server_lines(listen, name, access_log)
    return "\n".join(lines) + "\n"


def render_managed(split: RoutedSplit, name: str, key: str, state_dir: Path, port: int) -> str:
    """Managed mode: a complete nginx.conf whose every path lies in ``state_dir``."""
    user = ""
    if os.geteuid() == 0:  # nginx would switch its workers to "nobody"; stay who we are
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    http = [
        *(f'{kind}_temp_path "{state_dir}/temp/{kind}";' for kind in _TEMP_KINDS),
        *_http_lines(split, name, key),
        *_server_lines(f"{LOOPBACK}:{port}", name, state_dir / "access.log"),
    ]
    return "\n".join(
        [
            *_header(split),
            user,
            "worker_processes auto;",
            f'pid "{state_dir}/nginx.pid";',
            f'error_log "{state_dir}/error.log" notice;',
            "events {",
            "    worker_connections 1024;",
            "}",
            "http {",
            *("    " + line for line in http),
            "}",
            "",
        ]
    )


def parse_percent(text: str, name: str, path: Path) -> float:
    """The canary's share from a ``split_clients`` block: explicit percentages, ``*`` the rest."""
    block = re.search(
        rf'split_clients\s+"[^"]*"\s+\${name}_upstream\s*\{{([^}}]*)\}}', text, flags=re.S
    )
    if block is None:
        raise RouterError(f"no split_clients block for ${name}_upstream in {path}", hint=_REWRITE)
    shares: dict[str, float] = {}
    rest: str | None = None
    for entry in re.finditer(r"(\S+)\s+(\S+)\s*;", block.group(1)):
        share, target = entry.group(1).strip('"'), entry.group(2)
        if share == "*":
            rest = target
        elif share.endswith("%"):
            shares[target] = shares.get(target, 0.0) + float(share[:-1])
    if rest is not None:
        shares[rest] = shares.get(rest, 0.0) + max(0.0, 100.0 - sum(shares.values()))
    return round(shares.get(f"{name}_canary", 0.0), 2)


def check_percent(value: float) -> float:
    """A share in [0, 100], rounded to the two decimals ``split_clients`` takes."""
    if not isinstance(value, int | float) or math.isnan(value) or not 0 <= value <= 100:
        raise RouterError(f"canary share {value!r} is not a percentage between 0 and 100")
    return round(float(value), 2)


def check_path(path: Path, key: str) -> None:
    """Refuse a path that cannot be written into nginx's configuration as is."""
    if not _SAFE_PATH.match(str(path)):
        raise RouterError(
            f"{key} {str(path)!r} cannot go into an nginx configuration",
            hint='use a path without spaces, quotes, "$", ";", "\\" or braces',
        )


def upstream_server(backend: Backend) -> str:
    """``host:port`` of a backend's ``http://host:port`` address."""
    parts = urlsplit(backend.url)
    try:
        port = parts.port or 80
    except ValueError:
        port = -1
    host = parts.hostname or ""
    if (
        parts.scheme != "http"
        or port < 1
        or parts.path not in ("", "/")
        or parts.query
        or parts.username
        or not re.fullmatch(r"[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+", host)
    ):
        raise RouterError(
            f"{backend.variant.value} backend {backend.url!r}: the nginx router proxies to "
            "http://host:port addresses",
            hint="see docs/rollout-nginx-prometheus.md",
        )
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _header(split: RoutedSplit) -> list[str]:
    return [
        "# Written by gonogo's nginx router: every traffic change rewrites this file.",
        METADATA + split.to_json(),
    ]


def _http_lines(split: RoutedSplit, name: str, key: str) -> list[str]:
    """The JSON log format, the upstreams, the split and the variant map (http context)."""
    lines = [
        f"log_format {name}_json escape=json",
        f'    \'{{"time":"$time_iso8601","request_id":"$request_id",'
        f'"variant":"${name}_variant","upstream_addr":"$upstream_addr",'
        '"method":"$request_method","uri":"$request_uri","status":$status,'
        '"request_time":$request_time,"upstream_status":"$upstream_status",'
        '"upstream_response_time":"$upstream_response_time"}\';',
    ]
    for backend in [split.baseline] + ([split.canary] if split.canary else []):
        lines += [
            f"upstream {name}_{backend.variant.value} {{",
            f"    server {upstream_server(backend)};",
            "    keepalive 16;",
            "}",
        ]
    percent = split.canary_percent
    if percent <= 0:  # a single "*": the other side gets nothing at all
        entries = [f"* {name}_baseline;"]
    elif percent >= 100:
        entries = [f"* {name}_canary;"]
    else:
        entries = [f"{percent:.2f}% {name}_canary;", f"* {name}_baseline;"]
    return [
        *lines,
        f'split_clients "{key}" ${name}_upstream {{',
        *("    " + entry for entry in entries),
        "}",
        f"map ${name}_upstream ${name}_variant {{",
        *(f"    {name}_{variant.value} {variant.value};" for variant in Variant),
        "}",
    ]


def _server_lines(listen: str, name: str, access_log: Path | None) -> list[str]:
    log = [f'    access_log "{access_log}" {name}_json;'] if access_log else []
    return [
        "server {",
        f"    listen {listen};",
        *log,
        "    location / {",
        f"        proxy_pass http://${name}_upstream;",
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        "        proxy_set_header Host $host;",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "        proxy_set_header X-Request-Id $request_id;",
        "        proxy_next_upstream off;  # never retry a request on the other variant",
        "    }",
        "}",
    ]
