"""Event logs for ``scripts/bench_restart.py``, written directly through the SQLite adapter
(HTTP would take hours): real events with their hash chain, in batches.

- ``bulk``: one project and one worker; ``tasks`` tasks bulk-submitted 1,000 per
  ``TasksSubmitted`` event (recipes ``task-<id>``), all queued at the end: about 25 bytes of log
  per task, the case where checkpoints used to cost more than they saved.
- ``mixed``: 10 projects, 100 workers; blocks of events that submit tasks one by one and
  assign and close the oldest queued ones, 4:3, so with 10,000,000 events 4,000,000 tasks are
  submitted, 3,000,000 closed and 1,000,000 are queued at the end.
- ``batches``: the work of ``mixed``, its tasks taken and closed 100 at a time by one worker
  (``/task/bulk_get``, ``/task/bulk_release``): one ``TasksAssigned`` and one ``TasksReleased``
  per 100 tasks instead of 100 of each, so the same tasks in fewer rows; its size is counted
  in ``mixed``'s events, so the two replay the same tasks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from tracker.events import managers, projects, tasks, workers
from tracker.events.base import SYSTEM, Event, manager_actor, worker_actor
from tracker.events.sqlite import SQLiteEventStore

T0 = 1_700_000_000.0
BATCH = 50_000  # events per append
BULK = 1_000  # tasks per bulk submission
LOG_FILE = "events.sqlite3"


def setup_events(n_projects: int, n_workers: int) -> list[Event]:
    found: list[Event] = [managers.ManagerRegistered(
        at=T0, actor=SYSTEM, manager_id=1, username="admin", password_hash="$argon2id$x",
        tracker_admin=True)]  # fmt: skip
    for p in range(1, n_projects + 1):
        found.append(projects.ProjectCreated(
            at=T0, actor=manager_actor(1), project_id=p, name=f"project {p}", clone_url="",
            git_repo="", version="1", priority=0, motd="", public=True, hidden=False, chain=0,
            assign_rate=0.0, submit_rate=0.0, webhook_secret="x" * 36, creator=1))  # fmt: skip
    for w in range(1, n_workers + 1):
        found.append(workers.WorkerCreated(at=T0, actor=SYSTEM, worker_id=w, alias=f"w{w}",
                                           secret=os.urandom(32)))  # fmt: skip
    return found


def bulk_events(total_tasks: int) -> Iterator[list[Event]]:
    """Blocks of bulk submissions to project 1 by worker 1."""
    block: list[Event] = []
    for first in range(1, total_tasks + 1, BULK):
        size = min(BULK, total_tasks - first + 1)
        block.append(tasks.TasksSubmitted(
            at=T0 + first / BULK, actor=worker_actor(1), project_id=1, first_task_id=first,
            tasks=[tasks.NewTask(recipe=f"task-{first + i}") for i in range(size)]))  # fmt: skip
        if len(block) == BATCH // BULK:
            yield block
            block = []
    if block:
        yield block


def mixed_events(total: int, n_projects: int, n_workers: int,
                 batch_size: int = 1) -> Iterator[list[Event]]:  # fmt: skip
    """Blocks of events: each submits tasks and closes the oldest queued ones, 4:3, one task
    per assignment and release event, or ``batch_size`` (``total`` counts one-task events)."""
    submitted, closed, batches, clock, emitted = 0, 0, 0, T0 + 1, 0
    oldest = {p: p for p in range(1, n_projects + 1)}  # task i is in project (i-1) % P + 1
    while emitted < total:
        size = min(700_000, total - emitted)
        n_close = (size - size * 4 // 10) // 2
        n_submit = size - 2 * n_close  # an odd remainder: one submission more
        block: list[Event] = []
        for _ in range(n_submit):
            submitted += 1
            clock += 0.001
            block.append(tasks.TaskSubmitted(
                at=clock, actor=worker_actor(submitted % n_workers + 1), task_id=submitted,
                project_id=(submitted - 1) % n_projects + 1,
                recipe=f"recipe {submitted} " + "x" * 40, priority=0, max_retries=3,
                max_assign_time=300, verification_count=1))  # fmt: skip
        for first in range(0, n_close, batch_size):
            count = min(batch_size, n_close - first)
            project, worker = batches % n_projects + 1, batches % n_workers + 1
            ids = [oldest[project] + n_projects * i for i in range(count)]
            oldest[project] += n_projects * count
            closed, batches, clock = closed + count, batches + 1, clock + 0.001 * count
            block += closes(ids, project, worker, clock, batch_size)
        emitted += size
        for start in range(0, len(block), BATCH):
            yield block[start : start + BATCH]


def closes(ids: list[int], project: int, worker: int, clock: float,
           batch_size: int) -> list[Event]:  # fmt: skip
    """The tasks ``ids`` assigned to ``worker`` and closed: two events each, or per batch."""
    actor = worker_actor(worker)
    if batch_size == 1:
        return [event for task_id in ids for event in (
            tasks.TaskAssigned(at=clock, actor=actor, task_id=task_id, project_id=project,
                               worker_id=worker, deadline=clock + 300),
            tasks.TaskReleased(at=clock, actor=actor, task_id=task_id, project_id=project,
                               worker_id=worker, result=0, outcome=tasks.Outcome.CLOSED),
        )]  # fmt: skip
    return [
        tasks.TasksAssigned(at=clock, actor=actor, project_id=project, worker_id=worker,
                            tasks=[tasks.Assignment(t, clock + 300) for t in ids]),
        tasks.TasksReleased(at=clock, actor=actor, project_id=project, worker_id=worker,
                            tasks=[tasks.Release(t, 0, tasks.Outcome.CLOSED) for t in ids]),
    ]  # fmt: skip


async def generate(path: Path, kind: str, size: int) -> int:
    """Write the ``kind`` log of ``size`` (tasks for bulk, events for mixed) at ``path``;
    its head position."""
    store = await SQLiteEventStore.open(path)
    try:
        if kind == "bulk":
            head = await store.append(setup_events(1, 1), 0)
            blocks = bulk_events(size)
        else:
            head = await store.append(setup_events(10, 100), 0)
            blocks = mixed_events(size - head, 10, 100, 100 if kind == "batches" else 1)
        for block in blocks:
            head = await store.append(block, head)
    finally:
        await store.close()
    return head
