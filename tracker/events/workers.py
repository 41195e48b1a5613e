"""Events about workers: the machine clients that pull tasks."""

from __future__ import annotations

from tracker.events.base import Event


class WorkerCreated(Event, frozen=True, tag=True):
    worker_id: int
    alias: str
    secret: bytes

    secret_fields = ("secret",)


class WorkerAliasChanged(Event, frozen=True, tag=True):
    worker_id: int
    alias: str


class WorkerPauseSet(Event, frozen=True, tag=True):
    worker_id: int
    paused: bool
