"""What the API and the UI show of the read models: the original's field names and order."""

from __future__ import annotations

import base64

import msgspec

from tracker.projections.managers import Manager
from tracker.projections.projects import ProjectView
from tracker.projections.tasks import Task
from tracker.projections.workers import Worker


class WorkerView(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: int
    created: int
    alias: str = ""  # left out when empty, as in the original
    secret: str | None
    paused: bool


class TaskView(msgspec.Struct):
    id: int
    priority: int
    project: ProjectView
    assignee: int
    retries: int
    max_retries: int
    status: int
    recipe: str
    max_assign_time: int
    assign_time: int
    verification_count: int


class WorkerAccessView(msgspec.Struct):
    submit: bool
    assign: bool
    request: bool  # true: a pending request; false: granted access
    worker: WorkerView
    project: int


class AssignedTasks(msgspec.Struct):
    assignee: str
    task_count: int


class ManagerView(msgspec.Struct):
    id: int
    username: str
    tracker_admin: bool
    register_time: int


def worker_view(worker: Worker, with_secret: bool) -> WorkerView:
    secret = base64.b64encode(worker.secret).decode() if with_secret else None
    return WorkerView(
        id=worker.id, created=worker.created, alias=worker.alias, secret=secret,
        paused=worker.paused,
    )  # fmt: skip


def task_view(task: Task, project: ProjectView) -> TaskView:
    return TaskView(
        task.id, task.priority, project, task.assignee, task.retries, task.max_retries,
        task.status, task.recipe, task.max_assign_time, int(task.assign_time),
        task.verification_count,
    )  # fmt: skip


def manager_view(manager: Manager) -> ManagerView:
    return ManagerView(manager.id, manager.username, manager.tracker_admin, manager.register_time)
