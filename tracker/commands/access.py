"""Commands of the worker access lifecycle: request, grant, revoke.

A worker has at most one access record per project: pending after its request, granted once a
manager with ROLE_MANAGE_ACCESS accepts it. Revoking deletes it, pending or granted; to change
its flags the worker requests again.
"""

from __future__ import annotations

from tracker.commands.authz import ROLE_MANAGE_ACCESS, require_role
from tracker.commands.base import Command, existing_project
from tracker.errors import TrackerError
from tracker.events.base import Event, manager_actor, worker_actor
from tracker.events.projects import AccessGranted, AccessRequested, AccessRevoked
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


class RevokeAccess(Command, frozen=True):
    """``/project/reject_request``: deny a pending request or remove a granted access."""

    manager_id: int
    worker_id: int
    project: int


class NothingRequested(TrackerError):
    message = "Invalid request"


class AccessAlreadyRequested(TrackerError):
    message = "You already have a pending access request for this project"


class AccessAlreadyGranted(TrackerError):
    message = "You already have access to this project"


class NoAccessRecord(TrackerError):
    """Answered 200 with ``ok: false``, as the original does."""

    message = "Worker did not have access to this project"


def request_access(state: State, command: RequestAccess, now: float) -> list[Event]:
    if not (command.assign or command.submit):
        raise NothingRequested()
    existing_project(state, command.project)
    access = state.access.get(command.worker_id, command.project)
    if access is not None:
        raise AccessAlreadyRequested() if access.pending else AccessAlreadyGranted()
    return [
        AccessRequested(
            at=now, actor=worker_actor(command.worker_id), worker_id=command.worker_id,
            project_id=command.project, assign=command.assign, submit=command.submit,
        )
    ]  # fmt: skip


def grant_access(state: State, command: GrantAccess, now: float) -> list[Event]:
    require_role(state, command.manager_id, command.project, ROLE_MANAGE_ACCESS)
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


def revoke_access(state: State, command: RevokeAccess, now: float) -> list[Event]:
    require_role(state, command.manager_id, command.project, ROLE_MANAGE_ACCESS)
    if state.access.get(command.worker_id, command.project) is None:
        raise NoAccessRecord()
    return [
        AccessRevoked(
            at=now, actor=manager_actor(command.manager_id), worker_id=command.worker_id,
            project_id=command.project,
        )
    ]  # fmt: skip


DECIDERS = {
    RequestAccess: request_access,
    GrantAccess: grant_access,
    RevokeAccess: revoke_access,
}
