"""``tracker audit replay``: rebuild the read models from position 0 and compare digests.

The rebuilt models are compared with those of the running tracker (``GET /audit/digest``)
or of a checkpoint, first model by model and attribute by attribute (one digest each, cheap),
then, for what differs, key by key. A difference is reported by read model, attribute and
key, e.g. ``tasks.tasks[17]: differs``.

One set of read models is held at a time: a checkpoint's digests are computed from its file
(:func:`checkpoint_digests`) without building its models, and only when something differs are
they built, once the rebuilt models' per-key digests are taken and the models let go.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.checkpoints import fileformat
from tracker.events.codec import decode
from tracker.events.reading import rows
from tracker.events.store import EventStore
from tracker.projections import digest, snapshot
from tracker.projections.digest import Digests, KeyDigests


@dataclass(frozen=True)
class Difference:
    model: str
    attribute: str = ""
    key: str | None = None
    what: str = "differs"

    def __str__(self) -> str:
        where = self.model + (f".{self.attribute}" if self.attribute else "")
        if self.key is not None and self.key != "":
            where += f"[{self.key}]"
        return f"{where}: {self.what}"


class LogTooShort(Exception):
    """The log does not (yet) hold the position to replay to."""


async def replay_into(state: Any, store: EventStore, until: int | None = None,
                      pause_every: int = 0) -> float:  # fmt: skip
    """Apply the log after ``state.position`` (up to ``until``) to ``state``; seconds taken.

    ``pause_every``: yield to the event loop after that many rows (0: only between batches).
    """
    started = time.perf_counter()
    apply = state.apply
    async for batch in rows(store, state.position, until):
        for row in batch:
            apply(decode(row.data))
        if pause_every:
            await asyncio.sleep(0)
    if until is not None and state.position < until:
        raise LogTooShort(f"the log ends at position {state.position}, not {until}")
    return time.perf_counter() - started


async def replay_until(make_state: Callable[[], Any], store: EventStore, until: int,
                       wait: float = 10.0) -> Any:  # fmt: skip
    """Fresh read models rebuilt up to ``until``; waits up to ``wait`` seconds for the log to
    reach it (a running tracker's newest events may be a few milliseconds from durable)."""
    state = make_state()
    deadline = time.monotonic() + wait
    while True:
        try:
            await replay_into(state, store, until)
            return state
        except LogTooShort:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def checkpoint_digests(path: Path, fingerprint: str) -> tuple[int, Digests]:
    """A checkpoint's position and the digests of its models, as :func:`digest.compute` gives
    them for the models it holds, hashed from the file: nothing is built."""
    hashers: dict[str, dict[str, Any]] = {}

    def sink(model: str, class_path: str, attribute: str) -> Callable[[bytes], None]:
        parts = hashers.setdefault(model, {"": hashlib.blake2b(digest_size=32)})
        if attribute in getattr(snapshot.resolve_class(class_path), "DIGEST_SKIP", ()):
            return lambda data: None
        whole, part = parts[""], hashlib.blake2b(digest_size=32)
        parts[attribute] = part

        def feed(data: bytes) -> None:
            part.update(data)
            whole.update(data)

        return feed

    try:
        position = await fileformat.images(path, fingerprint, sink)
    except (ValueError, ImportError, AttributeError) as exc:  # a class the file names
        raise fileformat.InvalidCheckpoint(f"{path.name}: {exc}") from None
    return position, digest.finish(hashers)


def compare(expected: Digests, actual: Digests) -> list[Difference]:
    """Models and attributes whose digests differ (``expected``: the tracker or checkpoint)."""
    found = []
    for model in sorted(set(expected) | set(actual)):
        if model not in actual:
            found.append(Difference(model, what="only in the tracker"))
        elif model not in expected:
            found.append(Difference(model, what="only in the replay"))
        elif expected[model].get("") != actual[model].get(""):
            names = sorted((set(expected[model]) | set(actual[model])) - {""})
            found.extend(Difference(model, name) for name in names
                         if expected[model].get(name) != actual[model].get(name))  # fmt: skip
    return found


def compare_keys(expected: KeyDigests, actual: KeyDigests) -> list[Difference]:
    """Keys whose digests differ, or that only one side holds."""
    found = []
    for model in sorted(expected):
        for attribute in sorted(set(expected[model]) | set(actual.get(model, {}))):
            mine = actual.get(model, {}).get(attribute, {})
            theirs = expected[model].get(attribute, {})
            here = []
            for key in _ordered(set(mine) | set(theirs)):
                if key not in mine:
                    here.append(Difference(model, attribute, key, "only in the tracker"))
                elif key not in theirs:
                    here.append(Difference(model, attribute, key, "only in the replay"))
                elif mine[key] != theirs[key]:
                    here.append(Difference(model, attribute, key))
            if not here and list(mine) != list(theirs):
                here.append(Difference(model, attribute, None, "same entries, other order"))
            found.extend(here)
    return found


def _ordered(keys: set[str]) -> list[str]:
    def number_first(key: str) -> tuple[int, float, str]:
        try:
            return (0, float(key), key)
        except ValueError:
            return (1, 0.0, key)

    return sorted(keys, key=number_first)
