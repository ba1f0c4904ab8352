"""The credentials ledger end to end: ``gonogo security credentials`` and ``rotated``, the
``credentials`` check, Vault and AWS rotation dates, and the audit trail.

Vault and AWS Secrets Manager cannot run here; ``rotation_standins.py`` says how their
stand-ins (real HTTP servers on loopback) follow the real APIs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gonogo.clock import iso
from gonogo.config.inventory import Inventory, Variable
from gonogo.policy.credentials import Credential, Security
from gonogo.security.credentials import (
    CredentialStatus,
    Rotation,
    RotationLookupError,
    Tracked,
    build,
    tracked,
)
from gonogo.testing import FixedClock
from tests.helpers import SAM, Project, criterion
from tests.report.pages import Page
from tests.security.rotation_standins import (
    AWS_KEYS,
    VAULT_TOKEN,
    SecretsManagerStandIn,
    VaultMetadataStandIn,
    serve,
    vault_metadata,
)

POLICY = """\
version = 1

[project]
name = "shop"

[owners]
engineering = ["alice@example.com"]
security = ["sam@example.com"]

[[gates]]
id = "security"
title = "Security"
phase = 5
owners = ["security"]

[[gates.criteria]]
id = "credentials"
check = "credentials"
params = {{ timeout = 5 }}

[security]
credential_owner = "security"
max_age_days = 90
{extra}
"""

INVENTORY = """\
schema = "gonogo.env/v1"

[[variables]]
name = "SHOP_DB_PASSWORD"
description = "Password of the staging database."
secret = true
required = true
locations = ["shop/config.py:12"]
definitions = [".env.example:3"]

[[variables]]
name = "SHOP_PORT"
type = "int"
locations = ["shop/config.py:11"]
"""

DEPLOY_KEY = """
[security.credentials.deploy-key]
owner = "engineering"
max_age_days = 30
stored_in = "GitHub deploy key"
"""


@pytest.fixture
def shop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A project with one secret variable in its inventory and one declared deploy key."""
    root = tmp_path / "shop"
    root.mkdir()
    (root / "gonogo.env.toml").write_text(INVENTORY, encoding="utf-8")
    project = Project(root=root, capsys=capsys, monkeypatch=monkeypatch)
    project.policy(POLICY.format(extra=DEPLOY_KEY))
    for name in ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    return project


def _ago(days: float) -> str:
    return iso(datetime.now(UTC) - timedelta(days=days))


def _entries(doc: Any) -> dict[str, Any]:
    """The ledger's entries by name, from its JSON."""
    return {e["name"]: e for e in doc["credentials"]}


# -- the ledger and `rotated` -------------------------------------------------------------------


def test_ledger_lists_inventory_secrets_and_declared_credentials(shop: Project) -> None:
    result = shop.run("security", "credentials", "--format", "json")

    assert result.code == 1  # nothing was ever rotated
    doc = result.json()
    assert doc["schema"] == "gonogo.credentials/v1"
    assert doc["verdict"] == "fail"
    entries = _entries(doc)
    assert set(entries) == {"SHOP_DB_PASSWORD", "deploy-key"}  # SHOP_PORT is no secret
    db = entries["SHOP_DB_PASSWORD"]
    assert (db["owner"], db["max_age_days"], db["origin"]) == ("security", 90, "inventory")
    assert db["stored_in"] == "defined in .env.example:3"
    assert db["description"] == "Password of the staging database."
    key = entries["deploy-key"]
    assert (key["owner"], key["max_age_days"], key["origin"]) == ("engineering", 30, "policy")
    assert key["stored_in"] == "GitHub deploy key"
    assert {e["status"] for e in entries.values()} == {"never_rotated"}


def test_rotated_writes_an_audit_event_the_ledger_reads_and_verify_accepts(shop: Project) -> None:
    recorded = shop.run(
        "security", "rotated", "SHOP_DB_PASSWORD", "--at", _ago(10), "--note", "OPS-42", user=SAM
    )
    assert recorded.code == 0, recorded.err
    assert "recorded the rotation of SHOP_DB_PASSWORD" in recorded.err
    assert shop.run("security", "rotated", "deploy-key", user=SAM).code == 0

    ledger = shop.run("security", "credentials", "-f", "json")
    assert ledger.code == 0, ledger.out
    db = _entries(ledger.json())["SHOP_DB_PASSWORD"]
    assert db["status"] == "ok"
    assert db["age_days"] == 10
    assert db["last_rotation"]["source"] == "recorded"
    assert db["last_rotation"]["by"] == SAM
    assert db["last_rotation"]["note"] == "OPS-42"

    log = shop.run("audit", "log", "--format", "json")
    events = [e for e in log.json()["events"] if e["type"] == "security.credential.rotated"]
    assert [e["payload"]["name"] for e in events] == ["SHOP_DB_PASSWORD", "deploy-key"]
    assert events[0]["actor"] == SAM
    verify = shop.run("audit", "verify")
    assert verify.code == 0
    assert verify.out.startswith("audit trail OK: 2 events")


def test_the_newest_rotated_event_wins(shop: Project) -> None:
    shop.run("security", "rotated", "deploy-key", "--at", _ago(5), user=SAM)
    shop.run("security", "rotated", "deploy-key", "--at", _ago(40), "--note", "fix", user=SAM)

    key = _entries(shop.run("security", "credentials", "-f", "json").json())["deploy-key"]
    assert key["status"] == "overdue"  # the correction (40 days ago) replaced the first record
    assert key["age_days"] == 40


def test_as_of_judges_ages_at_another_date(shop: Project) -> None:
    shop.run("security", "rotated", "deploy-key", "--at", "2026-01-10", user=SAM)
    shop.run("security", "rotated", "SHOP_DB_PASSWORD", "--at", "2026-01-10", user=SAM)

    before = shop.run("security", "credentials", "--as-of", "2026-02-01")
    assert before.code == 0
    assert before.out.startswith("PASS: 2 credential(s) rotated within their maximum age")
    after = shop.run("security", "credentials", "--as-of", "2026-02-15", "-f", "markdown")
    assert after.code == 1
    assert "**FAIL: 1 of 2 credential(s) to rotate (1 overdue), as of 2026-02-15**" in after.out
    assert (
        "| ❌ overdue | `deploy-key` | engineering | 2026-01-10 (recorded by sam@example.com)"
        in (after.out)
    )
    assert "| 36/30 days | 2026-02-09 |" in after.out


def test_html_ledger_shows_the_verdict_and_each_credential(shop: Project) -> None:
    shop.run("security", "rotated", "deploy-key", "--at", "2026-01-10", user=SAM)
    shop.run("security", "rotated", "SHOP_DB_PASSWORD", "--at", "2026-01-10", user=SAM)

    before = shop.run("security", "credentials", "--as-of", "2026-02-01", "-f", "html")
    after = shop.run("security", "credentials", "--as-of", "2026-02-15", "-f", "html")

    assert (before.code, after.code) == (0, 1)
    assert Page.parse(before.out).badge == ("PASS", "good")
    page = Page.parse(after.out)
    assert (page.title, page.badge) == ("Credentials ledger", ("FAIL", "bad"))
    assert page.summary == "1 of 2 credential(s) to rotate (1 overdue), as of 2026-02-15"
    rows = {r["credential"]: r for r in page.section("Credentials")}
    assert rows["deploy-key"] == {
        "status": "❌ overdue",
        "credential": "deploy-key",
        "owner": "engineering",
        "last rotation": "2026-01-10 (recorded by sam@example.com)",
        "age / max": "36/30 days",
        "due": "2026-02-09",
        "stored in": "GitHub deploy key",
    }
    assert rows["SHOP_DB_PASSWORD"]["status"] == "✅ ok"


def test_rotated_refuses_an_unknown_name_listing_the_known_ones(shop: Project) -> None:
    result = shop.run("security", "rotated", "SHOP_PORT", user=SAM)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "no credential named 'SHOP_PORT'" in line
    assert "known credentials: SHOP_DB_PASSWORD, deploy-key" in line


@pytest.mark.parametrize(
    ("at", "message"),
    [("2999-01-01", "is in the future"), ("last tuesday", "is not a date or time")],
)
def test_rotated_refuses_future_and_unreadable_dates(shop: Project, at: str, message: str) -> None:
    result = shop.run("security", "rotated", "deploy-key", "--at", at, user=SAM)

    assert result.code == 2
    assert message in result.assert_one_error_line()
    assert shop.run("audit", "log", "--format", "json").json()["events"] == []


def test_an_owner_must_be_an_owner_role(shop: Project) -> None:
    shop.policy(POLICY.format(extra=DEPLOY_KEY.replace('"engineering"', '"legal"')))

    result = shop.run("policy", "validate")
    assert result.code == 2
    assert "security.credentials.deploy-key.owner: 'legal' is not an owner role" in result.err


# -- the check ----------------------------------------------------------------------------------


def test_check_fails_until_every_credential_is_rotated_in_time(shop: Project) -> None:
    code, report = shop.check_json()
    result = criterion(report, "security.credentials")
    assert code == 1
    assert result["status"] == "fail"
    assert result["measured"] == 2
    assert "deploy-key never rotated" in result["reason"]
    assert result["details"]["counts"]["never_rotated"] == 2
    kinds = {e["kind"]: e for e in result["evidence"]}
    assert kinds["env-inventory"]["uri"] == "gonogo.env.toml"
    assert len(kinds["credentials-ledger"]["sha256"]) == 64

    shop.run("security", "rotated", "SHOP_DB_PASSWORD", "--at", _ago(100), user=SAM)
    shop.run("security", "rotated", "deploy-key", "--at", _ago(3), user=SAM)
    _, report = shop.check_json()
    result = criterion(report, "security.credentials")
    assert (result["status"], result["measured"]) == ("fail", 1)
    assert "SHOP_DB_PASSWORD overdue since" in result["reason"]

    shop.run("security", "rotated", "SHOP_DB_PASSWORD", user=SAM)
    _, report = shop.check_json()
    result = criterion(report, "security.credentials")
    assert (result["status"], result["measured"]) == ("pass", 0)
    assert result["reason"] == "2 of 2 credential(s) ok"


def test_check_reads_the_rotations_of_the_store_given_with_database_url(
    shop: Project, tmp_path: Path
) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'team' / 'state.db'}"
    for name in ("SHOP_DB_PASSWORD", "deploy-key"):
        rotated = shop.run("--database-url", elsewhere, "security", "rotated", name, user=SAM)
        assert rotated.code == 0, rotated.err

    result = shop.run("--database-url", elsewhere, "check", "--format", "json")

    found = criterion(result.json(), "security.credentials")
    assert (found["status"], found["measured"]) == ("pass", 0)  # the rotations were read there
    assert not shop.database.exists()  # and no store was made in the project for them


def test_check_is_not_reported_when_there_is_nothing_to_track(shop: Project) -> None:
    (shop.root / "gonogo.env.toml").unlink()
    shop.policy(POLICY.format(extra=""))

    _, report = shop.check_json()
    result = criterion(report, "security.credentials")
    assert result["status"] == "not_reported"
    assert "no credential to track" in result["reason"]


# -- Vault --------------------------------------------------------------------------------------


@pytest.fixture
def vault(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The Vault stand-in's address, with VAULT_ADDR and VAULT_TOKEN pointing at it."""
    VaultMetadataStandIn.metadata = {
        "secret/shop/db": vault_metadata(
            "2026-01-02T08:00:00.123456789Z", "2026-03-01T10:00:00.987654321Z"
        )
    }
    VaultMetadataStandIn.seen.clear()
    with serve(VaultMetadataStandIn) as address:
        monkeypatch.setenv("VAULT_ADDR", address)
        monkeypatch.setenv("VAULT_TOKEN", VAULT_TOKEN)
        monkeypatch.setenv("VAULT_NAMESPACE", "team-shop")
        yield address


VAULT_DB = """
[security.credentials.SHOP_DB_PASSWORD]
max_age_days = 30
vault = "secret/shop/db"
"""


def test_vault_metadata_gives_the_current_versions_creation_time(shop: Project, vault: str) -> None:
    shop.policy(POLICY.format(extra=VAULT_DB))

    ok = shop.run("security", "credentials", "--as-of", "2026-03-20", "-f", "json")
    db = _entries(ok.json())["SHOP_DB_PASSWORD"]
    assert db["status"] == "ok"
    assert db["last_rotation"] == {
        "at": "2026-03-01T10:00:00.987654Z",
        "source": "vault",
        "by": None,
        "note": None,
        "detail": "Vault secret/shop/db, version 2",
    }
    assert (db["age_days"], db["due"]) == (18, "2026-03-31")
    assert db["stored_in"] == "Vault KV secret/shop/db"
    assert db["origin"] == "inventory+policy"
    request = VaultMetadataStandIn.seen[-1]
    assert request["path"] == "/v1/secret/metadata/shop/db"
    assert request["X-Vault-Namespace"] == "team-shop"

    late = shop.run("security", "credentials", "--as-of", "2026-04-15", "-f", "json")
    assert _entries(late.json())["SHOP_DB_PASSWORD"]["status"] == "overdue"


def test_a_newer_recorded_rotation_beats_vault(shop: Project, vault: str) -> None:
    shop.policy(POLICY.format(extra=VAULT_DB))
    shop.run("security", "rotated", "SHOP_DB_PASSWORD", "--at", "2026-04-10", user=SAM)

    late = shop.run("security", "credentials", "--as-of", "2026-04-15", "-f", "json")
    db = _entries(late.json())["SHOP_DB_PASSWORD"]
    assert (db["status"], db["last_rotation"]["source"]) == ("ok", "recorded")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"VAULT_TOKEN": "wrong-token"},
            "Vault refused to read the metadata of secret/shop/db (403)",
        ),
        ({"VAULT_TOKEN": ""}, "no Vault token; set VAULT_TOKEN"),
        ({"VAULT_ADDR": "http://127.0.0.1:9"}, "cannot reach Vault at http://127.0.0.1:9"),
    ],
)
def test_vault_failures_are_errors_that_never_show_the_token(
    shop: Project,
    vault: str,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, str],
    problem: str,
) -> None:
    shop.policy(POLICY.format(extra=DEPLOY_KEY + VAULT_DB))
    shop.run("security", "rotated", "deploy-key", user=SAM)
    for name, value in change.items():
        monkeypatch.setenv(name, value)

    result = shop.run("security", "credentials")
    assert result.code == 2
    assert result.out.startswith("ERROR: the rotation of 1 of 2 credential(s) could not be read")
    line = result.assert_one_error_line()
    assert problem in line
    assert VAULT_TOKEN not in result.out + result.err
    assert "wrong-token" not in result.out + result.err

    _, report = shop.check_json()
    checked = criterion(report, "security.credentials")
    assert checked["status"] == "error"
    assert problem in checked["reason"]


def test_a_missing_vault_secret_is_unknown_not_never_rotated(shop: Project, vault: str) -> None:
    shop.policy(POLICY.format(extra=VAULT_DB.replace("secret/shop/db", "secret/shop/gone")))

    db = _entries(shop.run("security", "credentials", "-f", "json").json())["SHOP_DB_PASSWORD"]
    assert db["status"] == "unknown"
    assert db["problem"] == "Vault has no KV v2 secret at secret/shop/gone (404)"

    html = shop.run("security", "credentials", "-f", "html")
    assert html.code == 2
    page = Page.parse(html.out)
    assert page.badge == ("ERROR", "bad")
    (row,) = (r for r in page.section("Credentials") if r["credential"] == "SHOP_DB_PASSWORD")
    assert row["status"] == "💥 unknown (Vault has no KV v2 secret at secret/shop/gone (404))"


# -- AWS Secrets Manager ------------------------------------------------------------------------


ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop-deploy-AbCdEf"
AWS_KEY = f"""
[security.credentials.deploy-key]
owner = "engineering"
max_age_days = 30
aws_secret = "{ARN}"
"""


@pytest.fixture
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The Secrets Manager stand-in, with the AWS variables pointing at it.

    The instance metadata service is switched off, so boto3's credential chain ends at
    once where no credentials are set instead of asking 169.254.169.254.
    """
    rotated = datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()
    SecretsManagerStandIn.secrets = {
        ARN: {
            "ARN": ARN,
            "Name": "shop-deploy",
            "RotationEnabled": True,
            "LastRotatedDate": rotated,
            "LastChangedDate": rotated + 86_400 * 20,  # a later tag edit
            "CreatedDate": rotated - 86_400 * 200,
        }
    }
    SecretsManagerStandIn.seen.clear()
    with serve(SecretsManagerStandIn) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEYS.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_KEYS.secret_key)
        monkeypatch.setenv("AWS_SESSION_TOKEN", "stand-in-session-token")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name, raising=False)
        yield endpoint


def test_aws_describe_secret_gives_the_last_rotation(shop: Project, secrets_manager: str) -> None:
    shop.policy(POLICY.format(extra=AWS_KEY))

    result = shop.run("security", "credentials", "--as-of", "2026-03-11", "-f", "json")
    key = _entries(result.json())["deploy-key"]
    assert key["status"] == "ok"
    assert key["last_rotation"]["at"] == "2026-03-01T12:00:00.000000Z"
    assert key["last_rotation"]["detail"] == f"AWS Secrets Manager {ARN}, LastRotatedDate"
    request = SecretsManagerStandIn.seen[-1]
    assert request["X-Amz-Target"] == "secretsmanager.DescribeSecret"
    scope = request["Authorization"].split("Credential=", 1)[1].split(",", 1)[0]
    assert scope.startswith(f"{AWS_KEYS.access_key}/")
    assert scope.endswith("/eu-west-1/secretsmanager/aws4_request")  # the ARN's region
    assert request["X-Amz-Security-Token"] == "stand-in-session-token"

    late = shop.run("security", "credentials", "--as-of", "2026-04-11", "-f", "json")
    assert _entries(late.json())["deploy-key"]["status"] == "overdue"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"AWS_SECRET_ACCESS_KEY": "not-the-key"},
            f"AWS did not accept the request signature for {ARN} (InvalidSignatureException)",
        ),
        (
            {"AWS_ACCESS_KEY_ID": "AKIAUNKNOWN"},
            "AWS did not accept the credentials calling DescribeSecret",
        ),
        (
            {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None},
            "no AWS credentials to call Secrets Manager (NoCredentialsError)",
        ),
        (
            {"AWS_SECRET_ACCESS_KEY": None},
            "no AWS credentials to call Secrets Manager (PartialCredentialsError)",
        ),
        ({"AWS_PROFILE": "nobody"}, "AWS profile 'nobody' is not configured"),
        (
            {"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:9"},
            "cannot reach AWS Secrets Manager at http://127.0.0.1:9",
        ),
    ],
)
def test_aws_failures_are_errors_that_never_show_the_keys(
    shop: Project,
    secrets_manager: str,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, str | None],
    problem: str,
) -> None:
    shop.policy(POLICY.format(extra=AWS_KEY))
    shop.run("security", "rotated", "SHOP_DB_PASSWORD", user=SAM)
    for variable, value in change.items():
        if value is None:
            monkeypatch.delenv(variable)
        else:
            monkeypatch.setenv(variable, value)

    result = shop.run("security", "credentials", "-f", "json")
    assert result.code == 2
    key = _entries(result.json())["deploy-key"]
    assert key["status"] == "unknown"
    assert problem in str(key["problem"])
    assert problem in result.assert_one_error_line()
    assert AWS_KEYS.secret_key not in result.out + result.err
    assert "not-the-key" not in result.out + result.err
    assert "stand-in-session-token" not in result.out + result.err


def test_aws_credentials_come_from_a_profile(
    shop: Project, secrets_manager: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No keys in the environment: boto3's chain reads the named profile's shared files."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    shared = tmp_path / "aws-credentials"
    shared.write_text(
        f"[shop-dev]\naws_access_key_id = {AWS_KEYS.access_key}\n"
        f"aws_secret_access_key = {AWS_KEYS.secret_key}\n",
        encoding="utf-8",
    )
    config = tmp_path / "aws-config"
    config.write_text("[profile shop-dev]\nregion = eu-central-1\n", encoding="utf-8")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "shop-dev")
    shop.policy(POLICY.format(extra=AWS_KEY.replace(ARN, "shop-deploy")))
    SecretsManagerStandIn.secrets["shop-deploy"] = SecretsManagerStandIn.secrets[ARN]

    result = shop.run("security", "credentials", "--as-of", "2026-03-11", "-f", "json")
    assert _entries(result.json())["deploy-key"]["status"] == "ok"
    request = SecretsManagerStandIn.seen[-1]
    assert "/eu-central-1/secretsmanager/aws4_request" in request["Authorization"]  # the profile's
    assert "X-Amz-Security-Token" not in request


def test_without_boto3_the_error_names_the_extra(
    shop: Project, secrets_manager: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3 is installed here; hiding it from the import system is how its absence is shown."""
    monkeypatch.setitem(sys.modules, "boto3", None)
    shop.policy(POLICY.format(extra=AWS_KEY))
    shop.run("security", "rotated", "SHOP_DB_PASSWORD", user=SAM)

    result = shop.run("security", "credentials")
    assert result.code == 2
    line = result.assert_one_error_line()
    assert "reading rotation dates from AWS Secrets Manager needs boto3" in line
    assert "pip install 'gonogo[aws]'" in line


def test_an_unknown_aws_secret_is_named(shop: Project, secrets_manager: str) -> None:
    shop.policy(POLICY.format(extra=AWS_KEY.replace(ARN, "shop/missing")))
    shop.monkeypatch.setenv("AWS_REGION", "eu-west-1")

    key = _entries(shop.run("security", "credentials", "-f", "json").json())["deploy-key"]
    assert key["problem"] == "AWS Secrets Manager has no secret shop/missing"


# -- the verdicts, on a fixed clock -------------------------------------------------------------


def _tracked(max_age: int = 30) -> Tracked:
    return Tracked("K", "security", max_age, "vault", "", "policy")


@pytest.mark.parametrize(
    ("age", "status"),
    [
        (timedelta(days=30), CredentialStatus.OK),  # exactly the maximum age is still in time
        (timedelta(days=30, seconds=1), CredentialStatus.OVERDUE),
        (timedelta(0), CredentialStatus.OK),
    ],
)
def test_overdue_means_older_than_the_maximum_age(age: timedelta, status: CredentialStatus) -> None:
    clock = FixedClock.at("2026-11-27T10:00:00Z")
    rotation = Rotation(at=clock.now() - age, source="recorded")

    ledger = build([_tracked()], {"K": rotation}, as_of=clock.now(), lookup=lambda _: None)
    assert ledger.entries[0].status is status


def test_a_lookup_error_is_unknown_even_with_an_older_recorded_rotation() -> None:
    clock = FixedClock.at("2026-11-27T10:00:00Z")

    def refuse(_: Tracked) -> Rotation | None:
        raise RotationLookupError("Vault refused")

    fresh = Rotation(at=clock.now() - timedelta(days=1), source="recorded")
    entry = build([_tracked()], {"K": fresh}, as_of=clock.now(), lookup=refuse).entries[0]
    assert (entry.status, entry.problem) == (CredentialStatus.UNKNOWN, "Vault refused")
    stale = Rotation(at=clock.now() - timedelta(days=60), source="recorded")
    entry = build([_tracked()], {"K": stale}, as_of=clock.now(), lookup=refuse).entries[0]
    assert entry.status is CredentialStatus.OVERDUE  # overdue whatever Vault would have said


def test_a_declaration_completes_an_inventory_variable() -> None:
    inventory = Inventory((Variable("DB_PASSWORD", secret=True, description="db"),))
    security = Security(
        credential_owner="security",
        credentials={"DB_PASSWORD": Credential(owner="engineering", aws_secret="db")},
    )

    [entry] = tracked(security, inventory)
    assert (entry.owner, entry.stored_in, entry.description, entry.origin) == (
        "engineering",
        "AWS Secrets Manager db",
        "db",
        "inventory+policy",
    )


DSN_PASSWORD = "Hunter2-dsn-pw"
PASTED_DSN = f"""
[security.credentials.SHOP_DB_URL]
stored_in = "postgres://shop:{DSN_PASSWORD}@db.internal/shop"
description = "Copied from redis://:{DSN_PASSWORD}@cache:6379/0 by mistake"
"""


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_a_url_password_pasted_into_the_ledger_is_never_shown(shop: Project, fmt: str) -> None:
    shop.policy(POLICY.format(extra=DEPLOY_KEY + PASTED_DSN))

    result = shop.run("security", "credentials", "--format", fmt)

    assert result.code == 1
    assert DSN_PASSWORD not in result.out + result.err
    assert "@db.internal/shop" in result.out  # where it is kept still shows


PASTED_TOKEN = "xoxb-" + "2815530214-7731924046-Kq8Lm2Xv7Rt4Kp9Wd3Hs6Jn1"


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_a_token_pasted_into_the_ledger_is_never_shown(shop: Project, fmt: str) -> None:
    pasted = f"""
[security.credentials.SHOP_DB_URL]
stored_in = "AWS Secrets Manager shop/db"
description = "the old one was {PASTED_TOKEN}"
"""
    shop.policy(POLICY.format(extra=DEPLOY_KEY + pasted))

    result = shop.run("security", "credentials", "--format", fmt)

    assert result.code == 1
    assert PASTED_TOKEN not in result.out + result.err
    assert PASTED_TOKEN[:12] not in result.out + result.err
    assert "AWS Secrets Manager shop/db" in result.out  # where it is kept still shows


def test_rotated_refuses_a_note_holding_a_token_and_records_nothing(shop: Project) -> None:
    shop.monkeypatch.setenv("GONOGO_USER", SAM)

    result = shop.run("security", "rotated", "deploy-key", "--note", f"new: {PASTED_TOKEN}")

    assert result.code == 2
    assert PASTED_TOKEN not in result.assert_one_error_line()
    assert "the audit trail is empty" in shop.run("audit", "log").out


def test_rotated_refuses_a_note_holding_a_url_password_and_records_nothing(
    shop: Project,
) -> None:
    shop.monkeypatch.setenv("GONOGO_USER", SAM)
    note = f"moved to postgres://shop:{DSN_PASSWORD}@db2.internal/shop"

    result = shop.run("security", "rotated", "deploy-key", "--note", note)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert DSN_PASSWORD not in line
    assert "--note holds a secret (a token, a key or a URL with a password)" in line
    assert "the audit trail is empty" in shop.run("audit", "log").out
