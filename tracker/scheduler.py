"""Periodic work, driven by apscheduler: each job asks the read models what is due and sends
ordinary commands, so running a job twice (or late, after a restart) is harmless.

Jobs are named, never overlap (``max_instances=1``, ``coalesce``), and a job that raises is
logged with its name, in one line; it runs again at its next interval.

The tracker's own jobs (expiring assignments, ending sessions) run on one node at a time: each
tick asks the tracker whether this node leads (always, on a log of its own; on a shared log,
while it holds the lease, :class:`tracker.cluster.leader.Leadership`) and does nothing
otherwise. Jobs that keep a node's own derived files (history index, checkpoints) run on every
node.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from tracker.config import Settings
from tracker.service import Tracker

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, tracker: Tracker, settings: Settings) -> None:
        self._scheduler = AsyncIOScheduler()
        self.add("expire-assignments", _led(tracker, tracker.expire_due),
                 settings.maintenance.reset_timed_out_tasks_interval)  # fmt: skip
        self.add("end-expired-sessions", _led(tracker, tracker.end_expired_sessions),
                 settings.session.cleanup_interval)  # fmt: skip

    def add(self, name: str, job, seconds: float) -> None:  # type: ignore[no-untyped-def]
        self._scheduler.add_job(
            _logged(name, job), "interval", seconds=seconds, id=name, name=name, max_instances=1,
            coalesce=True, misfire_grace_time=None,
        )  # fmt: skip

    def remove(self, name: str) -> None:
        self._scheduler.remove_job(name)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)


def _logged(name: str, job):  # type: ignore[no-untyped-def]
    """``job``, its failure logged in one line (a log that cannot be reached fails jobs every
    interval until it is back: no traceback each time)."""

    async def logged():  # type: ignore[no-untyped-def]
        try:
            return await job()
        except Exception as exc:
            log.error("scheduled job %s failed: %r", name, exc,
                      extra={"action": "job_failed", "job": name})  # fmt: skip
            return None

    return logged


def _led(tracker: Tracker, job: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
    """``job``, run only while this node leads."""

    async def led() -> int:
        return await job() if tracker.writer.leads() else 0

    return led
