"""What heavy reads hold, as their budgets estimate it: the per-entry costs the estimates use
are measured here, and the time-travel fold follows every event the live task reducers do."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import msgspec
import pytest

from tests.unit.test_checkpoint_file import folded
from tests.waiting import eventually
from tracker.audit.budget import OverBudget, ReadGate
from tracker.config import Audit
from tracker.errors import Busy
from tracker.projections import digest, project_status, projects, tasks
from tracker.projections.project_status import ENTRY_BYTES, ProjectStatus


def test_time_travel_folds_every_event_the_task_reducers_fold() -> None:
    """A new event that moves tasks (batch assignments, say) must move them in time travel
    too: add it to ``project_status.HANDLERS``."""
    task_events = set(tasks.HANDLERS) | {t for t, f in projects.HANDLERS.items()
                                         if "release" in f.__name__}  # fmt: skip
    assert task_events <= set(project_status.HANDLERS), task_events - set(project_status.HANDLERS)


def test_a_held_task_costs_time_travel_about_entry_bytes() -> None:
    held = 50_000
    tracemalloc.start()
    try:
        status = ProjectStatus(queued=10**6, closed=10**6)
        for n in range(held // 2):
            status.assigned[1_000_000 + n] = 1_000 + n % 5_000
            status.failed.add(2_000_000 + n)
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    per_entry = used / status.held
    assert ENTRY_BYTES / 3 < per_entry <= ENTRY_BYTES, per_entry


def test_a_key_digest_costs_about_key_bytes() -> None:
    state = folded(20_000)
    keys = digest.key_count(state, ["tasks"])
    assert keys >= 20_000
    tracemalloc.start()
    try:
        found = digest.key_digests(state, ["tasks"])
        answer = msgspec.json.encode({"keys": found})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(answer) > keys * 40
    per_key = peak / keys
    assert digest.KEY_BYTES / 3 < per_key <= digest.KEY_BYTES, per_key


async def test_the_gate_admits_its_limit_lets_as_many_wait_and_refuses_the_rest() -> None:
    gate = ReadGate(Audit(max_concurrent_reads=2, read_wait=0.3))
    entered = asyncio.Event()
    release = asyncio.Event()

    async def read() -> str:
        async with gate.turn():
            entered.set()
            await release.wait()
            return "answered"

    running = [asyncio.create_task(read()) for _ in range(2)]
    await asyncio.wait_for(entered.wait(), 5)
    waiting = [asyncio.create_task(read()) for _ in range(2)]
    await eventually(lambda: gate.waiting == 2, what="two reads waiting for their turn")
    started = time.monotonic()
    with pytest.raises(Busy) as refused:
        async with gate.turn():
            pass
    assert time.monotonic() - started < 0.1  # no place to wait: refused at once
    assert refused.value.retry_after == 1 and "max_concurrent_reads is 2" in refused.value.message
    release.set()
    assert await asyncio.gather(*running, *waiting) == ["answered"] * 4


async def test_with_no_wait_a_free_turn_is_taken_and_a_busy_gate_refuses_at_once() -> None:
    gate = ReadGate(Audit(max_concurrent_reads=1, read_wait=0))
    async with gate.turn():
        with pytest.raises(Busy):
            async with gate.turn():
                pass
    async with gate.turn():
        assert gate.waiting == 0


def test_a_read_over_the_memory_or_replay_budget_is_refused_naming_the_setting() -> None:
    gate = ReadGate(Audit(max_read_memory=64 * 1024 * 1024, max_replay_events=1000))
    gate.afford(400_000, 150, "This")  # 57 MiB: fits
    with pytest.raises(OverBudget, match=r"This would hold about 72 MiB \(500,000 entries\), more "
                       r"than audit.max_read_memory \(64 MiB\) allows"):  # fmt: skip
        gate.afford(500_000, 150, "This")
    gate.replay(1000, 1500, 500)
    with pytest.raises(OverBudget, match=r"1,001 events after the nearest usable checkpoint "
                       r"\(position 500\); at most 1,000 .*audit.max_replay_events"):  # fmt: skip
        gate.replay(1001, 1501, 500)
