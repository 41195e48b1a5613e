"""What start-up and ``tracker audit verify`` check of each stored row of the log.

A row follows its predecessor when its position is the next one, its payload and hash are
BLOBs (the tracker writes nothing else; a value edited with the sqlite3 shell comes back as
TEXT), its hash is ``sha256(previous hash || position || data)`` and its type column names the
payload's type. :func:`check_row` says what is wrong with a row, in words an operator can act on.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import lru_cache

import msgspec

from tracker.events.store import GENESIS, StoredRow, link


class _Type(msgspec.Struct):
    type: str = ""


_type_decoder = msgspec.json.Decoder(_Type)


@dataclass
class Break:
    position: int
    reason: str


def check_row(row: StoredRow, expected: int, previous: bytes) -> Break | None:
    """What is wrong with ``row`` as the successor of ``previous`` at ``expected``, if anything."""
    if row.position != expected:
        if row.position > expected:
            missing = f"{expected}" if row.position == expected + 1 else (
                f"{expected} to {row.position - 1}")  # fmt: skip
            return Break(expected, f"position {missing} missing: the log jumps from "
                                   f"{expected - 1} to {row.position} (rows deleted)")  # fmt: skip
        return Break(expected, f"row {row.position} found where {expected} was expected")
    if type(row.data) is not bytes:
        return Break(row.position, f"the payload is stored as {_sql_type(row.data)}, not as a "
                     "BLOB (as the sqlite3 shell stores an edited value): the tracker writes "
                     "BLOBs only")  # fmt: skip
    if type(row.hash) is not bytes or len(row.hash) != len(GENESIS):
        return Break(row.position, f"the stored hash is {_sql_type(row.hash)}, not a "
                     f"{len(GENESIS)}-byte BLOB")  # fmt: skip
    if type(row.type) is not str:
        return Break(row.position, f"the type column is {_sql_type(row.type)}, not TEXT")
    if link(previous, row.position, row.data) != row.hash:
        return Break(row.position, "hash mismatch: the stored hash does not follow from this "
                     "row's payload, its position and the previous row's hash (this row was "
                     "edited or moved, or the row before it was replaced)")  # fmt: skip
    if row.data.startswith(_prefix(row.type)):  # our encoder writes the tag first
        return None
    try:
        stored_type = _type_decoder.decode(row.data).type
    except msgspec.DecodeError:
        return Break(row.position, "the payload is not a JSON event")
    if stored_type != row.type:
        return Break(row.position, f"type column {row.type!r} disagrees with the payload's "
                     f"type {stored_type!r}")  # fmt: skip
    return None


def _sql_type(value: object) -> str:
    if isinstance(value, bytes):
        return f"a {len(value)}-byte BLOB"
    kinds = {str: "TEXT", int: "INTEGER", float: "REAL", type(None): "NULL"}
    return kinds.get(type(value), type(value).__name__)


@lru_cache(maxsize=512)
def _prefix(type_name: str) -> bytes:
    return b'{"type":' + msgspec.json.encode(type_name) + b","


def unreadable(position: int, exc: sqlite3.DatabaseError) -> Break:
    return Break(position, f"the log file cannot be read from here on ({exc}): truncated, "
                 "overwritten or not a tracker log")  # fmt: skip
