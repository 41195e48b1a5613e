"""A task's attempts, from its history: each assignment, how it ended, and the reason given.

An attempt starts when the task is assigned (alone or in a batch) and ends when its worker
releases it (with a result, an outcome and maybe a reason), when the assignment expires, when
a manager takes it back, or when a hard reset deletes the task. A pure fold over the task's
events in log order, so it reads the same for live, closed and deleted tasks.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from tracker.audit.history import Entry
from tracker.events.base import Event
from tracker.events.tasks import (
    AssignedTasksReclaimed,
    AssignmentExpired,
    ProjectTasksDeleted,
    TaskAssigned,
    TaskReleased,
    TasksAssigned,
    TasksReleased,
)

RESULTS = {0: "OK", 1: "FAIL", 2: "SKIP"}


class Attempt(msgspec.Struct, kw_only=True):
    number: int  # 1 for the first assignment
    worker: int
    assigned_at: float
    position: int  # of the assignment in the log
    ended_at: float = 0.0  # 0 while the worker still holds the task
    end: str = ""  # released, expired, taken back, deleted; "" while held
    result: str = ""  # OK, FAIL or SKIP when released
    outcome: str = ""  # closed, voted, retry, failed, skipped when released
    reason: str = ""  # the worker's reason when it gave one


def attempts(entries: Iterable[Entry], task_id: int) -> list[Attempt]:
    """The attempts the entries tell of, oldest first."""
    found: list[Attempt] = []
    for entry in entries:
        if entry.event is not None:
            _follow(found, entry.event, entry.record["position"], task_id)
    return found


def _follow(found: list[Attempt], event: Event, position: int, task_id: int) -> None:
    match event:
        case TaskAssigned(worker_id=worker) | TasksAssigned(worker_id=worker):
            found.append(Attempt(number=len(found) + 1, worker=worker, assigned_at=event.at,
                                 position=position))  # fmt: skip
        case TaskReleased(result=result, outcome=outcome, reason=reason):
            _end(found, event.at, "released", RESULTS.get(result, str(result)), outcome, reason)
        case TasksReleased(tasks=releases):
            for release in releases:
                if release.task_id == task_id:
                    told = RESULTS.get(release.result, str(release.result))
                    _end(found, event.at, "released", told, release.outcome, release.reason)
        case AssignmentExpired():
            _end(found, event.at, "expired")
        case AssignedTasksReclaimed():
            _end(found, event.at, "taken back")
        case ProjectTasksDeleted():
            _end(found, event.at, "deleted")


def _end(found: list[Attempt], at: float, end: str, result: str = "", outcome: str = "",
         reason: str = "") -> None:  # fmt: skip
    """End the open attempt, if there is one (a reset or delete may find none)."""
    if found and not found[-1].end:
        attempt = found[-1]
        attempt.ended_at, attempt.end, attempt.result = at, end, result
        attempt.outcome, attempt.reason = outcome, reason
