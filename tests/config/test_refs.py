"""Secret references: every grammar parsed, values classified, vault and sops resolved.

Vault is not packaged for Debian, so :class:`VaultStandIn` stands in for it: a real HTTP
server on 127.0.0.1 that implements the one endpoint the resolver uses, the KV version 2
read (``GET /v1/<mount>/data/<path>``, ``X-Vault-Token``, ``?version=``), with Vault's
response shape and status codes (200, 403, 404).

sops is not packaged for Debian either; its resolver runs the real ``sops`` binary, so
here only its behaviour without the binary is tested. Decryption itself is untested on
this machine.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from gonogo.config.inventory import Inventory, Variable, VarType
from gonogo.config.refs import RefError, SecretRef, ValueKind, is_managed, parse_ref, value_kind
from gonogo.config.resolvers import resolve_sops, resolve_vault
from gonogo.config.runtime import EnvironmentInvalid, validate_environment

TOKEN = "stand-in-vault-token"
DB_PASSWORD = "correct-horse-battery-staple"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ref+vault://secret/myapp#password", SecretRef("vault", "secret/myapp", "password")),
        (
            "ref+vault://secret/data/myapp?address=http://v:8200&version=2#/password+",
            SecretRef(
                "vault",
                "secret/data/myapp",
                "password",
                {"address": "http://v:8200", "version": "2"},
            ),
        ),
        (
            "ref+awssecrets://prod/db?region=eu-west-1#password",
            SecretRef("awssecrets", "prod/db", "password", {"region": "eu-west-1"}),
        ),
        (
            "ref+gcpsecrets://my-project/db-password",
            SecretRef("gcpsecrets", "my-project/db-password"),
        ),
        (
            "ref+gcpsecrets://my-project/db?version=3#user",
            SecretRef("gcpsecrets", "my-project/db", "user", {"version": "3"}),
        ),
        (
            "ref+sops://secrets/prod.enc.yaml#/db/password",
            SecretRef("sops", "secrets/prod.enc.yaml", "/db/password"),
        ),
        ("ref+sops:///etc/app/secrets.yaml#db", SecretRef("sops", "/etc/app/secrets.yaml", "/db")),
        (
            "op://Production/Database/password",
            SecretRef("1password", "Production/Database", "password"),
        ),
        ("op://Prod/DB/conn/password", SecretRef("1password", "Prod/DB/conn", "password")),
        ("sm://my-project/api-key", SecretRef("berglas", "my-project/api-key")),
        ("sm://my-project/api-key#7", SecretRef("berglas", "my-project/api-key", "7")),
    ],
)
def test_every_reference_grammar_parses(value: str, expected: SecretRef) -> None:
    parsed = parse_ref(value)
    assert parsed is not None
    assert (parsed.provider, parsed.location, parsed.key, parsed.params) == (
        expected.provider,
        expected.location,
        expected.key,
        expected.params,
    )
    assert str(parsed) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ref+vault://", "names no secret"),
        ("ref+vault://secret", "names a mount but no secret path"),
        ("ref+gcpsecrets://only-project", "needs a project and a name"),
        ("ref+keychain://x", "not a provider gonogo knows"),
        ("op://vault/item", "is not a 1Password reference"),
        ("sm://just-a-name", "is not a Berglas reference"),
    ],
)
def test_malformed_references_are_refused(value: str, message: str) -> None:
    with pytest.raises(RefError, match=message):
        parse_ref(value)


def test_plain_values_are_no_references() -> None:
    assert parse_ref("postgres://db/app") is None
    assert parse_ref("") is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, ValueKind.EMPTY),
        ("  ", ValueKind.EMPTY),
        ("${API_TOKEN}", ValueKind.PASSTHROUGH),
        ("$API_TOKEN", ValueKind.PASSTHROUGH),
        ("${API_TOKEN:?set it}", ValueKind.PASSTHROUGH),
        ("$(API_TOKEN)", ValueKind.PASSTHROUGH),
        ("${{ env.TOKEN }}", ValueKind.PASSTHROUGH),
        ("postgres://app:${DB_PASSWORD}@db/app", ValueKind.PASSTHROUGH),
        ("postgres://app:hunter2@${DB_HOST}/app", ValueKind.LITERAL),
        ("${{ secrets.API_TOKEN }}", ValueKind.SECRET_STORE),
        ("ref+vault://secret/app#token", ValueKind.REFERENCE),
        ("op://vault/item/field", ValueKind.REFERENCE),
        ("/run/secrets/api_token", ValueKind.MOUNTED_FILE),
        ("<your token>", ValueKind.PLACEHOLDER),
        ("changeme", ValueKind.PLACEHOLDER),
        ("xxxxxxxx", ValueKind.PLACEHOLDER),
        ("hunter2", ValueKind.LITERAL),
    ],
)
def test_values_are_classified_by_where_they_come_from(value: str | None, kind: ValueKind) -> None:
    assert value_kind(value) is kind


def test_managed_values() -> None:
    assert is_managed("ref+sops://s.yaml#/a")
    assert is_managed("/run/secrets/x")
    assert is_managed("")
    assert not is_managed("hunter2")


class VaultStandIn(BaseHTTPRequestHandler):
    """Vault's KV v2 read endpoint, as the real server answers it."""

    secrets: ClassVar[dict[str, list[dict[str, Any]]]] = {
        "secret/myapp": [{"password": "old-password"}, {"password": DB_PASSWORD, "user": "app"}]
    }
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.seen.append({"path": url.path, **dict(self.headers)})
        if self.headers.get("X-Vault-Token") != TOKEN:
            self._reply(403, {"errors": ["permission denied"]})
            return
        prefix, _, rest = url.path.partition("/v1/")
        mount, _, path = rest.partition("/data/")
        versions = self.secrets.get(f"{mount}/{path}")
        if prefix or versions is None:
            self._reply(404, {"errors": []})
            return
        wanted = parse_qs(url.query).get("version", [str(len(versions))])[0]
        data = versions[int(wanted) - 1]
        self._reply(200, {"data": {"data": data, "metadata": {"version": int(wanted)}}})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def vault() -> Iterator[str]:
    """The address of a running Vault stand-in on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), VaultStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    VaultStandIn.seen.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _ref(text: str) -> SecretRef:
    ref = parse_ref(text)
    assert ref is not None
    return ref


def test_vault_reference_resolves_over_the_kv_v2_api(vault: str) -> None:
    environ = {"VAULT_ADDR": vault, "VAULT_TOKEN": TOKEN, "VAULT_NAMESPACE": "team-a"}
    assert resolve_vault(_ref("ref+vault://secret/myapp#password"), environ) == DB_PASSWORD
    assert VaultStandIn.seen[-1]["path"] == "/v1/secret/data/myapp"
    assert VaultStandIn.seen[-1]["X-Vault-Namespace"] == "team-a"
    older = _ref("ref+vault://secret/data/myapp?version=1#password")
    assert resolve_vault(older, environ) == "old-password"
    by_query = _ref(f"ref+vault://secret/myapp?address={vault}&token_env=MY_TOKEN#user")
    assert resolve_vault(by_query, {"MY_TOKEN": TOKEN}) == "app"


def test_vault_failures_are_clear_and_show_no_token(vault: str, tmp_path: Path) -> None:
    environ = {"VAULT_ADDR": vault, "VAULT_TOKEN": TOKEN}
    cases = [
        ("ref+vault://secret/myapp#password", {**environ, "VAULT_TOKEN": "wrong"}, "refused"),
        ("ref+vault://secret/other#password", environ, "has no secret at secret/other (404)"),
        ("ref+vault://secret/myapp#missing", environ, "has no key 'missing'; its keys: password"),
        ("ref+vault://secret/myapp", environ, "names no key; add #KEY; its keys: password, user"),
        ("ref+vault://secret/myapp#password", {"VAULT_TOKEN": TOKEN}, "no Vault address"),
        (
            "ref+vault://secret/myapp#password",
            {"VAULT_ADDR": vault, "HOME": str(tmp_path)},
            "no Vault token",
        ),
        (
            "ref+vault://secret/myapp#password",
            {**environ, "VAULT_ADDR": "http://127.0.0.1:9"},
            "cannot reach Vault",
        ),
    ]
    for text, env, message in cases:
        with pytest.raises(RefError) as caught:
            resolve_vault(_ref(text), env)
        assert message in str(caught.value), text
        assert TOKEN not in str(caught.value)
        assert DB_PASSWORD not in str(caught.value)


def test_the_runtime_validator_resolves_vault_references(vault: str) -> None:
    inventory = Inventory(
        (
            Variable("DB_PASSWORD", required=True, secret=True),
            Variable("DB_PORT", type=VarType.INT, secret=True),
        )
    )
    environ = {
        "VAULT_ADDR": vault,
        "VAULT_TOKEN": TOKEN,
        "DB_PASSWORD": "ref+vault://secret/myapp#password",
    }
    config = validate_environment(inventory, environ)
    assert config.secret("DB_PASSWORD") == DB_PASSWORD
    assert DB_PASSWORD not in repr(config)

    with pytest.raises(EnvironmentInvalid) as caught:
        validate_environment(inventory, environ | {"DB_PORT": "ref+vault://secret/myapp#user"})
    assert caught.value.problems == ("DB_PORT must be an integer, got <secret, 3 chars>",)


def test_sops_reference_without_the_sops_binary_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no sops on it
    with pytest.raises(RefError) as caught:
        resolve_sops(_ref("ref+sops://secrets.enc.yaml#/db/password"), {})
    assert "needs the sops binary, which is not installed" in str(caught.value)
    assert "https://github.com/getsops/sops/releases" in str(caught.value)


STAND_IN_SOPS = """#!/bin/sh
# A stand-in for the sops binary: Debian packages no sops, so the resolver's handling of
# what sops prints (JSON on success, a message and an exit code on failure) is tested
# against this script. It insists on the arguments the real sops needs.
[ "$1" = "--decrypt" ] && [ "$2" = "--output-type" ] && [ "$3" = "json" ] || {
  echo "unexpected arguments: $*" >&2; exit 64; }
case "$4" in
  *broken*) echo "Failed to get the data key required to decrypt the SOPS file." >&2; exit 128 ;;
  *garbled*) echo "not json" ;;
  *) cat "$4.plain" ;;
esac
"""


@pytest.fixture
def stand_in_sops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``sops`` on PATH (no real sops can be installed here; see STAND_IN_SOPS)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "sops"
    script.write_text(STAND_IN_SOPS, encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '')}")
    secrets = tmp_path / "prod.enc.yaml"
    secrets.write_text("sops-encrypted: true\n", encoding="utf-8")
    plain = {"db": {"password": DB_PASSWORD, "hosts": ["a", "b/c"]}, "a/b": {"~x": 7}}
    Path(str(secrets) + ".plain").write_text(json.dumps(plain), encoding="utf-8")
    return secrets


def test_sops_reference_reads_the_json_pointer_from_what_sops_decrypted(
    stand_in_sops: Path,
) -> None:
    where = stand_in_sops
    assert resolve_sops(_ref(f"ref+sops://{where}#/db/password"), {}) == DB_PASSWORD
    assert resolve_sops(_ref(f"ref+sops://{where}#/db/hosts/1"), {}) == "b/c"
    assert resolve_sops(_ref(f"ref+sops://{where}#/a~1b/~0x"), {}) == "7"
    with pytest.raises(RefError, match="has nothing at /db/user"):
        resolve_sops(_ref(f"ref+sops://{where}#/db/user"), {})
    with pytest.raises(RefError, match="names no key"):
        resolve_sops(_ref(f"ref+sops://{where}#/"), {})


def test_sops_failures_are_one_line_without_the_secret(stand_in_sops: Path) -> None:
    broken = stand_in_sops.with_name("broken.enc.yaml")
    with pytest.raises(RefError) as caught:
        resolve_sops(_ref(f"ref+sops://{broken}#/db/password"), {})
    message = str(caught.value)
    assert "sops cannot decrypt" in message and "(exit 128)" in message
    assert "Failed to get the data key" in message
    garbled = stand_in_sops.with_name("garbled.enc.yaml")
    with pytest.raises(RefError, match="sops did not print JSON"):
        resolve_sops(_ref(f"ref+sops://{garbled}#/db/password"), {})
    assert DB_PASSWORD not in message
