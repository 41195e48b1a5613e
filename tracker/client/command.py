"""The handler of ``tracker work -- COMMAND``: one process per task.

The recipe is written to the command's standard input. Exit status 0 releases the task OK,
anything else FAIL, with a reason (kept in the task's history by a tracker): the exit status on
its first line, then the end of the command's standard error, at most ``MAX_REASON_BYTES`` in
all. Standard
output becomes the verification hash: the first 8 bytes of its SHA-256 as a signed 64-bit
integer, or 0 when it is empty (so workers that print nothing agree, as with the original's
default). Standard error is also passed through, as it comes. The process gets
``TRACKER_TASK_ID``, ``TRACKER_PROJECT_ID``, ``TRACKER_PROJECT_VERSION`` and
``TRACKER_TASK_RETRIES`` in its environment. When the worker stops, the process (its own
session) gets SIGTERM, then SIGKILL after ``kill_after`` seconds.

A command that cannot be run at all (not found, not executable, a directory) is refused with
``UsageError``: before any task is taken when it is known from the start, and as soon as a
start fails otherwise (the task is then given back untouched and the worker stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import signal
import sys
from pathlib import Path

from tracker.client.errors import UsageError
from tracker.client.reasons import MAX_REASON_BYTES, last_bytes
from tracker.client.shapes import Task

_CHUNK = 64 * 1024


class CommandFailed(Exception):
    """The command exited with a non-zero status. ``reason``: how, on its first line, then
    the end of its standard error."""

    def __init__(self, status: str, stderr: bytes) -> None:
        super().__init__(status)
        tail = stderr.decode("utf-8", "replace").rstrip()
        room = MAX_REASON_BYTES - len(status.encode()) - 1
        self.reason = f"{status}\n{last_bytes(tail, room)}" if tail else status


def verification(output: bytes) -> int:
    """The verification hash of a command's standard output."""
    if not output:
        return 0
    return int.from_bytes(hashlib.sha256(output).digest()[:8], "big", signed=True)


def why_not_runnable(program: str) -> str | None:
    """Why ``program`` (a path, or a name looked up in ``PATH``) cannot be run, or None."""
    if "/" not in program:
        return None if shutil.which(program) else f"{program}: not found in PATH"
    path = Path(program)
    if not path.exists():
        return f"{program}: no such file"
    if path.is_dir():
        return f"{program}: is a directory"
    if not os.access(path, os.X_OK):
        return f"{program}: not executable (chmod +x {program})"
    return None


def exit_status(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else "?"
        return f"killed by signal {-code} ({name})"
    return f"exit status {code}"


class Command:
    def __init__(self, argv: list[str], *, kill_after: float = 5.0) -> None:
        if not argv:
            raise UsageError("no command given")
        problem = why_not_runnable(argv[0])
        if problem:
            raise UsageError(f"cannot run the command: {problem}")
        self.argv, self.kill_after = argv, kill_after

    async def __call__(self, task: Task) -> int:
        process = await self._started(task)
        try:
            assert process.stdout is not None
            _, output, stderr = await asyncio.gather(
                _feed(process, task.recipe.encode()), process.stdout.read(), _pass_through(process)
            )
            await process.wait()
        except asyncio.CancelledError:
            await self._stop(process)
            raise
        if process.returncode != 0:
            assert process.returncode is not None
            raise CommandFailed(f"{self.argv[0]}: {exit_status(process.returncode)}", stderr)
        return verification(output)

    async def _started(self, task: Task) -> asyncio.subprocess.Process:
        """The command's process. Cancelled while the process starts (the worker stopping),
        it lets the start finish, stops the process, then raises: cancelled midway, asyncio's
        ``create_subprocess_exec`` kills the new process and then waits for it for good
        (CPython 3.11, python/cpython#103847), and the worker would never end."""
        starting = asyncio.ensure_future(self._start(task))
        try:
            return await asyncio.shield(starting)
        except asyncio.CancelledError:
            with contextlib.suppress(UsageError):  # it could not start: nothing to stop
                await self._stop(await starting)
            raise

    async def _start(self, task: Task) -> asyncio.subprocess.Process:
        try:
            return await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=os.environ | _environment(task),
                start_new_session=True,  # signals to the worker's group do not reach it
            )
        except OSError as exc:  # gone or changed since the start, or not a program it can exec
            raise UsageError(f"cannot run the command: {self.argv[0]}: {exc.strerror}") from None

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), self.kill_after)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


async def _feed(process: asyncio.subprocess.Process, recipe: bytes) -> None:
    """Write the recipe to standard input and close it (a command may not read it)."""
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        process.stdin.write(recipe)
        await process.stdin.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        process.stdin.close()


async def _pass_through(process: asyncio.subprocess.Process) -> bytes:
    """Copy standard error to ours as it comes; return its last ``MAX_REASON_BYTES``."""
    assert process.stderr is not None
    kept = bytearray()
    while chunk := await process.stderr.read(_CHUNK):
        sys.stderr.buffer.write(chunk)
        sys.stderr.buffer.flush()
        kept += chunk
        del kept[:-MAX_REASON_BYTES]
    return bytes(kept)


def _environment(task: Task) -> dict[str, str]:
    return {
        "TRACKER_TASK_ID": str(task.id),
        "TRACKER_PROJECT_ID": str(task.project.id),
        "TRACKER_PROJECT_VERSION": task.project.version,
        "TRACKER_TASK_RETRIES": str(task.retries),
    }
