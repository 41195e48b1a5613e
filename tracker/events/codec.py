"""The one union of all event types, and the codec that writes them to the log.

Stored events are JSON (readable by any program, see ``tracker events export``). Decoding is
tolerant of unknown fields so that an older tracker can read a log written by a newer one.
"""

from __future__ import annotations

from typing import Union

import msgspec

from tracker.events import logs as log_events
from tracker.events import managers, projects, tasks, workers
from tracker.events.base import Event

EVENT_TYPES: tuple[type[Event], ...] = (
    workers.WorkerCreated,
    workers.WorkerAliasChanged,
    workers.WorkerPauseSet,
    projects.ProjectCreated,
    projects.ProjectUpdated,
    projects.ProjectSecretSet,
    projects.WebhookSecretSet,
    projects.ProjectVersionPushed,
    projects.AccessRequested,
    projects.AccessGranted,
    projects.AccessRevoked,
    tasks.TaskSubmitted,
    tasks.TasksSubmitted,
    tasks.TaskAssigned,
    tasks.TaskReleased,
    tasks.AssignmentExpired,
    tasks.TasksAssigned,
    tasks.TasksReleased,
    tasks.AssignmentExtended,
    tasks.AssignedTasksReclaimed,
    tasks.FailedTasksReset,
    tasks.ProjectTasksDeleted,
    tasks.QueuedTasksCancelled,
    tasks.TasksReprioritized,
    managers.ManagerRegistered,
    managers.TrackerAdminSet,
    managers.SessionStarted,
    managers.SessionEnded,
    managers.ProjectRoleSet,
    log_events.WorkerLogged,
)

AnyEvent = Union[EVENT_TYPES]  # type: ignore[valid-type]  # noqa: UP007

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyEvent)


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


def decode(data: bytes | str) -> Event:
    return _decoder.decode(data)  # type: ignore[no-any-return]


def type_name(event: Event) -> str:
    return type(event).__name__
