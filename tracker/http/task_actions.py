"""What the API route and the web UI share for an action on every task a filter matches: the
filter read like the task list's (with its reading rights) and resolved to the ids the action
would touch now, with the count the manager confirmed."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from aiohttp import web

from tracker.commands.task_actions import TaskAction
from tracker.errors import InvalidRequest
from tracker.http import context, task_filters
from tracker.queries import tasks
from tracker.queries.task_actions import targets
from tracker.queries.tasks import TaskFilter

_NOT_A_FILTER = ("sort", "cursor", "limit")  # the list's paging: meaningless for an action


def task_filter(request: web.Request, project: int, query: Mapping[str, str],
                ignore: tuple[str, ...] = ()) -> TaskFilter:  # fmt: skip
    """The filter of ``query``, once the caller may list the project's tasks."""
    tasks.require_browser(context.tracker(request).state, context.caller(request), project)
    for name in _NOT_A_FILTER:
        if name in query:
            raise InvalidRequest(f"Could not parse request: {name} is for listing; an action "
                                 "takes the filter alone")  # fmt: skip
    return task_filters.listing(project, query, ignore).where


def on_filter(request: web.Request, command: TaskAction, query: Mapping[str, str],
              confirm: int, ignore: tuple[str, ...] = ()) -> TaskAction:  # fmt: skip
    """``command`` on every task ``query``'s filter matches now, at most ``confirm``."""
    if command.task_ids:
        raise InvalidRequest("Invalid request: send task_ids or a filter, not both")
    if confirm < 1:
        raise InvalidRequest("Invalid request: a filter needs confirm, the count shown by "
                             "GET /project/tasks/:id/count")  # fmt: skip
    where = task_filter(request, command.project, query, ignore)
    ids = targets(context.tracker(request).state, command, where)
    return msgspec.structs.replace(command, task_ids=ids, confirmed=confirm)
