"""pydantic-settings, validated against the inventory first, never echoing a value.

pydantic-settings reports a rejected value in its errors, secret ones included. Here
the environment is first checked by :func:`gonogo.config.runtime.validate_environment`
(every problem at once, secrets shown as ``<secret, N chars>``); references
(``ref+vault://…``) and ``*_FILE`` secrets are resolved before pydantic sees them; and
pydantic's own errors are re-raised without their input values.

Two ways in::

    settings = load_settings(Settings, "gonogo.env.toml")

or, in the class itself::

    class Settings(BaseSettings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                       dotenv_settings, file_secret_settings):
            return (init_settings, InventorySource(settings_cls, "gonogo.env.toml"),
                    dotenv_settings, file_secret_settings)

pydantic-settings is not a dependency of gonogo: ``pip install pydantic-settings``
(or the ``settings`` extra).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from gonogo.config.inventory import Inventory
from gonogo.config.runtime import validate_environment
from gonogo.errors import ConfigError


class MissingExtra(ConfigError, ImportError):
    """An optional dependency this module needs is not installed."""


try:
    from pydantic import ValidationError
    from pydantic_settings import (
        BaseSettings,
        EnvSettingsSource,
        PydanticBaseSettingsSource,
    )
except ImportError:  # pragma: no cover - exercised in a subprocess without the package
    raise MissingExtra(
        "gonogo.config.pydantic_settings needs pydantic-settings, which is not installed",
        hint="pip install pydantic-settings (or pip install 'gonogo[settings]')",
    ) from None

S = TypeVar("S", bound=BaseSettings)


class SettingsInvalid(ConfigError, ValueError):
    """pydantic rejected the settings; the message names fields, never their values."""

    def __init__(self, error: ValidationError) -> None:
        problems = []
        for item in error.errors(include_input=False, include_url=False):
            where = ".".join(str(part) for part in item["loc"]) or error.title
            problems.append(f"{where}: {item['msg']}")
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{count} settings {noun}: " + "; ".join(problems))
        self.problems = tuple(problems)


class InventorySource(EnvSettingsSource):
    """The environment-variable source, validated against the inventory when built.

    Raises :class:`~gonogo.config.runtime.EnvironmentInvalid` listing every problem;
    values that are references or ``*_FILE`` secrets reach pydantic resolved.
    """

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        inventory: Inventory | str | os.PathLike[str],
        environ: Mapping[str, str] | None = None,
        *,
        resolve_refs: bool = True,
        **kwargs: Any,
    ) -> None:
        source = os.environ if environ is None else environ
        config = validate_environment(inventory, source, resolve_refs=resolve_refs)
        resolved = dict(source)
        for name in config:
            text = config.resolved_text(name)
            if text is not None:
                resolved[name] = text
        self._resolved = resolved
        super().__init__(settings_cls, **kwargs)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        loaded: dict[str, str | None] = {}
        for name, value in self._resolved.items():
            if self.env_ignore_empty and value == "":
                continue
            key = name if self.case_sensitive else name.lower()
            none = self.env_parse_none_str
            loaded[key] = None if none is not None and value == none else value
        return loaded


def load_settings(
    settings_cls: type[S],
    inventory: Inventory | str | os.PathLike[str],
    environ: Mapping[str, str] | None = None,
    *,
    resolve_refs: bool = True,
    **values: Any,
) -> S:
    """An instance of ``settings_cls`` from the validated environment (and ``values``).

    Raises EnvironmentInvalid (the inventory's problems) or SettingsInvalid (pydantic's,
    without the rejected values).
    """

    def sources(
        cls: type[BaseSettings],
        settings: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        validated = InventorySource(settings, inventory, environ, resolve_refs=resolve_refs)
        return init_settings, validated, dotenv_settings, file_secret_settings

    validated_cls = type(
        settings_cls.__name__,
        (settings_cls,),
        {
            "__module__": settings_cls.__module__,
            "__qualname__": settings_cls.__qualname__,
            "settings_customise_sources": classmethod(sources),
        },
    )
    try:
        return validated_cls(**values)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise SettingsInvalid(exc) from None
