"""Who may do what: the checks every manager command shares.

A manager is named by id; 0 means "no session". Roles and the tracker-admin flag are read from
the current state on every decision, so a promotion, a demotion or a role change takes effect
on the very next request, whatever session the manager holds.

The order of the checks is the same everywhere: no session → ``NoSession`` (403
``Unauthorized``, 401 on the routes where the original said so); unknown project → 404
``Project not found``; missing role → 403 ``Unauthorized``.
"""

from __future__ import annotations

from tracker.commands.base import existing_project
from tracker.commands.projects import (  # noqa: F401  (re-exported: the role bits live there)
    ROLE_ALL,
    ROLE_EDIT,
    ROLE_MAINTENANCE,
    ROLE_MANAGE_ACCESS,
    ROLE_READ,
    ROLE_SECRET,
    has_role,
)
from tracker.errors import NotFound, Unauthorized
from tracker.projections.managers import Manager
from tracker.projections.projects import Project
from tracker.projections.state import State


class ManagerNotFound(NotFound):
    message = "Manager not found"


class NoSession(Unauthorized):
    """The command names no manager (the request had no live session). 403 like any missing
    permission, except where the original said 401 (``tracker.http.statuses``)."""


def session_manager(state: State, manager_id: int) -> Manager:
    """The calling manager, or ``NoSession`` when there is no (live) session."""
    manager = state.managers.by_id.get(manager_id) if manager_id else None
    if manager is None:
        raise NoSession()
    return manager


def require_role(state: State, manager_id: int, project_id: int, role: int) -> Project:
    """The project, if the manager holds ``role`` on it (or is tracker admin)."""
    manager = session_manager(state, manager_id)
    project = existing_project(state, project_id)
    if not has_role(state, manager.id, project_id, role):
        raise Unauthorized()
    return project


def require_admin(state: State, manager_id: int) -> Manager:
    """The calling manager, if it is tracker admin; ``Unauthorized`` otherwise."""
    manager = session_manager(state, manager_id)
    if not manager.tracker_admin:
        raise Unauthorized()
    return manager


def existing_manager(state: State, manager_id: int) -> Manager:
    manager = state.managers.by_id.get(manager_id)
    if manager is None:
        raise ManagerNotFound()
    return manager
