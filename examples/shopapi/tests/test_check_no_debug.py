"""The security gate's scanner finds what it should and never prints a secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_no_debug.py"


def scan(*paths: Path) -> subprocess.CompletedProcess[str]:
    """Run the scanner as the gate does."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_shipped_package_is_clean() -> None:
    result = scan()
    assert result.returncode == 0, result.stdout
    assert "0 findings" in result.stdout


def test_findings_fail_the_check_and_are_redacted(tmp_path: Path) -> None:
    # Built at run time so that no secret-looking literal sits in the repository.
    value = "s3cr3t" + "-value-" + "1234"
    key_id = "AKIA" + "Q" * 16
    (tmp_path / "bad.py").write_text(
        "app.run(debug=True)\n"
        "breakpoint()\n"
        f'DB_{"PASS" + "WORD"} = "{value}"\n'
        f'aws_id = "{key_id}"\n'
        "quantity = 'fine'\n"
    )
    result = scan(tmp_path)
    assert result.returncode == 1
    rules = [line.split(": ")[1] for line in result.stdout.splitlines()[:-1]]
    assert rules == ["debug-flag", "debugger", "hardcoded-secret", "aws-access-key"]
    assert value not in result.stdout
    assert key_id not in result.stdout
    assert "4 findings" in result.stdout


def test_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = scan(tmp_path / "nope")
    assert result.returncode == 2
    assert "not a directory" in result.stderr
