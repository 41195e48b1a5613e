"""Task routes: submit, bulk submit, assign (``/task/get``), release, and the tracker's
extensions for workers at full speed: batch assignment (``/task/bulk_get``), batch release
(``/task/bulk_release``) and keep-alive (``/task/touch``). The worker lane serves all of them."""

from __future__ import annotations

import msgspec
from aiohttp import web

from tracker.commands import batches
from tracker.commands import tasks as cmd
from tracker.errors import InvalidRequest
from tracker.events.tasks import TasksReleased
from tracker.http import context, envelope, parsing
from tracker.http.call import Call
from tracker.http.keys import SETTINGS
from tracker.http.parsing import Int16, Int64
from tracker.projections.state import State
from tracker.queries.views import task_view

routes = web.RouteTableDef()

_NOT_CLOSED = envelope.encode(
    envelope.Envelope(True, "Task was not marked as closed", content={"updated": False})
)
_CLOSED = envelope.encode(envelope.Envelope(True, content={"updated": True}))
_UPDATED = {cmd.Outcome.CLOSED, cmd.Outcome.RETRY, cmd.Outcome.FAILED, cmd.Outcome.SKIPPED}


class SubmitBody(msgspec.Struct):
    project: Int64 = 0
    recipe: str = ""
    priority: Int16 = 0
    max_retries: Int16 = 0
    max_assign_time: Int64 = 0
    verification_count: Int16 = 0
    hash_u64: Int64 = 0
    hash64: Int64 = 0  # the name API_DOCS and the original UI use; the original ignored it
    unique_string: str = ""

    def command(self, worker_id: int) -> cmd.SubmitTask:
        return cmd.SubmitTask(
            worker_id=worker_id, project=self.project, recipe=self.recipe,
            priority=self.priority, max_retries=self.max_retries,
            max_assign_time=self.max_assign_time, verification_count=self.verification_count,
            hash_u64=self.hash_u64, hash64=self.hash64, unique_string=self.unique_string,
        )  # fmt: skip


class BulkBody(msgspec.Struct):
    requests: list[SubmitBody] = []


BULK_SHAPE = '{"requests": [{"project": ..., "recipe": ...}, ...]}'


#: The longest failure reason a release may carry, in bytes of UTF-8 (a stack trace's tail).
MAX_REASON_BYTES = 4096


class ReleaseBody(msgspec.Struct):
    task_id: Int64 = 0
    result: Int64 = 0
    verification: Int64 = 0
    reason: str = ""  # a tracker extension; the original ignored unknown fields


def checked_reason(reason: str, where: str = "") -> str:
    """``reason``, if it fits (``InvalidRequest`` naming the bound otherwise); ``where`` names
    the element of a batch."""
    if len(reason) * 4 > MAX_REASON_BYTES and len(reason.encode()) > MAX_REASON_BYTES:
        raise InvalidRequest(
            f"Invalid request: {where}reason is longer than {MAX_REASON_BYTES} bytes"
        )
    return reason


class BulkReleaseBody(msgspec.Struct):
    releases: list[ReleaseBody] = []


class Released(msgspec.Struct):
    """What a batch release did to one task: ``outcome`` is the release's (``closed``,
    ``voted``, ``retry``, ``failed``, ``skipped``), or ``not_assigned`` when the worker did not
    hold the task (nothing happened to it); ``updated`` as ``/task/release`` answers it."""

    task_id: int
    updated: bool
    outcome: str


NOT_ASSIGNED = "not_assigned"


class TouchBody(msgspec.Struct):
    task_id: Int64 = 0
    seconds: Int64 = 0  # 0: the task's max_assign_time (or tasks.default_max_assign_time)


class Touched(msgspec.Struct):
    deadline: float  # Unix time
    remaining: float  # seconds from now (the server's clock)


@routes.post("/task/submit")
async def submit(request: Call) -> web.Response:
    worker = context.worker(request)
    command = (await parsing.body(request, SubmitBody)).command(worker.id)
    await context.tracker(request).execute(command)
    return envelope.ok()


@routes.post("/task/bulk_submit")
async def bulk_submit(request: Call) -> web.Response:
    worker = context.worker(request)
    body = await parsing.body(request, BulkBody, nested=("requests",), shape=BULK_SHAPE)
    command = cmd.BulkSubmit(
        worker_id=worker.id, tasks=[item.command(worker.id) for item in body.requests]
    )
    await context.tracker(request).execute(command)
    return envelope.ok()


@routes.get("/task/get/{project}")
async def assign(request: Call) -> web.Response:
    worker = context.worker(request)
    project_id = parsing.path_id_or_zero(request, "project")  # 0: the decider refuses it
    command = cmd.AssignTask(
        worker_id=worker.id, project=project_id,
        default_assign_time=request.app[SETTINGS].tasks.default_max_assign_time,
    )  # fmt: skip

    def reply(state: State, events: list) -> bytes:
        task = state.tasks.get(events[0].task_id)
        project = state.projects.get(events[0].project_id)
        assert task is not None and project is not None  # just assigned
        content = {"task": task_view(task, project.view)}
        return envelope.encode(envelope.Envelope(True, content=content))

    answer = await context.tracker(request).execute(command, reply)
    return envelope.respond(answer)  # type: ignore[arg-type]


@routes.post("/task/release")
async def release(request: Call) -> web.Response:
    worker = context.worker(request)
    body = await parsing.body(request, ReleaseBody)
    if body.task_id == 0:
        raise InvalidRequest("Invalid request")
    command = cmd.ReleaseTask(
        worker_id=worker.id, task_id=body.task_id, result=body.result,
        verification=body.verification, reason=checked_reason(body.reason),
    )  # fmt: skip
    events = await context.tracker(request).execute(command)
    updated = bool(events) and events[0].outcome in _UPDATED  # type: ignore[union-attr,attr-defined]
    return envelope.respond(_CLOSED if updated else _NOT_CLOSED)


def _batch_limit(request: Call) -> int:
    """``tasks.max_batch_size``; a tracker with batches off answers 404 as the original."""
    limit: int = request.app[SETTINGS].tasks.max_batch_size
    if not limit:
        raise web.HTTPNotFound()
    return limit


@routes.get("/task/bulk_get/{project}")
async def bulk_assign(request: Call) -> web.Response:
    limit = _batch_limit(request)
    worker = context.worker(request)
    project_id = parsing.path_id_or_zero(request, "project")  # 0: the decider refuses it
    command = batches.AssignTasks(
        worker_id=worker.id, project=project_id,
        count=parsing.query_count(request, "count", limit),
        default_assign_time=request.app[SETTINGS].tasks.default_max_assign_time,
    )  # fmt: skip

    def reply(state: State, events: list) -> bytes:
        project = state.projects.get(events[0].project_id)
        assert project is not None
        tasks, view = state.tasks.tasks, project.view
        content = {"tasks": [task_view(tasks[a.task_id], view) for a in events[0].tasks]}
        return envelope.encode(envelope.Envelope(True, content=content))

    answer = await context.tracker(request).execute(command, reply)
    return envelope.respond(answer)  # type: ignore[arg-type]


@routes.post("/task/bulk_release")
async def bulk_release(request: Call) -> web.Response:
    limit = _batch_limit(request)
    worker = context.worker(request)
    body = await parsing.body(request, BulkReleaseBody, nested=("releases",))
    if len(body.releases) > limit:
        raise InvalidRequest(f"Invalid request: at most {limit} releases per request")
    command = batches.ReleaseTasks(worker_id=worker.id, tasks=[
        cmd.ReleaseTask(
            worker_id=worker.id, task_id=item.task_id, result=item.result,
            verification=item.verification,
            reason=checked_reason(item.reason, f"releases[{index}]: "),
        ) for index, item in enumerate(body.releases)
    ])  # fmt: skip
    events = await context.tracker(request).execute(command)
    outcomes = {release.task_id: release.outcome for event in events
                if isinstance(event, TasksReleased) for release in event.tasks}  # fmt: skip
    answers = []
    for item in command.tasks:
        outcome = outcomes.get(item.task_id)
        updated = outcome is not None and outcome in _UPDATED
        answers.append(Released(item.task_id, updated, outcome or NOT_ASSIGNED))
    return envelope.ok({"tasks": answers})


@routes.post("/task/touch")
async def touch(request: Call) -> web.Response:
    longest = request.app[SETTINGS].tasks.max_keep_alive
    if not longest:
        raise web.HTTPNotFound()
    worker = context.worker(request)
    body = await parsing.body(request, TouchBody)
    if body.task_id <= 0:
        raise InvalidRequest("Invalid request: task_id must be a positive task id")
    if not 0 <= body.seconds <= longest:
        raise InvalidRequest(f"Invalid request: seconds must be between 0 and {longest:g}")
    command = cmd.ExtendAssignment(
        worker_id=worker.id, task_id=body.task_id, seconds=body.seconds,
        default_assign_time=request.app[SETTINGS].tasks.default_max_assign_time,
    )  # fmt: skip
    tracker = context.tracker(request)

    def reply(state: State, events: list) -> Touched:
        task = state.tasks.get(body.task_id)
        assert task is not None  # held: checked by the decider
        return Touched(task.deadline, round(task.deadline - tracker.clock(), 3))

    touched = await tracker.execute(command, reply)
    return envelope.ok(touched)
