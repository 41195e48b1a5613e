"""The handler of ``tracker work -- COMMAND``: one process per task.

The recipe is written to the command's standard input. Exit status 0 releases the task OK,
anything else FAIL. Standard output becomes the verification hash: the first 8 bytes of its
SHA-256 as a signed 64-bit integer, or 0 when it is empty (so workers that print nothing
agree, as with the original's default). Standard error is passed through. The process gets
``TRACKER_TASK_ID``, ``TRACKER_PROJECT_ID``, ``TRACKER_PROJECT_VERSION`` and
``TRACKER_TASK_RETRIES`` in its environment. When the worker stops, the process (its own
session) gets SIGTERM, then SIGKILL after ``kill_after`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal

from tracker.client.shapes import Task


class CommandFailed(Exception):
    """The command exited with a non-zero status."""


def verification(output: bytes) -> int:
    """The verification hash of a command's standard output."""
    if not output:
        return 0
    return int.from_bytes(hashlib.sha256(output).digest()[:8], "big", signed=True)


class Command:
    def __init__(self, argv: list[str], *, kill_after: float = 5.0) -> None:
        if not argv:
            raise ValueError("no command given")
        self.argv, self.kill_after = argv, kill_after

    async def __call__(self, task: Task) -> int:
        process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=os.environ | _environment(task),
            start_new_session=True,  # signals to the worker's group do not reach it
        )
        try:
            output, _ = await process.communicate(task.recipe.encode())
        except asyncio.CancelledError:
            await self._stop(process)
            raise
        except (BrokenPipeError, ConnectionResetError):  # it did not read its input
            output = b""
            await process.wait()
        if process.returncode != 0:
            raise CommandFailed(f"{self.argv[0]} exited with status {process.returncode}")
        return verification(output)

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), self.kill_after)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


def _environment(task: Task) -> dict[str, str]:
    return {
        "TRACKER_TASK_ID": str(task.id),
        "TRACKER_PROJECT_ID": str(task.project.id),
        "TRACKER_PROJECT_VERSION": task.project.version,
        "TRACKER_TASK_RETRIES": str(task.retries),
    }
