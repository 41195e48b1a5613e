"""Workers write log lines; the levels named in ``database.log_levels`` are kept in the log."""

from __future__ import annotations

from tracker.commands.base import Command
from tracker.errors import InvalidRequest
from tracker.events.base import Event, worker_actor
from tracker.events.logs import WorkerLogged
from tracker.projections.state import State

MAX_SCOPE_BYTES = 1024
MAX_MESSAGE_BYTES = 64 * 1024


class LogWorkerMessage(Command, frozen=True):
    worker_id: int
    level: int
    scope: str
    message: str
    timestamp: int
    keep: bool  # the level is one of ``database.log_levels``


def invalid_reason(command: LogWorkerMessage) -> str | None:
    """Why a log line is refused, or None. The original refused the same cases, without a why."""
    if not command.message:
        return "message must not be empty"
    if not command.scope:
        return "scope must not be empty"
    if command.timestamp <= 0:
        return "timestamp must be a positive Unix time"
    if len(command.scope.encode()) > MAX_SCOPE_BYTES:
        return f"scope is limited to {MAX_SCOPE_BYTES} bytes"
    if len(command.message.encode()) > MAX_MESSAGE_BYTES:
        return f"message is limited to {MAX_MESSAGE_BYTES} bytes"
    return None


def log_worker_message(state: State, command: LogWorkerMessage, now: float) -> list[Event]:
    reason = invalid_reason(command)
    if reason:
        raise InvalidRequest(f"Could not parse request: {reason}")
    if not command.keep:
        return []
    return [
        WorkerLogged(
            at=now, actor=worker_actor(command.worker_id), worker_id=command.worker_id,
            level=command.level, scope=command.scope, message=command.message,
            timestamp=command.timestamp,
        )
    ]  # fmt: skip


DECIDERS = {LogWorkerMessage: log_worker_message}
