"""A project's state as of a past log position or time (``GET /project/state/:id?at=``).

What is shown (tasks by status, queue depth, assignees) is folded from that project's events
alone (:mod:`tracker.projections.project_status`), not by rebuilding every read model: the
answer costs memory for the project's assigned and failed tasks only, however many tasks are
queued or live in other projects. The fold starts from the summary of the newest checkpoint at
or before the position (every checkpoint carries each project's status) or from position 0,
and reads the log from there, yielding to the event loop between batches.

Bounded (:mod:`tracker.audit.budget`): at most ``audit.max_replay_events`` events are read
per query (a position further than that from any kept checkpoint is refused with 400), what it
holds must fit ``audit.max_read_memory``, and it runs as one of ``audit.max_concurrent_reads``.
"""

from __future__ import annotations

import asyncio
import datetime
import logging

import msgspec

from tracker.audit.budget import ReadGate
from tracker.checkpoints import fileformat
from tracker.checkpoints.directory import Checkpoints
from tracker.errors import InvalidRequest, StorageUnavailable
from tracker.events.codec import decode
from tracker.events.reading import position_at_time, row_at, rows, time_of
from tracker.events.store import EventStore
from tracker.projections import project_status
from tracker.projections.project_status import ENTRY_BYTES, ProjectStatus

log = logging.getLogger(__name__)

BATCH = 256  # rows read at a time: a query holds at most this many rows (bulks can be big)
_summary = msgspec.msgpack.Decoder(dict[int, tuple[int, msgspec.Raw]] | None)
_status = msgspec.msgpack.Decoder(ProjectStatus)


def parse_at(text: str) -> tuple[str, float]:
    """``("position", n)`` for a plain integer, ``("time", unix)`` for ``@<unix seconds>``
    or an ISO 8601 time (``2024-05-01T12:00:00Z``; without a zone it is UTC)."""
    text = text.strip()
    if text.isascii() and text.isdigit():  # str.isdigit() alone accepts "²"
        # A position past the head reads the head; int() refuses more than 4300 digits.
        return "position", int(text) if len(text.lstrip("0")) <= 19 else 2**63 - 1
    try:
        if text.startswith("@"):
            return "time", float(text[1:])
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            "Could not parse request: at must be a log position (an integer), @<unix seconds> "
            "or an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return "time", moment.timestamp()


async def resolve(store: EventStore, at: str | None, head: int) -> int:
    """The log position ``at`` names (the durable head if None), at most the head."""
    if at is None:
        return head
    kind, value = parse_at(at)
    if kind == "position":
        return min(int(value), head)
    return await position_at_time(store, value, head)


class TimeMachine:
    def __init__(self, store: EventStore, checkpoints: Checkpoints, gate: ReadGate) -> None:
        self.store = store
        self.checkpoints = checkpoints
        self.gate = gate

    async def status_at(self, project_id: int, position: int) -> tuple[ProjectStatus | None, int]:
        """The project's status as of ``position`` (None: it did not exist yet), and the
        checkpoint position the fold started from (0: the start of the log)."""
        async with self.gate.turn():
            base, status = await self._start(project_id, position)
            return await self._fold(project_id, status, base, position), base

    async def _start(self, project_id: int, position: int) -> tuple[int, ProjectStatus | None]:
        """The newest usable checkpoint at or before ``position`` and the project's status in
        its summary, or (0, None); OverBudget if the rest would replay too much."""
        for at, path in self.checkpoints.paths():
            if at > position:
                continue
            if position - at > self.gate.max_replay:
                break  # older ones are further still
            try:
                await self.checkpoints.anchored(self.store, path)
                _, payload = await fileformat.summary(path, self.checkpoints.fingerprint)
                return at, self._seed(payload, project_id, path.name)
            except fileformat.InvalidCheckpoint as exc:
                log.warning("checkpoint not used for time travel: %s", exc,
                            extra={"action": "checkpoint_rejected", "path": str(path)})  # fmt: skip
        self.gate.replay(position, position, 0)
        return 0, None

    def _seed(self, payload: bytes, project_id: int, name: str) -> ProjectStatus | None:
        try:
            summary = _summary.decode(payload)
            if summary is None:
                raise fileformat.InvalidCheckpoint(f"{name}: no summary of the projects")
            if project_id not in summary:
                return None
            held, raw = summary[project_id]
            self.gate.afford(held, ENTRY_BYTES, "This project's past state")
            return _status.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise fileformat.InvalidCheckpoint(f"{name}: unreadable summary ({exc})") from None

    async def _fold(self, project_id: int, status: ProjectStatus | None, base: int,
                    position: int) -> ProjectStatus | None:  # fmt: skip
        apply = project_status.apply
        async for batch in rows(self.store, base, position, BATCH):
            for row in batch:
                try:
                    event = decode(row.data)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    raise StorageUnavailable(
                        f"The log's row at position {row.position} is no event; run tracker "
                        "audit verify"
                    ) from None
                if event.concerned_project() == project_id:
                    status = apply(status, event)
            if status is not None:
                self.gate.afford(status.held, ENTRY_BYTES, "This project's past state")
            await asyncio.sleep(0)
        return status

    async def time_of(self, position: int) -> float | None:
        row = await row_at(self.store, position)
        return None if row is None else time_of(row)
