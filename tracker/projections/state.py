"""All read models together, and the fold that applies one event to each that cares.

Each projection module exposes ``HANDLERS``: event type -> pure reducer ``(model, event)``.
Reducers read only the event and their own model: no clock, no I/O, no randomness, so
replaying the log always rebuilds the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker.events.base import Event
from tracker.projections import (
    access,
    logs,
    managers,
    monitoring,
    pacing,
    projects,
    stats,
    tasks,
    workers,
)

Reducer = Callable[[Any, Any], None]


class State:
    def __init__(self) -> None:
        self.position = 0  # position of the last event applied
        self.workers = workers.Workers()
        self.projects = projects.Projects()
        self.access = access.AccessModel()
        self.tasks = tasks.TaskBoard()
        self.managers = managers.Managers()
        self.monitoring = monitoring.Monitoring()
        self.logs = logs.LogBook()
        self.event_counts = stats.EventCounts()
        self.pacing = pacing.Pacing()
        self._handlers = _dispatch_table(self)

    def apply(self, event: Event) -> None:
        for model, reducer in self._handlers.get(type(event), ()):
            reducer(model, event)
        self.position += 1


def _dispatch_table(state: State) -> dict[type, list[tuple[Any, Reducer]]]:
    table: dict[type, list[tuple[Any, Reducer]]] = {}
    for model, handlers in (
        (state.workers, workers.HANDLERS),
        (state.projects, projects.HANDLERS),
        (state.access, access.HANDLERS),
        (state.tasks, tasks.HANDLERS),
        (state.managers, managers.HANDLERS),
        (state.monitoring, monitoring.HANDLERS),
        (state.logs, logs.HANDLERS),
        (state.event_counts, stats.HANDLERS),
        (state.pacing, pacing.HANDLERS),
    ):
        for event_type, reducer in handlers.items():
            table.setdefault(event_type, []).append((model, reducer))  # type: ignore[arg-type]
    return table
