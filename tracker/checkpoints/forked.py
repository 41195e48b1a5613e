"""Encoding a checkpoint in a forked child process, so the event loop pauses only to fork.

The read models must not change while they are encoded. Encoding a million tasks on the
event loop pauses it for a second or two; a forked child gets a copy-on-write image of the
whole process at one instant instead, and encodes that while the parent goes on serving.
The parent's pause is the ``fork()`` itself (copying page tables: milliseconds).

The child only runs msgspec, hashing and file writes (no event loop, no logging, no imports,
no SQLite), turns off the garbage collector (a collection would touch every object and copy
every page), and leaves with ``os._exit``. It reports through a pipe: ``K`` + digest + size +
the memory it had to copy, or ``U``/``E`` + a message. The cost is memory: the pages the
child touches (reference counts of what it encodes) are copied, reported as ``copied``.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import signal
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.projections.snapshot import Unsupported

Encode = Callable[[Any, str, Callable[[bytes], None]], None]
_REPORT = 4096
_POLL = 0.02  # seconds between looks at the child
TIMEOUT = 3600.0


@dataclass
class Body:
    digest: bytes
    size: int
    pause: float  # seconds the event loop could not run
    copied: int = 0  # bytes of memory the child copied (forked only)


class WriterFailed(Exception):
    """The checkpoint writer process failed; the message says how."""


def available() -> bool:
    return hasattr(os, "fork") and hasattr(os, "waitstatus_to_exitcode")


def encode_to_file(state: Any, fingerprint: str, temp: Path, encode: Encode) -> tuple[bytes, int]:
    """Encode ``state`` into a new file ``temp``, fsynced; its digest and size."""
    hasher = hashlib.blake2b(digest_size=32)
    size = 0
    with open(temp, "xb") as file:

        def put(data: bytes) -> None:
            nonlocal size
            file.write(data)
            hasher.update(data)
            size += len(data)

        encode(state, fingerprint, put)
        file.flush()
        os.fsync(file.fileno())
    return hasher.digest(), size


async def encode_in_child(state: Any, fingerprint: str, temp: Path, encode: Encode,
                          limit: float = TIMEOUT) -> Body:  # fmt: skip
    read_end, write_end = os.pipe()
    started = time.perf_counter()
    with warnings.catch_warnings():  # 3.12+ warns about forking a threaded process
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        _child(state, fingerprint, temp, encode, read_end, write_end)
    pause = time.perf_counter() - started
    os.close(write_end)
    try:
        status = await _wait(pid, limit)
        report = os.read(read_end, 1 + _REPORT)
    finally:
        os.close(read_end)
    return _body(report, os.waitstatus_to_exitcode(status), pause)


async def _wait(pid: int, limit: float) -> int:
    """The child's exit status; past ``limit`` seconds it is killed (a writer that hangs,
    say on a lock another thread held at the fork, must not stop checkpoints for good)."""
    deadline = time.monotonic() + limit
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222  # WNOHANG: never blocks
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]  # noqa: ASYNC222  # killed: reaped at once
        await asyncio.sleep(_POLL)


def _child(state: Any, fingerprint: str, temp: Path, encode: Encode, read_end: int,
           write_end: int) -> None:  # fmt: skip
    code = 1
    try:
        gc.disable()
        os.close(read_end)
        digest, size = encode_to_file(state, fingerprint, temp, encode)
        os.write(write_end, b"K" + digest + size.to_bytes(8, "big") + _copied().to_bytes(8, "big"))
        code = 0
    except Unsupported as exc:
        os.write(write_end, b"U" + str(exc).encode()[:_REPORT])
    except BaseException:
        os.write(write_end, b"E" + traceback.format_exc().encode()[-_REPORT:])
    finally:
        os._exit(code)


def _copied() -> int:
    """Private memory this process has written since the fork (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as smaps:
            for line in smaps:
                if line.startswith(b"Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _body(report: bytes, code: int, pause: float) -> Body:
    if report[:1] == b"U":
        raise Unsupported(report[1:].decode(errors="replace"))
    if code != 0 or report[:1] != b"K" or len(report) != 1 + 32 + 16:
        detail = report[1:].decode(errors="replace") if report[:1] == b"E" else f"exit {code}"
        raise WriterFailed(f"the checkpoint writer process failed: {detail}")
    digest, size, copied = report[1:33], report[33:41], report[41:49]
    return Body(digest, int.from_bytes(size, "big"), pause, int.from_bytes(copied, "big"))
