"""A manager's actions on chosen tasks (this tracker's extension; the original has none):
retry failed tasks now, cancel queued tasks, give queued tasks another priority, take back
assignments, on a selection of ids or on every task a filter matches.

Acting on a filter takes two calls, as the web UI does: ``count_matching`` says how many tasks
the action would touch; ``act_on_matching`` acts, given that count as ``confirm``. The tracker
acts on the tasks that still match and are in the state the action needs, and refuses
(``Conflict``) if that is more than ``confirm``. None of these calls is retried after a lost
answer: a repeat would be refused (``Conflict``: nothing left to do) or act on newer tasks.
"""

from __future__ import annotations

import urllib.parse
from typing import Literal

import msgspec

from tracker.client import calls
from tracker.client.calls import Call

Action = Literal["retry", "cancel", "priority", "take_back"]


class TaskFilter(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Which tasks of a project (``GET /project/tasks/:id``'s query); unset fields match all.
    ``state``: ``queued``, ``awaiting_verification``, ``assigned``, ``failed`` or ``closed``;
    times are Unix seconds."""

    state: str = ""
    worker: int | None = None
    priority_min: int | None = None
    priority_max: int | None = None
    recipe: str = ""  # a substring of the recipe
    submitted_from: float | None = None
    submitted_to: float | None = None

    def query(self, **more: object) -> str:
        """The filter (and ``more`` parameters) as a query string, ``?...`` or empty."""
        fields = {**msgspec.structs.asdict(self), **more}
        given = {name: value for name, value in fields.items() if value is not None and value != ""}
        return "?" + urllib.parse.urlencode(given) if given else ""


class Acted(msgspec.Struct, kw_only=True):
    """What an action did: how many tasks it changed, and the named tasks it left alone
    (unknown, of another project, or not in the state the action needs)."""

    touched: int
    skipped: list[int] = msgspec.field(default_factory=list)


def _act(project: int, action: Action, body: dict[str, object], query: str = "") -> Call[Acted]:
    path = f"/project/tasks/{int(project)}/{action}{query}"
    return calls.post(path, body, calls.content_as(Acted))


def _ids(task_ids: list[int]) -> dict[str, object]:
    return {"task_ids": [int(task_id) for task_id in task_ids]}


def retry_tasks(project: int, task_ids: list[int]) -> Call[Acted]:
    """Failed tasks back to the queue now, their attempts counted from zero."""
    return _act(project, "retry", _ids(task_ids))


def cancel_tasks(project: int, task_ids: list[int]) -> Call[Acted]:
    """Delete queued tasks."""
    return _act(project, "cancel", _ids(task_ids))


def set_priority(project: int, task_ids: list[int], priority: int) -> Call[Acted]:
    """Give queued tasks another priority (-32768 to 32767)."""
    return _act(project, "priority", {**_ids(task_ids), "priority": int(priority)})


def take_back(project: int, task_ids: list[int]) -> Call[Acted]:
    """Take assigned tasks back from their workers and queue them again."""
    return _act(project, "take_back", _ids(task_ids))


def count_matching(project: int, action: Action, where: TaskFilter,
                   priority: int = 0) -> Call[int]:  # fmt: skip
    """How many tasks ``action`` on every task ``where`` matches would touch now (for
    ``priority``: the tasks not at ``priority`` already)."""
    more = {"action": action, "priority": priority if action == "priority" else None}
    path = f"/project/tasks/{int(project)}/count{where.query(**more)}"
    return calls.get(path, calls.field_of("count", int))


def act_on_matching(project: int, action: Action, where: TaskFilter, confirm: int,
                    priority: int = 0) -> Call[Acted]:  # fmt: skip
    """``action`` on every task ``where`` matches, at most ``confirm`` of them (the count
    ``count_matching`` gave)."""
    body: dict[str, object] = {"confirm": int(confirm)}
    if action == "priority":
        body["priority"] = int(priority)
    return _act(project, action, body, where.query())
