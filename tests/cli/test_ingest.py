"""``gonogo ingest GATE.CRITERION FILE``: evidence produced elsewhere, kept in the store."""

from __future__ import annotations

import os
import threading

import pytest

from gonogo.digest import sha256_file
from tests.helpers import Project, criterion, store_counts, write_junit

INGEST_POLICY = """
version = 1

[project]
name = "demo"

[owners]
qa = ["quinn@example.com"]

[[gates]]
id = "quality"
title = "Quality"
phase = 4

[[gates.criteria]]
id = "e2e"
check = "junit"
title = "End-to-end suite run by the QA pipeline"
source = "ingest"
"""


@pytest.fixture
def ingesting(project: Project) -> Project:
    project.policy(INGEST_POLICY)
    return project


def test_an_ingest_criterion_is_not_reported_before_and_passes_after(ingesting: Project) -> None:
    code, before = ingesting.check_json()
    assert code == 1
    assert criterion(before, "quality.e2e")["status"] == "not_reported"
    report = write_junit(ingesting.root.parent / "elsewhere" / "e2e.xml", passed=4)

    result = ingesting.run("ingest", "quality.e2e", str(report))

    assert result.code == 0
    assert result.err.startswith("ingested e2e.xml for quality.e2e (sha256 ")
    code, after = ingesting.check_json()
    assert code == 0
    e2e = criterion(after, "quality.e2e")
    assert (e2e["status"], e2e["measured"]) == ("pass", 4)
    assert e2e["evidence"][0]["sha256"] == sha256_file(report)


def test_the_newest_ingested_file_counts(ingesting: Project) -> None:
    elsewhere = ingesting.root.parent / "elsewhere"
    ingesting.run("ingest", "quality.e2e", str(write_junit(elsewhere / "a.xml", passed=4)))
    ingesting.run("ingest", "quality.e2e", str(write_junit(elsewhere / "b.xml", failed=1)))

    code, report = ingesting.check_json()

    assert code == 1
    assert criterion(report, "quality.e2e")["status"] == "fail"


def test_a_malformed_ingested_file_is_an_error_result(ingesting: Project) -> None:
    bad = ingesting.root / "bad.xml"
    bad.write_text("<testsuites><testsuite", encoding="utf-8")
    ingesting.run("ingest", "quality.e2e", str(bad))

    code, report = ingesting.check_json()

    assert code == 1
    assert criterion(report, "quality.e2e")["status"] == "error"


def test_ingesting_is_recorded_in_the_audit_trail(ingesting: Project) -> None:
    report = write_junit(ingesting.root / "e2e.xml")

    ingesting.run("ingest", "quality.e2e", str(report))

    events = ingesting.run("audit", "log", "--format", "json").json()["events"]
    (event,) = [e for e in events if e["type"] == "evidence.ingested"]
    assert event["payload"]["criterion"] == "quality.e2e"
    assert event["payload"]["sha256"] == sha256_file(report)


def test_ingesting_for_an_unknown_criterion_is_a_usage_error(ingesting: Project) -> None:
    report = write_junit(ingesting.root / "e2e.xml")

    result = ingesting.run("ingest", "quality.smoke", str(report))

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "no criterion 'quality.smoke'" in line
    assert "quality.e2e" in line
    assert store_counts(ingesting.database)["ingested"] == 0


def test_ingesting_a_missing_file_is_a_usage_error(ingesting: Project) -> None:
    result = ingesting.run("ingest", "quality.e2e", str(ingesting.root / "nope.xml"))

    assert result.code == 2
    assert "nope.xml: no such file" in result.assert_one_error_line()
    assert store_counts(ingesting.database)["ingested"] == 0


def test_a_source_that_never_ends_is_refused_at_the_limit_not_read_whole(
    ingesting: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gonogo.gates.evidence_store.MAX_INGEST_BYTES", 4096)

    result = ingesting.run("ingest", "quality.e2e", "/dev/zero")  # a device, endless

    assert result.code == 2
    assert "/dev/zero holds more than the 4096 byte limit" in result.assert_one_error_line()
    assert store_counts(ingesting.database)["ingested"] == 0


def test_a_report_can_be_piped_in_through_a_fifo(ingesting: Project) -> None:
    report = write_junit(ingesting.root / "e2e.xml", passed=3)
    fifo = ingesting.root / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(report.read_bytes()), daemon=True)
    writer.start()

    result = ingesting.run("ingest", "quality.e2e", str(fifo))

    writer.join(timeout=60)
    assert result.code == 0
    assert store_counts(ingesting.database)["ingested"] == 1


def test_pushing_evidence_to_a_criterion_that_collects_its_own_is_refused(
    project: Project,
) -> None:
    project.policy(INGEST_POLICY.replace('source = "ingest"', 'params = { path = "junit.xml" }'))
    report = write_junit(project.root.parent / "elsewhere" / "e2e.xml", passed=4)

    result = project.run("ingest", "quality.e2e", str(report))

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "collects its own evidence" in line
    assert 'source = "ingest"' in line
