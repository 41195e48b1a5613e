"""Commands about manager accounts and their sessions.

Passwords are checked and hashed at the edge (argon2 is deliberately slow and random-salted);
commands carry only the resulting hash, and only a SHA-256 of each session id.
"""

from __future__ import annotations

from tracker.commands.base import Command
from tracker.errors import TrackerError
from tracker.events.base import SYSTEM, Event, manager_actor
from tracker.events.managers import ManagerRegistered, SessionEnded, SessionStarted
from tracker.projections.state import State

USERNAME_BYTES = (3, 16)


class RegisterManager(Command, frozen=True):
    username: str
    password_hash: str
    session_hash: str
    expires: float


class StartSession(Command, frozen=True):
    manager_id: int
    session_hash: str
    expires: float


class EndSession(Command, frozen=True):
    session_hash: str


class EndExpiredSessions(Command, frozen=True):
    """Forget sessions past their expiry (they are already refused), so the model stays small."""


class InvalidRegistration(TrackerError):
    message = "Invalid register request"


class UsernameTaken(TrackerError):
    message = "This username is already taken"


def register_manager(state: State, command: RegisterManager, now: float) -> list[Event]:
    low, high = USERNAME_BYTES
    if not low <= len(command.username.encode()) <= high:
        raise InvalidRegistration()
    if command.username in state.managers.by_username:
        raise UsernameTaken()
    manager_id = state.managers.next_id
    actor = manager_actor(manager_id)
    return [
        ManagerRegistered(
            at=now, actor=actor, manager_id=manager_id, username=command.username,
            password_hash=command.password_hash, tracker_admin=not state.managers.by_id,
        ),
        SessionStarted(
            at=now, actor=actor, session_hash=command.session_hash, manager_id=manager_id,
            expires=command.expires,
        ),
    ]  # fmt: skip


def start_session(state: State, command: StartSession, now: float) -> list[Event]:
    return [
        SessionStarted(
            at=now, actor=manager_actor(command.manager_id), session_hash=command.session_hash,
            manager_id=command.manager_id, expires=command.expires,
        )
    ]  # fmt: skip


def end_session(state: State, command: EndSession, now: float) -> list[Event]:
    session = state.managers.sessions.get(command.session_hash)
    if session is None:
        return []
    return [
        SessionEnded(
            at=now, actor=manager_actor(session.manager_id), session_hash=command.session_hash
        )
    ]


def end_expired_sessions(state: State, command: EndExpiredSessions, now: float) -> list[Event]:
    expired = [key for key, session in state.managers.sessions.items() if session.expires <= now]
    return [SessionEnded(at=now, actor=SYSTEM, session_hash=key) for key in expired]


DECIDERS = {
    RegisterManager: register_manager,
    StartSession: start_session,
    EndSession: end_session,
    EndExpiredSessions: end_expired_sessions,
}
