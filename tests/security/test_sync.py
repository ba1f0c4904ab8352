"""`gonogo deps sync` against a real HTTP server on 127.0.0.1, then `deps audit` on what it got."""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import Project
from tests.security.osvdata import NPM_RECORDS, VULNS


class _Handler(SimpleHTTPRequestHandler):
    """Serves files with an ETag and answers If-None-Match with 304, quietly."""

    def log_message(self, format: str, *args: object) -> None:
        """No access log on stderr (the tests read stderr)."""

    def send_head(self):  # type: ignore[no-untyped-def]  # stdlib signature
        path = Path(self.translate_path(self.path))
        if path.is_file():
            etag = '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return None
            self._etag = etag
        return super().send_head()

    def end_headers(self) -> None:
        etag = getattr(self, "_etag", None)
        if etag:
            self.send_header("ETag", etag)
        super().end_headers()


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local OSV mirror: BASE/npm/all.zip and BASE/PyPI/all.zip (real PYSEC JSON)."""
    root = tmp_path / "mirror"
    (root / "npm").mkdir(parents=True)
    with zipfile.ZipFile(root / "npm" / "all.zip", "w") as zf:
        for record in NPM_RECORDS:
            zf.writestr(f"{record['id']}.json", json.dumps(record))
    import yaml

    (root / "PyPI").mkdir()
    with zipfile.ZipFile(root / "PyPI" / "all.zip", "w") as zf:
        for path in sorted((VULNS / "idna").glob("*.yaml")):
            record = yaml.safe_load(path.read_text(encoding="utf-8"))
            zf.writestr(path.with_suffix(".json").name, json.dumps(record, default=str))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _lock(root: Path) -> None:
    lock = {
        "name": "ui",
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "ui"},
            "node_modules/lodash": {"version": "4.17.20"},
            "node_modules/semver": {"version": "7.5.2"},
            "node_modules/@types/node": {"version": "1.1.9"},
        },
    }
    (root / "package-lock.json").write_text(json.dumps(lock, indent=2), encoding="utf-8")


def test_sync_then_audit_offline(
    project: Project, mirror: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = mirror
    db = tmp_path / "osv"
    result = project.run("deps", "sync", "--db", str(db), "--ecosystem", "npm", "--url", url)
    assert result.code == 0, result.err
    assert result.err_lines == [f"npm: 3 advisories, downloaded: {db / 'npm' / 'all.zip'}"]
    _lock(project.root)
    audit = project.run("deps", "audit", str(project.root), "--db", str(db), "-f", "json")
    assert audit.code == 1
    found = {(v["package"], v["id"]): v for v in audit.json()["vulnerabilities"]}
    assert set(found) == {
        ("lodash", "GHSA-test-0001-lodash"),
        ("@types/node", "GHSA-test-0003-types"),
    }
    assert found[("lodash", "GHSA-test-0001-lodash")]["fixed_in"] == "4.17.21"
    assert found[("lodash", "GHSA-test-0001-lodash")]["severity"] == "high"


def test_a_second_sync_keeps_an_unchanged_archive(
    project: Project, mirror: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = mirror
    db = tmp_path / "osv"
    args = ("deps", "sync", "--db", str(db), "--ecosystem", "npm", "--ecosystem", "PyPI")
    assert project.run(*args, "--url", url).code == 0
    again = project.run(*args, "--url", url)
    assert again.code == 0
    assert "npm: 3 advisories, unchanged" in again.err
    assert "PyPI: " in again.err
    assert "unchanged" in again.err_lines[1]


def test_sync_errors_are_one_line_and_keep_the_old_archive(
    project: Project, mirror: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = mirror
    db = tmp_path / "osv"
    assert project.run("deps", "sync", "--db", str(db), "--url", url).code == 0  # PyPI
    good = (db / "PyPI" / "all.zip").read_bytes()
    (root / "PyPI" / "all.zip").write_bytes(b"garbage")
    bad = project.run("deps", "sync", "--db", str(db), "--url", url)
    assert bad.code == 2
    assert "did not return a zip archive" in bad.assert_one_error_line()
    assert (db / "PyPI" / "all.zip").read_bytes() == good

    missing = project.run("deps", "sync", "--db", str(db), "--url", url + "/nothing")
    assert "HTTP 404" in missing.assert_one_error_line()

    unknown = project.run("deps", "sync", "--db", str(db), "--ecosystem", "Maven", "--url", url)
    assert "unknown ecosystem 'Maven'; use one of: PyPI, npm" in unknown.assert_one_error_line()


def test_an_unreachable_mirror_is_one_line(project: Project, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        result = project.run(
            "deps", "sync", "--db", str(tmp_path / "osv"), "--url", f"http://127.0.0.1:{port}"
        )
    assert result.code == 2
    assert "cannot download the PyPI advisories" in result.assert_one_error_line()


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    return Project(root=root, capsys=capsys, monkeypatch=monkeypatch)


MIRROR_PASSWORD = "s3cr3t-mirror-pw"


def test_a_mirror_password_in_the_url_is_never_shown(
    project: Project, mirror: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = mirror
    with_password = url.replace("http://", f"http://reader:{MIRROR_PASSWORD}@")
    db = tmp_path / "osv"
    (root / "PyPI" / "all.zip").write_bytes(b"garbage")

    errors = [
        project.run("deps", "sync", "--db", str(db), "--url", with_password),
        project.run("deps", "sync", "--db", str(db), "--url", with_password + "/nothing"),
    ]

    for result in errors:
        assert result.code == 2
        line = result.assert_one_error_line()
        assert MIRROR_PASSWORD not in line
        assert "127.0.0.1" in line


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://127.0.0.1:99999", "http://127.0.0.1:port", "ftp://mirror"]
)
def test_a_malformed_mirror_url_is_one_line(project: Project, tmp_path: Path, url: str) -> None:
    result = project.run("deps", "sync", "--db", str(tmp_path / "osv"), "--url", url)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "URL" in line
    assert line.endswith("give --url (or $GONOGO_OSV_URL) as http(s)://HOST[/PATH]")
    assert not (tmp_path / "osv").exists()
