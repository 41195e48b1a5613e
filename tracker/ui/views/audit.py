"""What only an event log gives: a task's history, the live event feed, and (tracker admins)
the log's head and a chain verification. Reads go through the API's own functions and its
rule of who may read what (``caller``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tracker.audit import feed, history
from tracker.audit.verify import Report, verify
from tracker.errors import NotFound, Unauthorized
from tracker.events.reading import row_at
from tracker.http import context
from tracker.http.keys import AUDIT
from tracker.http.routes.audit import caller
from tracker.ui import render

routes = web.RouteTableDef()

HISTORY_PAGE = 500  # events of a task history shown per page

FEED_PAGE = 50
FEED_WAIT = 8  # seconds, as LIVE_WAIT in dashboard.py
RECENT = 2000  # positions the Events page looks back over when it opens


@dataclass
class Verification:
    started: float = 0.0
    head: int = 0
    checked: int = 0  # the last position read so far (progress while running)
    running: bool = False
    report: Report | None = None
    error: str = ""
    task: asyncio.Task[None] | None = field(default=None, repr=False)


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
    who = caller(request)
    task_id = render.form_int(request.match_info, "id", 0, 1)
    services = request.app[AUDIT]
    await services.index_up_to_date()
    after = render.query_int(request, "after")  # paging: the position the last page ended at
    found = await history.history(services.index, services.reader, task_id, after, HISTORY_PAGE)
    if found is None:
        raise NotFound("Task not found")
    if not who.can_read(request, found.summary.project):
        raise Unauthorized("You need the Read role on this task's project")
    events = [(e, story(e), json.dumps(e.get("event", {}), indent=1)) for e in found.events]
    next_after = found.events[-1]["position"] if found.more and found.events else 0
    values = {"found": found, "events": events, "task_id": task_id, "after": after,
              "next_after": next_after}  # fmt: skip
    return render.page(request, "task.html", values)


_RESULTS = {0: "OK", 1: "FAIL", 2: "SKIP"}


def story(record: dict[str, Any]) -> str:
    """One line of a task's history, as a person reads it (the event's fields stay below)."""
    event, kind = record.get("event", {}), record.get("type", "")
    if kind in ("TaskSubmitted", "TasksSubmitted"):
        copied = event.get("chained_from")
        return f"Chain copy of task #{copied}" if copied else f"Submitted by {event.get('actor')}"
    if kind == "TaskAssigned":
        return f"Assigned to worker #{event.get('worker_id')}"
    if kind == "TaskReleased":
        result = _RESULTS.get(event.get("result", -1), str(event.get("result")))
        return (f"Released {result} by worker #{event.get('worker_id')}: "
                f"{event.get('outcome')}, verification {event.get('verification', 0)}")  # fmt: skip
    return {
        "AssignmentExpired": f"Assignment of worker #{event.get('worker_id')} expired",
        "AssignedTasksReclaimed": "Taken back from its worker by a manager",
        "FailedTasksReset": "Failed task reset to new by a manager",
        "ProjectTasksDeleted": "Deleted by a hard reset of the project",
    }.get(kind, kind)


def _filters(request: web.Request) -> dict[str, Any]:
    return {
        "project": render.query_int(request, "project"),
        "task": render.query_int(request, "task"),
        "worker": render.query_int(request, "worker"),
        "type": request.query.get("type", "").strip()[:64],
    }


def _matches(record: dict[str, Any], wanted: dict[str, Any]) -> bool:
    event = record.get("event", {})
    if wanted["type"] and record.get("type") != wanted["type"]:
        return False
    for name, keys in (
        ("project", ("project_id",)),
        ("task", ("task_id", "first_task_id")),
        ("worker", ("worker_id", "assignee")),
    ):
        if wanted[name] and all(event.get(key) != wanted[name] for key in keys):
            return False
    return True


async def _feed(request: web.Request, after: int, wait: float) -> tuple[list, int]:
    """Matching events after ``after``: the first page that has any, or none once ``wait``
    seconds have passed (0: one look)."""
    who = caller(request)
    services = request.app[AUDIT]
    visible = (
        None
        if who.everything
        else feed.readable_projects(context.tracker(request).state, who.manager_id)
    )
    wanted = _filters(request)
    deadline = time.monotonic() + wait
    while True:
        remaining = max(0.0, deadline - time.monotonic())
        page = await feed.wait_for_page(services, after, FEED_PAGE, remaining, visible)
        found = [r for r in page.events if _matches(r, wanted)]
        after = page.next
        if found or remaining <= 0:
            return found, after


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
    rows = [(r, json.dumps(r.get("event", {}))) for r in reversed(found[-FEED_PAGE:])]
    return render.page(
        request, "events.html", {"rows": rows, "after": after, "filters": _filters(request)}
    )


@routes.get("/ui/events/feed")
async def events_feed(request: web.Request) -> web.Response:
    render.require_login(request)
    after = render.query_int(request, "after")
    found, after = await _feed(request, after, FEED_WAIT)
    rows = [(r, json.dumps(r.get("event", {}))) for r in reversed(found)]
    return render.fragment(
        request,
        "fragments/events.html",
        {"rows": rows, "after": after, "filters": _filters(request)},
    )


@routes.get("/ui/audit")
async def audit_page(request: web.Request) -> web.Response:
    return render.page(request, "audit.html", await _audit_values(request))


@routes.get("/ui/audit/status")
async def audit_status(request: web.Request) -> web.Response:
    return render.fragment(request, "fragments/verification.html", await _audit_values(request))


async def _audit_values(request: web.Request) -> dict[str, Any]:
    if not caller(request).everything:
        raise Unauthorized("The audit page is for tracker admins")
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
    if not caller(request).everything:
        raise Unauthorized("The audit page is for tracker admins")
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
        state.task = asyncio.create_task(_run_verify(state, services.reader), name="ui-verify")
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
