"""Bad files become one warning naming the file; the scan goes on and never crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.config import scan as scan_module
from gonogo.config.scan import scan_tree
from tests.helpers import Project

BAD_FILES: dict[str, bytes] = {
    "broken.py": b"def oops(:\n    pass\n",
    "nulls.py": b"x = 1\x00\n",
    "docker-compose.yml": b"services:\n  api: [unclosed\n",
    "k8s/deploy.yaml": b"apiVersion: v1\nkind: Pod\nspec: {containers: [\n",
    ".github/workflows/ci.yml": b"jobs:\n  - : :\n\t- bad\n",
    "Dockerfile": b'FROM x\nENV A="unclosed\n',
    ".env": b"GOOD=1\nthis is not an assignment\n",
    "latin1.py": 'import os\nos.getenv("CAF\xc9")\nos.getenv("AFTER")\n'.encode("latin-1"),
    "app.js": b"\xff\xfe process.env.JS_VAR \x80",
    "minified.js": b"var a=process.env.MIN_VAR;" * 2000,
}


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """A project holding every kind of bad file next to one good read."""
    root = tmp_path / "messy"
    for name, data in BAD_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "good.py").write_text('import os\nos.environ["GOOD_VAR"]\n', encoding="utf-8")
    (root / "dangling.py").symlink_to(root / "nowhere.py")
    (root / "loop_a.sh").symlink_to(root / "loop_b.sh")
    (root / "loop_b.sh").symlink_to(root / "loop_a.sh")
    (root / "cycle").symlink_to(root, target_is_directory=True)
    (root / "compose.yaml").write_text(
        "services:\n  web:\n    env_file: missing.env\n", encoding="utf-8"
    )
    return root


def test_every_bad_file_is_a_warning_naming_it(messy: Path) -> None:
    result = scan_tree(messy)

    warnings = {w.path: w.message for w in result.warnings}
    assert warnings["broken.py"] == "cannot parse Python (line 1: invalid syntax); skipped"
    assert warnings["nulls.py"] == "binary file; skipped"
    assert warnings["docker-compose.yml"].startswith("cannot parse YAML (line ")
    assert warnings["k8s/deploy.yaml"].startswith("cannot parse YAML (")
    assert warnings[".github/workflows/ci.yml"].startswith("cannot parse YAML (")
    assert warnings["Dockerfile"] == "line 2: cannot split ENV arguments; skipped"
    assert warnings[".env"] == "line 2 is not a KEY=value assignment; skipped"
    assert warnings["dangling.py"].startswith("cannot read (")  # an unreadable file
    assert warnings["loop_a.sh"].startswith("cannot read (")
    assert warnings["compose.yaml"] == "env_file missing.env of service web cannot be read; skipped"
    names = {r.name for r in result.reads}
    assert {"GOOD_VAR", "AFTER", "JS_VAR", "MIN_VAR"} <= names  # the rest is still read
    assert "GOOD" in {d.name for d in result.definitions}


def test_a_file_too_large_is_skipped_with_a_warning(
    messy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "MAX_BYTES", 1024)
    result = scan_tree(messy)
    assert {w.path: w.message for w in result.warnings}["minified.js"] == (
        "too large to scan (0.0 MiB); skipped"
    )


def test_the_cli_prints_warnings_on_stderr_and_still_succeeds(
    messy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(root=messy, capsys=capsys, monkeypatch=monkeypatch)
    run = project.run("env", "scan", "--format", "json")

    assert run.code == 0
    assert "gonogo: warning: broken.py: cannot parse Python (line 1: invalid syntax); skipped" in (
        run.err
    )
    assert "Traceback" not in run.err
    document = run.json()
    assert {
        "path": "broken.py",
        "message": "cannot parse Python (line 1: invalid syntax); skipped",
    } in (document["warnings"])
    assert "GOOD_VAR" in {v["name"] for v in document["variables"]}
