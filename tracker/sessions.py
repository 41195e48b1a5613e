"""The session clean-up job: sessions past their expiry are ended in the log.

An expired session is refused from the moment it expires (``tracker.http.auth.resolve``); this
job only forgets it, with a ``SessionEnded`` event whose actor is ``system``, so the read model
does not grow with every login ever made. Running it twice, or late, is harmless.
"""

from __future__ import annotations

from tracker.commands.managers import EndExpiredSessions
from tracker.service import Tracker


async def end_expired(tracker: Tracker) -> int:
    """End every session whose expiry has passed; the number ended."""
    events = await tracker.execute(EndExpiredSessions())
    return len(events)  # type: ignore[arg-type]
