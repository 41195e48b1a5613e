"""What a manager may do on a project, by role, and the checks of reads that need a role.

Roles and the tracker-admin flag are read from the read models at every request, so a change
counts at once. A write is never pre-checked here: its command's decider refuses it
(``tracker.commands.authz``), and that refusal is the answer. These serve reads (the access
list, the secrets) and pages that show only the actions their reader may take.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.commands import authz
from tracker.commands.authz import (
    ROLE_ALL,
    ROLE_EDIT,
    ROLE_MAINTENANCE,
    ROLE_MANAGE_ACCESS,
    ROLE_READ,
    ROLE_SECRET,
)
from tracker.commands.base import existing_project
from tracker.errors import Unauthenticated, Unauthorized
from tracker.projections.managers import Manager
from tracker.projections.projects import Project
from tracker.projections.state import State
from tracker.queries.caller import Caller


def roles_on(state: State, caller: Caller, project_id: int) -> int:
    """The role bits the caller holds on the project (all of them for a tracker admin)."""
    if caller.manager is None:
        return 0
    if caller.manager.tracker_admin:
        return ROLE_ALL
    return state.managers.role(caller.manager.id, project_id)


@dataclass(frozen=True)
class Allowed:
    """What the caller may do on one project, as its deciders will judge it: the pages show
    only these actions (a forged request for another is still refused by its decider)."""

    read: bool  # task history and time travel
    edit: bool  # edit the project, pause and resume it
    manage_access: bool  # accept and remove workers, set managers' roles
    secrets: bool
    maintenance: bool  # reset failed tasks, reclaim assignments, hard reset
    admin: bool  # tracker admin: pause workers, the console, managers


def allowed(state: State, caller: Caller, project_id: int) -> Allowed:
    bits = roles_on(state, caller, project_id)
    return Allowed(
        read=bool(bits & ROLE_READ), edit=bool(bits & ROLE_EDIT),
        manage_access=bool(bits & ROLE_MANAGE_ACCESS), secrets=bool(bits & ROLE_SECRET),
        maintenance=bool(bits & ROLE_MAINTENANCE),
        admin=caller.manager is not None and caller.manager.tracker_admin,
    )  # fmt: skip


def may(state: State, caller: Caller, project_id: int, role: int) -> bool:
    """Whether the caller holds every bit of ``role`` on the project."""
    return roles_on(state, caller, project_id) & role == role


def require_role(state: State, caller: Caller, project_id: int, role: int) -> Project:
    """The project, if the caller holds ``role`` on it, with the deciders' refusals (no
    session, then unknown project, then missing role)."""
    return authz.require_role(state, caller.manager_id, project_id, role)


def require_manager(caller: Caller) -> Manager:
    """The calling manager; ``Unauthenticated`` (401) without a live session."""
    if caller.manager is None:
        raise Unauthenticated()
    return caller.manager


def require_admin(caller: Caller) -> Manager:
    """The calling manager, if tracker admin; ``Unauthorized`` (403) otherwise."""
    if caller.manager is None or not caller.manager.tracker_admin:
        raise Unauthorized()
    return caller.manager


def secret_reader(state: State, caller: Caller, project_id: int) -> Project:
    """The project, if the caller may read its secret: a worker with granted assign access
    (when the request names a worker at all), else a manager with ROLE_SECRET."""
    if caller.worker is not None:
        project = existing_project(state, project_id)
        if not state.access.can_assign(caller.worker.id, project_id):
            raise Unauthorized()
        return project
    return require_role(state, caller, project_id, ROLE_SECRET)
