"""How many events of each type the log holds: a counter that survives restarts (``/metrics``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tracker.events.codec import EVENT_TYPES


class EventCounts:
    def __init__(self) -> None:
        self.by_type: Counter[str] = Counter()


def counted(model: EventCounts, event: Any) -> None:
    model.by_type[type(event).__name__] += 1


HANDLERS: dict[type, Any] = dict.fromkeys(EVENT_TYPES, counted)
