"""Read model of manager accounts, their live sessions and their roles on projects."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from tracker.events import managers as ev


class Manager(msgspec.Struct, gc=False):
    id: int
    username: str
    password_hash: str
    tracker_admin: bool
    register_time: int


class Session(msgspec.Struct, gc=False):
    manager_id: int
    expires: float


class Managers:
    def __init__(self) -> None:
        self.by_id: dict[int, Manager] = {}
        self.by_username: dict[str, int] = {}
        self.sessions: dict[str, Session] = {}  # sha256 of the session id -> session
        self.roles: dict[tuple[int, int], int] = {}  # (manager, project) -> role bits
        self.next_id = 1

    def by_name(self, username: str) -> Manager | None:
        manager_id = self.by_username.get(username)
        return None if manager_id is None else self.by_id[manager_id]

    def get(self, manager_id: int) -> Manager | None:
        return self.by_id.get(manager_id)

    def all(self) -> Iterable[Manager]:
        return self.by_id.values()

    def role(self, manager_id: int, project_id: int) -> int:
        return self.roles.get((manager_id, project_id), 0)

    def roles_on(self, project_id: int) -> list[tuple[Manager, int]]:
        """The managers holding a role on the project, with their role bits, by manager id."""
        found = sorted((m, role) for (m, p), role in self.roles.items() if p == project_id)
        return [(self.by_id[m], role) for m, role in found if m in self.by_id]

    def projects_of(self, manager_id: int, role: int) -> set[int]:
        """The projects on which the manager holds every bit of ``role``."""
        return {p for (m, p), bits in self.roles.items() if m == manager_id and bits & role == role}


def registered(model: Managers, e: ev.ManagerRegistered) -> None:
    model.by_id[e.manager_id] = Manager(
        e.manager_id, e.username, e.password_hash, e.tracker_admin, int(e.at)
    )
    model.by_username[e.username] = e.manager_id
    model.next_id = max(model.next_id, e.manager_id + 1)


def admin_set(model: Managers, e: ev.TrackerAdminSet) -> None:
    model.by_id[e.manager_id].tracker_admin = e.tracker_admin


def session_started(model: Managers, e: ev.SessionStarted) -> None:
    model.sessions[e.session_hash] = Session(e.manager_id, e.expires)


def session_ended(model: Managers, e: ev.SessionEnded) -> None:
    model.sessions.pop(e.session_hash, None)


def role_set(model: Managers, e: ev.ProjectRoleSet) -> None:
    if e.role:
        model.roles[(e.manager_id, e.project_id)] = e.role
    else:
        model.roles.pop((e.manager_id, e.project_id), None)


HANDLERS = {
    ev.ManagerRegistered: registered,
    ev.TrackerAdminSet: admin_set,
    ev.SessionStarted: session_started,
    ev.SessionEnded: session_ended,
    ev.ProjectRoleSet: role_set,
}
