"""How many events of each type the log holds: a counter that survives restarts (``/metrics``)."""

from __future__ import annotations

from typing import Any

from tracker.events.codec import EVENT_TYPES


class EventCounts:
    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys((cls.__name__ for cls in EVENT_TYPES), 0)

    @property
    def by_type(self) -> dict[str, int]:
        """Counts of the types that occurred."""
        return {name: count for name, count in self.counts.items() if count}


def counted(model: EventCounts, event: Any) -> None:
    try:
        model.counts[event.__class__.__name__] += 1
    except KeyError:  # a type newer than a restored checkpoint's counts
        model.counts[event.__class__.__name__] = 1


HANDLERS: dict[type, Any] = dict.fromkeys(EVENT_TYPES, counted)
