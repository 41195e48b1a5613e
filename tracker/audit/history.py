"""The history of one task, from its events: what happened, in log order, and where it ended.

The summary is a small fold over the task's own events (never the live read models), so it
always agrees with the events listed, and it works the same for closed and deleted tasks.
Events that list many tasks (reclaims, resets, hard resets) show ``task_count`` instead of
their whole ``task_ids`` list; a bulk submission, a batch assignment and a batch release show
only this task's entry (its fields beside the event's own, as the one-task event holds them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker.audit import records
from tracker.events.base import Event
from tracker.events.reading import row_at
from tracker.events.store import EventStore
from tracker.events.tasks import (
    AssignedTasksReclaimed,
    AssignmentExpired,
    AssignmentExtended,
    FailedTasksReset,
    Outcome,
    ProjectTasksDeleted,
    QueuedTasksCancelled,
    TaskAssigned,
    TaskReleased,
    TasksAssigned,
    TasksReleased,
    TasksReprioritized,
    TasksSubmitted,
    TaskSubmitted,
)
from tracker.startup.index import HistoryIndex

_OUTCOME_STATE = {Outcome.CLOSED: "closed", Outcome.VOTED: "queued", Outcome.RETRY: "queued",
                  Outcome.FAILED: "failed", Outcome.SKIPPED: "queued"}  # fmt: skip


@dataclass
class Summary:
    id: int
    project: int = 0
    submitted_by: str = ""
    submitted_at: float = 0.0
    chained_from: int = 0
    state: str = "unknown"
    assignee: int = 0
    chained_to: list[dict[str, int]] = field(default_factory=list)


def follow(summary: Summary, event: Event, position: int) -> None:
    """Fold one event of the task into its summary."""
    match event:
        case TaskSubmitted(task_id=task_id) if task_id != summary.id:  # its chain copy
            summary.chained_to.append(
                {"task": task_id, "project": event.project_id, "position": position}
            )
        case TaskSubmitted() | TasksSubmitted():
            summary.project, summary.state = event.project_id, "queued"
            summary.submitted_by, summary.submitted_at = event.actor, event.at
            if isinstance(event, TaskSubmitted):
                summary.chained_from = event.chained_from
        case TaskAssigned(worker_id=worker_id) | TasksAssigned(worker_id=worker_id):
            summary.state, summary.assignee = "assigned", worker_id
        case TaskReleased(outcome=outcome):
            summary.state, summary.assignee = _OUTCOME_STATE[outcome], 0
        case TasksReleased(tasks=releases):
            for release in releases:
                if release.task_id == summary.id:
                    summary.state, summary.assignee = _OUTCOME_STATE[release.outcome], 0
        case AssignmentExtended(worker_id=worker_id):
            # still assigned: said again, as the summary may fold only the last events
            summary.state, summary.assignee = "assigned", worker_id
        case AssignmentExpired() | AssignedTasksReclaimed() | FailedTasksReset():
            summary.state, summary.assignee = "queued", 0
        case ProjectTasksDeleted():
            summary.state, summary.assignee = "deleted", 0
        case QueuedTasksCancelled():
            summary.state, summary.assignee = "cancelled", 0
        case TasksReprioritized():
            summary.state, summary.assignee = "queued", 0


def compact(found: dict[str, Any], task_id: int) -> dict[str, Any]:
    event = found["event"]
    if isinstance(event.get("task_ids"), list):
        event["task_count"] = len(event.pop("task_ids"))
    if isinstance(event.get("tasks"), list) and isinstance(event.get("first_task_id"), int):
        tasks = event.pop("tasks")  # a bulk: show this task's entry, and how many came with it
        event["task_count"] = len(tasks)
        event["task_id"] = task_id
        event["task"] = tasks[task_id - event["first_task_id"]]
    elif isinstance(event.get("tasks"), list):  # a batch: this task's entry, beside the rest
        tasks = event.pop("tasks")
        event["task_count"] = len(tasks)
        event.update(next((entry for entry in tasks if isinstance(entry, dict)
                           and entry.get("task_id") == task_id), {}))  # fmt: skip
    return found


@dataclass
class Entry:
    """One event of the history: its record as the API shows it, and the typed event (None
    when this tracker cannot read it)."""

    record: dict[str, Any]
    event: Event | None


@dataclass
class History:
    summary: Summary
    entries: list[Entry]
    more: bool  # events after the last one listed: ask again with ``after``

    @property
    def events(self) -> list[dict[str, Any]]:
        return [entry.record for entry in self.entries]


async def history(index: HistoryIndex, log_store: EventStore, task_id: int, after: int = 0,
                  limit: int = 1000) -> History | None:  # fmt: skip
    """The task's events after position ``after`` (at most ``limit``), and its summary; None
    if the log holds no event of the task.

    The summary folds the task's first event and its last two (the last may be its copy
    into a chained project), so it costs the same for any length of history.
    """
    first = await index.positions(task_id, 0, 1)
    if not first:
        return None
    summary = Summary(task_id)
    for position in sorted(set(first) | set(await index.last_positions(task_id, 2))):
        row = await row_at(log_store, position)
        event = records.event_of(row) if row is not None else None
        if event is not None:
            follow(summary, event, position)
    page = await index.positions(task_id, after, limit + 1)
    entries = []
    for position in page[:limit]:
        row = await row_at(log_store, position)
        if row is not None:
            event = records.event_of(row)
            entries.append(Entry(compact(records.record(row, event), task_id), event))
    return History(summary, entries, len(page) > limit)
