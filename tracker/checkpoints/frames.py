"""The frames of a checkpoint file: length-prefixed, zlib-compressed msgpack payloads.

A frame is ``[8-byte big-endian length][zlib stream]``; a frame of length 0 carries no payload
and marks the end of a container's chunks. The file's digest (BLAKE2b-256) covers the bytes
as stored, so a damaged frame is found before anything in it is trusted; a frame that does
not inflate, or inflates to more than ``MAX_PAYLOAD``, is refused as damaged too.

Reading overlaps the two kinds of work: a helper thread reads, hashes and inflates the next
frame (file reads, BLAKE2b and zlib release the GIL) while the event loop's thread decodes the
current one with msgspec. At most one frame is read ahead, so memory stays at two frames.
"""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

LENGTH = 8
LEVEL = 1  # zlib's fastest level: most of the size goes already (repeated keys and values)
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
    """The frames of an open file, in order, from ``file``'s position up to ``end``.

    Every stored byte read is fed to ``hasher``; ``skip()`` passes over a frame without
    inflating it (still hashed). Use ``async with``: the helper thread is stopped at the end.
    """

    def __init__(self, file: BinaryIO, end: int, hasher: Any) -> None:
        self._file, self._end, self._hasher = file, end, hasher
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint-read")
        self._ahead: Future[tuple[bytes, bool]] | None = None

    async def __aenter__(self) -> Reader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ahead is not None:
            self._ahead.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _read(self, inflate: bool) -> tuple[bytes, bool]:
        """One frame: its payload (or its stored bytes) and whether it was inflated."""
        prefix = self._file.read(LENGTH)
        length = int.from_bytes(prefix, "big")
        if len(prefix) != LENGTH or self._file.tell() + length > self._end:
            raise DamagedFrame("a frame runs past the end of the body")
        packed = self._file.read(length)
        if len(packed) != length:
            raise DamagedFrame("a frame is truncated")
        self._hasher.update(prefix)
        self._hasher.update(packed)
        if not length:
            return END, True
        return (_inflate(packed), True) if inflate else (packed, False)

    async def _take(self, inflate: bool, then: bool | None) -> bytes:
        """The next frame (read ahead if it was), then start reading the one after it:
        inflated or not as ``then`` says (None: no read-ahead)."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            ahead = self._executor.submit(self._read, inflate)
        data, inflated = await asyncio.wrap_future(ahead)
        if inflate and not inflated:  # read ahead for a skip, wanted after all
            data = await asyncio.wrap_future(self._executor.submit(_inflate, data))
        if then is not None and self._file.tell() < self._end:
            self._ahead = self._executor.submit(self._read, then)
        return data

    async def payload(self, then: bool | None = True) -> bytes:
        """The next frame's payload; ``then``: how to read ahead the one after it."""
        return await self._take(True, then)

    async def skip(self, then: bool | None = False) -> None:
        """Pass over the next frame (hashed, not inflated)."""
        await self._take(False, then)

    async def rest(self) -> None:
        """Hash every remaining frame without inflating any (the digest check's part)."""
        while not self.at_end():
            await self.skip()

    def at_end(self) -> bool:
        return self._ahead is None and self._file.tell() == self._end


def hasher() -> Any:
    return hashlib.blake2b(digest_size=32)


Emit = Callable[[bytes], None]
