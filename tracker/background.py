"""A node's background tasks are watched: one that ends with an error is reported, never lost.

``watch`` hands the reason of such an end to ``failed`` (once), in one line: ``tracker serve``
then reports itself not ready and stops with that line, instead of serving on with a writer
that no longer writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


def watch(task: asyncio.Task[Any], failed: Callable[[str], None]) -> None:
    """Tell ``failed`` why, if ``task`` ends with an error (not when it returns or is cancelled)."""

    def done(ended: asyncio.Task[Any]) -> None:
        if not ended.cancelled() and (exc := ended.exception()) is not None:
            failed(f"the event log failed ({type(exc).__name__}: {exc})")

    task.add_done_callback(done)
