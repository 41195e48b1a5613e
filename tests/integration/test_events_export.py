"""`tracker events export`: JSON Lines any program can read, secrets redacted, filtered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.sample_log import write_log
from tracker import cli
from tracker.events.store import StoredRow


def export(capsys: pytest.CaptureFixture[str], data_dir: Path, *extra: str) -> list[dict]:
    code = cli.main(["events", "export", "--data-dir", str(data_dir), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return [json.loads(line) for line in captured.out.splitlines()]


@pytest.fixture
def rows(data_dir: Path) -> list[StoredRow]:
    return write_log(data_dir)


def test_every_event_is_exported_in_order_with_its_position_type_and_chain_hash(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    records = export(capsys, data_dir)

    assert [r["position"] for r in records] == [row.position for row in rows]
    assert [r["hash"] for r in records] == [row.hash.hex() for row in rows]
    assert [r["type"] for r in records] == [row.type for row in rows]
    released = next(r for r in records if r["type"] == "TaskReleased")
    assert released["event"] == {"task_id": 1, "project_id": 1, "worker_id": 2, "result": 0,
                                 "outcome": "closed", "verification": 0, "reason": "",
                                 "at": 1_700_000_101.0, "actor": "worker:2", "v": 1}  # fmt: skip


def test_secrets_and_password_hashes_are_redacted_and_named(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    records = export(capsys, data_dir)
    text = json.dumps(records)

    by_type = {r["type"]: r for r in records}
    assert by_type["WorkerCreated"]["event"]["secret"] == "[redacted]"
    assert by_type["WorkerCreated"]["redacted"] == ["secret"]
    assert by_type["ManagerRegistered"]["event"]["password_hash"] == "[redacted]"
    assert by_type["ProjectCreated"]["event"]["webhook_secret"] == "[redacted]"
    assert "argon2id" not in text and "webhook-secret-value" not in text
    assert "redacted" not in by_type["TaskReleased"]


def test_a_task_export_holds_its_events_and_its_copy_into_the_chained_project(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    records = export(capsys, data_dir, "--task", "3")

    assert [r["type"] for r in records] == [
        "TaskSubmitted", "TaskAssigned", "TaskReleased", "TaskSubmitted",
    ]  # fmt: skip
    assert records[-1]["event"]["chained_from"] == 3
    assert records[-1]["event"]["project_id"] == 2


def test_project_and_worker_exports_hold_only_their_events(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    chained = export(capsys, data_dir, "--project", "2")
    by_worker = export(capsys, data_dir, "--worker", "1")

    assert {r["event"]["project_id"] for r in chained} == {2}
    assert [r["type"] for r in chained] == ["ProjectCreated"] + ["TaskSubmitted"] * 5
    assert by_worker[0]["type"] == "WorkerCreated"
    assert all(r["event"].get("worker_id") == 1 or r["event"]["actor"] == "worker:1"
               for r in by_worker)  # fmt: skip
    assert len(by_worker) == 1 + 10  # created, and submitted the ten tasks


def test_a_range_of_positions_goes_to_a_file(
    data_dir: Path, rows: list[StoredRow], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "range.jsonl"
    assert export(capsys, data_dir, "--from", "4", "--to", "9", "-o", str(out)) == []

    records = [json.loads(line) for line in out.read_text().splitlines()]

    assert [r["position"] for r in records] == [4, 5, 6, 7, 8, 9]
