"""Periodic work, driven by apscheduler: each job asks the read models what is due and sends
ordinary commands, so running a job twice (or late, after a restart) is harmless.

Jobs are named, never overlap (``max_instances=1``, ``coalesce``), and a job that raises is
logged with its name; it runs again at its next interval.
"""

from __future__ import annotations

import logging
from functools import partial

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from tracker import sessions
from tracker.config import Settings
from tracker.service import Tracker

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, tracker: Tracker, settings: Settings) -> None:
        self._scheduler = AsyncIOScheduler()
        self._scheduler.add_listener(self._failed, EVENT_JOB_ERROR)
        self.add("expire-assignments", tracker.expire_due,
                 settings.maintenance.reset_timed_out_tasks_interval)  # fmt: skip
        self.add("end-expired-sessions", partial(sessions.end_expired, tracker),
                 settings.session.cleanup_interval)  # fmt: skip

    def add(self, name: str, job, seconds: float) -> None:  # type: ignore[no-untyped-def]
        self._scheduler.add_job(
            job, "interval", seconds=seconds, id=name, name=name, max_instances=1,
            coalesce=True, misfire_grace_time=None,
        )  # fmt: skip

    def remove(self, name: str) -> None:
        self._scheduler.remove_job(name)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)

    @staticmethod
    def _failed(event: JobExecutionEvent) -> None:
        log.error("scheduled job %s failed: %r", event.job_id, event.exception,
                  extra={"action": "job_failed", "job": event.job_id})  # fmt: skip
