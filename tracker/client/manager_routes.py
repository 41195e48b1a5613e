"""The manager side of the API (accounts, projects, access, roles, maintenance, statistics).

Manager calls are authenticated by the session cookie that ``login`` or ``register`` sets.
"""

from __future__ import annotations

import urllib.parse

import msgspec

from tracker.client import calls
from tracker.client.calls import Call
from tracker.client.shapes import (
    Account,
    Assignees,
    LogPage,
    Manager,
    ManagerRole,
    Project,
    Snapshot,
    TaskAttempts,
    TaskPage,
    WorkerAccess,
)


class ProjectSettings(msgspec.Struct, kw_only=True):
    """The body of ``/project/create``; a rate of 0 means unlimited."""

    name: str
    clone_url: str = ""
    git_repo: str = ""
    version: str = ""
    priority: int = 0
    motd: str = ""
    public: bool = False
    hidden: bool = False
    chain: int = 0
    assign_rate: float = 0.0
    submit_rate: float = 0.0


def register(username: str, password: str) -> Call[None]:
    """``POST /register``: create a manager and log in (the first one is tracker admin)."""
    return calls.post("/register", {"username": username, "password": password})


def login(username: str, password: str) -> Call[Manager]:
    return calls.post("/login", {"username": username, "password": password},
                      calls.field_of("manager", Manager), idempotent=True)  # fmt: skip


def logout() -> Call[None]:
    return calls.get("/logout", lambda answer: None)


def _account_ok(answer: calls.Answer) -> bool:
    return True  # "not logged in" is 200 ok:false with content, an answer, not an error


def account() -> Call[Account]:
    """``GET /account``: who is logged in (``logged_in`` false when no one is)."""
    return Call("GET", "/account", calls.content_as(Account), idempotent=True, accept=_account_ok)


def managers() -> Call[list[Manager]]:
    return calls.get("/manager/list", calls.field_of("managers", list[Manager]))


def managers_of(project: int) -> Call[list[ManagerRole]]:
    return calls.get(f"/manager/list_for_project/{int(project)}",
                     calls.field_of("managers", list[ManagerRole]))  # fmt: skip


def promote(manager: int) -> Call[None]:
    return calls.get(f"/manager/promote/{int(manager)}", lambda answer: None)


def demote(manager: int) -> Call[None]:
    return calls.get(f"/manager/demote/{int(manager)}", lambda answer: None)


def set_role(project: int, manager: int, role: int) -> Call[None]:
    return calls.post(f"/manager/set_role_for_project/{int(project)}",
                      {"manager": int(manager), "role": int(role)}, idempotent=True)  # fmt: skip


def set_worker_paused(worker: int, paused: bool) -> Call[None]:
    body = {"worker": int(worker), "paused": paused}
    return calls.post("/worker/set_paused", body, idempotent=True)


def create_project(settings: ProjectSettings) -> Call[int]:
    """``POST /project/create``: the new project's id."""
    return calls.post("/project/create", settings, calls.field_of("id", int))


def get_project(project: int) -> Call[Project]:
    return calls.get(f"/project/get/{int(project)}", calls.field_of("project", Project))


def update_project(project: Project) -> Call[None]:
    """``POST /project/update/:id``: a full replacement; change a ``get_project`` result."""
    body = msgspec.structs.asdict(project)
    return calls.post(f"/project/update/{project.id}", body, idempotent=True)


def projects() -> Call[list[Project]]:
    return calls.get("/project/list", calls.field_of("projects", list[Project]))


def monitoring(project: int, count: int = 60) -> Call[list[Snapshot]]:
    """The newest ``count`` (1..999) snapshots, newest first."""
    path = f"/project/monitoring/{int(project)}?count={int(count)}"
    return calls.get(path, calls.field_of("snapshots", list[Snapshot]))


def monitoring_between(project: int, start: int, end: int) -> Call[list[Snapshot]]:
    path = f"/project/monitoring-between/{int(project)}?from={int(start)}&to={int(end)}"
    return calls.get(path, calls.field_of("snapshots", list[Snapshot]))


def assignees(project: int) -> Call[list[Assignees]]:
    return calls.get(f"/project/assignees/{int(project)}",
                     calls.field_of("assignees", list[Assignees]))  # fmt: skip


def access_list(project: int) -> Call[list[WorkerAccess]]:
    return calls.get(f"/project/access_list/{int(project)}",
                     calls.field_of("accesses", list[WorkerAccess]))  # fmt: skip


def accept_request(project: int, worker: int) -> Call[None]:
    return calls.post(f"/project/accept_request/{int(project)}/{int(worker)}", None,
                      idempotent=True)  # fmt: skip


def reject_request(project: int, worker: int) -> Call[None]:
    """Deny a pending request or remove a granted access."""
    return calls.post(f"/project/reject_request/{int(project)}/{int(worker)}", None)


def set_project_secret(project: int, secret: str) -> Call[None]:
    return calls.post(f"/project/secret/{int(project)}", {"secret": secret}, idempotent=True)


def webhook_secret(project: int) -> Call[str]:
    return calls.get(f"/project/webhook_secret/{int(project)}",
                     calls.field_of("webhook_secret", str))  # fmt: skip


def set_webhook_secret(project: int, secret: str) -> Call[None]:
    return calls.post(f"/project/webhook_secret/{int(project)}", {"webhook_secret": secret},
                      idempotent=True)  # fmt: skip


def _maintenance(action: str, project: int, idempotent: bool) -> Call[int]:
    return calls.post(f"/project/{action}/{int(project)}", None,
                      calls.field_of("affected_tasks", int), idempotent=idempotent)  # fmt: skip


def reset_failed_tasks(project: int) -> Call[int]:
    """FAILED tasks back to NEW; the number reset."""
    return _maintenance("reset_failed_tasks", project, True)


def hard_reset(project: int) -> Call[int]:
    """Delete every task of the project (never retried: a repeat would delete newer tasks)."""
    return _maintenance("hard_reset", project, False)


def reclaim_assigned_tasks(project: int) -> Call[int]:
    return _maintenance("reclaim_assigned_tasks", project, True)


def logs(level: int, since: int = 1, *, limit: int = 0, after: str = "") -> Call[LogPage]:
    """``POST /logs``: worker log lines of one level after ``since`` (``limit``/``after``:
    this tracker's paging; the original ignores them)."""
    body: dict[str, object] = {"level": int(level), "since": int(since)}
    if limit:
        body["limit"] = limit
    if after:
        body["after"] = after
    return calls.post("/logs", body, calls.content_as(LogPage), idempotent=True)


def tasks(project: int, *, state: str = "", worker: int = 0, priority_min: int | None = None,
          priority_max: int | None = None, recipe: str = "", submitted_from: float | None = None,
          submitted_to: float | None = None, sort: str = "id", cursor: str | None = None,
          limit: int = 50) -> Call[TaskPage]:  # fmt: skip
    """``GET /project/tasks/:id`` (this tracker only): a page of the project's tasks. Filters
    left at their defaults match all; ``state`` none: every live task; ``sort``: ``id``,
    ``-id`` or ``priority``; ``cursor``: the previous page's ``next``. A page may be short
    (even empty) while ``next`` is set: a rarely matching filter is searched a stretch at a
    time."""
    given = {"state": state, "worker": worker or None, "priority_min": priority_min,
             "priority_max": priority_max, "recipe": recipe, "submitted_from": submitted_from,
             "submitted_to": submitted_to, "sort": sort, "cursor": cursor,
             "limit": limit}  # fmt: skip
    query = urllib.parse.urlencode({k: v for k, v in given.items() if v not in (None, "")})
    return calls.get(f"/project/tasks/{int(project)}?{query}", calls.content_as(TaskPage))


def task_view(task: int) -> Call[TaskAttempts]:
    """``GET /task/view/:id`` (this tracker only): the task's attempts, each with its reason."""
    return calls.get(f"/task/view/{int(task)}", calls.content_as(TaskAttempts))
