"""Read model of workers: identity, secret, pause flag and closed-task credit."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from tracker.events.tasks import Outcome, TaskReleased, TasksReleased
from tracker.events.workers import WorkerAliasChanged, WorkerCreated, WorkerPauseSet


class Worker(msgspec.Struct, gc=False):
    id: int
    created: int
    alias: str
    secret: bytes
    paused: bool = False
    closed_task_count: int = 0


class Workers:
    def __init__(self) -> None:
        self.by_id: dict[int, Worker] = {}
        self.next_id = 1

    def get(self, worker_id: int) -> Worker | None:
        return self.by_id.get(worker_id)

    def all(self) -> Iterable[Worker]:
        return self.by_id.values()


def created(model: Workers, event: WorkerCreated) -> None:
    model.by_id[event.worker_id] = Worker(event.worker_id, int(event.at), event.alias, event.secret)
    model.next_id = max(model.next_id, event.worker_id + 1)


def alias_changed(model: Workers, event: WorkerAliasChanged) -> None:
    model.by_id[event.worker_id].alias = event.alias


def pause_set(model: Workers, event: WorkerPauseSet) -> None:
    model.by_id[event.worker_id].paused = event.paused


def released(model: Workers, event: TaskReleased) -> None:
    if event.outcome is Outcome.CLOSED:
        model.by_id[event.worker_id].closed_task_count += 1


def batch_released(model: Workers, event: TasksReleased) -> None:
    closed = sum(1 for release in event.tasks if release.outcome is Outcome.CLOSED)
    if closed:
        model.by_id[event.worker_id].closed_task_count += closed


HANDLERS = {
    WorkerCreated: created,
    WorkerAliasChanged: alias_changed,
    WorkerPauseSet: pause_set,
    TaskReleased: released,
    TasksReleased: batch_released,
}
