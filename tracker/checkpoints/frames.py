"""The frames of a checkpoint file: length-prefixed, zlib-compressed msgpack payloads.

A frame is ``[8-byte big-endian length][zlib stream]``; a frame of length 0 carries no payload
and marks the end of a container's chunks. The file's digest (BLAKE2b-256) covers the bytes
as stored, so a damaged frame is found before anything in it is trusted; a frame that does
not inflate, or inflates to more than ``MAX_PAYLOAD``, is refused as damaged too.

Reading overlaps the two kinds of work: a helper thread reads, hashes and inflates the next
frames (file reads, BLAKE2b and zlib release the GIL) while the event loop's thread decodes the
current ones with msgspec. One batch of about ``BATCH`` inflated bytes is read ahead, so memory
stays at two batches.
"""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

LENGTH = 8
LEVEL = 1  # zlib's fastest level: most of the size goes already (repeated keys and values)
BATCH = 4 * 1024 * 1024  # inflated bytes the helper thread reads ahead at a time, about
MAX_PAYLOAD = 1 << 31  # no frame of ours inflates to 2 GiB; a damaged one might claim to
END = b""  # the payload of an empty frame: the end of a container's chunks


class DamagedFrame(ValueError):
    """A frame is truncated or does not inflate; the file is not used."""


def encode(payload: bytes) -> bytes:
    """The stored bytes of one frame (``END`` gives the empty frame)."""
    if not payload:
        return bytes(LENGTH)
    packed = zlib.compress(payload, LEVEL)
    return len(packed).to_bytes(LENGTH, "big") + packed


def _inflate(packed: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(packed, MAX_PAYLOAD)
    except zlib.error as exc:
        raise DamagedFrame(f"a frame does not inflate ({exc})") from None
    if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data or not payload:
        raise DamagedFrame("a frame does not inflate to one whole payload")
    return payload


class Reader:
    """The payloads of the frames of an open file, in order, from ``file``'s position up to
    ``end``; every stored byte read is fed to ``hasher``. Use ``async with``: the helper
    thread is stopped at the end.

    The helper reads frames in batches of about ``BATCH`` inflated bytes, one batch ahead of
    the caller: one hand-over between the threads per batch, not per frame (on a busy machine
    each hand-over can wait milliseconds for the event loop's thread to be scheduled).
    """

    def __init__(self, file: BinaryIO, end: int, hasher: Any) -> None:
        self._file, self._end, self._hasher = file, end, hasher
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint-read")
        self._ahead: Future[list[bytes]] | None = None
        self._ready: deque[bytes] = deque()

    async def __aenter__(self) -> Reader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _frame(self) -> bytes:
        prefix = self._file.read(LENGTH)
        length = int.from_bytes(prefix, "big")
        if len(prefix) != LENGTH or self._file.tell() + length > self._end:
            raise DamagedFrame("a frame runs past the end of the body")
        packed = self._file.read(length)
        if len(packed) != length:
            raise DamagedFrame("a frame is truncated")
        self._hasher.update(prefix)
        self._hasher.update(packed)
        return _inflate(packed) if length else END

    def _batch(self) -> list[bytes]:
        found, size = [], 0
        while size < BATCH and self._file.tell() < self._end:
            found.append(self._frame())
            size += len(found[-1]) + 64
        return found

    def _rest(self) -> None:
        while (left := self._end - self._file.tell()) > 0:
            data = self._file.read(min(left, BATCH))
            if not data:
                raise DamagedFrame("the body is truncated")
            self._hasher.update(data)

    async def payload(self) -> bytes:
        """The next frame's payload (``END`` for an empty frame)."""
        if not self._ready:
            ahead, self._ahead = self._ahead, None
            if ahead is None:
                ahead = self._executor.submit(self._batch)
            batch: list[bytes] = await asyncio.wrap_future(ahead)
            self._ready.extend(batch)
            if not self._ready:
                raise DamagedFrame("fewer frames than its header describes")
            if self._file.tell() < self._end:
                self._ahead = self._executor.submit(self._batch)
        return self._ready.popleft()

    async def rest(self) -> None:
        """Hash the rest of the body without reading its frames (the digest check's part)."""
        if self._ahead is not None:
            await asyncio.wrap_future(self._ahead)
            self._ahead = None
        self._ready.clear()
        await asyncio.wrap_future(self._executor.submit(self._rest))

    def at_end(self) -> bool:
        return not self._ready and self._ahead is None and self._file.tell() == self._end


def hasher() -> Any:
    return hashlib.blake2b(digest_size=32)


Emit = Callable[[bytes], None]
