"""What only an event log gives: a task's history, the live event feed, and (tracker admins)
the log's head and a chain verification. Reads go through the API's own functions and its
rule of who may read what (``tracker.queries.auditing``); events are told and filtered by
their own types (``records.Filter``, the events' ``concerned_*`` methods)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tracker.audit import attempts, feed, history, records
from tracker.audit.verify import Report, verify
from tracker.errors import NotFound, Unauthorized
from tracker.events.base import Event
from tracker.events.reading import row_at
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
from tracker.http import context
from tracker.http.keys import AUDIT
from tracker.queries import auditing
from tracker.ui import render
from tracker.ui.background import BACKGROUND
from tracker.ui.views import task_actions

routes = web.RouteTableDef()

HISTORY_PAGE = 500  # events of a task history shown per page

FEED_PAGE = 50
FEED_WAIT = 8  # seconds, as LIVE_WAIT in dashboard.py
RECENT = 2000  # positions the Events page looks back over when it opens
KEEP = 200  # rows the open Events page keeps: older ones leave as new ones come (ui.js)
TASK_LINKS = 5  # task links shown per event; a batch says how many more it holds
_NOT_FACTS = {"project_id", "worker_id", "task_id", "task_ids", "tasks", "at", "actor", "v"}


@dataclass
class Verification:
    started: float = 0.0
    head: int = 0
    checked: int = 0  # the last position read so far (progress while running)
    running: bool = False
    report: Report | None = None
    error: str = ""


VERIFICATION = web.AppKey("ui_verification", Verification)


@routes.get("/ui/task")
async def task_search(request: web.Request) -> web.Response:
    task_id = request.query.get("id", "").strip()
    if task_id:
        raise web.HTTPSeeOther(f"/ui/task/{render.form_int(request.query, 'id', 0, 1)}")
    render.require_login(request)
    return render.page(request, "task.html", {"found": None, "task_id": ""})


@routes.get("/ui/task/{id}")
async def task_page(request: web.Request) -> web.Response:
    render.require_login(request)
    who = context.caller(request)
    auditing.require_reader(who)
    task_id = render.form_int(request.match_info, "id", 0, 1)
    services = request.app[AUDIT]
    await services.index_up_to_date()
    after = render.query_int(request, "after")  # paging: the position the last page ended at
    found = await history.history(services.index, services.reader, task_id, after, HISTORY_PAGE)
    if found is None:
        raise NotFound("Task not found")
    if not auditing.may_read_history(context.tracker(request).state, who, found.summary.project):
        raise Unauthorized("You need the Read role on this task's project")
    events = [(e.record, story(e.event, e.record["type"], task_id),
               json.dumps(e.record["event"], indent=1)) for e in found.entries]  # fmt: skip
    next_after = found.entries[-1].record["position"] if found.more and found.entries else 0
    values = {"found": found, "events": events, "task_id": task_id, "after": after,
              "next_after": next_after,
              "attempts": [] if after else attempts.attempts(found.entries, task_id),
              "task_actions": task_actions.buttons(request, task_id)}  # fmt: skip
    return render.page(request, "task.html", values)


_RESULTS = {0: "OK", 1: "FAIL", 2: "SKIP"}


def story(event: Event | None, kind: str, task_id: int = 0) -> str:
    """One line of a task's history, as a person reads it (the event's fields stay below);
    ``kind``, the stored type, for an event this tracker cannot read; ``task_id``, the task
    whose entry of a batch is told."""
    match event:
        case TaskSubmitted(chained_from=copied) if copied:
            return f"Chain copy of task #{copied}"
        case TaskSubmitted() | TasksSubmitted():
            return f"Submitted by {event.actor}"
        case TaskAssigned(worker_id=worker_id) | TasksAssigned(worker_id=worker_id):
            return f"Assigned to worker #{worker_id}"
        case AssignmentExtended(worker_id=worker_id):
            return f"Kept alive by worker #{worker_id}"
        case TaskReleased(worker_id=worker_id):
            return _released(worker_id, event.result, event.outcome, event.verification)
        case TasksReleased(worker_id=worker_id, tasks=releases):
            for release in releases:
                if release.task_id == task_id:
                    return _released(worker_id, release.result, release.outcome,
                                     release.verification)  # fmt: skip
        case AssignmentExpired(worker_id=worker_id):
            return f"Assignment of worker #{worker_id} expired"
        case AssignedTasksReclaimed():
            return "Taken back from its worker by a manager"
        case FailedTasksReset():
            return "Failed task reset to new by a manager"
        case ProjectTasksDeleted():
            return "Deleted by a hard reset of the project"
        case QueuedTasksCancelled():
            return "Cancelled by a manager"
        case TasksReprioritized():
            return "Priority changed by a manager"
    return kind


def _released(worker_id: int, result: int, outcome: Outcome, verification: int) -> str:
    told = _RESULTS.get(result, str(result))
    return f"Released {told} by worker #{worker_id}: {outcome.value}, verification {verification}"


def _filters(request: web.Request) -> dict[str, Any]:
    return {
        "project": render.query_int(request, "project"),
        "task": render.query_int(request, "task"),
        "worker": render.query_int(request, "worker"),
        "type": request.query.get("type", "").strip()[:64],
    }


def _wanted(filters: dict[str, Any]) -> records.Filter:
    """The page's filter fields (0 or empty: any) as the log's own filter."""
    return records.Filter(
        project=filters["project"] or None, task=filters["task"] or None,
        worker=filters["worker"] or None, type=filters["type"] or None,
    )  # fmt: skip


async def _feed(request: web.Request, after: int, wait: float) -> tuple[list, int]:
    """Matching events after ``after``: the first page that has any, or none once ``wait``
    seconds have passed (0: one look)."""
    who = context.caller(request)
    auditing.require_reader(who)
    services = request.app[AUDIT]
    visible = auditing.feed_projects(context.tracker(request).state, who)
    wanted = _wanted(_filters(request))
    deadline = time.monotonic() + wait
    while True:
        remaining = max(0.0, deadline - time.monotonic())
        page = await feed.wait_for_page(services, after, FEED_PAGE, remaining, visible, wanted)
        after = page.next
        if page.events or remaining <= 0 or services.stopping:
            return page.events, after


async def _recent(request: web.Request) -> tuple[list, int]:
    """The newest matching events among the last ``RECENT`` positions, and where they end."""
    services = request.app[AUDIT]
    after, head, found = max(0, services.durable - RECENT), services.durable, []
    while after < head:
        page, moved = await _feed(request, after, 0)
        found.extend(page)
        if moved <= after:  # nothing more to read
            break
        after = moved
    return found[-FEED_PAGE:], after


@routes.get("/ui/events")
async def events(request: web.Request) -> web.Response:
    render.require_login(request)
    found, after = await _recent(request)
    values = {"rows": [described(r) for r in reversed(found[-FEED_PAGE:])], "after": after,
              "filters": _filters(request), "keep": KEEP}  # fmt: skip
    return render.page(request, "events.html", values)


@routes.get("/ui/events/feed")
async def events_feed(request: web.Request) -> web.Response:
    render.require_login(request)
    after = render.query_int(request, "after")
    found, after = await _feed(request, after, FEED_WAIT)
    values = {"rows": [described(r) for r in reversed(found)], "after": after,
              "filters": _filters(request)}  # fmt: skip
    return render.fragment(request, "fragments/events.html", values)


@dataclass(frozen=True)
class Described:
    """One row of the Events page: the record, and what it concerns as links and facts."""

    record: dict[str, Any]
    project: int | None
    worker: int | None
    tasks: list[int]
    more_tasks: int
    facts: list[tuple[str, str]]


def described(record: dict[str, Any]) -> Described:
    """The project, worker and tasks an event names (links on the page), and its other plain
    fields (``outcome: closed``); secrets are already redacted in the record."""
    data = record.get("event", {})
    tasks = [data["task_id"]] if isinstance(data.get("task_id"), int) else []
    tasks += [t for t in data.get("task_ids", ()) if isinstance(t, int)]
    tasks += [t["task_id"] for t in data.get("tasks", ()) if isinstance(t, dict) and "task_id" in t]
    plain = (str, int, float, bool)
    facts = [(name, str(value)) for name, value in data.items()
             if name not in _NOT_FACTS and isinstance(value, plain) and value != ""]  # fmt: skip
    return Described(
        record=record,
        project=_int_or_none(data.get("project_id")),
        worker=_int_or_none(data.get("worker_id")),
        tasks=tasks[:TASK_LINKS],
        more_tasks=max(0, len(tasks) - TASK_LINKS),
        facts=facts,
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@routes.get("/ui/audit")
async def audit_page(request: web.Request) -> web.Response:
    return render.page(request, "audit.html", await _audit_values(request))


@routes.get("/ui/audit/status")
async def audit_status(request: web.Request) -> web.Response:
    return render.fragment(request, "fragments/verification.html", await _audit_values(request))


def _require_admin_reader(request: web.Request) -> None:
    caller = context.caller(request)
    auditing.require_reader(caller)
    if not auditing.reads_everything(caller):
        raise Unauthorized("The audit page is for tracker admins")


async def _audit_values(request: web.Request) -> dict[str, Any]:
    _require_admin_reader(request)
    services = request.app[AUDIT]
    head = services.durable
    row = await row_at(services.reader, head) if head else None
    return {
        "head": head,
        "head_hash": row.hash.hex() if row else "",
        "verification": _verification(request),
        "now": time.time(),
    }


def _verification(request: web.Request) -> Verification:
    return request.app[VERIFICATION]


@routes.post("/ui/audit/verify")
async def start_verify(request: web.Request) -> web.Response:
    _require_admin_reader(request)
    state = _verification(request)
    if not state.running:
        services = request.app[AUDIT]
        state.checked = 0
        state.running, state.started, state.head, state.error = (
            True,
            time.time(),
            services.durable,
            "",
        )
        request.app[BACKGROUND].start(_run_verify(state, services.reader), "ui-verify")
    raise render.redirect("/ui/audit", "Verification started")


class _Progress:
    """The log reader as ``verify`` uses it, noting how far the walk has read."""

    def __init__(self, reader: Any, state: Verification) -> None:
        self.reader, self.state = reader, state

    async def read(self, after: int = 0, batch_size: int = 10_000) -> AsyncIterator[list[Any]]:
        batches = self.reader.read(after, batch_size)
        try:
            async for batch in batches:
                if batch:
                    self.state.checked = batch[-1].position
                yield batch
        finally:
            await batches.aclose()


async def _run_verify(state: Verification, reader: Any) -> None:
    try:
        state.report = await verify(_Progress(reader, state))  # type: ignore[arg-type]
    except Exception as exc:  # shown on the page; the log keeps serving
        state.error = f"The verification could not run: {exc}"
    finally:
        state.running = False
