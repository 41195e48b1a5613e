"""What heavy reads hold, as their budgets estimate it: the per-entry costs the estimates use
are measured here, and the time-travel fold follows every event the live task reducers do."""

from __future__ import annotations

import tracemalloc

import msgspec

from tests.unit.test_checkpoint_file import folded
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
