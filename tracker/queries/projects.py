"""Who may read a project, and the project lists the API and the UI show.

One rule, used by ``/project/get``, ``/project/list``, the monitoring routes and every UI page
of a project: a project that is not hidden is readable by anyone; a hidden one by tracker
admins and managers with ROLE_READ on it.
"""

from __future__ import annotations

import itertools
from collections import Counter

from tracker.commands.authz import ROLE_READ, has_role
from tracker.commands.base import existing_project
from tracker.errors import Unauthorized
from tracker.projections.projects import Project, ProjectView
from tracker.projections.state import State
from tracker.queries.caller import Caller
from tracker.queries.views import AssignedTasks, WorkerAccessView, worker_view

MAX_ASSIGNEE_GROUPS = 16
UNASSIGNED = "unassigned"


def sees(state: State, caller: Caller, project: Project) -> bool:
    """Hidden projects are visible to tracker admins and managers with ROLE_READ only."""
    return not project.hidden or has_role(state, caller.manager_id, project.id, ROLE_READ)


def readable(state: State, caller: Caller, project_id: int, refusal: str | None = None) -> Project:
    """The project, if the caller may read it (``ProjectNotFound``, else
    ``Unauthorized(refusal)``)."""
    project = existing_project(state, project_id)
    if not sees(state, caller, project):
        raise Unauthorized(refusal)
    return project


def visible(state: State, caller: Caller) -> list[ProjectView]:
    """The projects the caller may read, by name."""
    found = [p.view for p in state.projects.all() if sees(state, caller, p)]
    return sorted(found, key=lambda view: view.name)


def check_statistics(state: State, caller: Caller, project_id: int) -> None:
    """A hidden project's statistics are for those who may read it (``Unauthorized``); an
    unknown project's are empty, not refused, as the original answered."""
    project = state.projects.get(project_id)
    if project is not None and not sees(state, caller, project):
        raise Unauthorized()


def assignee_groups(state: State, project_id: int) -> list[AssignedTasks]:
    """Live tasks grouped by assignee (one group per worker, labelled with its alias), plus
    the ``unassigned`` group (queued and FAILED tasks): the 16 largest, largest first.

    Costs O(tasks assigned in the project right now), never a scan of queued tasks."""
    return _groups(state, project_id)[:MAX_ASSIGNEE_GROUPS]


def assignee_legend(state: State, project_id: int, top: int) -> tuple[list[AssignedTasks], int]:
    """The ``top`` largest groups of ``assignee_groups``, and how many tasks all the others
    hold together (whatever the number of workers, the legend has ``top`` + 1 lines)."""
    groups = _groups(state, project_id)
    return groups[:top], sum(group.task_count for group in groups[top:])


def _groups(state: State, project_id: int) -> list[AssignedTasks]:
    tasks = state.tasks.projects.get(project_id)
    if tasks is None:
        return []
    board, workers = state.tasks.tasks, state.workers.by_id
    per_worker = Counter(board[task_id].assignee for task_id in tasks.assigned)
    groups = [(n, workers[w].alias if w in workers else "", w) for w, n in per_worker.items()]
    unassigned = tasks.queue.size + len(tasks.failed)
    if unassigned:
        groups.append((unassigned, UNASSIGNED, 0))
    groups.sort(key=lambda group: (-group[0], group[1], group[2]))
    return [AssignedTasks(label, n) for n, label, _ in groups]


def accesses(state: State, project_id: int) -> list[WorkerAccessView]:
    """Workers' access to the project: granted first, then pending; by alias (then worker id)
    within each group."""
    workers = state.workers.by_id
    found = sorted(state.access.of_project(project_id),
                   key=lambda item: (item[1].pending, workers[item[0]].alias, item[0]))  # fmt: skip
    return [
        WorkerAccessView(
            submit=access.submit, assign=access.assign, request=access.pending,
            worker=worker_view(workers[worker_id], with_secret=False), project=project_id,
        )
        for worker_id, access in found
    ]  # fmt: skip


def latest_tasks(state: State, project_id: int, count: int) -> dict[str, list[int]]:
    """A few task ids of each live status: next in the queue, newest assigned, newest failed."""
    tasks = state.tasks.projects.get(project_id)
    if tasks is None:
        return {"queued": [], "assigned": [], "failed": []}
    return {
        "queued": list(itertools.islice(iter(tasks.queue), count)),
        "assigned": list(itertools.islice(reversed(tasks.assigned), count)),
        "failed": list(itertools.islice(reversed(tasks.failed), count)),
    }
