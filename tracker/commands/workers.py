"""Commands of workers about themselves, and of admins about workers."""

from __future__ import annotations

from tracker.commands.base import Command
from tracker.errors import TrackerError, Unauthorized
from tracker.events.base import Event, worker_actor
from tracker.events.workers import WorkerAliasChanged, WorkerCreated
from tracker.projections.state import State

RESERVED_ALIAS = "unassigned"
MAX_ALIAS_BYTES = 1024


class CreateWorker(Command, frozen=True):
    alias: str
    secret: bytes  # drawn by the caller from a cryptographic source: decide stays pure
    default_alias: str = "default_alias"


class UpdateWorker(Command, frozen=True):
    worker_id: int
    alias: str


class ReservedAlias(Unauthorized):
    message = "You are now allowed to create a worker"  # sic: the original's wording


class AliasTooLong(TrackerError):
    message = f"Invalid alias: at most {MAX_ALIAS_BYTES} bytes"


def _check_alias(alias: str) -> None:
    if len(alias.encode()) > MAX_ALIAS_BYTES:
        raise AliasTooLong()
    if alias == RESERVED_ALIAS:
        raise ReservedAlias()


def create_worker(state: State, command: CreateWorker, now: float) -> list[Event]:
    _check_alias(command.alias)
    worker_id = state.workers.next_id
    alias = command.alias or command.default_alias
    return [
        WorkerCreated(
            at=now, actor=worker_actor(worker_id), worker_id=worker_id, alias=alias,
            secret=command.secret,
        )
    ]  # fmt: skip


def update_worker(state: State, command: UpdateWorker, now: float) -> list[Event]:
    _check_alias(command.alias)
    return [
        WorkerAliasChanged(
            at=now, actor=worker_actor(command.worker_id), worker_id=command.worker_id,
            alias=command.alias,
        )
    ]  # fmt: skip


DECIDERS = {CreateWorker: create_worker, UpdateWorker: update_worker}
