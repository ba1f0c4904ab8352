"""Well-formed fake secrets for every built-in rule, built at run time (never stored here).

``cases(rnd)`` maps each built-in rule id to a :class:`Case`: a line holding a fresh token
the rule must report (``secret`` is the exact value, to prove it is never printed), and a
line that looks alike but must not be reported (a placeholder, a wrong checksum, a low
entropy value).
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from dataclasses import dataclass

from gonogo.secrets.validators import github_checksum

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64URL = B62 + "_-"
B64 = B62 + "+/"
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


@dataclass(frozen=True)
class Case:
    """A rule's true positive (``line`` holding ``secret``) and a look-alike to ignore."""

    line: str
    secret: str
    negative: str
    name: str = "config.txt"


def pick(rnd: random.Random, alphabet: str, n: int) -> str:
    """``n`` random characters from ``alphabet``, with at least one digit when it has any."""
    while True:
        text = "".join(rnd.choice(alphabet) for _ in range(n))
        if n < 8 or not any(c.isdigit() for c in alphabet) or any(c.isdigit() for c in text):
            return text


def github_token(rnd: random.Random, prefix: str) -> str:
    """A ``prefix_`` token (GitHub or npm) with a valid CRC32 checksum."""
    body = pick(rnd, B62, 30)
    return f"{prefix}_{body}{github_checksum(body)}"


def broken_checksum(token: str) -> str:
    """``token`` with its last checksum character changed."""
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


def uuid_of(rnd: random.Random) -> str:
    """A random UUID (from ``rnd``, so runs repeat)."""
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def jwt(rnd: random.Random, header: dict[str, str]) -> str:
    """A JWT-shaped token with the given header, a random subject and signature."""

    def part(value: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part(header)}.{part({'sub': pick(rnd, B62, 12)})}.{pick(rnd, B64URL, 43)}"


def private_key(rnd: random.Random) -> str:
    """A PEM block with a random body (shape of an RSA key)."""
    body = "\n".join(pick(rnd, B64, 64) for _ in range(20))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


def cases(rnd: random.Random) -> dict[str, Case]:
    """A fresh :class:`Case` for every built-in rule."""
    c: dict[str, Case] = {}

    def add(rule: str, secret: str, line: str, negative: str, name: str = "config.txt") -> None:
        c[rule] = Case(line.replace("{}", secret), secret, negative, name)

    add(
        "aws-access-key-id",
        "AKIA" + pick(rnd, BASE32, 16),
        "aws_access_key_id = {}",
        "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX\nid = AKIAIOSFODNN7EXAMPLE",
    )
    add(
        "aws-secret-access-key",
        pick(rnd, B64, 40),
        "aws_secret_access_key = {}",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    add(
        "aws-mws-key",
        "amzn.mws." + uuid_of(rnd),
        "mws = '{}'",
        "mws = 'amzn.mws." + "0" * 8 + "-0000-0000-0000-" + "0" * 12 + "'",
    )
    add("gcp-api-key", "AIza" + pick(rnd, B64URL, 35), "key: {}", "key: AIza" + "X" * 35)
    add(
        "google-oauth-client-secret",
        "GOCSPX-" + pick(rnd, B64URL, 28),
        "cs = {}",
        "cs = GOCSPX-" + "x" * 28,
    )
    add(
        "google-oauth-access-token",
        "ya29." + pick(rnd, B64URL, 60),
        "bearer {}",
        "bearer ya29." + "a" * 60,
    )
    add(
        "azure-storage-account-key",
        pick(rnd, B64, 86) + "==",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={};EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + "A" * 86 + "==;",
    )
    add(
        "azure-ad-client-secret",
        pick(rnd, B62, 3) + "8Q~" + pick(rnd, B62 + "_~.-", 34),
        'azure_client = "{}"',
        'azure_client = "abc8Q~' + "a" * 34 + '"',
    )
    add("alibaba-access-key-id", "LTAI" + pick(rnd, B62, 20), "ak = {}", "ak = LTAI" + "X" * 20)
    add("digitalocean-token", "dop_v1_" + pick(rnd, HEX, 64), "do = {}", "do = dop_v1_" + "0" * 64)
    add(
        "heroku-api-key",
        uuid_of(rnd),
        'HEROKU_API_KEY = "{}"',
        'HEROKU_API_KEY = "00000000-0000-0000-0000-000000000000"',
    )
    add("heroku-api-key-v2", "HRKU-AA" + pick(rnd, B64URL, 58), "h = {}", "h = HRKU-AA" + "x" * 58)
    add("databricks-api-token", "dapi" + pick(rnd, HEX, 32), "t = {}", "t = dapi" + "0" * 32)
    add("hashicorp-vault-token", "hvs." + pick(rnd, B64URL, 95), "VAULT={}", "v = hvs." + "a" * 95)
    add(
        "terraform-cloud-token",
        pick(rnd, B62, 14) + ".atlasv1." + pick(rnd, B64URL, 67),
        "token {}",
        "t = " + "x" * 14 + ".atlasv1." + "x" * 67,
    )
    add("doppler-token", "dp.pt." + pick(rnd, B62, 43), "d = {}", "d = dp.pt." + "x" * 43)
    pat = github_token(rnd, "ghp")
    add("github-pat", pat, 'GH = "{}"', f'GH = "{broken_checksum(pat)}"')
    oauth = github_token(rnd, "gho")
    add("github-oauth-token", oauth, "oauth: {}", f"oauth: {broken_checksum(oauth)}")
    app = github_token(rnd, "ghs")
    add("github-app-token", app, "app: {}", f"app: {broken_checksum(app)}")
    refresh = github_token(rnd, "ghr")
    add("github-refresh-token", refresh, "r: {}", f"r: {broken_checksum(refresh)}")
    add(
        "github-fine-grained-pat",
        "github_pat_" + pick(rnd, B62, 22) + "_" + pick(rnd, B62, 59),
        "pat: {}",
        "pat: github_pat_" + "X" * 22 + "_" + "X" * 59,
    )
    add(
        "gitlab-pat", "glpat-" + pick(rnd, B64URL, 20), "gl = {}", "gl = glpat-xxxxxxxxxxxxxxxxxxxx"
    )
    add(
        "gitlab-pipeline-trigger-token",
        "glptt-" + pick(rnd, HEX, 40),
        "t {}",
        "t glptt-" + "0" * 40,
    )
    add("gitlab-runner-token", "glrt-" + pick(rnd, B64URL, 20), "r {}", "r glrt-" + "x" * 20)
    add("gitlab-deploy-token", "gldt-" + pick(rnd, B64URL, 20), "d {}", "d gldt-" + "x" * 20)
    add("bitbucket-app-password", "ATBB" + pick(rnd, B62, 32), "bb {}", "bb ATBB" + "X" * 32)
    npm = github_token(rnd, "npm")
    add("npm-access-token", npm, "NPM_TOKEN={}", f"npm: {broken_checksum(npm)}")
    add(
        "npm-legacy-auth-token",
        uuid_of(rnd),
        "//registry.npmjs.org/:_authToken={}",
        "//registry.npmjs.org/:_authToken=00000000-0000-0000-0000-000000000000",
        ".npmrc",
    )
    add(
        "pypi-upload-token",
        "pypi-AgEIcHlwaS5vcmc" + pick(rnd, B64URL, 70),
        "password = {}",
        "password = pypi-AgEIcHlwaS5vcmc" + "x" * 70,
        ".pypirc",
    )
    add("rubygems-api-key", "rubygems_" + pick(rnd, HEX, 48), "k {}", "k rubygems_" + "0" * 48)
    add(
        "nuget-api-key",
        "oy2" + pick(rnd, string.ascii_lowercase + string.digits, 43),
        "n {}",
        "n oy2" + "a" * 43,
    )
    add("docker-hub-pat", "dckr_pat_" + pick(rnd, B64URL, 27), "d {}", "d dckr_pat_" + "x" * 27)
    add(
        "slack-bot-token",
        f"xoxb-{pick(rnd, string.digits, 11)}-{pick(rnd, string.digits, 12)}-{pick(rnd, B62, 24)}",
        "SLACK={}",
        "SLACK=xoxb-0000000000-0000000000-" + "x" * 24,
    )
    add(
        "slack-user-token",
        f"xoxp-{pick(rnd, string.digits, 11)}-{pick(rnd, string.digits, 11)}-"
        f"{pick(rnd, string.digits, 12)}-{pick(rnd, HEX, 32)}",
        "s {}",
        "s xoxp-0000000000-0000000000-0000000000-" + "0" * 32,
    )
    add(
        "slack-app-token",
        f"xapp-1-A{pick(rnd, UPPER_DIGITS, 10)}-{pick(rnd, string.digits, 13)}-"
        + pick(rnd, HEX, 64),
        "a {}",
        "a xapp-1-A0000000000-0000000000000-" + "0" * 64,
    )
    add(
        "slack-config-token",
        "xoxe.xoxp-1-" + pick(rnd, UPPER_DIGITS, 150),
        "c {}",
        "c xoxe.xoxp-1-" + "A" * 150,
    )
    add(
        "slack-legacy-token",
        f"xoxs-{pick(rnd, string.digits, 10)}-{pick(rnd, string.digits, 10)}-{pick(rnd, B62, 32)}",
        "l {}",
        "l xoxs-0000000000-aaaaaaaaaaaaaaaa",
    )
    add(
        "slack-webhook-url",
        pick(rnd, B62, 24),
        f"hook: https://hooks.slack.com/services/T{pick(rnd, UPPER_DIGITS, 9)}/"
        f"B{pick(rnd, UPPER_DIGITS, 9)}/{{}}",
        "hook: https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/" + "X" * 24,
    )
    add(
        "discord-webhook-url",
        pick(rnd, B64URL, 68),
        f"https://discord.com/api/webhooks/{pick(rnd, string.digits, 18)}/{{}}",
        "https://discord.com/api/webhooks/000000000000000000/" + "x" * 68,
    )
    add(
        "discord-bot-token",
        "M" + pick(rnd, B64URL, 24) + "." + pick(rnd, B64URL, 6) + "." + pick(rnd, B64URL, 27),
        "discord bot: {}",
        "discord bot: M" + "x" * 24 + ".xxxxxx." + "x" * 27,
    )
    add(
        "telegram-bot-token",
        pick(rnd, string.digits, 9) + ":AA" + pick(rnd, B64URL, 33),
        "bot {}",
        "bot 123456789:AA" + "x" * 33,
    )
    add(
        "microsoft-teams-webhook-url",
        pick(rnd, HEX, 32),
        f"https://contoso.webhook.office.com/webhookb2/{uuid_of(rnd)}@{uuid_of(rnd)}"
        f"/IncomingWebhook/{{}}/{uuid_of(rnd)}",
        "https://contoso.webhook.office.com/webhookb2/"
        + "0" * 36
        + "@"
        + "0" * 36
        + "/IncomingWebhook/"
        + "0" * 32
        + "/"
        + "0" * 36,
    )
    add(
        "twilio-api-key",
        "SK" + pick(rnd, HEX, 32),
        'twilio_sid = "{}"',
        'twilio_sid = "SK' + "0" * 32 + '"',
    )
    add(
        "twilio-auth-token",
        pick(rnd, HEX, 32),
        'TWILIO_AUTH_TOKEN = "{}"',
        'TWILIO_AUTH_TOKEN = "' + "0" * 32 + '"',
    )
    add(
        "sendgrid-api-key",
        "SG." + pick(rnd, B64URL, 22) + "." + pick(rnd, B64URL, 43),
        "sg {}",
        "sg SG." + "x" * 22 + "." + "x" * 43,
    )
    add("mailgun-api-key", "key-" + pick(rnd, HEX, 32), "mg {}", "mg key-" + "0" * 32)
    add("mailchimp-api-key", pick(rnd, HEX, 32) + "-us12", "mc {}", "mc " + "0" * 32 + "-us12")
    add(
        "postmark-server-token",
        uuid_of(rnd),
        'POSTMARK_SERVER_TOKEN = "{}"',
        'POSTMARK_SERVER_TOKEN = "00000000-0000-0000-0000-000000000000"',
    )
    add("stripe-secret-key", "sk_live_" + pick(rnd, B62, 24), "s {}", "s sk_live_" + "x" * 24)
    add("stripe-restricted-key", "rk_live_" + pick(rnd, B62, 24), "r {}", "r rk_live_" + "x" * 24)
    add("stripe-webhook-secret", "whsec_" + pick(rnd, B62, 32), "w {}", "w whsec_" + "x" * 32)
    add("square-access-token", "EAAA" + pick(rnd, B64URL, 60), "sq {}", "sq EAAA" + "A" * 60)
    add("shopify-token", "shpat_" + pick(rnd, HEX, 32), "sh {}", "sh shpat_" + "0" * 32)
    add(
        "facebook-access-token",
        "EAACEdEose0cBA" + pick(rnd, B62, 30),
        "fb {}",
        "fb EAACEdEose0cBA" + "A" * 30,
    )
    add(
        "openai-api-key",
        "sk-proj-" + pick(rnd, B64URL, 40) + "T3BlbkFJ" + pick(rnd, B64URL, 40),
        "OPENAI={}",
        "o = sk-proj-" + "x" * 40 + "T3BlbkFJ" + "x" * 40,
    )
    add(
        "anthropic-api-key",
        "sk-ant-api03-" + pick(rnd, B64URL, 93) + "AA",
        "a = {}",
        "a = sk-ant-api03-" + "x" * 93 + "AA",
    )
    add(
        "huggingface-token",
        "hf_" + pick(rnd, string.ascii_letters, 34),
        "hf {}",
        "hf hf_" + "x" * 34,
    )
    add(
        "postman-api-key",
        "PMAK-" + pick(rnd, HEX, 24) + "-" + pick(rnd, HEX, 34),
        "pm {}",
        "pm PMAK-" + "0" * 24 + "-" + "0" * 34,
    )
    add("linear-api-key", "lin_api_" + pick(rnd, B62, 40), "ln {}", "ln lin_api_" + "x" * 40)
    add(
        "new-relic-user-api-key",
        "NRAK-" + pick(rnd, UPPER_DIGITS, 27),
        "nr {}",
        "nr NRAK-" + "X" * 27,
    )
    add("sentry-auth-token", "sntryu_" + pick(rnd, HEX, 64), "se {}", "se sntryu_" + "0" * 64)
    add(
        "grafana-token",
        "glsa_" + pick(rnd, B62, 32) + "_" + pick(rnd, HEX, 8),
        "gf {}",
        "gf glsa_" + "x" * 32 + "_00000000",
    )
    add(
        "dynatrace-api-token",
        "dt0c01." + pick(rnd, UPPER_DIGITS, 24) + "." + pick(rnd, UPPER_DIGITS, 64),
        "dt {}",
        "dt dt0c01." + "A" * 24 + "." + "A" * 64,
    )
    add(
        "age-secret-key",
        "AGE-SECRET-KEY-1" + pick(rnd, BECH32, 58),
        "{}",
        "AGE-SECRET-KEY-1" + "Q" * 58,
    )
    key = private_key(rnd)
    add(
        "private-key",
        key.split("-----\n", 1)[1].rsplit("\n-----END", 1)[0],
        key,
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE...(truncated)\n-----END RSA PRIVATE KEY-----",
        "id_rsa",
    )
    add(
        "jwt",
        jwt(rnd, {"alg": "HS256", "typ": "JWT"}),
        "Authorization: Bearer {}",
        "Authorization: Bearer " + jwt(rnd, {"typ": "not-a-jwt"}),
    )
    add(
        "database-url-password",
        pick(rnd, B62, 16),
        "DATABASE = 'postgresql://app:{}@db.internal:5432/app'",
        "DATABASE = 'postgresql://user:password@localhost/db'\n"
        "URL = 'postgres://app:${DB_PASSWORD}@db/app'",
    )
    add(
        "url-credentials",
        pick(rnd, B62, 16),
        "remote = https://deploy:{}@git.internal.net/repo.git",
        "remote = https://user:password@example.com/repo.git",
    )
    add(
        "password-assignment",
        pick(rnd, B62, 8) + "!" + pick(rnd, string.digits, 3),
        'db_password = "{}"',
        'db_password = "your-password-here"',
        "settings.py",
    )
    add(
        "generic-api-key",
        pick(rnd, B62, 32),
        'service_api_key = "{}"',
        'service_api_key = "your-token-here"\ntoken = "tokenize_module_name"',
        "settings.py",
    )
    add(
        "generic-env-assignment",
        pick(rnd, B62, 32),
        "SERVICE_SECRET={}",
        "SERVICE_SECRET=replace_with_your_secret_value",
        ".env",
    )
    return c
