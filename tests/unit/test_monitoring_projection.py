"""Monitoring snapshots are a fold of the log: given events at known times, the snapshot at
each interval boundary holds the counts of every event decided before it.

The counts follow the original's definitions (``behavior.md`` 8.1): new = NEW tasks without
votes (assigned ones included), failed, closed (cumulative), worker access records (pending
included), awaiting verification = number of votes.
"""

from __future__ import annotations

import random

import msgspec

from tests.unit import given
from tracker.commands import access as access_cmd
from tracker.commands import maintenance
from tracker.commands import tasks as task_cmd
from tracker.commands.decide import decide
from tracker.errors import TrackerError
from tracker.events.base import SYSTEM, Event
from tracker.events.managers import ManagerRegistered
from tracker.events.projects import AccessRevoked
from tracker.events.tasks import FailedTasksReset, Outcome, ProjectTasksDeleted
from tracker.projections import monitoring
from tracker.projections.state import State
from tracker.projections.tasks import FAILED, NEW

I = 60  # noqa: E741  (the snapshot interval of these tests)
START = 1_700_000_040  # a multiple of I


def at(event: Event, t: float) -> Event:
    return msgspec.structs.replace(event, at=t)


def fold(*timed: tuple[float, Event | list[Event]], interval: int = I,
         history: int = 3600) -> State:  # fmt: skip
    state = State()
    state.monitoring.configure(interval, history)
    for t, item in timed:
        for event in item if isinstance(item, list) else [item]:
            state.apply(at(event, t))
    return state


def counts(snapshot: monitoring.Snapshot) -> tuple[int, ...]:
    return msgspec.structs.astuple(snapshot)[:5]


def by_time(state: State, newest: int, oldest: int = 0, project: int = 1) -> dict[int, tuple]:
    return {s.time_stamp: counts(s) for s in state.monitoring.snapshots(project, newest, oldest)}


def test_a_snapshot_counts_the_events_decided_before_its_boundary() -> None:
    state = fold(
        (START + 1, given.project(1) + given.worker(1) + given.access(1, 1)),
        (START + 10, [given.submitted(1), given.submitted(2)]),
        (START + 60, given.submitted(3)),  # exactly on a boundary: counts from the next one
    )
    assert by_time(state, START + 120) == {
        START + 60: (2, 0, 0, 1, 0),
        START + 120: (3, 0, 0, 1, 0),
    }


def test_there_is_no_snapshot_before_the_project_existed() -> None:
    state = fold((START + 61, given.project(1)))
    assert state.monitoring.snapshots(1, START + 600, 0)[-1].time_stamp == START + 120
    assert state.monitoring.snapshots(2, START + 600, 0) == []


def test_quiet_boundaries_repeat_the_counts_and_the_newest_holds_the_current_ones() -> None:
    state = fold(
        (START + 1, given.project(1) + given.worker(1) + given.access(1, 1)),
        (START + 5, given.submitted(1)),
        (START + 200, given.submitted(2)),
    )
    assert by_time(state, START + 400) == {
        START + 60: (1, 0, 0, 1, 0),
        START + 120: (1, 0, 0, 1, 0),
        START + 180: (1, 0, 0, 1, 0),
        START + 240: (2, 0, 0, 1, 0),
        START + 300: (2, 0, 0, 1, 0),
        START + 360: (2, 0, 0, 1, 0),
    }


def test_newest_first_limited_and_bounded_by_the_oldest_asked() -> None:
    state = fold((START + 1, given.project(1)))
    stamps = [s.time_stamp for s in state.monitoring.snapshots(1, START + 599, START + 121, 3)]
    assert stamps == [START + 540, START + 480, START + 420]
    stamps = [s.time_stamp for s in state.monitoring.snapshots(1, START + 599, START + 421)]
    assert stamps == [START + 540, START + 480]


def test_release_outcomes_move_the_counts_as_the_original_defines_them() -> None:
    state = fold(
        (START, given.workshop(workers=3)),
        (
            START + 1,
            [given.submitted(1), given.submitted(2, verification_count=2), given.submitted(3)],
        ),
        (
            START + 61,
            [
                given.assigned(1, 1),
                given.released(1, 1, Outcome.CLOSED),
                given.assigned(2, 1),
                given.released(2, 1, Outcome.VOTED),
                given.assigned(3, 2),
            ],
        ),
        (
            START + 121,
            [
                given.released(3, 2, Outcome.FAILED, result=1),
                given.assigned(2, 2),
                given.released(2, 2, Outcome.VOTED),
            ],
        ),
        (START + 181, given.assigned(2, 3)),
        (START + 182, given.released(2, 3, Outcome.CLOSED)),
    )
    assert by_time(state, START + 240) == {
        START + 60: (3, 0, 0, 3, 0),
        START + 120: (1, 0, 1, 3, 1),  # 3 assigned is still new; 2 has a vote
        START + 180: (0, 1, 1, 3, 2),  # two votes on one task count twice
        START + 240: (0, 1, 2, 3, 0),  # the verified close drops its votes
    }


def test_failed_reset_and_hard_reset_and_access_changes() -> None:
    state = fold(
        (START, given.workshop(workers=2) + given.access(3, 1, pending=True)),
        (START + 1, [given.submitted(1, verification_count=2), given.submitted(2)]),
        (START + 2, [given.assigned(1, 1), given.released(1, 1, Outcome.VOTED)]),
        (START + 3, [given.assigned(1, 2), given.released(1, 2, Outcome.FAILED, result=1)]),
        (START + 4, [given.assigned(2, 1), given.released(2, 1, Outcome.FAILED, result=1)]),
        (START + 61, _reset(1, [1, 2])),
        (START + 121, [_deleted(1, [1, 2]), _revoked(3, 1)]),
    )
    assert by_time(state, START + 180) == {
        START + 60: (0, 2, 0, 3, 1),  # the voted task failed: failed, not new
        START + 120: (1, 0, 0, 3, 1),  # back to NEW; the voted one still does not count as new
        START + 180: (0, 0, 0, 2, 0),  # hard reset forgets tasks and votes, not closed
    }


def _reset(project: int, tasks: list[int]) -> Event:
    return FailedTasksReset(at=0, actor=SYSTEM, project_id=project, task_ids=tasks)


def _deleted(project: int, tasks: list[int]) -> Event:
    return ProjectTasksDeleted(at=0, actor=SYSTEM, project_id=project, task_ids=tasks)


def _revoked(worker: int, project: int) -> Event:
    return AccessRevoked(at=0, actor=SYSTEM, worker_id=worker, project_id=project)


def test_history_is_bounded_by_its_length_and_still_answers_within_it() -> None:
    history = 600  # ten intervals
    state = fold((START, given.workshop(workers=1)), history=history)
    for n in range(1, 1001):  # one change in each of 1000 intervals
        state.apply(at(given.submitted(n), START + n * I))
    kept = state.monitoring.projects[1]
    assert len(kept.keys) <= history // I + monitoring._PRUNE_BATCH + 2
    now = START + 1000 * I + 30
    snapshots = state.monitoring.snapshots(1, now, now - history)
    assert [(s.time_stamp, s.new_task_count) for s in snapshots[:3]] == [
        (START + 1000 * I, 999), (START + 999 * I, 998), (START + 998 * I, 997),
    ]  # fmt: skip
    assert len(snapshots) == history // I  # the boundaries within the last ten minutes


def test_an_event_with_an_earlier_time_than_the_last_one_joins_the_current_interval() -> None:
    state = fold(
        (START, given.workshop(workers=1)),
        (START + 200, given.submitted(1)),
        (START + 100, given.submitted(2)),  # a clock that stepped back
    )
    assert by_time(state, START + 240)[START + 180] == (0, 0, 0, 1, 0)
    assert by_time(state, START + 240)[START + 240] == (2, 0, 0, 1, 0)


# --- Against the task board, over a long random history ---------------------------------------


def board_counts(state: State, project: int) -> tuple[int, ...]:
    """The counts recomputed the slow way, from the live tasks themselves."""
    tasks = [t for t in state.tasks.tasks.values() if t.project_id == project]
    return (
        sum(1 for t in tasks if t.status == NEW and not t.votes),
        sum(1 for t in tasks if t.status == FAILED),
        state.projects.by_id[project].closed_task_count,
        sum(1 for (_, p) in state.access.records if p == project),
        sum(len(t.votes or {}) for t in tasks),
    )


def random_command(rng: random.Random, state: State) -> object:
    worker, project = rng.randint(1, 4), rng.randint(1, 2)
    roll = rng.random()
    if roll < 0.35:
        return task_cmd.SubmitTask(worker_id=worker, project=project, recipe="r",
                                   max_retries=rng.randint(0, 2),
                                   verification_count=rng.randint(1, 3))  # fmt: skip
    if roll < 0.6:
        return task_cmd.AssignTask(worker_id=worker, project=project, default_assign_time=60)
    assigned = [t for t in state.tasks.tasks.values() if t.assignee]
    if roll < 0.92 and assigned:
        task = rng.choice(assigned)
        return task_cmd.ReleaseTask(worker_id=task.assignee, task_id=task.id,
                                    result=rng.choice([0, 0, 1, 2]),
                                    verification=rng.randint(0, 1))  # fmt: skip
    choices = [
        maintenance.ResetFailedTasks(manager_id=1, project=project),
        maintenance.ReclaimAssignedTasks(manager_id=1, project=project),
        access_cmd.RequestAccess(worker_id=worker, project=project, assign=True, submit=True),
        access_cmd.RevokeAccess(manager_id=1, worker_id=worker, project=project),
        access_cmd.GrantAccess(manager_id=1, worker_id=worker, project=project),
    ]
    if roll > 0.995:
        choices.append(maintenance.HardReset(manager_id=1, project=project))
    return rng.choice(choices)


def test_snapshots_match_the_task_board_at_every_boundary_of_a_random_history() -> None:
    rng = random.Random(4)
    admin = ManagerRegistered(at=START, actor=SYSTEM, manager_id=1, username="admin",
                              password_hash="x", tracker_admin=True)  # fmt: skip
    state = fold(
        (START, [admin, *given.workshop(workers=4), *given.project(2, public=True)]), history=10**9
    )
    expected: dict[tuple[int, int], tuple[int, ...]] = {}
    now = float(START)
    for _ in range(3000):
        later = now + rng.choice([0, 0, 1, 7, 30, 61, 200])
        for boundary in range(int(now) // I * I + I, int(later) + 1, I):
            for project in (1, 2):  # counts of everything decided before the boundary
                expected[(project, boundary)] = board_counts(state, project)
        now = later
        try:
            events = decide(state, random_command(rng, state), now)  # type: ignore[arg-type]
        except TrackerError:
            continue
        for event in events:
            state.apply(event)
        for project in (1, 2):
            assert tuple(state.monitoring.counts(project) or ()) == board_counts(state, project)
    for project in (1, 2):
        got = by_time(state, int(now), START + I, project)
        assert {b: c for (p, b), c in expected.items() if p == project and b <= now} == got
