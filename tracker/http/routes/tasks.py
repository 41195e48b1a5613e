"""Task routes: submit, bulk submit, assign (``/task/get``), release."""

from __future__ import annotations

import msgspec
from aiohttp import web

from tracker.commands import tasks as cmd
from tracker.errors import InvalidRequest
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


def checked_reason(reason: str) -> str:
    """``reason``, if it fits (``InvalidRequest`` naming the bound otherwise)."""
    if len(reason) * 4 > MAX_REASON_BYTES and len(reason.encode()) > MAX_REASON_BYTES:
        raise InvalidRequest(f"Invalid request: reason is longer than {MAX_REASON_BYTES} bytes")
    return reason


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
