"""Events as plain JSON records, for ``tracker events export``, ``GET /events`` and task history.

A record needs none of our code to be read::

    {"position": 7, "hash": "<hex of the row's chain hash>", "type": "TaskReleased",
     "event": {"at": 1700000000.5, "actor": "worker:3", "v": 1, "task_id": 12, ...},
     "redacted": ["secret"]}

``event`` holds the stored event's fields as stored (JSON, unknown fields kept), minus
``type``, which is lifted to the record. ``hash`` is the chain hash of the row in the log.

**Redaction.** A field whose name contains ``secret``, ``password`` or ``token`` (worker
secrets, project and webhook secrets, manager password hashes) is replaced by ``"[redacted]"``
and named in ``redacted``. The rule goes by name, so fields added later are covered. Session
ids never reach the log (only their SHA-256, kept: it pairs logins with logouts and cannot be
used to log in). A redacted record cannot be re-hashed into the chain: verify the log itself
with ``tracker audit verify`` and match records to it by position and hash.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tracker.events.store import StoredRow

REDACTED = "[redacted]"
_SECRET_WORDS = ("secret", "password", "token")

_decoder = msgspec.json.Decoder(dict[str, Any])
_encoder = msgspec.json.Encoder()


def is_secret(field: str) -> bool:
    lowered = field.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def fields(row: StoredRow) -> dict[str, Any]:
    """The stored event as a dict, ``type`` included, nothing redacted yet."""
    return _decoder.decode(row.data)


def record(row: StoredRow, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The redacted record of one row (``data``: its :func:`fields`, if already decoded)."""
    event = dict(fields(row) if data is None else data)
    event_type = event.pop("type", row.type)
    redacted = [name for name in event if is_secret(name)]
    for name in redacted:
        event[name] = REDACTED
    found: dict[str, Any] = {"position": row.position, "hash": row.hash.hex(),
                             "type": event_type, "event": event}  # fmt: skip
    if redacted:
        found["redacted"] = redacted
    return found


def line(found: dict[str, Any]) -> bytes:
    return _encoder.encode(found) + b"\n"


def project_of(data: dict[str, Any]) -> int | None:
    project = data.get("project_id")
    return project if isinstance(project, int) else None


def concerns_task(data: dict[str, Any], task_id: int) -> bool:
    """The event is about the task: its own, one listing it, or its copy into a chain."""
    first = data.get("first_task_id")
    return (
        data.get("task_id") == task_id
        or data.get("chained_from") == task_id
        or task_id in (data.get("task_ids") or ())
        or (isinstance(first, int) and first <= task_id < first + len(data.get("tasks") or ()))
    )


def concerns_worker(data: dict[str, Any], worker_id: int) -> bool:
    return data.get("worker_id") == worker_id or data.get("actor") == f"worker:{worker_id}"


class Filter(msgspec.Struct, frozen=True):
    """Which events to keep; all given conditions must hold."""

    project: int | None = None
    task: int | None = None
    worker: int | None = None

    def __call__(self, data: dict[str, Any]) -> bool:
        if self.project is not None and project_of(data) != self.project:
            return False
        if self.task is not None and not concerns_task(data, self.task):
            return False
        return self.worker is None or concerns_worker(data, self.worker)
