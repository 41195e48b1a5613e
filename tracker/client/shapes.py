"""What the tracker answers, as typed msgspec Structs (the original's field names).

Decoding is tolerant: unknown fields are ignored and missing ones take their defaults, so a
newer or older server still decodes.
"""

from __future__ import annotations

import enum

import msgspec


class Result(enum.IntEnum):
    """The ``result`` of ``/task/release``."""

    OK = 0
    FAIL = 1
    SKIP = 2


class Level(enum.IntEnum):
    """Log levels as ``/logs`` numbers them (FATAL is 1, PANIC 2, as in the original)."""

    FATAL = 1
    PANIC = 2
    ERROR = 3
    WARN = 4
    INFO = 5
    DEBUG = 6
    TRACE = 7


class Info(msgspec.Struct, kw_only=True):
    """``GET /``. The last three are this tracker's extensions; the original does not send
    them, and 0 means the same: no batches (``max_batch_size``), no keep-alive
    (``max_keep_alive``), and an unknown default hold time (``default_max_assign_time``)."""

    name: str
    version: str
    max_batch_size: int = 0
    max_keep_alive: float = 0.0
    default_max_assign_time: float = 0.0


class Project(msgspec.Struct, kw_only=True):
    id: int
    name: str
    priority: int = 0
    clone_url: str = ""
    git_repo: str = ""
    version: str = ""
    motd: str = ""
    public: bool = False
    hidden: bool = False
    chain: int = 0
    paused: bool = False
    assign_rate: float = 0.0
    submit_rate: float = 0.0


class _TaskFields(msgspec.Struct, kw_only=True):
    id: int
    recipe: str
    priority: int = 0
    assignee: int = 0
    retries: int = 0
    max_retries: int = 0
    status: int = 1
    max_assign_time: int = 0
    assign_time: int = 0
    verification_count: int = 0


class Task(_TaskFields, kw_only=True):
    project: Project


class WireTask(_TaskFields, kw_only=True):
    """A task as it is read off the wire: its project still JSON. An unlimited rate is sent as
    ``1.7976931348623157e308``, which takes msgspec about 30 us to parse (a tenth of a
    microsecond for other numbers), and every task of a project carries the same project: so
    each distinct project text is parsed once (``tasks_of``)."""

    project: msgspec.Raw


_PROJECTS: dict[bytes, Project] = {}  # project text -> parsed, for the few projects a worker sees
_FIELDS = tuple(name for name in _TaskFields.__struct_fields__)


def tasks_of(wire: list[WireTask]) -> list[Task]:
    """The tasks, each project parsed once per distinct text."""
    found = []
    for task in wire:
        text = bytes(task.project)
        project = _PROJECTS.get(text)
        if project is None:
            if len(_PROJECTS) >= 64:
                _PROJECTS.clear()
            project = _PROJECTS[text] = msgspec.json.decode(text, type=Project)
        fields = {name: getattr(task, name) for name in _FIELDS}
        found.append(Task(project=project, **fields))
    return found


class Release(msgspec.Struct, omit_defaults=True):
    """One task of ``bulk_release``: its result, verification and reason, as ``release``."""

    task_id: int
    result: Result
    verification: int = 0
    reason: str = ""


class Released(msgspec.Struct, kw_only=True):
    """What ``bulk_release`` did to one task: ``outcome`` is ``closed``, ``voted``, ``retry``,
    ``failed``, ``skipped``, or ``not_assigned`` (this worker did not hold it: nothing
    happened); ``updated`` as ``release`` answers it."""

    task_id: int
    updated: bool = False
    outcome: str = ""


class Touched(msgspec.Struct, kw_only=True):
    """What ``touch`` did: the task's deadline (Unix time) and the seconds left to it."""

    deadline: float
    remaining: float = 0.0


class NewTask(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One task to submit; ``hash_u64`` and ``unique_string`` are the two ways to make it unique."""

    project: int
    recipe: str
    priority: int = 0
    max_retries: int = 0
    max_assign_time: int = 0
    hash_u64: int = 0
    unique_string: str = ""
    verification_count: int = 0


class Worker(msgspec.Struct, kw_only=True):
    """A worker as ``/worker/get`` shows it; ``secret`` only for tracker admins (or at creation)."""

    id: int
    created: int = 0
    alias: str = ""
    secret: str | None = None
    paused: bool = False

    def __repr__(self) -> str:
        hidden = "None" if self.secret is None else "'…'"
        return (
            f"Worker(id={self.id}, created={self.created}, alias={self.alias!r}, "
            f"secret={hidden}, paused={self.paused})"
        )


class WorkerStats(msgspec.Struct, kw_only=True):
    id: int
    alias: str = ""
    closed_task_count: int = 0
    paused: bool = False


class WorkerAccess(msgspec.Struct, kw_only=True):
    """An access record: ``request`` true means pending, false means granted."""

    worker: Worker
    project: int
    assign: bool = False
    submit: bool = False
    request: bool = False


class Manager(msgspec.Struct, kw_only=True):
    id: int
    username: str
    tracker_admin: bool = False
    register_time: int = 0


class ManagerRole(msgspec.Struct, kw_only=True):
    manager: Manager
    role: int


class Account(msgspec.Struct, kw_only=True):
    logged_in: bool = False
    manager: Manager | None = None


class Assignees(msgspec.Struct, kw_only=True):
    assignee: str
    task_count: int


class Snapshot(msgspec.Struct, kw_only=True):
    new_task_count: int = 0
    failed_task_count: int = 0
    closed_task_count: int = 0
    worker_access_count: int = 0
    awaiting_verification_count: int = 0
    time_stamp: int = 0


class LogEntry(msgspec.Struct, kw_only=True):
    message: str
    timestamp: int
    data: str = ""
    level: int = 0


class LogPage(msgspec.Struct, kw_only=True):
    """``POST /logs``: ``next`` (this tracker only) is the cursor of the following page."""

    logs: list[LogEntry] | None = None  # the original sends null for "nothing"
    next: str = ""


class Role(enum.IntFlag):
    """A manager's role bits on a project."""

    NONE = 0
    READ = 1
    EDIT = 2
    MANAGE_ACCESS = 4
    SECRET = 8
    MAINTENANCE = 16
    ALL = 31


class TaskRow(msgspec.Struct, kw_only=True):
    """A task as ``GET /project/tasks/:id`` lists it (this tracker only). ``state``: queued,
    awaiting_verification, assigned, failed or closed; ``reason``: its last failed attempt's;
    ``assignee``: for a closed task, the worker that closed it."""

    id: int
    state: str
    priority: int = 0
    recipe: str = ""
    assignee: int = 0
    retries: int = 0
    max_retries: int = 0
    verification_count: int = 0
    votes: int = 0
    submitted: float = 0.0
    reason: str = ""


class TaskPage(msgspec.Struct, kw_only=True):
    """A page of tasks; ``next``, the cursor of the following page (None: no more)."""

    tasks: list[TaskRow]
    next: str | None = None


class Attempt(msgspec.Struct, kw_only=True):
    """One assignment of a task and how it ended (released, expired, taken back, deleted;
    "" while the worker holds it)."""

    number: int
    worker: int
    assigned_at: float
    position: int = 0
    ended_at: float = 0.0
    end: str = ""
    result: str = ""
    outcome: str = ""
    reason: str = ""


class TaskSummary(msgspec.Struct, kw_only=True):
    id: int
    project: int = 0
    state: str = ""
    assignee: int = 0
    submitted_by: str = ""
    submitted_at: float = 0.0
    chained_from: int = 0


class TaskAttempts(msgspec.Struct, kw_only=True):
    """``GET /task/view/:id``: the task's summary from its history, its row (None once it is
    neither live nor among its project's last closed tasks), and its attempts."""

    task: TaskSummary
    attempts: list[Attempt]
    row: TaskRow | None = None
    more: bool = False
