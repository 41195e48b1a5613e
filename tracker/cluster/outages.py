"""Riding out a log that cannot be reached: one log line when it goes, one when it is back, and
the pause between tries.

A node on a shared log keeps serving what it can while PostgreSQL is down, restarting or
failing over: requests that need the log get 503 with ``Retry-After``, and each background
task tries again. Those tries fail many times a second; :class:`Outage` logs the first failure
of each kind and the recovery, not every try.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

FIRST_PAUSE = 0.05  # seconds before the first retry; doubled after each failure
LONGEST_PAUSE = 2.0


class Outage:
    """What one background task could not do, logged once until it can again."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.reason = ""  # '' while it works

    def failed(self, exc: BaseException) -> None:
        if not self.reason:
            log.warning("cannot %s: %s", self.what, describe(exc),
                        extra={"action": "log_unreachable", "what": self.what})  # fmt: skip
        self.reason = f"cannot {self.what}"

    def worked(self) -> None:
        if self.reason:
            log.warning("can %s again", self.what,
                        extra={"action": "log_reachable", "what": self.what})  # fmt: skip
        self.reason = ""


def describe(exc: BaseException) -> str:
    """An error in one line: its type, and its message if it has one."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def next_pause(pause: float) -> float:
    return min(pause * 2, LONGEST_PAUSE)
