"""One checkpoint file: the read models at one log position, anchored to that position's hash.

Layout (all lengths 8-byte big-endian)::

    MAGIC
    [len][header]        msgpack: format, fingerprint, position, the models' snapshot nodes,
                         and (kind, type, chunk count) of every big container
    [len][chunk] ...     msgpack chunks of the big containers, in order
    [trailer][crc32][len]  msgpack: position, the log's chain hash at that position, and the
                         BLAKE2b-256 of every byte before the trailer

The file is written to a temporary name, fsynced, renamed, and the directory fsynced, so a
reader sees a whole checkpoint or none. The trailer is written last, once the events up to
``position`` are durable, with the log's own hash of that row: a checkpoint of another log, or
of events a crash lost, does not match the log and is not used. A damaged file fails the
digest.

The read models must not change while they are encoded. Where the platform can fork, a child
process encodes a copy-on-write image of them (:mod:`~tracker.checkpoints.forked`) and the
event loop pauses only for the fork; elsewhere (or with ``checkpoint.fork: false``) encoding
runs on the event loop, with hashing and writing on a helper thread meanwhile
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

from tracker.checkpoints import forked
from tracker.checkpoints.pipeline import Pipeline
from tracker.projections import snapshot

MAGIC = b"TRACKER-CHECKPOINT\n\x01"
FORMAT = 1
_LEN = 8


class InvalidCheckpoint(Exception):
    """The checkpoint cannot be used; the message says why."""


class Header(msgspec.Struct):
    format: int
    fingerprint: str
    position: int
    created: float
    models: list[Any]
    blobs: list[Any]  # [kind, expression, chunk count]


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


@dataclass
class Loaded:
    position: int
    log_hash: bytes
    models: list[Any]
    blobs: list[Any]


def _length(n: int) -> bytes:
    return n.to_bytes(_LEN, "big")


async def write(state: Any, path: Path, fingerprint: str, anchor: Callable[[int], Awaitable[bytes]],
                fork: bool = True) -> Written:  # fmt: skip
    """Write a checkpoint of ``state`` to ``path``; ``anchor(position)`` waits until that
    position is durable and returns the log's hash of it. ``fork``: encode in a forked child
    (:mod:`~tracker.checkpoints.forked`) where the platform can, else on the event loop."""
    started = time.perf_counter()
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    position = state.position
    try:
        if fork and forked.available():
            body = await forked.encode_in_child(state, fingerprint, temp, _encode)
        else:
            body = await _encode_here(state, fingerprint, temp)
        log_hash = await anchor(position)
        trailer = snapshot.encode(Trailer(position, log_hash, body.digest))
        tail = trailer + zlib.crc32(trailer).to_bytes(4, "big") + _length(len(trailer))
        await asyncio.to_thread(_finish, temp, path, tail)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - started
    return Written(path, position, body.size + len(tail), body.pause, seconds, body.copied)


async def _encode_here(state: Any, fingerprint: str, temp: Path) -> forked.Body:
    """Encode on the event loop (the pause), hash and write on a helper thread meanwhile."""
    started = time.perf_counter()
    pipeline, hasher = Pipeline(), hashlib.blake2b(digest_size=32)
    file = open(temp, "xb")  # noqa: SIM115, ASYNC230  # small: an empty new file
    size = 0

    def put(data: bytes) -> None:
        nonlocal size
        file.write(data)
        hasher.update(data)
        size += len(data)

    try:
        _encode(state, fingerprint, lambda data: pipeline.put(put, data))
        pause = time.perf_counter() - started
        await pipeline.call(file.flush)
    finally:
        pipeline.close()
        file.close()
    return forked.Body(hasher.digest(), size, pause)


def _encode(state: Any, fingerprint: str, put: Callable[[bytes], None]) -> None:
    """The synchronous part: plan and encode every model, no ``await`` in between."""
    plan = snapshot.Plan()
    nodes = [(name, plan.node(model, name)) for name, model in snapshot.models(state)]
    blobs = [(kind, expr, -(-len(container) // snapshot.CHUNK))
             for container, kind, expr in plan.blobs]  # fmt: skip
    header = snapshot.encode(Header(FORMAT, fingerprint, state.position, time.time(), nodes, blobs))
    put(MAGIC)
    put(_length(len(header)) + header)
    for container, kind, _ in plan.blobs:
        for chunk in snapshot.chunks(container, kind):
            put(_length(len(chunk)))
            put(chunk)


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


def peek(path: Path) -> Trailer:
    """The trailer alone (position and anchor), without reading the body."""
    try:
        with open(path, "rb") as file:
            file.seek(-(4 + _LEN), os.SEEK_END)
            tail = file.read(4 + _LEN)
            length = int.from_bytes(tail[4:], "big")
            file.seek(-(4 + _LEN + length), os.SEEK_END)
            payload = file.read(length)
    except (OSError, ValueError) as exc:
        raise InvalidCheckpoint(f"{path.name}: unreadable trailer ({exc})") from None
    if len(payload) != length or zlib.crc32(payload) != int.from_bytes(tail[:4], "big"):
        raise InvalidCheckpoint(f"{path.name}: damaged trailer")
    try:
        return msgspec.msgpack.decode(payload, type=Trailer)
    except msgspec.DecodeError as exc:
        raise InvalidCheckpoint(f"{path.name}: damaged trailer ({exc})") from None


async def load(path: Path, fingerprint: str) -> Loaded:
    """Read and check a checkpoint; yields to the event loop between chunks."""
    trailer = peek(path)
    pipeline, hasher = Pipeline(), hashlib.blake2b(digest_size=32)
    enabled = gc.isenabled()
    gc.disable()  # millions of new objects: no full collections while decoding them
    try:
        with await asyncio.to_thread(open, path, "rb") as file:
            if await asyncio.to_thread(file.read, len(MAGIC)) != MAGIC:
                raise InvalidCheckpoint(f"{path.name}: not a checkpoint of this format")
            pipeline.put(hasher.update, MAGIC)
            header = await _read_header(file, path, fingerprint, pipeline, hasher)
            blobs = [await _read_blob(file, path, kind, snapshot.freeze(expr), count, pipeline,
                                      hasher) for kind, expr, count in header.blobs]  # fmt: skip
        await pipeline.call(lambda: None)
    except (OSError, ValueError, msgspec.DecodeError) as exc:
        raise InvalidCheckpoint(f"{path.name}: unreadable ({exc})") from None
    finally:
        pipeline.close()
        if enabled:
            gc.enable()
    if hasher.digest() != trailer.digest or trailer.position != header.position:
        raise InvalidCheckpoint(f"{path.name}: content does not match its digest (damaged)")
    return Loaded(header.position, trailer.log_hash, snapshot.freeze(header.models), blobs)


def _read_frame_sync(file: BinaryIO) -> tuple[bytes, bytes]:
    prefix = file.read(_LEN)
    length = int.from_bytes(prefix, "big")
    payload = file.read(length)
    if len(prefix) != _LEN or len(payload) != length:
        raise ValueError("truncated frame")
    return prefix, payload


async def _read_frame(file: BinaryIO, pipeline: Pipeline, hasher: Any) -> bytes:
    prefix, payload = await asyncio.to_thread(_read_frame_sync, file)
    pipeline.put(hasher.update, prefix)
    pipeline.put(hasher.update, payload)
    return payload


async def _read_header(file: BinaryIO, path: Path, fingerprint: str, pipeline: Pipeline,
                       hasher: Any) -> Header:  # fmt: skip
    header = msgspec.msgpack.decode(await _read_frame(file, pipeline, hasher), type=Header)
    if header.format != FORMAT:
        raise InvalidCheckpoint(f"{path.name}: format {header.format}, expected {FORMAT}")
    if header.fingerprint != fingerprint:
        raise InvalidCheckpoint(
            f"{path.name}: written by other read-model code or settings (fingerprint differs)"
        )
    return header


async def _read_blob(file: BinaryIO, path: Path, kind: str, expr: Any, count: int,
                     pipeline: Pipeline, hasher: Any) -> Any:  # fmt: skip
    container = snapshot.empty_blob(kind)
    merge = container.update if kind != "list" else container.extend
    decoder = snapshot.chunk_decoder(kind, expr)
    for _ in range(count):
        merge(decoder.decode(await _read_frame(file, pipeline, hasher)))
    return container


def restore(loaded: Loaded, state: Any) -> None:
    """Put the loaded models into ``state`` (fresh, configured read models), in place."""
    present = dict(snapshot.models(state))
    if sorted(present) != sorted(name for name, _ in loaded.models):
        raise InvalidCheckpoint("the checkpoint holds other read models than this tracker")
    for name, node in loaded.models:
        target = present[name]
        if node[0] != "obj" or node[1] != snapshot.class_path(type(target)):
            raise InvalidCheckpoint(f"read model {name} has another type in the checkpoint")
        try:
            snapshot.restore_attributes(target, node[2], loaded.blobs)
        except (ValueError, TypeError, AttributeError, ImportError, IndexError) as exc:
            raise InvalidCheckpoint(f"cannot rebuild read model {name}: {exc}") from None
    state.position = loaded.position
