"""Events about log lines that workers send (``POST /log/<level>``)."""

from __future__ import annotations

from tracker.events.base import Event

#: Level numbers as the original stores and serves them (FATAL is 1, PANIC is 2).
LEVELS = {"fatal": 1, "panic": 2, "error": 3, "warn": 4, "warning": 4, "info": 5, "debug": 6,
          "trace": 7}  # fmt: skip


class WorkerLogged(Event, frozen=True, tag=True):
    """A worker's log line. ``timestamp`` is the worker's own clock; ``at`` is the server's."""

    worker_id: int
    level: int
    scope: str
    message: str
    timestamp: int
