"""Per-project token buckets for assignment and submission (``assign_rate``, ``submit_rate``).

A bucket refills at ``rate`` tokens per second and holds at most one token, as in the original
(so two submits in a row on ``submit_rate: 2`` give a 429 for the second). A request for ``n``
tokens is admitted as soon as the bucket is full, and then takes all ``n``: the bucket goes into
debt and later requests wait until it has refilled. So a bulk submit of ``n`` tasks costs ``n``
tokens and is never refused forever (the original refused any ``n >= 2`` on a limited project).

Buckets start full and are rebuilt (so start full again) when the project's rate changes; an
update that keeps a rate keeps its bucket (the original rebuilt both on every update). Time is
passed in, so tests drive them with a controlled clock; a clock that steps back neither refills
nor drains a bucket. The tracker's buckets are a read model (:mod:`tracker.projections.pacing`),
folded from the events that take tokens, so every node of a cluster paces alike.
"""

from __future__ import annotations

import sys

#: A rate that never limits (a project's rate of 0 is stored as this).
UNLIMITED = sys.float_info.max
CAPACITY = 1.0
#: The longest delay ever answered: Go's longest duration in seconds, as the original capped it
#: (a tiny rate would otherwise make 1 / rate infinite, which JSON writes as null).
MAX_DELAY = 9223372036.854776


class Bucket:
    __slots__ = ("rate", "tokens", "updated")

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.tokens = CAPACITY
        self.updated = now

    def wait(self, n: int, now: float) -> float:
        """The seconds until ``n`` tokens may be taken (0.0: now); changes nothing."""
        if self.rate >= UNLIMITED:
            return 0.0
        tokens = self.tokens
        if now > self.updated:  # a clock that steps back neither refills nor drains
            tokens = min(CAPACITY, tokens + (now - self.updated) * self.rate)
        needed = min(float(n), CAPACITY)
        if tokens + 1e-9 < needed:
            return min((needed - tokens) / self.rate, MAX_DELAY)
        return 0.0

    def take(self, n: int, now: float) -> float:
        """Take ``n`` tokens and return 0.0, or return the seconds to wait and take nothing."""
        delay = self.wait(n, now)
        if delay or self.rate >= UNLIMITED:
            return delay
        if now > self.updated:
            self.tokens = min(CAPACITY, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        self.tokens -= n
        return 0.0


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[tuple[int, str], Bucket] = {}

    def take(self, project_id: int, kind: str, rate: float, n: int, now: float) -> float:
        """Ask the project's ``kind`` bucket ("assign" or "submit") for ``n`` tokens."""
        if rate >= UNLIMITED:
            return 0.0
        key = (project_id, kind)
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[key] = Bucket(rate, now)
        return bucket.take(n, now)

    def delay(self, project_id: int, kind: str, rate: float, n: int, now: float) -> float:
        """What ``take`` would answer, without taking anything."""
        if rate >= UNLIMITED:
            return 0.0
        bucket = self._buckets.get((project_id, kind))
        if bucket is None or bucket.rate != rate:
            return 0.0  # a new bucket starts full, and a full bucket admits any n
        return bucket.wait(n, now)
