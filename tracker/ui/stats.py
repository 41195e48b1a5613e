"""How the dashboard writes its figures (pure functions): durations, shares and the timeline's
chart data. The figures themselves come from ``tracker.queries.figures``."""

from __future__ import annotations

import json
import time

from tracker.queries.figures import Timeline


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


def window(seconds: float) -> str:
    """A recent window's length as people say it: ``45 s``, ``5 min``, ``6 min 30 s``."""
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def percent(share: float | None) -> str:
    """``12.5 %``; an em dash when there is nothing to share."""
    return "—" if share is None else f"{share * 100:.1f} %"


def timeline_json(line: Timeline) -> str:
    """The timeline chart's data: UTC labels (with the date once it spans over a day)."""
    spread = line.times[-1] - line.times[0] if line.times else 0
    clock = "%m-%d %H:%M" if spread > 86_400 else "%H:%M:%S" if spread < 600 else "%H:%M"
    shares = [None if s is None else round(s * 100, 1) for s in line.failure_share]
    return json.dumps({
        "labels": [time.strftime(clock, time.gmtime(t)) for t in line.times],
        "new": line.new, "failed": line.failed, "closed": line.closed,
        "awaiting": line.awaiting, "failure": shares,
    })  # fmt: skip
