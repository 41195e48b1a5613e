"""Events as plain JSON records, for ``tracker events export``, ``GET /events`` and task history.

A record needs none of our code to be read::

    {"position": 7, "hash": "<hex of the row's chain hash>", "type": "TaskReleased",
     "event": {"at": 1700000000.5, "actor": "worker:3", "v": 1, "task_id": 12, ...},
     "redacted": ["secret"]}

``event`` holds the stored event's fields as stored (JSON, unknown fields kept), minus
``type``, which is lifted to the record. ``hash`` is the chain hash of the row in the log.

**Redaction.** The fields an event type declares secret (``Event.secret_fields``: worker
secrets, project and webhook secrets, manager password hashes) are replaced by ``"[redacted]"``
and named in ``redacted``. A row whose type this tracker does not know has every field but
``at``, ``actor`` and ``v`` redacted, since nothing says which of them are secret. Session
ids never reach the log (only their SHA-256, kept: it pairs logins with logouts and cannot be
used to log in). A redacted record cannot be re-hashed into the chain: verify the log itself
with ``tracker audit verify`` and match records to it by position and hash.

Which task, project and worker an event concerns is the event type's own answer
(``concerned_tasks``, ``concerned_project``, ``concerned_workers`` in ``tracker/events``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from tracker.events import codec
from tracker.events.base import Event
from tracker.events.store import StoredRow

REDACTED = "[redacted]"
_ALWAYS_SHOWN = ("at", "actor", "v")

_decoder = msgspec.json.Decoder(dict[str, Any])
_encoder = msgspec.json.Encoder()


def fields(row: StoredRow) -> dict[str, Any]:
    """The stored event as a dict, ``type`` included, nothing redacted yet."""
    return _decoder.decode(row.data)


def event_of(row: StoredRow) -> Event | None:
    """The row's typed event; None if this tracker cannot read it (`audit verify` says why)."""
    try:
        return codec.decode(row.data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def record(row: StoredRow, event: Event | None) -> dict[str, Any]:
    """The redacted record of one row, whose typed event (or None) is ``event``."""
    data = fields(row)
    event_type = data.pop("type", row.type)
    if event is None:
        redacted = [name for name in data if name not in _ALWAYS_SHOWN]
    else:
        redacted = [name for name in type(event).secret_fields if name in data]
    for name in redacted:
        data[name] = REDACTED
    found: dict[str, Any] = {"position": row.position, "hash": row.hash.hex(),
                             "type": event_type, "event": data}  # fmt: skip
    if redacted:
        found["redacted"] = redacted
    return found


def line(found: dict[str, Any]) -> bytes:
    return _encoder.encode(found) + b"\n"


class Filter(msgspec.Struct, frozen=True):
    """Which events to keep; all given conditions must hold. ``type`` is the event type's name
    (``TaskReleased``)."""

    project: int | None = None
    task: int | None = None
    worker: int | None = None
    type: str | None = None

    def __call__(self, event: Event | None) -> bool:
        if event is None:
            return self == _EVERYTHING
        if self.type is not None and type(event).__name__ != self.type:
            return False
        if self.project is not None and event.concerned_project() != self.project:
            return False
        if self.task is not None and self.task not in event.concerned_tasks():
            return False
        return self.worker is None or self.worker in event.concerned_workers()


_EVERYTHING = Filter()
