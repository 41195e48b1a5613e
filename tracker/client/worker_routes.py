"""The worker side of the API (what a worker fleet calls), one function per route.

Each returns a ``Call``; ``Client`` and ``AsyncClient`` expose them as methods.
"""

from __future__ import annotations

import time
from typing import Literal

from tracker.client import calls
from tracker.client.calls import Auth, Call
from tracker.client.shapes import (
    Info,
    NewTask,
    Release,
    Released,
    Result,
    Task,
    Touched,
    WireTask,
    Worker,
    WorkerStats,
    tasks_of,
)

LogLevel = Literal["trace", "info", "warn", "error"]


def info() -> Call[Info]:
    """``GET /``: the server's name and API version."""
    return calls.get("/", calls.content_as(Info))


def create_worker(alias: str = "") -> Call[Worker]:
    """``POST /worker/create``: a new worker; the answer is the only one holding its secret."""
    return calls.post("/worker/create", {"alias": alias}, calls.field_of("worker", Worker))


def update_worker(alias: str) -> Call[None]:
    """``POST /worker/update``: set this worker's alias."""
    return calls.post("/worker/update", {"alias": alias}, auth=Auth.WORKER, idempotent=True)


def get_worker(worker_id: int) -> Call[Worker]:
    """``GET /worker/get/:id`` (the secret only for tracker admins)."""
    return calls.get(f"/worker/get/{int(worker_id)}", calls.field_of("worker", Worker))


def worker_stats() -> Call[list[WorkerStats]]:
    """``GET /worker/stats``: every worker with its closed task count."""
    return calls.get("/worker/stats", calls.field_of("stats", list[WorkerStats]))


def request_access(project: int, *, assign: bool = True, submit: bool = False) -> Call[None]:
    """``POST /project/request_access``: ask a manager for access to a project."""
    body = {"project": int(project), "assign": assign, "submit": submit}
    return calls.post("/project/request_access", body, auth=Auth.WORKER)


def submit_task(task: NewTask) -> Call[None]:
    """``POST /task/submit`` (the original does not return the new task's id)."""
    return calls.post("/task/submit", task, auth=Auth.WORKER)


def bulk_submit(tasks: list[NewTask]) -> Call[None]:
    """``POST /task/bulk_submit``: tasks of one project, all or nothing."""
    return calls.post("/task/bulk_submit", {"requests": tasks}, auth=Auth.WORKER)


def _task_or_none(answer: calls.Answer) -> Task | None:
    if not answer.envelope.ok:
        return None
    return tasks_of([answer.content(dict[str, WireTask])["task"]])[0]


def _no_task_is_fine(answer: calls.Answer) -> bool:
    return answer.envelope.ok or answer.envelope.message == "No task available"


def get_task(project: int) -> Call[Task | None]:
    """``GET /task/get/:project``: claim a task, or ``None`` when there is none to give.

    Not idempotent (each call assigns), so it is retried only when the request was never sent.
    """
    return Call(
        "GET", f"/task/get/{int(project)}", _task_or_none, auth=Auth.WORKER,
        accept=_no_task_is_fine,
    )  # fmt: skip


def _updated(answer: calls.Answer) -> bool:
    return bool(answer.content(dict[str, bool]).get("updated", False))


def release(task_id: int, result: Result | int, verification: int = 0,
            reason: str = "") -> Call[bool]:  # fmt: skip
    """``POST /task/release``: ``True`` if the task was updated (closed, failed, skipped).

    ``reason`` (why it failed: an error, a stderr tail; at most 4096 bytes) is kept in the
    task's history by a tracker; the original ignores it. Retried after a lost answer: a
    release the server already applied finds the task no longer assigned to this worker and
    changes nothing (the answer is then ``False``).
    """
    body: dict[str, object] = {
        "task_id": int(task_id), "result": int(result), "verification": int(verification),
    }  # fmt: skip
    if reason:
        body["reason"] = reason
    return calls.post("/task/release", body, _updated, auth=Auth.WORKER, idempotent=True)


def _tasks_or_none(answer: calls.Answer) -> list[Task]:
    return (
        tasks_of(answer.content(dict[str, list[WireTask]])["tasks"]) if answer.envelope.ok else []
    )


def bulk_get(project: int, count: int) -> Call[list[Task]]:
    """``GET /task/bulk_get/:project?count=N`` (a tracker extension): up to ``count`` tasks,
    best first, as ``count`` calls of ``get_task`` in a row would give them; ``[]`` when
    there is none. ``count`` at most ``info().max_batch_size``; a rate-limited project gives
    one task per call. Retried only when the request was never sent."""
    return Call(
        "GET", f"/task/bulk_get/{int(project)}?count={int(count)}", _tasks_or_none,
        auth=Auth.WORKER, accept=_no_task_is_fine,
    )  # fmt: skip


def bulk_release(releases: list[Release]) -> Call[list[Released]]:
    """``POST /task/bulk_release`` (a tracker extension): each task as ``release`` would,
    answered per task in the same order. At most ``info().max_batch_size`` of them; one that
    is malformed (a result other than 0-2, a task listed twice) refuses the whole batch.
    Retried after a lost answer: what was applied is then answered ``not_assigned``."""
    body = {"releases": releases}
    return calls.post("/task/bulk_release", body, calls.field_of("tasks", list[Released]),
                      auth=Auth.WORKER, idempotent=True)  # fmt: skip


def touch(task_id: int, seconds: int = 0) -> Call[Touched]:
    """``POST /task/touch`` (a tracker extension): keep a task this worker holds, its
    deadline moved to ``seconds`` from now (0: the task's ``max_assign_time``), never
    earlier. ``Conflict`` (409) when the worker no longer holds it."""
    body = {"task_id": int(task_id), "seconds": int(seconds)}
    return calls.post("/task/touch", body, calls.content_as(Touched), auth=Auth.WORKER,
                      idempotent=True)  # fmt: skip


def log(level: LogLevel, scope: str, message: str, timestamp: int | None = None) -> Call[None]:
    """``POST /log/<level>``: a log line under this worker's name."""
    stamp = int(time.time()) if timestamp is None else timestamp
    body = {"scope": scope, "message": message, "timestamp": stamp}
    return calls.post(f"/log/{level}", body, auth=Auth.WORKER)


def project_secret(project: int) -> Call[str]:
    """``GET /project/secret/:id``: as a worker with assign access, or as a manager (SECRET)."""
    return calls.get(f"/project/secret/{int(project)}", calls.field_of("secret", str),
                     auth=Auth.EITHER)  # fmt: skip
