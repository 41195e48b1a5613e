"""What commands share: the base type and the rules every decision needs."""

from __future__ import annotations

import msgspec

from tracker.errors import NotFound, TrackerError
from tracker.projections.projects import Project
from tracker.projections.state import State
from tracker.ratelimit import UNLIMITED  # noqa: F401 (``0`` in a rate field: the largest float)

INT32_MAX = 2**31 - 1


class Command(msgspec.Struct, frozen=True, kw_only=True):
    """Base of all commands: an imperative request, decided against the current state."""


class ProjectNotFound(NotFound):
    message = "Project not found"


class WorkerNotFound(NotFound):
    message = "Worker not found"


class InvalidTask(TrackerError):
    message = "Invalid task"


def existing_project(state: State, project_id: int) -> Project:
    project = state.projects.get(project_id)
    if project is None:
        raise ProjectNotFound()
    return project
