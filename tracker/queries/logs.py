"""Worker log lines, a page at a time: the cursor that ``POST /logs`` and the UI's Logs page
hand back to continue where a page ended (the last line's worker timestamp and log order)."""

from __future__ import annotations

from tracker.errors import TrackerError
from tracker.projections.logs import LogLine


class InvalidLogRequest(TrackerError):
    message = "Invalid log request"


def cursor(text: str) -> tuple[int, int] | None:
    """The position a ``next`` cursor names (None for none given)."""
    if not text:
        return None
    timestamp, _, seq = text.partition(":")
    try:
        return int(timestamp), int(seq)
    except ValueError:
        raise InvalidLogRequest(
            "Invalid log request: after must be the next cursor of a previous answer"
        ) from None


def next_cursor(last: LogLine) -> str:
    """The cursor of the page that follows the one ending with ``last``."""
    return f"{last.timestamp}:{last.seq}"
