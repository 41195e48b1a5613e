"""Commands of manager administration: promote and demote, project roles, pausing workers.

A command that would change nothing (promoting an admin, setting the role a manager already
has, pausing a paused worker) is answered as a success and appends nothing: the log records
changes, each with the manager who made it.
"""

from __future__ import annotations

from tracker.commands.authz import (
    ROLE_ALL,
    ROLE_MANAGE_ACCESS,
    existing_manager,
    require_admin,
    require_role,
)
from tracker.commands.base import Command, WorkerNotFound
from tracker.errors import TrackerError, Unauthorized
from tracker.events.base import Event, manager_actor
from tracker.events.managers import ProjectRoleSet, TrackerAdminSet
from tracker.events.workers import WorkerPauseSet
from tracker.projections.state import State


class SetTrackerAdmin(Command, frozen=True):
    """Promote (``tracker_admin=True``) or demote another manager."""

    manager_id: int  # the caller
    target: int
    tracker_admin: bool


class SetProjectRole(Command, frozen=True):
    manager_id: int  # the caller
    project: int
    target: int
    role: int


class SetWorkerPaused(Command, frozen=True):
    manager_id: int
    worker_id: int
    paused: bool


class InvalidRole(TrackerError):
    message = f"Invalid role: must be between 0 and {ROLE_ALL} (0 removes the role)"


class UnknownWorker(WorkerNotFound):
    message = "Invalid worker"


def set_tracker_admin(state: State, command: SetTrackerAdmin, now: float) -> list[Event]:
    require_admin(state, command.manager_id)
    if command.target == command.manager_id:
        raise Unauthorized("Unauthorized: a manager cannot promote or demote itself")
    target = existing_manager(state, command.target)
    if target.tracker_admin == command.tracker_admin:
        return []
    return [
        TrackerAdminSet(
            at=now, actor=manager_actor(command.manager_id), manager_id=target.id,
            tracker_admin=command.tracker_admin,
        )
    ]  # fmt: skip


def set_project_role(state: State, command: SetProjectRole, now: float) -> list[Event]:
    require_role(state, command.manager_id, command.project, ROLE_MANAGE_ACCESS)
    if not 0 <= command.role <= ROLE_ALL:
        raise InvalidRole()
    existing_manager(state, command.target)
    if state.managers.role(command.target, command.project) == command.role:
        return []
    return [
        ProjectRoleSet(
            at=now, actor=manager_actor(command.manager_id), manager_id=command.target,
            project_id=command.project, role=command.role,
        )
    ]  # fmt: skip


def set_worker_paused(state: State, command: SetWorkerPaused, now: float) -> list[Event]:
    require_admin(state, command.manager_id)
    worker = state.workers.get(command.worker_id)
    if worker is None:
        raise UnknownWorker()
    if worker.paused == command.paused:
        return []
    return [
        WorkerPauseSet(
            at=now, actor=manager_actor(command.manager_id), worker_id=worker.id,
            paused=command.paused,
        )
    ]  # fmt: skip


DECIDERS = {
    SetTrackerAdmin: set_tracker_admin,
    SetProjectRole: set_project_role,
    SetWorkerPaused: set_worker_paused,
}
