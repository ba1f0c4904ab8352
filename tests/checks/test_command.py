"""``command``: the team's own command decides by its exit status; its output is evidence."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import pytest

from gonogo.checks.interface import CheckError
from gonogo.gates.results import Status
from tests.checks.helpers import context, evaluate, inputs


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_exit_0_passes_with_the_output_tail_as_evidence_with_its_digest(tmp_path: Path) -> None:
    code = "import sys\nfor i in range(40): print(f'line {i}')\nprint('all checks passed')"
    observation, judgement = evaluate("command", {"run": python(code)}, context(tmp_path))
    assert judgement.status is Status.PASS
    assert (judgement.reason, judgement.expected) == ("exited 0", "exit 0")
    assert observation.measured == 0
    full_output = "".join(f"line {i}\n" for i in range(40)) + "all checks passed\n"
    [log, *_] = observation.evidence
    assert log.kind == "command-output"
    assert log.sha256 == hashlib.sha256(full_output.encode()).hexdigest()
    tail = observation.details["tail"]
    assert tail.splitlines() == [*(f"line {i}" for i in range(11, 40)), "all checks passed"]
    assert log.excerpt == tail


def test_tail_keeps_the_number_of_lines_asked_for(tmp_path: Path) -> None:
    params = {"run": python("for i in range(10): print(i)"), "tail": 3}
    observation, _ = evaluate("command", params, context(tmp_path))
    assert observation.details["tail"] == "7\n8\n9"


def test_non_zero_exit_fails_with_the_last_output_line_in_the_reason(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "print('checking 3 files')\n"
        "print('app.py:3: debug=True left on', file=sys.stderr)\n"
        "sys.exit(3)"
    )
    observation, judgement = evaluate("command", {"run": python(code)}, context(tmp_path))
    assert observation.measured == 3
    assert judgement.status is Status.FAIL
    assert judgement.reason == "exited 3: app.py:3: debug=True left on"


def test_expected_exit_status_can_be_other_than_zero(tmp_path: Path) -> None:
    params = {"run": python("raise SystemExit(5)"), "expect_exit": 5}
    _, judgement = evaluate("command", params, context(tmp_path))
    assert judgement.status is Status.PASS
    _, judgement = evaluate("command", {**params, "expect_exit": 0}, context(tmp_path))
    assert judgement.status is Status.FAIL


def test_string_command_is_split_like_a_shell_but_not_run_in_one(tmp_path: Path) -> None:
    (tmp_path / "out dir").mkdir()
    run = f"{sys.executable} -c 'import os; print(os.getcwd(), os.environ[\"STAGE\"])' ; echo"
    params = {"run": run, "cwd": "out dir", "env": {"STAGE": "canary"}}
    observation, judgement = evaluate("command", params, context(tmp_path))
    assert judgement.status is Status.PASS
    # `; echo` reached python as arguments instead of being run by a shell
    assert observation.details["tail"] == f"{tmp_path / 'out dir'} canary"


def test_missing_executable_is_an_error_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(CheckError) as caught:
        evaluate("command", {"run": "gonogo-no-such-tool --check"}, context(tmp_path))
    assert str(caught.value) == ("command not found: gonogo-no-such-tool; install it or fix `run`")


def test_script_without_an_interpreter_line_is_an_error_not_a_crash(tmp_path: Path) -> None:
    script = tmp_path / "check.sh"
    script.write_text("echo hi\n", encoding="utf-8")
    script.chmod(0o755)
    with pytest.raises(CheckError) as caught:
        evaluate("command", {"run": "./check.sh"}, context(tmp_path))
    assert "cannot run ./check.sh" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_working_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CheckError, match="does not exist"):
        evaluate("command", {"run": "true", "cwd": "nowhere"}, context(tmp_path))


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _running(pid):
            return True
        time.sleep(0.05)
    return not _running(pid)


def test_hanging_command_times_out_and_its_children_are_killed(tmp_path: Path) -> None:
    script = "sleep 30 & echo $! > child.pid; echo $$ > shell.pid; sleep 30"
    started = time.monotonic()
    with pytest.raises(CheckError) as caught:
        evaluate("command", {"run": ["sh", "-c", script]}, context(tmp_path, timeout=1))
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert "timed out after 1s and was stopped" in message
    assert "\n" not in message
    assert elapsed < 10  # 1 s of timeout plus the stop, not the 30 s the command wanted
    child = int((tmp_path / "child.pid").read_text(encoding="utf-8"))
    shell = int((tmp_path / "shell.pid").read_text(encoding="utf-8"))
    assert _gone_within(shell, 5)
    assert _gone_within(child, 5), "the background child of the timed-out command survived"


def test_command_that_ignores_sigterm_is_killed_all_the_same(tmp_path: Path) -> None:
    script = "trap '' TERM; echo $$ > shell.pid; while :; do sleep 0.1; done"
    started = time.monotonic()
    with pytest.raises(CheckError, match="timed out"):
        evaluate("command", {"run": ["sh", "-c", script]}, context(tmp_path, timeout=1))
    assert time.monotonic() - started < 15
    assert _gone_within(int((tmp_path / "shell.pid").read_text(encoding="utf-8")), 5)


def test_child_that_ignores_sigterm_is_killed_after_its_parent_stops(tmp_path: Path) -> None:
    # the shell stops on TERM at once; its child shrugs TERM off and must not be left running
    script = "(trap '' TERM; exec sleep 30) & echo $! > child.pid; sleep 30"
    with pytest.raises(CheckError, match="timed out"):
        evaluate("command", {"run": ["sh", "-c", script]}, context(tmp_path, timeout=1))
    child = int((tmp_path / "child.pid").read_text(encoding="utf-8"))
    assert _gone_within(child, 5), "a child that ignores SIGTERM outlived the timeout"


def test_declared_inputs_make_it_cacheable_and_are_what_it_depends_on(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    for name in ("b.py", "a.py", "notes.txt"):
        (tmp_path / "src" / name).write_text("x = 1\n", encoding="utf-8")
    params = {"run": "ruff check src", "inputs": ["src/*.py"]}
    found = inputs("command", params, context(tmp_path))
    assert found.cacheable
    assert found.files == (tmp_path / "src" / "a.py", tmp_path / "src" / "b.py")
    assert found.values["argv"] == ["ruff", "check", "src"]


def test_without_inputs_a_command_is_never_cached(tmp_path: Path) -> None:
    assert not inputs("command", {"run": "ruff check src"}, context(tmp_path)).cacheable


def test_the_command_line_is_part_of_the_cache_key(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    one = inputs("command", {"run": "pytest -q", "inputs": ["*.py"]}, ctx)
    two = inputs("command", {"run": "pytest -x", "inputs": ["*.py"]}, ctx)
    assert one.values != two.values
