"""SipHash-2-4 in pure Python, and the task-uniqueness hash built on it.

``unique_string_hash`` must give the same number the original server stored for a recipe, so
that a log or a client written against it still dedupes the same way: SipHash-2-4 keyed with
(1, 2) over the UTF-8 bytes, read as a signed 64-bit integer.

The message is consumed eight bytes at a time with one ``struct.unpack_from``; each round is
written out on plain ints, masked to 64 bits only where a carry or a rotation can overflow.
"""

from __future__ import annotations

import struct

_MASK = 0xFFFF_FFFF_FFFF_FFFF


def _rounds(v0: int, v1: int, v2: int, v3: int, n: int) -> tuple[int, int, int, int]:
    """``n`` SipRounds over the state."""
    m = _MASK
    for _ in range(n):
        v0 = (v0 + v1) & m
        v1 = (((v1 << 13) | (v1 >> 51)) & m) ^ v0
        v0 = ((v0 << 32) | (v0 >> 32)) & m
        v2 = (v2 + v3) & m
        v3 = (((v3 << 16) | (v3 >> 48)) & m) ^ v2
        v0 = (v0 + v3) & m
        v3 = (((v3 << 21) | (v3 >> 43)) & m) ^ v0
        v2 = (v2 + v1) & m
        v1 = (((v1 << 17) | (v1 >> 47)) & m) ^ v2
        v2 = ((v2 << 32) | (v2 >> 32)) & m
    return v0, v1, v2, v3


def siphash24(key0: int, key1: int, data: bytes) -> int:
    """SipHash-2-4 of ``data`` under the key (``key0``, ``key1``), as an unsigned 64-bit int.

    ``key0`` and ``key1`` are the two halves of the 128-bit key read little-endian, as in the
    reference implementation (key bytes 00..0f give ``key0 = 0x0706050403020100``).
    """
    key0 &= _MASK
    key1 &= _MASK
    v0 = key0 ^ 0x736F6D6570736575
    v1 = key1 ^ 0x646F72616E646F6D
    v2 = key0 ^ 0x6C7967656E657261
    v3 = key1 ^ 0x7465646279746573
    length = len(data)
    whole = length // 8
    for word in struct.unpack_from(f"<{whole}Q", data):
        v0, v1, v2, v3 = _rounds(v0, v1, v2, v3 ^ word, 2)
        v0 ^= word
    last = int.from_bytes(data[whole * 8 :], "little") | ((length & 0xFF) << 56)
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3 ^ last, 2)
    v0, v1, v2, v3 = _rounds(v0 ^ last, v1, v2 ^ 0xFF, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


def unique_string_hash(s: str) -> int:
    """The uniqueness hash of a task's recipe: SipHash-2-4 keyed (1, 2), as a signed int64."""
    value = siphash24(1, 2, s.encode("utf-8"))
    return value - (1 << 64) if value >= 1 << 63 else value
