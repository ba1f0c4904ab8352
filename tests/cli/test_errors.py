"""Every bad input gets one line on stderr, no traceback, and the store loses nothing."""

from __future__ import annotations

import pytest

from gonogo.cli.main import main
from tests.helpers import ALICE, BASIC_POLICY, QUINN, Project, criterion, store_counts


@pytest.fixture
def busy(quality: Project) -> Project:
    """A project with history: a release, an evaluation and a sign-off."""
    assert quality.run("release", "create", "1.0").code == 0
    assert quality.run("check").code == 1
    assert quality.run("signoff", "quality", "--role", "qa", user=QUINN).code == 0
    return quality


def _assert_store_intact(project: Project, before: dict[str, int], *, evaluated: bool) -> None:
    after = store_counts(project.database)
    if evaluated:  # a check that ran records its evaluation, and nothing else changes
        for table in ("evaluations", "criterion_results", "audit_events", "result_cache"):
            before[table] = after[table]
    assert after == before
    verify = project.run("audit", "verify")
    assert verify.code == 0, verify.out
    assert verify.out.startswith("audit trail OK")


def _break_policy(project: Project, old: str, new: str) -> None:
    text = (project.root / "gonogo.toml").read_text(encoding="utf-8")
    assert old in text
    project.policy(text.replace(old, new, 1))


@pytest.mark.parametrize("command", [["check"], ["status"], ["policy", "validate"]])
def test_a_missing_policy_is_one_line(project: Project, command: list[str]) -> None:
    result = project.run(*command)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "no policy found" in line
    assert "gonogo init" in line


def test_a_missing_project_folder_is_one_line(project: Project) -> None:
    result = project.run("--project", str(project.root / "nope"), "check")

    assert result.code == 2
    assert "nope" in result.assert_one_error_line()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("[project]", "[project", "not valid TOML"),
        ("phase = 4", 'phase = "four"', "gates[0].phase"),
        ("phase = 4", 'phase = 4\ncolour = "red"', "gates[0].colour"),
    ],
    ids=["toml-syntax", "wrong-type", "unknown-key"],
)
def test_a_malformed_policy_is_one_line_and_the_store_is_untouched(
    busy: Project, old: str, new: str, expected: str
) -> None:
    before = store_counts(busy.database)
    _break_policy(busy, old, new)

    for command in (["check"], ["status"], ["signoff", "quality", "--role", "qa"]):
        result = busy.run(*command, user=QUINN)
        assert result.code == 2
        line = result.assert_one_error_line()
        assert expected in line
        assert "gonogo.toml" in line

    _assert_store_intact(busy, before, evaluated=False)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('check = "junit"', 'check = "nunit"', "unknown check type 'nunit'"),
        ('params = { path = "reports/junit.xml" }', "params = { paht = 1 }", "paht"),
    ],
    ids=["unknown-check-type", "bad-params"],
)
def test_a_policy_a_run_cannot_use_is_one_line_before_anything_runs(
    busy: Project, old: str, new: str, expected: str
) -> None:
    before = store_counts(busy.database)
    _break_policy(busy, old, new)

    result = busy.run("check")

    assert result.code == 2
    line = result.assert_one_error_line()
    assert expected in line
    assert "gonogo.toml:" in line
    _assert_store_intact(busy, before, evaluated=False)


@pytest.mark.parametrize(
    ("waiver", "missing"),
    [
        ('approver = "qa"\nexpires = 2999-12-31', "waivers[0].reason"),
        ('approver = "qa"\nreason = "flaky suite"', "waivers[0].expires"),
        ('approver = "qa"\nreason = "   "\nexpires = 2999-12-31', "waivers[0].reason"),
    ],
    ids=["no-reason", "no-expiry", "blank-reason"],
)
def test_a_waiver_without_reason_or_expiry_is_one_line(
    busy: Project, waiver: str, missing: str
) -> None:
    before = store_counts(busy.database)
    text = (busy.root / "gonogo.toml").read_text(encoding="utf-8")
    busy.policy(f'{text}\n[[waivers]]\ncriterion = "quality.tests"\n{waiver}\n')

    result = busy.run("check")

    assert result.code == 2
    assert missing in result.assert_one_error_line()
    _assert_store_intact(busy, before, evaluated=False)


def test_malformed_evidence_is_an_error_result_not_a_crash(busy: Project) -> None:
    before = store_counts(busy.database)
    (busy.root / "reports/junit.xml").write_text("<testsuites><testcase", encoding="utf-8")
    (busy.root / "reports/coverage.json").unlink()
    (busy.root / "reports/coverage.json").mkdir()

    code, report = busy.check_json()

    assert code == 1
    assert criterion(report, "quality.tests")["status"] == "error"
    coverage = criterion(report, "quality.coverage")
    assert coverage["status"] == "error"
    assert "is a folder" in coverage["reason"]
    assert "Traceback" not in busy.capsys.readouterr().err
    _assert_store_intact(busy, before, evaluated=True)


def test_a_hanging_check_times_out_as_an_error_result(busy: Project) -> None:
    _break_policy(
        busy,
        '[[gates.criteria]]\nid = "tests"',
        '[[gates.criteria]]\nid = "hangs"\ncheck = "command"\n'
        'params = { run = "sleep 30" }\ntimeout = 1\n\n[[gates.criteria]]\nid = "tests"',
    )
    before = store_counts(busy.database)

    code, report = busy.check_json()

    assert code == 1
    hangs = criterion(report, "quality.hangs")
    assert hangs["status"] == "error"
    assert "timed out after 1s" in hangs["reason"]
    assert criterion(report, "quality.tests")["status"] == "pass"
    _assert_store_intact(busy, before, evaluated=True)


def test_a_signer_who_is_not_an_owner_is_one_line(busy: Project) -> None:
    before = store_counts(busy.database)

    result = busy.run("signoff", "quality", "--role", "engineering", user="eve@example.com")

    assert result.code == 2
    assert "eve@example.com" in result.assert_one_error_line()
    _assert_store_intact(busy, before, evaluated=False)


def test_an_owner_of_another_role_cannot_sign_for_it(busy: Project) -> None:
    before = store_counts(busy.database)

    result = busy.run("signoff", "quality", "--role", "engineering", user=QUINN)

    assert result.code == 2
    assert f"{QUINN} is not listed as an engineering owner" in result.assert_one_error_line()
    _assert_store_intact(busy, before, evaluated=False)


def test_a_bad_lock_timeout_is_one_line(busy: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONOGO_LOCK_TIMEOUT", "soon")

    result = busy.run("status")

    assert result.code == 2
    assert "GONOGO_LOCK_TIMEOUT" in result.assert_one_error_line()


def test_a_bad_database_url_is_one_line(quality: Project) -> None:
    result = quality.run("--database-url", "mysql://db/gonogo", "status")

    assert result.code == 2
    assert "sqlite and postgresql" in result.assert_one_error_line()


def test_no_arguments_shows_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([])

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("Usage: gonogo [OPTIONS] COMMAND [ARGS]...")
    assert "Traceback" not in err


def test_a_missing_command_after_global_options_is_one_line(project: Project) -> None:
    result = project.run()

    assert result.code == 2
    assert "Missing command" in result.assert_one_error_line()


def test_basic_policy_is_valid(project: Project) -> None:
    project.policy(BASIC_POLICY)

    assert project.run("policy", "validate").code == 0
    assert project.run("signoff", "quality", "--role", "engineering", user=ALICE).code == 2


@pytest.mark.parametrize("command", [["init"], ["init", "--force"]])
def test_init_over_a_folder_named_like_the_policy_is_one_line(
    project: Project, command: list[str]
) -> None:
    (project.root / "gonogo.toml").mkdir()

    result = project.run(*command)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "gonogo.toml is a folder" in line
    assert "move it away" in line
    assert (project.root / "gonogo.toml").is_dir()


@pytest.mark.parametrize("command", [["check"], ["policy", "validate"], ["policy", "explain"]])
def test_a_folder_named_like_the_policy_is_named_as_such(
    project: Project, command: list[str]
) -> None:
    (project.root / "gonogo.toml").mkdir()

    result = project.run(*command)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "gonogo.toml is a folder, not a policy file" in line
    assert "no policy found" not in line


def test_a_policy_that_is_not_utf8_says_to_save_it_as_utf8(project: Project) -> None:
    (project.root / "gonogo.toml").write_bytes(b'version = 1\n[project]\nname = "caf\xe9"\n')

    result = project.run("policy", "validate")

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "gonogo.toml:3: cannot read the policy: byte 33 is not UTF-8" in line
    assert "save the file as UTF-8" in line


def _chain_policy(count: int, *, last_needs: str | None) -> str:
    """``count`` gates, each needing the next one to be go; the last needs ``last_needs``."""
    gates = []
    for i in range(count):
        target = f"g{i + 1}" if i < count - 1 else last_needs
        check = f'check = "gate"\nparams = {{ gate = "{target}" }}'
        if target is None:
            check = 'check = "file"\nparams = { path = "README.md" }'
        gates.append(
            f'[[gates]]\nid = "g{i}"\ntitle = "G{i}"\nphase = 1\n'
            f'[[gates.criteria]]\nid = "next"\n{check}\n'
        )
    return f'version = 1\n[project]\nname = "chain"\n[owners]\nqa = ["{QUINN}"]\n' + "".join(gates)


def test_a_long_chain_of_gate_dependencies_is_checked_not_a_crash(project: Project) -> None:
    project.policy(_chain_policy(1500, last_needs="g0"))

    looped = project.run("policy", "validate")

    assert looped.code == 2
    assert "gates depend on each other in a cycle: g0 → g1 → g2" in looped.assert_one_error_line()

    project.policy(_chain_policy(1500, last_needs=None))

    assert project.run("policy", "validate").code == 0


@pytest.mark.parametrize("fmt", ["sarif", "", "mark down"])
def test_an_unknown_format_lists_the_formats_in_plain_words(quality: Project, fmt: str) -> None:
    result = quality.run("status", "--format", fmt)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert f"Invalid value for '--format' / '-f': {fmt!r} is not one of 'text', 'json'" in line
    assert "Value error" not in line


@pytest.mark.parametrize("fmt", ["JSON", "Json", "MARKDOWN", "Html", "jUnit", "TEXT"])
def test_the_format_is_case_insensitive(quality: Project, fmt: str) -> None:
    result = quality.run("status", "--format", fmt)

    assert (result.code, result.err) == (0, "")
    assert result.out


@pytest.mark.parametrize("user", ["alice@example.com\nforged", "alice\x1b[31m@example.com"])
def test_a_bad_identity_is_one_line_even_for_init(project: Project, user: str) -> None:
    result = project.run("init", user=user)

    assert result.code == 2
    assert "the identity from GONOGO_USER" in result.assert_one_error_line()
    assert not (project.root / "gonogo.toml").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["demo", "--rps", "nan"], "Invalid value for '--rps': 'nan' is not a finite number"),
        (["demo", "--rps", "inf"], "Invalid value for '--rps': 'inf' is not a finite number"),
        (["demo", "--rps", "5"], "Invalid value for '--rps': 5 is not between 20 and 2000"),
        (["demo", "--rps", "lots"], "Invalid value for '--rps': 'lots' is not a number"),
        (["rollout", "watch", "--poll", "NaN"], "'--poll': 'NaN' is not a finite number"),
        (["rollout", "abort", "--wait", "0"], "'--wait': 0 is not between 1 and 3600"),
    ],
)
def test_a_number_option_out_of_range_or_not_finite_is_one_line(
    project: Project, args: list[str], says: str
) -> None:
    result = project.run(*args)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert says in line
    assert "--help" in line
