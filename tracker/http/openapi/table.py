"""Every route of the API, one ``Op`` each. A new route is one row here (its types next to its
handler); ``tests/e2e/test_openapi.py`` fails while a route of the app has no row, or a row no
route. Not listed: ``HEAD`` (every route answers it 404, see ``middleware.answer``), ``OPTIONS``
(the CORS answer), and the UI's pages and static files under ``/ui/``."""

from __future__ import annotations

from tracker.audit.feed import MAX_TIMEOUT
from tracker.http.openapi import shapes
from tracker.http.openapi.operation import (
    ANYONE,
    AUDIT_TOKEN,
    MANAGER,
    METRICS_TOKEN,
    WEBHOOK,
    WORKER,
    WRITES,
    Op,
    Query,
)
from tracker.http.routes import (
    access,
    accounts,
    managers,
    meta,
    project_admin,
    projects,
    task_actions,
    tasks,
)
from tracker.http.routes import logs as log_routes
from tracker.http.routes import workers as worker_routes
from tracker.http.task_filters import MAX_RECIPE, MAX_TIME
from tracker.queries.tasks import MAX_CURSOR, MAX_LIMIT, Page, Sort, TaskState
from tracker.webhook import Push

_MANAGE = (MANAGER,)
_WORK = (WORKER,)
_OPEN = (ANYONE, MANAGER)
_AUDIT = (AUDIT_TOKEN, MANAGER)
_PROJECT = {"id": "$response.body#/content/id"}
_LINKS = {
    "GetProject": ("GET", "/project/get/{id}", _PROJECT),
    "UpdateProject": ("POST", "/project/update/{id}", _PROJECT),
    "ProjectAccess": ("GET", "/project/access_list/{id}", _PROJECT),
    "ProjectMonitoring": ("GET", "/project/monitoring/{id}", _PROJECT),
    "ProjectState": ("GET", "/project/state/{id}", _PROJECT),
}


def _int(low: int, high: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high}


_TASK_QUERY = (
    Query("state", {"type": "string", "enum": [s.value for s in TaskState]},
          description="one state; none: every live task"),
    Query("worker", _int(1, 2**63 - 1), description="assignee, or the worker that closed it"),
    Query("priority_min", _int(-(2**63), 2**63 - 1)),
    Query("priority_max", _int(-(2**63), 2**63 - 1)),
    Query("recipe", {"type": "string", "maxLength": MAX_RECIPE},
          description="a substring of the recipe (case-sensitive)"),
    Query("submitted_from", {"type": "string", "maxLength": MAX_TIME},
          description="Unix seconds or ISO 8601 (UTC without an offset), inclusive"),
    Query("submitted_to", {"type": "string", "maxLength": MAX_TIME},
          description="as submitted_from, inclusive"),
    Query("sort", {"type": "string", "enum": [s.value for s in Sort]},
          description="id (oldest first, the default), -id (newest first), priority"),
    Query("cursor", {"type": "string", "maxLength": MAX_CURSOR},
          description="the previous page's `next`"),
    Query("limit", _int(1, MAX_LIMIT), description="rows per page (50)"),
)  # fmt: skip
_TASK_FILTER = tuple(q for q in _TASK_QUERY if q.name not in ("sort", "cursor", "limit"))
_ACTION = Query("action", {"type": "string", "enum": ["retry", "cancel", "priority", "take_back"]},
                required=True)  # fmt: skip
_AFTER = Query("after", _int(0, 2**63 - 1), description="position after which to start")


def _log(level: str) -> Op:
    return Op("POST", f"/log/{level}", "logs", f"Write a worker log line at level {level}",
              _WORK, log_routes.LineBody, ok_status=204, errors=WRITES,
              description="Every failure, the worker check included, is a 400.")  # fmt: skip


_TASK_ACTIONS = (
    ("retry", "Queue failed tasks again now, their attempts counted from zero"),
    ("cancel", "Delete queued tasks"),
    ("priority", "Give queued tasks another priority"),
    ("take_back", "Take assigned tasks back from their workers and queue them again"),
)


def _task_action(name: str, summary: str) -> Op:
    return Op("POST", f"/project/tasks/{{id}}/{name}", "project", summary, _MANAGE,
              task_actions.ActionBody, task_actions.Acted, errors=(*WRITES, 401, 403, 404),
              query=_TASK_FILTER,
              description="A tracker extension. The tasks are `task_ids`, or every task the "
              "query's filter (the task list's parameters) matches, with `confirm` the count "
              "shown by `/project/tasks/{id}/count`; 409 when none is in the state the action "
              "needs, or when more than `confirm` match. A filter needs the right to list the "
              "project's tasks.",
              )  # fmt: skip


OPERATIONS: tuple[Op, ...] = (
    Op("GET", "/", "meta", "The server's name and version, and its extensions' bounds", (ANYONE,),
       content=meta.Info, description="`max_batch_size` and `max_keep_alive` are 0 (or, from "
       "the original, missing) when the batch and keep-alive routes are off."),
    Op("GET", "/openapi.json", "meta", "This document", (ANYONE,), content=None),
    Op("GET", "/healthz", "meta", "Liveness: the process is up", (ANYONE,),
       content=shapes.Health, errors=()),
    Op("GET", "/readyz", "meta", "Readiness: the log is open, replayed and committing (503 if not)",
       (ANYONE,), content=shapes.Readiness, errors=(503,)),
    # workers
    Op("POST", "/worker/create", "worker", "Create a worker (its secret is shown only here)",
       (ANYONE,), worker_routes.AliasBody, shapes.WorkerContent, errors=(*WRITES, 403)),
    Op("POST", "/worker/update", "worker", "Change the calling worker's alias", _WORK,
       worker_routes.AliasBody, errors=(*WRITES, 401, 403)),
    Op("GET", "/worker/get/{id}", "worker", "One worker (its secret for a tracker admin)",
       _OPEN, content=shapes.WorkerContent, errors=(400, 404)),
    Op("POST", "/worker/set_paused", "worker", "Pause or resume a worker (tracker admin)",
       _MANAGE, managers.PauseBody, errors=(*WRITES, 403, 404)),
    Op("GET", "/worker/stats", "monitoring", "Closed task counts by worker", (ANYONE,),
       content=shapes.StatsContent),
    # tasks
    Op("POST", "/task/submit", "task", "Submit a task", _WORK, tasks.SubmitBody,
       errors=(*WRITES, 401, 403, 404, 429)),
    Op("POST", "/task/bulk_submit", "task", "Submit tasks of one project at once", _WORK,
       tasks.BulkBody, errors=(*WRITES, 401, 403, 404, 429)),
    Op("GET", "/task/get/{project}", "task", "Assign the next task of a project", _WORK,
       content=shapes.TaskContent, errors=(*WRITES, 403, 404, 429), refusal_200=True),
    Op("POST", "/task/release", "task", "Release an assigned task with its result", _WORK,
       tasks.ReleaseBody, shapes.ReleaseContent, errors=(*WRITES, 403, 404)),
    Op("GET", "/task/bulk_get/{project}", "task", "Assign up to `count` tasks of a project",
       _WORK, content=shapes.TasksContent, errors=(*WRITES, 403, 404, 429),
       query=(Query("count", _int(1, 10_000), required=True,
                    description="at most this many (up to `max_batch_size` of `GET /`)"),),
       refusal_200=True, description="A tracker extension: the tasks that as many "
       "`/task/get` in a row would give, best first. A rate-limited project gives one task "
       "per request. 404 when the tracker's batches are off (`max_batch_size` 0)."),
    Op("POST", "/task/bulk_release", "task", "Release many assigned tasks, each with its result",
       _WORK, tasks.BulkReleaseBody, shapes.ReleasedContent, errors=(*WRITES, 403, 404),
       description="A tracker extension: each element as `/task/release` takes it; the "
       "answer says per task what happened (`not_assigned`: the worker did not hold it). A "
       "malformed element refuses the whole batch. 404 when batches are off."),
    Op("POST", "/task/touch", "task", "Keep an assigned task: move its deadline later",
       _WORK, tasks.TouchBody, tasks.Touched, errors=(*WRITES, 403, 404),
       description="A tracker extension: the deadline becomes `seconds` from now (0: the "
       "task's `max_assign_time`), never earlier than it was. 409 when the worker no longer "
       "holds the task. 404 when keep-alive is off (`max_keep_alive` 0)."),
    # projects
    Op("POST", "/project/create", "project", "Create a project", _MANAGE, projects.CreateBody,
       shapes.ProjectId, errors=(*WRITES, 403), links=_LINKS),
    Op("GET", "/project/get/{id}", "project", "One project", _OPEN,
       content=shapes.ProjectContent, errors=(400, 403, 404)),
    Op("GET", "/project/list", "project", "The projects the caller may see", _OPEN,
       content=shapes.ProjectList),
    Op("POST", "/project/update/{id}", "project", "Replace a project's settings", _MANAGE,
       project_admin.UpdateBody, errors=(*WRITES, 403, 404)),
    Op("GET", "/project/secret/{id}", "project", "A project's secret", (WORKER, MANAGER),
       content=shapes.SecretContent, errors=(400, 403, 404)),
    Op("POST", "/project/secret/{id}", "project", "Set a project's secret", _MANAGE,
       project_admin.SecretBody, errors=(*WRITES, 403, 404)),
    Op("GET", "/project/webhook_secret/{id}", "project", "A project's webhook secret", _MANAGE,
       content=shapes.WebhookSecretContent, errors=(400, 403, 404)),
    Op("POST", "/project/webhook_secret/{id}", "project", "Set a project's webhook secret",
       _MANAGE, project_admin.WebhookSecretBody, errors=(*WRITES, 403, 404)),
    Op("POST", "/project/reset_failed_tasks/{id}", "project", "Queue the failed tasks again",
       _MANAGE, content=shapes.Affected, errors=(*WRITES, 403, 404)),
    Op("POST", "/project/hard_reset/{id}", "project", "Delete every task of a project",
       _MANAGE, content=shapes.Affected, errors=(*WRITES, 403, 404)),
    Op("POST", "/project/reclaim_assigned_tasks/{id}", "project",
       "Take back every assigned task", _MANAGE, content=shapes.Affected,
       errors=(*WRITES, 403, 404)),
    *(_task_action(name, summary) for name, summary in _TASK_ACTIONS),
    Op("GET", "/project/tasks/{id}/count", "project",
       "How many tasks an action on every task matching a filter would touch", _AUDIT,
       content=task_actions.Count, errors=(400, 401, 403, 404),
       query=(_ACTION, Query("priority", _int(-(2**15), 2**15 - 1),
                             description="for `priority`: tasks already at it do not count"),
              *_TASK_FILTER)),
    # access
    Op("POST", "/project/request_access", "access", "Ask for access to a project", _WORK,
       access.RequestBody, errors=(*WRITES, 401, 403, 404), refusal_200=True),
    Op("POST", "/project/accept_request/{id}/{wid}", "access", "Grant a worker's request",
       _MANAGE, errors=(*WRITES, 403, 404), refusal_200=True),
    Op("POST", "/project/reject_request/{id}/{wid}", "access",
       "Reject a request or remove granted access", _MANAGE, errors=(*WRITES, 403, 404),
       refusal_200=True),
    Op("GET", "/project/access_list/{id}", "access", "Granted and pending access", _MANAGE,
       content=shapes.AccessList, errors=(400, 403, 404)),
    # managers
    Op("POST", "/register", "manager", "Register a manager and log in (sets the cookie)",
       (ANYONE,), accounts.Credentials, errors=WRITES),
    Op("POST", "/login", "manager", "Log in (sets the session cookie)", (ANYONE,),
       accounts.Credentials, shapes.ManagerContent, errors=(*WRITES, 403)),
    Op("GET", "/logout", "manager", "End the session", _OPEN, ok_status=204, errors=(503,)),
    Op("GET", "/account", "manager", "The logged-in manager", _OPEN,
       content=shapes.AccountContent, refusal_200=True, errors=()),
    Op("GET", "/manager/list", "manager", "Every manager", _MANAGE, content=shapes.ManagerList,
       errors=(401,)),
    Op("GET", "/manager/list_for_project/{id}", "manager", "Managers with a role on a project",
       _MANAGE, content=shapes.ManagerRoles, errors=(400, 401, 404)),
    Op("GET", "/manager/promote/{id}", "manager", "Make a manager tracker admin", _MANAGE,
       ok_status=204, errors=(*WRITES, 401, 403, 404)),
    Op("GET", "/manager/demote/{id}", "manager", "Take tracker admin away", _MANAGE,
       ok_status=204, errors=(*WRITES, 401, 403, 404)),
    Op("POST", "/manager/set_role_for_project/{id}", "manager", "Set a manager's project role",
       _MANAGE, managers.RoleBody, errors=(*WRITES, 403, 404)),
    # webhook
    Op("POST", "/git/receivehook", "webhook", "A signed git push sets the project's version",
       (WEBHOOK,), Push, media="text/plain", errors=(400, 403, 409, 413, 503),
       description="Answers are bare statuses with plain text, no envelope."),
    # monitoring
    Op("GET", "/project/monitoring/{id}", "monitoring", "The newest monitoring snapshots",
       _OPEN, content=shapes.Snapshots, errors=(400, 403),
       query=(Query("count", _int(1, 999), required=True),)),
    Op("GET", "/project/monitoring-between/{id}", "monitoring", "Snapshots in a time range",
       _OPEN, content=shapes.Snapshots, errors=(400, 403),
       query=(Query("from", _int(1, 2_147_483_646), required=True),
              Query("to", _int(1, 2_147_483_646), required=True))),  # fmt: skip
    Op("GET", "/project/tasks/{id}", "project", "A project's tasks, filtered, sorted, paged",
       _AUDIT, content=Page, errors=(400, 401, 403, 404), query=_TASK_QUERY,
       description="A tracker extension (the task browser). Every parameter is optional and "
       "an empty one filters nothing. A page examines at most 250,000 tasks: a filter that "
       "matches rarely may give a short or empty page whose `next` goes on from where it "
       "stopped; `next` is null once the list is complete. Tasks submitted between two "
       "pages never shift or repeat rows. `state=closed` lists the project's last 1,000 "
       "closed tasks (older ones are in the log: `/task/history/{id}`)."),
    Op("GET", "/project/assignees/{id}", "monitoring", "Live tasks by assignee", _OPEN,
       content=shapes.Assignees, errors=(400, 403)),
    # logs
    _log("trace"),
    _log("info"),
    _log("warn"),
    _log("error"),
    Op("POST", "/logs", "logs", "Read worker log lines (a page)", _MANAGE,
       log_routes.QueryBody, log_routes.LogPage, errors=(400, 401, 413)),
    # metrics
    Op("GET", "/metrics", "metrics", "Prometheus metrics", (ANYONE, METRICS_TOKEN, MANAGER),
       media="text/plain", errors=(401, 403),
       description="Open without metrics.token (hidden projects left out), else the token."),
    # audit and events
    Op("GET", "/audit/digest", "audit", "Digests of the live read models", _AUDIT,
       content=shapes.Digest, errors=(400, 401, 403, 503),
       query=(Query("keys", {"type": "string"}, description="models, comma-separated"),)),
    Op("GET", "/task/history/{id}", "audit", "Every event of one task", _AUDIT,
       content=shapes.TaskHistory, errors=(400, 401, 403, 404, 503),
       query=(_AFTER, Query("limit", _int(1, 10_000)))),
    Op("GET", "/task/view/{id}", "audit", "One task's attempts, each with its reason", _AUDIT,
       content=shapes.TaskAttempts, errors=(400, 401, 403, 404, 503),
       description="A tracker extension: each assignment of the task, how it ended (released "
       "with a result and outcome, expired, taken back, deleted) and the reason its worker "
       "gave; `row` is the task as `/project/tasks` lists it, null once it is neither live "
       "nor among the project's last 1,000 closed tasks."),
    Op("GET", "/project/state/{id}", "audit", "A project's counts at a past position or time",
       _AUDIT, content=shapes.ProjectState, errors=(400, 401, 403, 404, 503),
       query=(Query("at", {"type": "string"}, description="a position, or an RFC 3339 time"),)),
    Op("GET", "/events", "events", "The change feed: events after a position (long poll)",
       _AUDIT, content=shapes.EventPage, errors=(400, 401),
       query=(_AFTER, Query("limit", _int(1, 1000)), Query("timeout", _int(0, MAX_TIMEOUT)))),
)  # fmt: skip

assert len({op.key for op in OPERATIONS}) == len(OPERATIONS), "an operation is listed twice"
