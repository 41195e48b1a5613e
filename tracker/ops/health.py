"""Readiness: what ``GET /readyz`` reports. A small object the app holds and its lifetime sets.

``starting`` (nothing opened yet) -> ``replaying`` (the log is open, the read models are being
rebuilt) -> ``ready`` -> ``stopping`` (SIGTERM: draining). ``failed`` when a group commit failed:
the in-memory state is then ahead of the log, so the tracker stops serving and exits.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

Phase = Literal["starting", "replaying", "ready", "stopping", "failed"]


class Readiness:
    def __init__(self) -> None:
        self.phase: Phase = "starting"
        self.reason = ""
        self.failed = asyncio.Event()  # set once, by ``fail``; the server waits on it

    @property
    def ready(self) -> bool:
        return self.phase == "ready"

    def fail(self, reason: str) -> None:
        self.phase, self.reason = "failed", reason
        self.failed.set()

    def report(self, position: int | None = None, durable: int | None = None) -> dict[str, Any]:
        """The body of ``/readyz``: nothing secret, nothing costly."""
        found: dict[str, Any] = {"ready": self.ready, "phase": self.phase}
        if position is not None:
            found["position"] = position
            found["durable_position"] = durable
        return found

    @property
    def message(self) -> str:
        return {
            "starting": "starting",
            "replaying": "replaying the event log",
            "ready": "",
            "stopping": "stopping",
            "failed": "the event log failed; the tracker is stopping",
        }[self.phase]
