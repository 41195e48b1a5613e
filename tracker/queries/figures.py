"""A project's recent figures and its timeline, from the monitoring read model (pure).

The monitoring model is folded from the log, so these are the same after a restart. The
original UI divided an average of per-step changes by the gap between the two newest
snapshots, and showed a rate (and an ETA) while nothing had closed for minutes. Here the rate
is what closed in a stated recent window, divided by that window's length: the window starts
at the newest snapshot boundary at least ``RATE_WINDOW`` seconds ago (so it is between
``RATE_WINDOW`` and ``RATE_WINDOW`` + one snapshot interval long, or shorter for a project
younger than that) and ends now. Nothing closed in it: the rate is 0 and the ETA unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tracker.projections.monitoring import (
    CLOSED,
    FAILED,
    FAILURES,
    NEW,
    RELEASES,
    VOTES,
    Monitoring,
)

RATE_WINDOW = 300  # seconds: "tasks closed per second over the last 5 minutes"
MOST_POINTS = 240  # a timeline has at most this many points, whatever its range
RANGES = {"1h": 3_600, "6h": 6 * 3_600, "24h": 24 * 3_600, "7d": 7 * 86_400, "all": 0}
DEFAULT_RANGE = "1h"


@dataclass(frozen=True)
class Recent:
    """What happened to a project's tasks between ``since`` and ``until`` (Unix times)."""

    since: int
    until: float
    closed: int
    releases: int
    failures: int

    @property
    def seconds(self) -> float:
        return max(0.0, self.until - self.since)

    @property
    def closed_per_second(self) -> float:
        return self.closed / self.seconds if self.seconds > 0 else 0.0

    @property
    def failure_share(self) -> float | None:
        """The share of releases whose worker reported a failure; None without releases."""
        return self.failures / self.releases if self.releases else None


def recent(monitoring: Monitoring, project_id: int, now: float,
           window: int = RATE_WINDOW) -> Recent:  # fmt: skip
    """The project's closings, releases and failures over the recent window (see above)."""
    start, after = monitoring.at(project_id, now - window), monitoring.totals(project_id)
    if start is None or after is None:
        return Recent(int(now), now, 0, 0, 0)
    since, before = start

    def gain(index: int) -> int:  # a counter never goes back; a hard reset leaves them
        return max(0, after[index] - before[index])

    return Recent(since, now, gain(CLOSED), gain(RELEASES), gain(FAILURES))


def eta_seconds(new_tasks: int, rate: float) -> float | None:
    """Seconds until ``new_tasks`` are done at ``rate``; None if none are closing."""
    if new_tasks <= 0:
        return 0.0
    if rate <= 0:
        return None
    return new_tasks / rate


@dataclass(frozen=True)
class Timeline:
    """Points of a project's counts, oldest first, and the failure share between each point
    and the one before it (None where no task was released in between)."""

    times: list[int]
    new: list[int]
    failed: list[int]
    closed: list[int]
    awaiting: list[int]
    failure_share: list[float | None]


def timeline(monitoring: Monitoring, project_id: int, now: float, span: int) -> Timeline:
    """At most ``MOST_POINTS`` points spread over the last ``span`` seconds (0: all kept), or
    over the project's life if it is younger."""
    span = min(span or monitoring.history_length, int(now) - (monitoring.born(project_id) or 0))
    boundaries = max(1, span // monitoring.interval)
    every = math.ceil(boundaries / MOST_POINTS)
    points = monitoring.points(project_id, int(now), int(now) - span, MOST_POINTS + 1, every)
    points.reverse()
    shares: list[float | None] = [None]
    for (_, before), (_, after) in zip(points, points[1:], strict=False):
        released = after[RELEASES] - before[RELEASES]
        shares.append((after[FAILURES] - before[FAILURES]) / released if released > 0 else None)
    points, shares = points[-MOST_POINTS:], shares[-MOST_POINTS:]
    return Timeline(
        times=[b for b, _ in points],
        new=[c[NEW] for _, c in points],
        failed=[c[FAILED] for _, c in points],
        closed=[c[CLOSED] for _, c in points],
        awaiting=[c[VOTES] for _, c in points],
        failure_share=shares,
    )
