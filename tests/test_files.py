"""``gonogo.files.write_atomic``: the one way gonogo replaces a file it writes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gonogo.files import temp_beside, write_atomic


def test_the_content_is_replaced_whole_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "report.json"
    write_atomic(target, "first\n")
    write_atomic(target, "second\n")
    assert target.read_text(encoding="utf-8") == "second\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_symlink_keeps_pointing_at_the_file_it_names(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "baseline.json"
    real.parent.mkdir()
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "baseline.json"
    link.symlink_to(real)
    write_atomic(link, "new\n")
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "new\n"


def test_a_symlink_loop_is_an_os_error_naming_it(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        write_atomic(loop, "x")


def test_a_failed_write_leaves_the_old_content_and_no_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    (folder / "keep").write_text("kept", encoding="utf-8")
    with pytest.raises(IsADirectoryError):
        write_atomic(folder, "x")
    assert [p.name for p in folder.iterdir()] == ["keep"]
    assert not list(tmp_path.glob("*.tmp"))


def test_a_temporary_file_beside_waits_for_the_caller_to_rename_it(tmp_path: Path) -> None:
    target = tmp_path / "nginx.conf"
    temp = temp_beside(target, "events {}\n")
    assert temp.parent == tmp_path
    assert not target.exists()
    temp.replace(target)
    assert target.read_text(encoding="utf-8") == "events {}\n"
