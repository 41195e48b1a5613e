"""A small real log for the audit command tests, written through the SQLite adapter."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from tracker.events import managers, projects, tasks, workers
from tracker.events.base import SYSTEM, Event, manager_actor, worker_actor
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.store import StoredRow
from tracker.startup.log import LOG_FILE

T0 = 1_700_000_000.0


def project(project_id: int, chain: int = 0) -> projects.ProjectCreated:
    return projects.ProjectCreated(
        at=T0, actor=manager_actor(1), project_id=project_id, name=f"p{project_id}",
        clone_url="", git_repo="", version="", priority=0, motd="", public=True, hidden=False,
        chain=chain, assign_rate=0.0, submit_rate=0.0, webhook_secret="webhook-secret-value",
    )  # fmt: skip


def submitted(task_id: int, project_id: int, worker: int = 1, chained_from: int = 0) -> Event:
    return tasks.TaskSubmitted(
        at=T0 + task_id, actor=worker_actor(worker), task_id=task_id, project_id=project_id,
        recipe=f"recipe {task_id}", priority=0, max_retries=1, max_assign_time=60,
        verification_count=1, chained_from=chained_from,
    )  # fmt: skip


def events(tasks_count: int = 10) -> list[Event]:
    """A manager, two workers, a project chained into another, tasks worked on and closed."""
    found: list[Event] = [
        managers.ManagerRegistered(at=T0, actor=SYSTEM, manager_id=1, username="admin",
                                   password_hash="$argon2id$v=19$secret-hash", tracker_admin=True),
        workers.WorkerCreated(at=T0, actor=SYSTEM, worker_id=1, alias="w1", secret=b"s" * 32),
        workers.WorkerCreated(at=T0, actor=SYSTEM, worker_id=2, alias="w2", secret=b"t" * 32),
        project(2),
        project(1, chain=2),
    ]  # fmt: skip
    for task_id in range(1, tasks_count + 1):
        found.append(submitted(task_id, 1))
    next_id = tasks_count + 1
    for task_id in range(1, tasks_count + 1, 2):
        found.append(tasks.TaskAssigned(at=T0 + 100, actor=worker_actor(2), task_id=task_id,
                                        project_id=1, worker_id=2, deadline=T0 + 160))  # fmt: skip
        found.append(tasks.TaskReleased(
            at=T0 + 101, actor=worker_actor(2), task_id=task_id, project_id=1, worker_id=2,
            result=0, outcome=tasks.Outcome.CLOSED,
        ))  # fmt: skip
        found.append(submitted(next_id, 2, worker=2, chained_from=task_id))
        next_id += 1
    return found


def write_log(data_dir: Path, log_events: list[Event] | None = None,
              batch_size: int = 7) -> list[StoredRow]:  # fmt: skip
    """The events appended in batches, as group commit would; returns the rows."""

    data_dir.mkdir(parents=True, exist_ok=True)

    async def write() -> list[StoredRow]:
        store = await SQLiteEventStore.open(data_dir / LOG_FILE)
        try:
            batch = log_events if log_events is not None else events()
            head = 0
            for start in range(0, len(batch), batch_size):
                head = await store.append(batch[start : start + batch_size], head)
            return [row async for rows in store.read() for row in rows]
        finally:
            await store.close()

    return asyncio.run(write())


def tamper(data_dir: Path, *statements: tuple[str, tuple]) -> None:
    """Change the file as an attacker with write access would: drop the append-only
    triggers with the stdlib driver, then run ``statements``."""
    with closing(sqlite3.connect(data_dir / LOG_FILE)) as conn:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
        for sql, parameters in statements:
            conn.execute(sql, parameters)
        conn.commit()
