"""The checkpoints of one data directory: naming, retention, and choosing one to start from.

A checkpoint is used only if all of these hold: its trailer and body are intact (digest), it
was written by the same read-model code and projection settings (fingerprint: a hash of the
``tracker/projections`` and ``tracker/events`` sources and of the settings, minus sections that
cannot change a read model), and the log still holds the row it is anchored to with the same
chain hash. Otherwise the next older one is tried, and in the end a full replay from position
0 is done. Nothing here trusts a file it has not checked.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec

import tracker.events
import tracker.projections
from tracker.checkpoints import fileformat
from tracker.checkpoints.fileformat import InvalidCheckpoint, Written
from tracker.config import Settings
from tracker.events.reading import row_at
from tracker.events.store import EventStore
from tracker.projections import project_status

log = logging.getLogger(__name__)

DIRECTORY = "checkpoints"
_NAME = re.compile(r"checkpoint-(\d{20})\.ckpt")
_NOT_READ_MODEL_SETTINGS = ("server", "log", "checkpoint", "audit", "passwords", "metrics")


def fingerprint(settings: Settings) -> str:
    """What a checkpoint must have been written with to be loaded by this code."""
    hasher = hashlib.blake2b(f"format {fileformat.FORMAT}".encode(), digest_size=16)
    for package in (tracker.projections, tracker.events):
        for source in sorted(Path(package.__file__).parent.glob("*.py")):  # type: ignore[arg-type]
            hasher.update(source.name.encode() + b"\0" + source.read_bytes())
    relevant = msgspec.to_builtins(settings)
    for section in _NOT_READ_MODEL_SETTINGS:
        relevant.pop(section, None)
    for key in ("data_dir", "conn_str"):
        relevant.get("database", {}).pop(key, None)
    hasher.update(msgspec.json.encode(relevant, order="sorted"))
    return hasher.hexdigest()


class Checkpoints:
    def __init__(self, directory: Path, fingerprint: str, keep: int = 3, fork: bool = True,
                 summarize: fileformat.Summarize | None = None) -> None:  # fmt: skip
        self.directory = directory
        self.fingerprint = fingerprint
        self.keep = max(1, keep)
        self.fork = fork
        self.summarize = summarize

    @classmethod
    def of(cls, settings: Settings) -> Checkpoints:
        """The data directory's checkpoints; each carries every project's status as its
        summary, where time travel starts (:mod:`tracker.projections.project_status`)."""
        directory = Path(settings.database.data_dir) / DIRECTORY
        checkpoint = settings.checkpoint
        return cls(directory, fingerprint(settings), checkpoint.keep, checkpoint.fork,
                   project_status.of_state)  # fmt: skip

    def paths(self) -> list[tuple[int, Path]]:
        """(position, path) of every checkpoint file, newest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.iterdir():
            match = _NAME.fullmatch(path.name)
            if match:
                found.append((int(match.group(1)), path))
        return sorted(found, reverse=True)

    async def write(self, state: Any, anchor: Callable[[int], Awaitable[bytes]]) -> Written | None:
        """Checkpoint ``state`` unless one at its position exists; then keep the newest few."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"checkpoint-{state.position:020d}.ckpt"
        if path.exists() or state.position == 0:
            return None
        written = await fileformat.write(state, path, self.fingerprint, anchor, self.fork,
                                         self.summarize)  # fmt: skip
        self.prune()
        return written

    def prune(self) -> None:
        for _, path in self.paths()[self.keep :]:
            path.unlink(missing_ok=True)
        for temp in self.directory.glob(".checkpoint-*.tmp"):
            if time.time() - temp.stat().st_mtime > 3600:  # left by a crash mid-write
                temp.unlink(missing_ok=True)

    async def anchored(self, store: EventStore, path: Path) -> fileformat.Trailer:
        """The trailer of ``path`` if the log holds its anchor row, else InvalidCheckpoint."""
        trailer = fileformat.peek(path)
        row = await row_at(store, trailer.position)
        if row is None:
            raise InvalidCheckpoint(f"{path.name}: the log ends before position {trailer.position}")
        if row.hash != trailer.log_hash:
            raise InvalidCheckpoint(
                f"{path.name}: the log's hash at position {trailer.position} differs (another log)"
            )
        return trailer

    async def load(self, store: EventStore, make_state: Callable[[], Any]) -> Any:
        """Read models from the newest usable checkpoint, or fresh ones (position 0) if there
        is none; the caller replays the rest of the log."""
        for position, path in self.paths():
            try:
                started = time.perf_counter()
                await self.anchored(store, path)
                loaded = await fileformat.load(path, self.fingerprint)
                state = make_state()
                fileformat.restore(loaded, state)
            except InvalidCheckpoint as exc:
                log.warning("checkpoint not used: %s", exc,
                            extra={"action": "checkpoint_rejected", "path": str(path)})  # fmt: skip
                continue
            log.info("loaded the checkpoint at position %d in %.3f s", position,
                     time.perf_counter() - started,
                     extra={"action": "checkpoint_loaded", "position": position})  # fmt: skip
            return state
        return make_state()
