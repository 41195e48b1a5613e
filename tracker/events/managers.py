"""Events about manager accounts, their sessions and their roles on projects."""

from __future__ import annotations

from tracker.events.base import Event


class ManagerRegistered(Event, frozen=True, tag=True):
    manager_id: int
    username: str
    password_hash: str  # argon2id encoded hash, never the password
    tracker_admin: bool

    secret_fields = ("password_hash",)


class TrackerAdminSet(Event, frozen=True, tag=True):
    manager_id: int
    tracker_admin: bool


class SessionStarted(Event, frozen=True, tag=True):
    """A login. The log keeps a SHA-256 of the session id, never the id itself."""

    session_hash: str
    manager_id: int
    expires: float


class SessionEnded(Event, frozen=True, tag=True):
    session_hash: str


class ProjectRoleSet(Event, frozen=True, tag=True):
    """Role bits of a manager on a project; 0 removes the role."""

    manager_id: int
    project_id: int
    role: int
