"""`tracker audit verify` on a real SQLite log file: intact, and tampered with in each way."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.integration.sample_log import tamper, write_log
from tracker import cli
from tracker.checkpoints import fileformat
from tracker.events.store import StoredRow, link
from tracker.projections.state import State


def verify(capsys: pytest.CaptureFixture[str], data_dir: Path, *extra: str) -> tuple[int, str]:
    code = cli.main(["audit", "verify", "--data-dir", str(data_dir), *extra])
    return code, capsys.readouterr().out


@pytest.fixture
def rows(data_dir: Path) -> list[StoredRow]:
    return write_log(data_dir)


def test_an_untouched_log_verifies_intact_with_its_head_and_speed(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = verify(capsys, data_dir)

    assert code == 0, out
    assert f"INTACT: head position {len(rows)}, hash {rows[-1].hash.hex()}" in out
    assert re.search(rf"checked {len(rows)} events in [\d.]+ s \([\d,]+ events/s\)", out), out


def test_an_edited_payload_is_found_at_its_position(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    edited = rows[16].data.replace(b'"v":1', b'"v":2')
    assert edited != rows[16].data
    tamper(data_dir, ("UPDATE events SET data = ? WHERE position = 17", (edited,)))

    code, out = verify(capsys, data_dir)

    assert code == 1
    assert "BROKEN at position 17: hash mismatch" in out


def test_an_edited_payload_with_a_recomputed_hash_breaks_the_next_link(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    edited = rows[16].data.replace(b'"v":1', b'"v":2')
    rehashed = link(rows[15].hash, 17, edited)
    tamper(
        data_dir, ("UPDATE events SET data = ?, hash = ? WHERE position = 17", (edited, rehashed))
    )

    code, out = verify(capsys, data_dir)

    assert code == 1
    assert "BROKEN at position 18: hash mismatch" in out


def test_a_deleted_row_is_found_as_a_gap(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(data_dir, ("DELETE FROM events WHERE position = 12", ()))

    code, out = verify(capsys, data_dir)

    assert code == 1
    assert "BROKEN at position 12: position 12 missing: the log jumps from 11 to 13" in out


def test_two_swapped_rows_are_found_at_the_first_of_them(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    five, six = rows[4], rows[5]
    tamper(
        data_dir,
        ("UPDATE events SET type = ?, data = ?, hash = ? WHERE position = 5",
         (six.type, six.data, six.hash)),
        ("UPDATE events SET type = ?, data = ?, hash = ? WHERE position = 6",
         (five.type, five.data, five.hash)),
    )  # fmt: skip

    code, out = verify(capsys, data_dir)

    assert code == 1
    assert "BROKEN at position 5: hash mismatch" in out


def test_renumbered_rows_are_found_at_the_first_moved_position(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(
        data_dir,
        ("UPDATE events SET position = -1 WHERE position = 8", ()),
        ("UPDATE events SET position = 8 WHERE position = 9", ()),
        ("UPDATE events SET position = 9 WHERE position = -1", ()),
    )

    code, out = verify(capsys, data_dir)

    assert code == 1
    assert "BROKEN at position 8: hash mismatch" in out


def test_a_changed_type_column_is_found_although_it_is_not_hashed(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(data_dir, ("UPDATE events SET type = 'TaskAssigned' WHERE position = 3", ()))

    code, out = verify(capsys, data_dir)

    assert code == 1
    assert "BROKEN at position 3: type column 'TaskAssigned' disagrees" in out


def test_rows_cut_off_the_end_are_found_by_a_checkpoint_anchor(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    write_checkpoint_at_head(data_dir, rows)
    assert verify(capsys, data_dir)[0] == 0
    tamper(data_dir, ("DELETE FROM events WHERE position > ?", (len(rows) - 2,)))

    code, out = verify(capsys, data_dir)

    assert code == 1
    assert f"the log ends at position {len(rows) - 2}, but checkpoint checkpoint-" in out
    assert f"recorded position {len(rows)}" in out


def test_a_log_rehashed_from_some_point_on_is_found_by_an_anchor_kept_elsewhere(
    data_dir: Path, rows: list[StoredRow], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = verify(capsys, data_dir)
    head = re.search(r"head position (\d+), hash ([0-9a-f]+)", out)
    assert code == 0 and head is not None
    statements, previous = [], rows[9].hash
    for row in rows[10:]:  # the attacker edits row 11 and recomputes every later hash
        data = row.data.replace(b"recipe", b"RECIPE") if row.position == 11 else row.data
        previous = link(previous, row.position, data)
        statements.append(("UPDATE events SET data = ?, hash = ? WHERE position = ?",
                           (data, previous, row.position)))  # fmt: skip
    tamper(data_dir, *statements)
    assert verify(capsys, data_dir)[0] == 0  # the chain alone cannot tell

    code, out = verify(capsys, data_dir, "--anchor", f"{head.group(1)}:{head.group(2)}")

    assert code == 1
    assert f"BROKEN at position {len(rows)}: the hash differs from the one --anchor" in out


def test_verify_says_so_when_there_is_no_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["audit", "verify", "--data-dir", str(tmp_path / "nothing")])

    assert code == 2
    assert "no event log at" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists()


def write_checkpoint_at_head(data_dir: Path, rows: list[StoredRow]) -> None:
    from tracker.checkpoints.directory import Checkpoints
    from tracker.config import build
    from tracker.events.codec import decode

    state = State()
    for row in rows:
        state.apply(decode(row.data))
    checkpoints = Checkpoints.of(build({"database": {"data_dir": str(data_dir)}}))

    async def anchor(position: int) -> bytes:
        return rows[position - 1].hash

    asyncio.run(checkpoints.write(state, anchor))
    assert fileformat.peek(checkpoints.paths()[0][1]).position == len(rows)
