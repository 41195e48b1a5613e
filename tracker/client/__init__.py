"""A typed Python client for the tracker (and the original task_tracker), sync and asyncio,
and a worker loop on top of it.

It imports nothing from the rest of ``tracker``. Its calls are the original's wire API, so it
works against existing task_tracker deployments as well, plus this tracker's extensions
(``bulk_get``, ``bulk_release``, ``touch``), which the worker loop uses only when ``GET /``
announces them.
"""

from tracker.client.aio import AsyncClient
from tracker.client.errors import (
    BadRequest,
    ClientError,
    Conflict,
    ConnectFailed,
    ConnectionLost,
    Forbidden,
    InternalServerError,
    NoTaskAvailable,
    NotFound,
    ProtocolError,
    RateLimited,
    Refused,
    RequestTooLarge,
    ServerError,
    TransportError,
    Unauthorized,
    UsageError,
    WorkerAuthFailed,
    WorkerPaused,
)
from tracker.client.manager_routes import ProjectSettings
from tracker.client.session import Backoff, WorkerIdentity
from tracker.client.shapes import (
    Account,
    Assignees,
    Attempt,
    Info,
    Level,
    LogEntry,
    LogPage,
    Manager,
    ManagerRole,
    NewTask,
    Project,
    Release,
    Released,
    Result,
    Role,
    Snapshot,
    Task,
    TaskAttempts,
    TaskPage,
    TaskRow,
    Touched,
    Worker,
    WorkerAccess,
    WorkerStats,
)
from tracker.client.sync import Client
from tracker.client.task_actions import Acted, TaskFilter

__all__ = [
    "Account", "Acted", "Assignees", "AsyncClient", "Attempt", "Backoff", "BadRequest", "Client",
    "ClientError", "Conflict", "ConnectFailed", "ConnectionLost", "Forbidden", "Info",
    "InternalServerError", "Level", "LogEntry", "LogPage", "Manager", "ManagerRole", "NewTask",
    "NoTaskAvailable", "NotFound", "Project", "ProjectSettings", "ProtocolError", "RateLimited",
    "Refused", "Release", "Released", "RequestTooLarge", "Result", "Role", "ServerError",
    "Snapshot", "Task", "TaskAttempts", "TaskFilter", "TaskPage", "TaskRow", "Touched",
    "TransportError", "Unauthorized", "UsageError", "Worker", "WorkerAccess", "WorkerAuthFailed",
    "WorkerIdentity", "WorkerPaused", "WorkerStats",
]  # fmt: skip
