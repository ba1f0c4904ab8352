"""The policy's ``[security]`` table: the credentials the rotation ledger tracks.

The ledger lists the secret variables of the env inventory (``gonogo.env.toml``) plus
the credentials declared here under ``[security.credentials.NAME]``. A declaration adds
what the inventory cannot know: the owner role, the maximum age, where the credential
is stored, and where its rotation date can be read (a Vault KV v2 secret or an AWS
Secrets Manager secret). Nothing here is a secret: tokens come from environment variables.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated

from pydantic import Field, model_validator

from gonogo.strict import StrictModel

_ROLE = r"^[a-z][a-z0-9_-]*$"
CREDENTIAL_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
credential_name = re.compile(CREDENTIAL_NAME)

Role = Annotated[str, Field(pattern=_ROLE, max_length=64)]
CredentialName = Annotated[str, Field(pattern=CREDENTIAL_NAME, max_length=128)]
MaxAge = Annotated[int, Field(ge=1, le=3650)]

EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]

DEFAULT_MAX_AGE_DAYS = 90
DEFAULT_VAULT_TOKEN_ENV = "VAULT_TOKEN"  # noqa: S105 - the name of a variable, not a token


class Credential(StrictModel):
    """One credential used in development or test: who owns it, how old it may get, where
    it lives and where its rotation date is read."""

    owner: Role | None = None
    max_age_days: MaxAge | None = None
    stored_in: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    vault: Annotated[str, Field(pattern=r"^[^/\s]+/\S+$", max_length=500)] | None = None
    aws_secret: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    aws_region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$")] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Credential:
        if self.vault is not None and self.aws_secret is not None:
            raise ValueError("give `vault` or `aws_secret`, not both: one place holds it")
        if self.aws_region is not None and self.aws_secret is None:
            raise ValueError("`aws_region` applies only with `aws_secret`")
        return self


class Security(StrictModel):
    """Security settings: defaults of the credentials ledger, Vault's address, the credentials."""

    credential_owner: Role | None = None
    max_age_days: MaxAge = DEFAULT_MAX_AGE_DAYS
    inventory: Annotated[str, Field(min_length=1)] | None = None
    vault_address: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    vault_token_env: EnvName = DEFAULT_VAULT_TOKEN_ENV
    credentials: dict[CredentialName, Credential] = Field(default_factory=dict)

    def role_problems(self, owners: Collection[str]) -> list[tuple[tuple[str, ...], str]]:
        """Owner roles named here that ``owners`` lacks, each with its key path."""
        named: list[tuple[tuple[str, ...], str | None]] = [
            (("security", "credential_owner"), self.credential_owner),
            *(
                (("security", "credentials", n, "owner"), c.owner)
                for n, c in self.credentials.items()
            ),
        ]
        roles = ", ".join(owners) or "none"
        return [
            (where, f"{role!r} is not an owner role (roles: {roles})")
            for where, role in named
            if role is not None and role not in owners
        ]
