"""Rebuilding the read models as a node starts: the newest usable checkpoint, then the rest of
the log replayed on top, each row checked first; and the error start-up stops with.

Start-up reads every row after the newest usable checkpoint to replay it, so it checks those
rows as ``tracker audit verify`` does, at little cost: positions follow one another, the
payload is a BLOB, the hash chain holds from the checkpoint's anchored hash (or from genesis),
and the payload decodes as an event. That finds an edited, flipped, moved, deleted, duplicated
or re-typed row after the checkpoint. A checkpoint taken at a position the log no longer reaches
means rows were lost (a truncated file, a deleted or torn WAL): the tracker refuses to serve the
shorter log. Rows before the checkpoint are not read again: ``tracker audit verify`` walks the
whole log.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import sqlite3
import time

import msgspec

from tracker.checkpoints import fileformat
from tracker.checkpoints.directory import Checkpoints
from tracker.config import Settings
from tracker.events.codec import decode
from tracker.events.reading import row_at
from tracker.events.store import GENESIS, EventStore
from tracker.projections.state import State
from tracker.startup.rows import check_row, unreadable

log = logging.getLogger(__name__)

_sha256 = hashlib.sha256


class DamagedLog(Exception):
    """The log was changed behind the tracker's back; the message names where and how."""


async def rebuild(store: EventStore, settings: Settings) -> State:
    """The read models of ``store``'s log: loaded from the newest usable checkpoint (if
    enabled and any), the rest of the log replayed on top. ``DamagedLog`` if a row does not
    check out or the log ends before a checkpoint."""
    checkpoints = Checkpoints.of(settings)
    await check_not_cut(store, checkpoints)
    if settings.checkpoint.enabled:
        state = await checkpoints.load(store, lambda: read_models(settings))
    else:
        state = read_models(settings)
    started, start = time.perf_counter(), state.position  # past a checkpoint, if loaded
    await replay(store, state, start)
    elapsed, replayed = time.perf_counter() - started, state.position - start
    log.info(
        "replayed %d events in %.3f s (%.0f events/s)", replayed, elapsed,
        replayed / elapsed if elapsed else 0.0,
        extra={"action": "replayed", "events": replayed, "seconds": elapsed},
    )  # fmt: skip
    return state


def read_models(settings: Settings) -> State:
    """Empty read models with the bounds the settings give, set before replay so that every
    replay of the same log under the same settings builds the same models."""
    state = State()
    monitoring = settings.monitoring
    state.monitoring.configure(monitoring.snapshot_interval, monitoring.history_length)
    state.logs.configure(settings.database.log_buffer_entries, settings.database.log_buffer_bytes)
    return state


async def replay(store: EventStore, state: State, after: int = 0) -> None:
    """Fold the log after ``after`` into ``state``, checking each row first (``DamagedLog``).

    The collector is paused meanwhile (replay allocates millions of long-lived objects and
    would otherwise trigger full collections over them), and what replay built is then frozen
    out of later collections.
    """
    previous = GENESIS
    if after:
        anchor = await row_at(store, after)  # the checkpoint's row; its hash was checked
        previous = anchor.hash if anchor is not None else GENESIS
    expected, apply = after + 1, state.apply
    gc.disable()
    batches = store.read(after)
    try:
        async for batch in batches:
            for row in batch:
                data = row.data
                if (row.position != expected or type(data) is not bytes
                        or _sha256(previous + expected.to_bytes(8, "big") + data).digest()
                        != row.hash):  # fmt: skip
                    broken = check_row(row, expected, previous)
                    if broken is not None:
                        raise DamagedLog(f"position {broken.position}: {broken.reason}")
                try:
                    event = decode(data)
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    raise DamagedLog(
                        f"position {expected}: the payload is no event: {exc}"
                    ) from None
                apply(event)
                expected, previous = expected + 1, row.hash
    except sqlite3.DatabaseError as exc:
        broken = unreadable(expected, exc)
        raise DamagedLog(f"position {broken.position}: {broken.reason}") from None
    finally:
        with contextlib.suppress(sqlite3.Error):  # closed now, before the store is
            await batches.aclose()  # type: ignore[attr-defined]
        gc.enable()
        gc.freeze()


async def check_not_cut(store: EventStore, checkpoints: Checkpoints) -> None:
    """``DamagedLog`` if a checkpoint was taken at a position past the log's head."""
    head = await store.head()
    for _, path in checkpoints.paths():
        try:
            position = fileformat.peek(path).position
        except fileformat.InvalidCheckpoint:
            continue  # a damaged checkpoint says nothing about the log
        if position > head:
            raise DamagedLog(
                f"position {head + 1}: the log ends at position {head}, but the checkpoint "
                f"{path.name} was taken at position {position}: rows were lost (a truncated "
                "file, a deleted or torn WAL); restore the log, or move the checkpoints away "
                "to serve this shorter log"
            )
