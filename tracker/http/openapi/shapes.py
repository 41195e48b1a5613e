"""The ``content`` of answers that handlers build as plain dicts, as msgspec types.

Handlers that already answer with a Struct (``LogPage``, ``TaskView``...) are described by that
Struct itself; these describe the dicts around them. Schemathesis checks every answer of a real
server against them (``tests/fuzz/test_api_fuzz.py``), so a shape that drifts from its handler
fails there.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tracker.audit.attempts import Attempt
from tracker.http.routes.managers import ManagerRoleOn
from tracker.http.routes.monitoring import WorkerStats
from tracker.http.routes.tasks import Released
from tracker.projections.monitoring import Snapshot
from tracker.projections.projects import ProjectView
from tracker.queries.tasks import TaskRow
from tracker.queries.views import AssignedTasks, ManagerView, TaskView, WorkerAccessView, WorkerView


class WorkerContent(msgspec.Struct):
    worker: WorkerView


class StatsContent(msgspec.Struct):
    stats: list[WorkerStats]


class TaskContent(msgspec.Struct):
    task: TaskView


class ReleaseContent(msgspec.Struct):
    updated: bool


class TasksContent(msgspec.Struct):
    tasks: list[TaskView]


class ReleasedContent(msgspec.Struct):
    tasks: list[Released]


class ProjectId(msgspec.Struct):
    id: int


class ProjectContent(msgspec.Struct):
    project: ProjectView


class ProjectList(msgspec.Struct):
    projects: list[ProjectView]


class AccessList(msgspec.Struct):
    accesses: list[WorkerAccessView]


class SecretContent(msgspec.Struct):
    secret: str


class WebhookSecretContent(msgspec.Struct):
    webhook_secret: str


class ManagerContent(msgspec.Struct):
    manager: ManagerView


class AccountContent(msgspec.Struct):
    logged_in: bool
    manager: ManagerView | msgspec.UnsetType = msgspec.UNSET


class ManagerList(msgspec.Struct):
    managers: list[ManagerView]


class ManagerRoles(msgspec.Struct):
    managers: list[ManagerRoleOn]


class Affected(msgspec.Struct):
    affected_tasks: int


class Snapshots(msgspec.Struct):
    snapshots: list[Snapshot]


class Assignees(msgspec.Struct):
    assignees: list[AssignedTasks]


class Digest(msgspec.Struct):
    position: int
    fingerprint: str
    models: dict[str, dict[str, str]]
    keys: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class TaskSummary(msgspec.Struct):
    id: int
    project: int
    submitted_by: str
    submitted_at: float
    chained_from: int
    state: str
    assignee: int
    chained_to: list[dict[str, int]]


class TaskHistory(msgspec.Struct):
    task: TaskSummary
    events: list[dict[str, Any]]
    more: bool


class TaskAttempts(msgspec.Struct):
    """``GET /task/view/:id``: the history's summary, the task as the browser lists it (null
    once it is neither live nor among the project's last closed tasks), and its attempts."""

    task: TaskSummary
    row: TaskRow | None
    attempts: list[Attempt]
    more: bool


class TaskCounts(msgspec.Struct):
    queued: int
    assigned: int
    failed: int
    closed: int


class Assignee(msgspec.Struct):
    worker: int
    tasks: int


class ProjectState(msgspec.Struct):
    project: int
    position: int
    at: float | None
    tasks: TaskCounts
    queue_depth: int
    assignees: list[Assignee]
    replayed_from: int


class EventPage(msgspec.Struct):
    events: list[dict[str, Any]]
    next: int
    head: int


class Health(msgspec.Struct):
    """``GET /healthz``: the process is up, and in which phase (starting, replaying, ready,
    stopping, failed)."""

    up: bool
    phase: str


class Readiness(msgspec.Struct):
    """``GET /readyz``: whether the tracker serves the log's state; its positions once open."""

    ready: bool
    phase: str
    position: int | msgspec.UnsetType = msgspec.UNSET
    durable_position: int | msgspec.UnsetType = msgspec.UNSET
