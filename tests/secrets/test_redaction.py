"""No output, report, SARIF log or baseline ever holds a secret, in any format or channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.pages import Page
from tests.secrets.helpers import commit_all, fresh, init_repo, scan


def test_no_format_output_file_or_baseline_holds_any_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = fresh(99)
    root = init_repo(tmp_path / "repo")
    for i, case in enumerate(c.values()):
        (root / f"f{i:02}_{case.name}").write_text(case.line + "\n", encoding="utf-8")
    commit_all(root, "secrets everywhere")
    (root / "f00_config.txt").unlink()
    commit_all(root, "delete one")
    secrets = [case.secret for case in c.values()]
    outputs = tmp_path / "out"

    runs = [
        scan(capsys, str(root), "--history", "--format", fmt) for fmt in ("text", "json", "sarif")
    ]
    runs.append(
        scan(
            capsys,
            str(root),
            "--history",
            "--format",
            "sarif",
            "--output",
            str(outputs / "scan.sarif"),
        )
    )
    runs.append(
        scan(
            capsys,
            str(root),
            "--baseline",
            str(outputs / "baseline.json"),
            "--update-baseline",
            "--history",
        )
    )

    texts = [r.out + r.err for r in runs] + [
        p.read_text(encoding="utf-8") for p in sorted(outputs.iterdir())
    ]
    assert runs[0].code == 1
    assert len(runs[1].json()["findings"]) == len(c)
    for secret in secrets:
        for text in texts:
            assert secret not in text
    assert len(secrets) == len(c)


def test_markdown_and_html_reports_hold_no_secret_in_any_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = fresh(98)
    root = init_repo(tmp_path / "repo")
    for i, case in enumerate(c.values()):
        (root / f"f{i:02}_{case.name}").write_text(case.line + "\n", encoding="utf-8")
    commit_all(root, "secrets everywhere")
    page = tmp_path / "out" / "scan.html"

    markdown = scan(capsys, str(root), "--history", "--format", "markdown")
    html = scan(capsys, str(root), "--history", "--format", "html", "--output", str(page))

    assert (markdown.code, html.code) == (1, 1)
    html_text = page.read_text(encoding="utf-8")
    rows = Page.parse(html_text).section("Findings")
    assert len(rows) == len(c)
    assert all("…(" in row["preview"] for row in rows)
    # as written, with Markdown's escapes undone, and with the page's entities decoded
    shown = [markdown.out, markdown.out.replace("\\", ""), html_text, Page.parse(html_text).text()]
    for case in c.values():
        for text in shown:
            assert case.secret not in text
