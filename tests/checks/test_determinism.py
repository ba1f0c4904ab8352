"""``determinism``: run or build N times; a mismatch names the first differing file and line."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gonogo.checks.interface import CheckError
from gonogo.gates.results import Status
from gonogo.perf.outputs import compare_bytes
from tests.checks.helpers import context, evaluate
from tests.helpers import Project

#: builds a wheel into argv[1]; with argv[2] = "now" it stamps the build time into a module
WHEEL_BUILD = """
import os, sys, time, zipfile

out, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "fixed")
when = (2020, 1, 1, 0, 0, 0)
stamp = time.time_ns() if mode == "now" else 0
with zipfile.ZipFile(os.path.join(out, "demo-1.0-py3-none-any.whl"), "w") as wheel:
    wheel.writestr(zipfile.ZipInfo("demo/__init__.py", when), "VERSION = '1.0'\\n")
    wheel.writestr(zipfile.ZipInfo("demo/_build.py", when), f"# generated\\nBUILT_AT = {stamp}\\n")
    wheel.writestr(zipfile.ZipInfo("demo-1.0.dist-info/METADATA", when), "Name: demo\\n")
"""

#: a zip whose members never change but whose timestamps follow a counter kept in the folder
ZIP_DATES = """
import os, sys, zipfile
from pathlib import Path

counter = Path("counter")
n = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(n + 1))
with zipfile.ZipFile(os.path.join(sys.argv[1], "site.zip"), "w") as archive:
    archive.writestr(zipfile.ZipInfo("index.html", (2020, 1, 1 + n, 0, 0, 0)), "<h1>hi</h1>\\n")
"""

#: a tarball with random bytes in a member
TARBALL = """
import io, os, sys, tarfile

with tarfile.open(os.path.join(sys.argv[1], "assets.tar.gz"), "w:gz") as tar:
    for name, data in [("README", b"same\\n"), ("blob.bin", b"\\x00\\x01" + os.urandom(32))]:
        info = tarfile.TarInfo(name)
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
"""


def script(root: Path, name: str, code: str) -> str:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(textwrap.dedent(code), encoding="utf-8")
    return name


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def check(root: Path, **params: Any) -> tuple[Any, Any]:
    return evaluate("determinism", params, context(root))


def test_a_deterministic_command_passes(tmp_path: Path) -> None:
    observation, judgement = check(tmp_path, run=python("-c", "print(sorted({3, 1, 2}))"))
    assert judgement.status is Status.PASS
    assert judgement.reason == "2 runs produced identical standard output (1 file(s))"
    assert observation.measured == 0
    assert observation.evidence[0].sha256


def test_a_command_printing_the_time_fails_naming_the_line(tmp_path: Path) -> None:
    code = "import time; print('report'); print(time.time_ns())"
    observation, judgement = check(tmp_path, run=python("-c", code), runs=3)
    assert judgement.status is Status.FAIL
    assert re.fullmatch(
        r"1 of 1 file\(s\) differ between runs; first: \(stdout\) line 2: '\d+' \(run 1\) "
        r"vs '\d+' \(run 2\)",
        judgement.reason,
    ), judgement.reason
    assert observation.details["first_difference"]["line"] == 2


def test_a_reproducible_wheel_build_passes(tmp_path: Path) -> None:
    build = script(tmp_path, "build.py", WHEEL_BUILD)
    _, judgement = check(tmp_path, run=python(build, "{out}"))
    assert judgement.status is Status.PASS
    assert judgement.reason == "2 runs produced identical output folders (1 file(s))"


def test_a_wheel_with_a_build_timestamp_fails_naming_the_member_and_line(tmp_path: Path) -> None:
    build = script(tmp_path, "build.py", WHEEL_BUILD)
    observation, judgement = check(tmp_path, run=python(build, "{out}", "now"))
    assert judgement.status is Status.FAIL
    assert re.fullmatch(
        r"1 of 1 file\(s\) differ between runs; first: demo-1\.0-py3-none-any\.whl!demo/_build\.py"
        r" line 2: 'BUILT_AT = \d+' \(run 1\) vs 'BUILT_AT = \d+' \(run 2\)",
        judgement.reason,
    ), judgement.reason
    first = observation.details["first_difference"]
    assert first["path"] == "demo-1.0-py3-none-any.whl!demo/_build.py"
    assert first["line"] == 2


def test_an_archive_differing_only_in_timestamps_says_so(tmp_path: Path) -> None:
    build = script(tmp_path, "zipit.py", ZIP_DATES)
    _, judgement = check(tmp_path, run=python(build, "{out}"))
    assert judgement.status is Status.FAIL
    assert judgement.reason.endswith(
        "first: site.zip: same members and contents, but index.html has time 2020-01-01 00:00:00, "
        "mode 600 in run 1, time 2020-01-02 00:00:00, mode 600 in run 2"
    ), judgement.reason


def test_random_bytes_in_a_tarball_member_name_the_byte_offset(tmp_path: Path) -> None:
    build = script(tmp_path, "tarit.py", TARBALL)
    observation, judgement = check(tmp_path, run=python(build, "{out}"))
    assert judgement.status is Status.FAIL
    assert re.search(
        r"first: assets\.tar\.gz!blob\.bin differs from byte \d+: 0x[0-9a-f]{2} \(run 1\) vs "
        r"0x[0-9a-f]{2} \(run 2\)",
        judgement.reason,
    ), judgement.reason
    assert observation.details["first_difference"]["offset"] >= 2


def test_outputs_written_in_the_working_folder_are_compared(tmp_path: Path) -> None:
    generate = script(
        tmp_path,
        "gen.py",
        """
        import random
        from pathlib import Path
        Path("build").mkdir(exist_ok=True)
        nonce = random.getrandbits(64)
        Path("build/schema.json").write_text('{\\n  "a": 1,\\n  "nonce": %d\\n}\\n' % nonce)
        Path("build/stable.txt").write_text("ok\\n")
        """,
    )
    _, judgement = check(tmp_path, run=python(generate), outputs=["build/*"])
    assert judgement.status is Status.FAIL
    assert "1 of 2 file(s) differ between runs; first: build/schema.json line 3: " in (
        judgement.reason
    )
    _, judgement = check(tmp_path, run=python(generate), outputs=["build/stable.txt"])
    assert judgement.status is Status.PASS
    assert judgement.reason == "2 runs produced identical outputs (1 file(s))"


def test_a_file_produced_by_only_one_run_is_named(tmp_path: Path) -> None:
    code = """
        import sys
        from pathlib import Path
        counter = Path("counter")
        n = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(n + 1))
        Path(sys.argv[1], "main.txt").write_text("x\\n")
        if n == 2:
            Path(sys.argv[1], "extra.log").write_text("late\\n")
    """
    build = script(tmp_path, "b.py", code)
    observation, judgement = check(tmp_path, run=python(build, "{out}"), runs=3)
    assert judgement.status is Status.FAIL
    assert judgement.reason.endswith("first: extra.log is only in run 3")
    assert observation.details["differing_run"] == 3


def test_a_failing_build_is_an_error_with_its_last_line(tmp_path: Path) -> None:
    code = "import sys; print('error: no setup.py', file=sys.stderr); sys.exit(2)"
    with pytest.raises(CheckError, match=r"exited 2 on run 1: error: no setup\.py"):
        check(tmp_path, run=python("-c", code))


def test_nothing_to_compare_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CheckError, match=r"run 1 produced no files in \{out\}"):
        check(tmp_path, run=["true", "{out}"])
    with pytest.raises(CheckError, match="produced no files matching dist/"):
        check(tmp_path, run=["true"], outputs=["dist/*.whl"])


def test_a_missing_tool_or_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CheckError, match="command not found: no-such-builder"):
        check(tmp_path, run="no-such-builder --out {out}")
    with pytest.raises(CheckError, match=r"working folder .* does not exist"):
        check(tmp_path, run="true", cwd="nowhere")


def test_a_build_past_the_timeout_is_stopped(tmp_path: Path) -> None:
    ctx = context(tmp_path, timeout=0.5)
    with pytest.raises(CheckError, match="ran past the criterion's timeout"):
        evaluate("determinism", {"run": python("-c", "import time; time.sleep(30)")}, ctx)


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (b"a\nb\n", b"a\nc\n", "f line 2: 'b' (run 1) vs 'c' (run 2)"),
        (b"a\n", b"a\nmore\n", "f line 2: end of file (run 1) vs 'more' (run 2)"),
        (b"a\r\n", b"a\n", "f line 1: line ending '\\r\\n' (run 1) vs line ending '\\n' (run 2)"),
        (b"\x00\x01\x02", b"\x00\x01\x03", "f differs from byte 2: 0x02 (run 1) vs 0x03 (run 2)"),
        (
            b"\x00\x01",
            b"\x00\x01\x02",
            "f differs from byte 2: end of file (2 bytes) (run 1) vs 0x02 (run 2)",
        ),
    ],
)
def test_first_difference_in_text_and_binary(left: bytes, right: bytes, expected: str) -> None:
    difference = compare_bytes("f", left, right)
    assert difference is not None
    assert difference.describe() == expected


def test_long_lines_are_shortened() -> None:
    difference = compare_bytes("f", b"x" * 500 + b"1", b"x" * 500 + b"2")
    assert difference is not None
    assert len(difference.describe()) < 300


POLICY = """
version = 1

[project]
name = "demo"

[owners]
engineering = ["alice@example.com"]

[[gates]]
id = "build"
title = "Reproducible build"
phase = 4
owners = ["engineering"]

[[gates.criteria]]
id = "wheel"
check = "determinism"
params = { run = "python build.py {out} now" }
"""


def test_gonogo_check_reports_a_nondeterministic_build_as_no_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(tmp_path, capsys, monkeypatch)
    project.policy(POLICY.replace("python ", f"{sys.executable} "))
    script(tmp_path, "build.py", WHEEL_BUILD)
    code, report = project.check_json()
    [criterion] = report["gates"][0]["criteria"]
    assert code == 1
    assert criterion["status"] == "fail"
    assert "demo-1.0-py3-none-any.whl!demo/_build.py line 2: 'BUILT_AT = " in criterion["reason"]
    assert criterion["measured"] == 1
