"""The history of one task, from its events: what happened, in log order, and where it ended.

The summary is a small fold over the task's own events (never the live read models), so it
always agrees with the events listed, and it works the same for closed and deleted tasks.
Events that list many tasks (reclaims, resets, hard resets) show ``task_count`` instead of
their whole ``task_ids`` list; a bulk submission shows only this task's entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker.audit import records
from tracker.audit.index import HistoryIndex
from tracker.events.reading import row_at
from tracker.events.store import EventStore

_OUTCOME_STATE = {"closed": "closed", "voted": "queued", "retry": "queued", "failed": "failed",
                  "skipped": "queued"}  # fmt: skip
_BACK_TO_QUEUE = {"AssignmentExpired", "AssignedTasksReclaimed", "FailedTasksReset"}


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


def follow(summary: Summary, event_type: str, data: dict[str, Any], position: int) -> None:
    """Fold one event of the task into its summary."""
    if event_type == "TasksSubmitted":  # a bulk: read it as this task's own submission
        event_type, data = "TaskSubmitted", {**data, "task_id": summary.id}
    if event_type == "TaskSubmitted" and data.get("task_id") != summary.id:
        summary.chained_to.append(
            {
                "task": data.get("task_id", 0),
                "project": data.get("project_id", 0),
                "position": position,
            }
        )
        return  # fmt: skip
    if event_type == "TaskSubmitted":
        summary.project = data.get("project_id", 0)
        summary.submitted_by, summary.submitted_at = data.get("actor", ""), data.get("at", 0.0)
        summary.chained_from, summary.state = data.get("chained_from", 0), "queued"
    elif event_type == "TaskAssigned":
        summary.state, summary.assignee = "assigned", data.get("worker_id", 0)
    elif event_type == "TaskReleased":
        summary.state, summary.assignee = _OUTCOME_STATE.get(data.get("outcome", ""), "queued"), 0
    elif event_type in _BACK_TO_QUEUE:
        summary.state, summary.assignee = "queued", 0
    elif event_type == "ProjectTasksDeleted":
        summary.state, summary.assignee = "deleted", 0


def compact(found: dict[str, Any], task_id: int) -> dict[str, Any]:
    event = found["event"]
    if isinstance(event.get("task_ids"), list):
        event["task_count"] = len(event.pop("task_ids"))
    if isinstance(event.get("tasks"), list) and isinstance(event.get("first_task_id"), int):
        tasks = event.pop("tasks")  # a bulk: show this task's entry, and how many came with it
        event["task_count"] = len(tasks)
        event["task_id"] = task_id
        event["task"] = tasks[task_id - event["first_task_id"]]
    return found


@dataclass
class History:
    summary: Summary
    events: list[dict[str, Any]]
    more: bool  # events after the last one listed: ask again with ``after``


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
        if row is not None:
            data = records.fields(row)
            follow(summary, data.get("type", row.type), data, position)
    page = await index.positions(task_id, after, limit + 1)
    events = []
    for position in page[:limit]:
        row = await row_at(log_store, position)
        if row is not None:
            events.append(compact(records.record(row), task_id))
    return History(summary, events, len(page) > limit)
