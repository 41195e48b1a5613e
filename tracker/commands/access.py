"""Commands of the worker access lifecycle: request, grant, revoke."""

from __future__ import annotations

from tracker.commands.base import Command
from tracker.commands.projects import ROLE_MANAGE_ACCESS, has_role
from tracker.errors import TrackerError, Unauthorized
from tracker.events.base import Event, manager_actor, worker_actor
from tracker.events.projects import AccessGranted, AccessRequested
from tracker.projections.state import State


class RequestAccess(Command, frozen=True):
    worker_id: int
    project: int
    assign: bool = False
    submit: bool = False


class GrantAccess(Command, frozen=True):
    manager_id: int
    worker_id: int
    project: int


class NothingRequested(TrackerError):
    message = "Invalid request"


class AccessAlreadyRecorded(TrackerError):
    message = (
        "Project is public, you already have an active request or you already have access "
        "to this project"
    )


class NoAccessRecord(TrackerError):
    """Answered 200 with ``ok: false``, as the original does."""

    status = 200
    message = "Worker did not have access to this project"


def request_access(state: State, command: RequestAccess, now: float) -> list[Event]:
    if not (command.assign or command.submit):
        raise NothingRequested()
    if state.projects.get(command.project) is None:
        raise AccessAlreadyRecorded()  # the original's message for an unknown project too
    if state.access.get(command.worker_id, command.project) is not None:
        raise AccessAlreadyRecorded()
    return [
        AccessRequested(
            at=now, actor=worker_actor(command.worker_id), worker_id=command.worker_id,
            project_id=command.project, assign=command.assign, submit=command.submit,
        )
    ]  # fmt: skip


def grant_access(state: State, command: GrantAccess, now: float) -> list[Event]:
    if not has_role(state, command.manager_id, command.project, ROLE_MANAGE_ACCESS):
        raise Unauthorized()
    access = state.access.get(command.worker_id, command.project)
    if access is None:
        raise NoAccessRecord()
    if not access.pending:
        return []
    return [
        AccessGranted(
            at=now, actor=manager_actor(command.manager_id), worker_id=command.worker_id,
            project_id=command.project,
        )
    ]  # fmt: skip


DECIDERS = {RequestAccess: request_access, GrantAccess: grant_access}
