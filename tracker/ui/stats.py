"""The dashboard's figures, computed from monitoring snapshots (pure functions).

The original UI divided an average of per-step changes by the gap between the two newest
snapshots and printed the ETA with a format that was a day off; here the rate is the change
in closed tasks across the window divided by the window's length, and the ETA is None when
nothing is closing."""

from __future__ import annotations

from collections.abc import Sequence

from tracker.projections.monitoring import Snapshot


def tasks_per_second(snapshots: Sequence[Snapshot]) -> float:
    """Closed tasks per second over the snapshots (any order); 0 with fewer than two."""
    if len(snapshots) < 2:
        return 0.0
    ordered = sorted(snapshots, key=lambda s: s.time_stamp)
    first, last = ordered[0], ordered[-1]
    seconds = last.time_stamp - first.time_stamp
    if seconds <= 0:
        return 0.0
    return max(0.0, (last.closed_task_count - first.closed_task_count) / seconds)


def eta_seconds(new_tasks: int, rate: float) -> float | None:
    """Seconds until ``new_tasks`` are done at ``rate``; None if none are closing."""
    if new_tasks <= 0:
        return 0.0
    if rate <= 0:
        return None
    return new_tasks / rate


def duration(seconds: float | None) -> str:
    """``3d 04h05m06s`` (days only when there are any); an em dash for unknown."""
    if seconds is None:
        return "—"
    whole = int(round(seconds))
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}h{minutes:02d}m{secs:02d}s"
    return f"{days}d {text}" if days else text
