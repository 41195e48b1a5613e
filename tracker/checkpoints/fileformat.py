"""One checkpoint file: the read models at one log position, anchored to that position's hash.

Layout (format 2; lengths 8-byte big-endian; every frame zlib-compressed, see
:mod:`~tracker.checkpoints.frames`)::

    MAGIC
    frame: header          msgpack: format, fingerprint, position, and for every read model
                           its name, class and attribute names, in the order that follows
    frame: summary         msgpack: what the state's ``summary`` function made of it (time
                           travel's per-project starting points), read without the models
    per attribute:
      frame: node          the attribute's snapshot node (:mod:`tracker.projections.snapshot`)
      per big container it refers to:
        frame: chunk ...   msgpack chunks of 65,536 entries, then an empty frame
    [trailer][crc32][len]  msgpack: position, the log's chain hash at that position, and the
                           BLAKE2b-256 of every byte before the trailer

An attribute's node and chunks are exactly the bytes its digest covers
(:mod:`tracker.projections.digest`), so a checkpoint's digests are computed from the file
without building the models (``tracker audit replay``). Compression takes the cost of the
generic encoding (every Struct field's name, repeated values) off the disk: a checkpoint of
2,000,000 bulk-submitted tasks is a few tens of MiB, not hundreds.

The file is written to a temporary name, fsynced, renamed, and the directory fsynced, so a
reader sees a whole checkpoint or none. The trailer is written last, once the events up to
``position`` are durable, with the log's own hash of that row: a checkpoint of another log, or
of events a crash lost, does not match the log and is not used. A damaged file fails the
digest; nothing decoded from a file is used before its digest matched. A file of format 1
(earlier versions) keeps its trailer, so it still anchors ``tracker audit verify`` and the
start-up's check for a cut log, but its models are not loaded: a full replay does instead.

The read models must not change while they are encoded. Where the platform can fork, a child
process encodes a copy-on-write image of them (:mod:`~tracker.checkpoints.forked`) and the
event loop pauses only for the fork; elsewhere (or with ``checkpoint.fork: false``) encoding
runs on the event loop, with compression, hashing and writing on a helper thread meanwhile
(:class:`~tracker.checkpoints.pipeline.Pipeline`).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from tracker.checkpoints import forked, frames
from tracker.checkpoints.frames import END, DamagedFrame, Reader
from tracker.checkpoints.pipeline import Pipeline
from tracker.projections import snapshot

MAGIC = b"TRACKER-CHECKPOINT\n\x02"
FORMAT = 2
_FORMAT_1 = b"TRACKER-CHECKPOINT\n\x01"
_LEN = 8

Summarize = Callable[[Any], Any]


class InvalidCheckpoint(Exception):
    """The checkpoint cannot be used; the message says why."""


class Header(msgspec.Struct):
    format: int
    fingerprint: str
    position: int
    created: float
    models: list[tuple[str, str, list[str]]]  # (name, class path, attribute names)


class Trailer(msgspec.Struct, array_like=True):
    position: int
    log_hash: bytes
    digest: bytes


@dataclass
class Written:
    path: Path
    position: int
    size: int
    pause: float  # seconds the event loop could not run (encoding, or the fork)
    seconds: float  # from start to the file being durable
    copied: int = 0  # bytes of memory a forked writer had to copy


@dataclass(repr=False)  # holds millions of objects: never printed whole
class Loaded:
    position: int
    log_hash: bytes
    models: list[tuple[str, str, list[tuple[str, Any]]]]  # (name, class path, attributes)


def _length(n: int) -> bytes:
    return n.to_bytes(_LEN, "big")


# -- writing ----------------------------------------------------------------------------------


async def write(state: Any, path: Path, fingerprint: str, anchor: Callable[[int], Awaitable[bytes]],
                fork: bool = True, summarize: Summarize | None = None) -> Written:  # fmt: skip
    """Write a checkpoint of ``state`` to ``path``; ``anchor(position)`` waits until that
    position is durable and returns the log's hash of it. ``fork``: encode in a forked child
    (:mod:`~tracker.checkpoints.forked`) where the platform can, else on the event loop.
    ``summarize(state)``: what to store in the summary frame (None: nothing)."""
    started = time.perf_counter()
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    position = state.position

    def encode(state: Any, fingerprint: str, put: Callable[[bytes], None]) -> None:
        put(MAGIC)
        _encode(state, fingerprint, summarize, lambda payload: put(frames.encode(payload)))

    try:
        if fork and forked.available():
            body = await forked.encode_in_child(state, fingerprint, temp, encode)
        else:
            body = await _encode_here(state, fingerprint, summarize, temp)
        log_hash = await anchor(position)
        trailer = snapshot.encode(Trailer(position, log_hash, body.digest))
        tail = trailer + zlib.crc32(trailer).to_bytes(4, "big") + _length(len(trailer))
        await asyncio.to_thread(_finish, temp, path, tail)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - started
    return Written(path, position, body.size + len(tail), body.pause, seconds, body.copied)


async def _encode_here(state: Any, fingerprint: str, summarize: Summarize | None,
                       temp: Path) -> forked.Body:  # fmt: skip
    """Encode on the event loop (the pause); compress, hash and write on a helper thread."""
    started = time.perf_counter()
    pipeline, hasher = Pipeline(), frames.hasher()
    file = open(temp, "xb")  # noqa: SIM115, ASYNC230  # small: an empty new file
    size = 0

    def put(data: bytes) -> None:
        nonlocal size
        file.write(data)
        hasher.update(data)
        size += len(data)

    try:
        put(MAGIC)
        _encode(state, fingerprint, summarize,
                lambda payload: pipeline.put(lambda p: put(frames.encode(p)), payload))  # fmt: skip
        pause = time.perf_counter() - started
        await pipeline.call(file.flush)
    finally:
        pipeline.close()
        file.close()
    return forked.Body(hasher.digest(), size, pause)


def _encode(state: Any, fingerprint: str, summarize: Summarize | None,
            emit: Callable[[bytes], None]) -> None:  # fmt: skip
    """The synchronous part: every frame's payload, in order, no ``await`` in between."""
    models = snapshot.models(state)
    layout = [(name, snapshot.class_path(type(model)),
               [attribute for attribute, _ in _attributes(model, name)])
              for name, model in models]  # fmt: skip
    emit(snapshot.encode(Header(FORMAT, fingerprint, state.position, time.time(), layout)))
    emit(snapshot.encode(summarize(state) if summarize else None))
    # an object reachable twice (from two attributes, or a model from an attribute) is refused
    seen = {id(model) for _, model in models}
    for name, model in models:
        for attribute, value in _attributes(model, name):
            plan = snapshot.Plan(seen)
            emit(snapshot.encode(plan.node(value, f"{name}.{attribute}")))
            for container, kind, _ in plan.blobs:
                for chunk in snapshot.chunks(container, kind):
                    emit(chunk)
                emit(END)


def _attributes(model: Any, name: str) -> list[tuple[str, Any]]:
    cls = type(model)
    if not snapshot.ours(cls) or callable(model) or issubclass(cls, msgspec.Struct):
        raise snapshot.Unsupported(f"{name}: a read model must be an object of ours")
    return snapshot.attributes(model)


def _finish(temp: Path, path: Path, tail: bytes) -> None:
    """Append the trailer, make the file durable, and give it its name atomically."""
    with open(temp, "ab") as file:
        file.write(tail)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# -- reading ----------------------------------------------------------------------------------


def _tail(path: Path) -> tuple[Trailer, int]:
    """The trailer and where the body before it ends."""
    try:
        with open(path, "rb") as file:
            file.seek(-(4 + _LEN), os.SEEK_END)
            tail = file.read(4 + _LEN)
            length = int.from_bytes(tail[4:], "big")
            body_end = file.seek(-(4 + _LEN + length), os.SEEK_END)
            payload = file.read(length)
    except (OSError, ValueError) as exc:
        raise InvalidCheckpoint(f"{path.name}: unreadable trailer ({exc})") from None
    if len(payload) != length or zlib.crc32(payload) != int.from_bytes(tail[:4], "big"):
        raise InvalidCheckpoint(f"{path.name}: damaged trailer")
    try:
        return msgspec.msgpack.decode(payload, type=Trailer), body_end
    except msgspec.DecodeError as exc:
        raise InvalidCheckpoint(f"{path.name}: damaged trailer ({exc})") from None


def peek(path: Path) -> Trailer:
    """The trailer alone (position and anchor), without reading the body. Any format."""
    return _tail(path)[0]


class _Opened:
    """A checkpoint being read: its trailer, its frames (hashed as they are read), and its
    header once checked. Every caller ends with :meth:`check`, which trusts nothing the file
    said until its digest matched."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path, self.fingerprint = path, fingerprint
        self.trailer, self.body_end = _tail(path)
        self.hasher = hashlib.blake2b(digest_size=32)

    def fail(self, why: str) -> InvalidCheckpoint:
        return InvalidCheckpoint(f"{self.path.name}: {why}")

    async def header(self, reader: Reader, file: BinaryIO) -> Header:
        magic = await asyncio.to_thread(file.read, len(MAGIC))
        self.hasher.update(magic)
        if magic == _FORMAT_1:
            raise self.fail("written in checkpoint format 1 by an earlier version; not loaded")
        if magic != MAGIC:
            raise self.fail("not a checkpoint file")
        header = msgspec.msgpack.decode(await reader.payload(), type=Header)
        if header.format != FORMAT:
            raise self.fail(f"format {header.format}, expected {FORMAT}")
        if header.fingerprint != self.fingerprint:
            raise self.fail("written by other read-model code or settings (fingerprint differs)")
        return header

    def check(self, reader: Reader, header: Header) -> None:
        if not reader.at_end():
            raise self.fail("more frames than its header describes (damaged)")
        if self.hasher.digest() != self.trailer.digest or self.trailer.position != header.position:
            raise self.fail("content does not match its digest (damaged)")


async def _read(path: Path, fingerprint: str, work: Callable[[Reader, Header], Awaitable[Any]]
                ) -> tuple[Any, Trailer]:  # fmt: skip
    """Open ``path``, check its header, run ``work`` on its frames, check its digest; what
    ``work`` returned and the trailer."""
    opened = _Opened(path, fingerprint)
    enabled = gc.isenabled()
    gc.disable()  # millions of new objects: no full collections while decoding them
    try:
        with await asyncio.to_thread(open, path, "rb") as file:
            async with Reader(file, opened.body_end, opened.hasher) as reader:
                header = await opened.header(reader, file)
                result = await work(reader, header)
                opened.check(reader, header)
    except (OSError, ValueError, msgspec.DecodeError, DamagedFrame) as exc:
        raise opened.fail(f"unreadable ({exc})") from None
    finally:
        if enabled:
            gc.enable()
    return result, opened.trailer


async def _value(reader: Reader, where: str, sink: Callable[[bytes], None] | None = None) -> Any:
    """One attribute's value, built from its node and chunks; with ``sink``, those bytes go
    there instead and nothing is decoded beyond the node."""
    node_bytes = await reader.payload()
    node = snapshot.freeze(msgspec.msgpack.decode(node_bytes))
    if sink is not None:
        sink(node_bytes)
    blobs = []
    for kind, expr in snapshot.blob_refs(node):
        container = snapshot.empty_blob(kind)
        merge = container.extend if isinstance(container, list) else container.update
        decoder = snapshot.chunk_decoder(kind, expr)
        while (chunk := await reader.payload()) != END:
            if sink is None:
                merge(decoder.decode(chunk))
            else:
                sink(chunk)
        blobs.append(container)
    if sink is not None:
        return None
    try:
        return snapshot.build(node, blobs)
    except (ValueError, TypeError, AttributeError, ImportError, IndexError) as exc:
        raise InvalidCheckpoint(f"cannot rebuild {where}: {exc}") from None


async def load(path: Path, fingerprint: str) -> Loaded:
    """Read, build and check a checkpoint's models; yields to the event loop between frames."""

    async def models(reader: Reader, header: Header) -> list[Any]:
        await reader.payload()  # the summary
        found = []
        for name, class_path, attributes in header.models:
            values = [(attribute, await _value(reader, f"{path.name}: {name}.{attribute}"))
                      for attribute in attributes]  # fmt: skip
            found.append((name, class_path, values))
        return found

    built, trailer = await _read(path, fingerprint, models)
    return Loaded(trailer.position, trailer.log_hash, built)


async def summary(path: Path, fingerprint: str) -> tuple[int, bytes]:
    """The position and the summary frame's payload, once the whole file's digest matched
    (the models are hashed, not inflated nor decoded)."""

    async def first(reader: Reader, header: Header) -> bytes:
        payload = await reader.payload()
        await reader.rest()
        return payload

    payload, trailer = await _read(path, fingerprint, first)
    return trailer.position, payload


async def images(path: Path, fingerprint: str,
                 sink: Callable[[str, str, str], Callable[[bytes], None]]) -> int:  # fmt: skip
    """Feed ``sink(model, class path, attribute)`` the bytes each attribute's digest covers
    (its node, then its chunks), without building the models; the checkpoint's position.
    If the file turns out damaged, InvalidCheckpoint is raised after some bytes were fed."""

    async def walk(reader: Reader, header: Header) -> None:
        await reader.payload()  # the summary
        for name, class_path, attributes in header.models:
            for attribute in attributes:
                await _value(reader, attribute, sink(name, class_path, attribute))

    _, trailer = await _read(path, fingerprint, walk)
    return trailer.position


def restore(loaded: Loaded, state: Any) -> None:
    """Put the loaded models into ``state`` (fresh, configured read models), in place."""
    present = dict(snapshot.models(state))
    if sorted(present) != sorted(name for name, _, _ in loaded.models):
        raise InvalidCheckpoint("the checkpoint holds other read models than this tracker")
    for name, class_path, attributes in loaded.models:
        target = present[name]
        if class_path != snapshot.class_path(type(target)):
            raise InvalidCheckpoint(f"read model {name} has another type in the checkpoint")
        for attribute, value in attributes:
            object.__setattr__(target, attribute, value)
    state.position = loaded.position
