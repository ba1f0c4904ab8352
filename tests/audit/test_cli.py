"""``gonogo audit verify`` and ``gonogo audit export`` on a real store, through ``main``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection

from gonogo.audit import event_hash
from gonogo.cli.main import main
from gonogo.workspace import Workspace
from tests.audit.helpers import (
    append_events,
    delete_row,
    edit_payload,
    insert_forged,
    raw_sql,
    rewrite_history,
    sample_payloads,
    swap_rows,
    truncate_consistently,
)

Tamper = Callable[[Connection], None]

# (tamper, bad_seq, what the one-line problem says), on a trail of five events
TAMPERS: dict[str, tuple[Tamper, int, str]] = {
    "edited-payload": (
        lambda c: edit_payload(c, 3),
        3,
        "event #3 (test.event3) does not match its hash: it was edited",
    ),
    "deleted-row": (
        lambda c: delete_row(c, 3),
        3,
        "event #3 is missing (deleted): the trail jumps to #4",
    ),
    "inserted-row": (
        lambda c: insert_forged(c, 3),
        4,
        "event #4 (test.event3) does not follow event #3: events were inserted or reordered",
    ),
    "reordered-rows": (
        lambda c: swap_rows(c, 3, 4),
        3,
        "event #3 (test.event4) does not follow event #2: events were inserted or reordered",
    ),
    "truncated-with-head": (
        lambda c: truncate_consistently(c, 3),
        4,
        "the trail ends at event #3 but the checkpoint recorded #5: newer events were cut off",
    ),
    "history-rewritten": (
        lambda c: rewrite_history(c, 2),
        5,
        "event #5 differs from the checkpoint's hash: the history was rewritten",
    ),
}

POLICY = """\
version = 1

[project]
name = "audited"

[owners]
engineering = ["alice@example.com"]

[[gates]]
id = "docs"
title = "Docs"
phase = 1
owners = ["engineering"]

[[gates.criteria]]
id = "readme"
check = "file"
params = { path = "README.md" }
"""


def _verify_json(cli_env: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    code = main([*cli_env, "audit", "verify", "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_untampered_trail_verifies_with_exit_0(
    ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    last = append_events(ws, sample_payloads(4))[-1]

    assert main([*cli_env, "audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("audit trail OK: 4 events, head #4")
    assert "checkpoint #4 matches" in out

    code, report = _verify_json(cli_env, capsys)
    assert code == 0
    assert report["schema"] == "gonogo.audit-verify/v1"
    assert report["ok"] is True
    assert report["checked"] == 4
    assert report["bad_seq"] is None
    assert report["problem"] is None
    assert report["head"] == {"seq": 4, "hash": last.hash}
    assert report["checkpoint"] == {"seq": 4, "hash": last.hash}


def test_events_recorded_by_commands_verify(
    project: Path, ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "gonogo.toml").write_text(POLICY, encoding="utf-8")
    (project / "README.md").write_text("# audited\n", encoding="utf-8")
    assert main([*cli_env, "release", "create", "1.0.0", "--notes", "première"]) == 0
    assert main([*cli_env, "release", "create", "1.1.0"]) == 0
    capsys.readouterr()

    code, report = _verify_json(cli_env, capsys)
    assert code == 0, report["problem"]
    assert report["checked"] == 2
    assert report["checkpoint"] == report["head"]


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "problem"), list(TAMPERS.values()), ids=list(TAMPERS)
)
def test_tampered_trail_fails_verify_naming_the_event(
    ws: Workspace,
    store_url: str,
    cli_env: list[str],
    capsys: pytest.CaptureFixture[str],
    tamper: Tamper,
    bad_seq: int,
    problem: str,
) -> None:
    append_events(ws, sample_payloads(5))
    with raw_sql(store_url) as conn:
        tamper(conn)

    assert main([*cli_env, "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out == f"audit trail BROKEN: {problem}\n"

    code, report = _verify_json(cli_env, capsys)
    assert code == 1
    assert report["schema"] == "gonogo.audit-verify/v1"
    assert report["ok"] is False
    assert report["bad_seq"] == bad_seq
    assert report["problem"] == problem


def test_export_writes_one_json_object_per_event_in_seq_order(
    ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    appended = append_events(ws, sample_payloads(5))

    assert main([*cli_env, "audit", "export", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()

    exported = [json.loads(line) for line in lines]
    assert [e["seq"] for e in exported] == [1, 2, 3, 4, 5]
    for entry, event_ in zip(exported, appended, strict=True):
        assert set(entry) == {"seq", "ts", "actor", "type", "payload", "prev_hash", "hash"}
        assert entry == event_.to_json()
    assert exported[0]["payload"]["note"] == "Prüfung 1 ✓ 日本語"


def test_exported_hashes_reverify_from_the_export_alone(
    ws: Workspace, cli_env: list[str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    append_events(ws, sample_payloads(5))
    target = project / "out" / "audit.jsonl"

    assert main([*cli_env, "audit", "export", "--format", "jsonl", "--output", str(target)]) == 0
    assert capsys.readouterr().out == ""

    previous = "0" * 64
    for line in target.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        assert entry["prev_hash"] == previous
        assert entry["hash"] == event_hash(
            seq=entry["seq"],
            ts=entry["ts"],
            actor=entry["actor"],
            type=entry["type"],
            payload=entry["payload"],
            prev_hash=entry["prev_hash"],
        )
        previous = entry["hash"]
    assert previous == ws.audit_head().hash


def test_export_of_an_empty_trail_is_empty(
    ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*cli_env, "audit", "export"]) == 0
    assert capsys.readouterr().out.strip() == ""


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda data, store: [], "is malformed: no `stores` object"),
        (lambda data, store: {**data, "stores": 5}, "is malformed: no `stores` object"),
        (lambda data, store: {**data, "stores": {store: 5}}, "is malformed for"),
        (lambda data, store: {**data, "stores": {store: {"seq": "x"}}}, "is malformed for"),
    ],
    ids=["a-list", "stores-not-an-object", "entry-not-an-object", "entry-without-a-hash"],
)
def test_a_malformed_checkpoint_is_one_error_line_not_a_missing_checkpoint(
    ws: Workspace,
    cli_env: list[str],
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[dict, str], object],
    expected: str,
) -> None:
    append_events(ws, sample_payloads(3))
    data = json.loads(ws.checkpoint_path.read_text(encoding="utf-8"))
    (store,) = data["stores"]
    ws.checkpoint_path.write_text(json.dumps(edit(data, store)), encoding="utf-8")

    code = main([*cli_env, "audit", "verify"])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("gonogo: error: the audit checkpoint ")
    assert expected in line
    assert line.endswith("restore it from backup; deleting it weakens truncation detection")


@pytest.mark.parametrize(
    "damage",
    ["{not json", json.dumps([]), json.dumps({"stores": {"x": {"seq": "x"}}})],
    ids=["not-json", "a-list", "an-entry-without-a-number"],
)
def test_a_damaged_checkpoint_is_set_aside_by_the_next_write_and_reported_until_removed(
    ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    append_events(ws, sample_payloads(3))
    ws.checkpoint_path.write_text(damage, encoding="utf-8")

    append_events(ws, sample_payloads(1))  # the next write: it used to write over it

    (kept,) = ws.checkpoint_path.parent.glob("audit-checkpoint.json.damaged-*")
    assert kept.read_text(encoding="utf-8") == damage  # the evidence is kept as it was
    assert ws.read_checkpoint() == ws.audit_head()  # and a fresh checkpoint goes on
    capsys.readouterr()
    assert main([*cli_env, "audit", "verify"]) == 1
    line = capsys.readouterr().out.strip()
    assert line.startswith("audit trail BROKEN: ")
    assert f"set aside as {kept.name}" in line
    assert "compare it with the trail" in line

    kept.unlink()  # reviewed
    assert main([*cli_env, "audit", "verify"]) == 0


def test_the_text_log_keeps_one_line_per_event_whatever_the_stored_actor(
    ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # identities are checked now (docs/cli.md, Identities); one stored before may not be
    hostile = Workspace(root=ws.root, store=ws.store, actor="mallory\x1b[2J\nforged line")
    append_events(hostile, sample_payloads(2))

    assert main([*cli_env, "audit", "log"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert all("\x1b" not in line for line in lines)
    assert all("\tmallory\u241b[2J forged line\t" in line for line in lines)
