"""Which environment a config file defines, from its path.

``.env.production`` and ``production.env`` are *production*; ``docker-compose.prod.yml``
is *prod*; ``k8s/overlays/staging/…`` is *staging* (the folder after ``overlays``,
``environments``, ``envs`` or ``env``, or any folder with a well-known environment
name); ``Dockerfile.dev`` is *dev*. Otherwise a default per kind: ``.env`` is *local*,
``.env.example`` *example*, ``api.env`` *local*, compose *compose*, Kubernetes
*kubernetes*, a Dockerfile *image*; a GitHub workflow job is its ``environment:`` or
*ci*.
"""

from __future__ import annotations

from pathlib import PurePosixPath

KNOWN = frozenset(
    {
        "dev",
        "development",
        "local",
        "test",
        "testing",
        "ci",
        "qa",
        "uat",
        "staging",
        "stage",
        "preprod",
        "pre-production",
        "prod",
        "production",
        "preview",
        "sandbox",
        "demo",
    }
)
EXAMPLE_SUFFIXES = frozenset({"example", "sample", "template", "dist", "defaults", "tmpl"})
_ENV_FOLDERS = frozenset({"overlays", "environments", "envs", "env"})


def from_folders(rel: str) -> str | None:
    """An environment named by a folder of ``rel``, if any."""
    parts = PurePosixPath(rel).parts[:-1]
    for index, part in enumerate(parts[:-1]):
        if part.lower() in _ENV_FOLDERS:
            return parts[index + 1]
    return next((p for p in parts if p.lower() in KNOWN), None)


def dotenv(rel: str) -> str:
    """``.env`` → local, ``.env.example`` → example, ``.env.staging``/``staging.env`` → staging.

    ``NAME.env`` names an environment only when NAME is a well-known one (``api.env``
    is a service's file): otherwise its folder, or *local*.
    """
    name = PurePosixPath(rel).name
    if name == ".env":
        return from_folders(rel) or "local"
    if name.startswith(".env."):
        suffix = name[len(".env.") :]
        return "example" if suffix.lower() in EXAMPLE_SUFFIXES else suffix
    stem = name[: -len(".env")] if name.endswith(".env") else name
    if stem.lower() in EXAMPLE_SUFFIXES:
        return "example"
    if stem.lower() in KNOWN:
        return stem
    return from_folders(rel) or "local"


def compose(rel: str) -> str:
    """``docker-compose.prod.yml`` → prod; a plain compose file → compose."""
    name = PurePosixPath(rel).name
    parts = name.split(".")
    if len(parts) > 2 and parts[1] != "override":
        return parts[1]
    return from_folders(rel) or "compose"


def kubernetes(rel: str) -> str:
    """The folder naming the environment, else kubernetes."""
    return from_folders(rel) or "kubernetes"


def dockerfile(rel: str) -> str:
    """``Dockerfile.dev`` / ``dev.Dockerfile`` → dev; a plain Dockerfile → image."""
    name = PurePosixPath(rel).name
    if name.lower().startswith(("dockerfile.", "containerfile.")):
        return name.split(".", 1)[1]
    if name.lower().endswith(".dockerfile"):
        return name.rsplit(".", 1)[0]
    return from_folders(rel) or "image"
