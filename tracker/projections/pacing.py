"""Read model of each project's token buckets: ``assign_rate`` and ``submit_rate``.

A bucket refills at ``rate`` tokens per second and holds at most one token, as in the original
(so two submits in a row on ``submit_rate: 2`` give a 429 for the second). A request for ``n``
tokens is admitted as soon as the bucket is full, and then takes all ``n``: the bucket goes into
debt and later requests wait until it has refilled. So a bulk submit of ``n`` tasks costs ``n``
tokens and is never refused forever (the original refused any ``n >= 2`` on a limited project).

The buckets are folded from the events that take tokens (an assignment takes one per task, a
submission one per task, a chain copy none) at the events' own time, so every replay, and every
node of a cluster that folds the same log, holds the same buckets: one bucket per project for
the whole tracker. A request that is refused appends nothing and so takes no token (the
original also charged a poll answered "No task available"). A bucket starts full, and starts
full again when the project's rate changes; a clock that steps back neither refills nor drains
it. A batch assignment (``/task/bulk_get``) is given at most as many tasks as the bucket holds
whole tokens, so a limited project hands out one task per request, batch or not.
"""

from __future__ import annotations

import msgspec

from tracker.events import projects as pev
from tracker.events import tasks as tev

UNLIMITED = 1.7976931348623157e308  # max float: what a rate of 0 in a request becomes
CAPACITY = 1.0
#: The longest delay ever answered: Go's longest duration in seconds, as the original capped it
#: (a tiny rate would otherwise make 1 / rate infinite, which JSON writes as null).
MAX_DELAY = 9223372036.854776
ASSIGN, SUBMIT = "assign", "submit"


class Bucket(msgspec.Struct, gc=False):
    rate: float  # the rate it was filled at; another rate means a new, full bucket
    tokens: float
    updated: float


class Pacing:
    def __init__(self) -> None:
        self.buckets: dict[tuple[int, str], Bucket] = {}
        self.rates: dict[tuple[int, str], float] = {}  # each project's current rates

    def delay(self, project_id: int, kind: str, n: int, now: float) -> float:
        """Seconds until the project's ``kind`` bucket can give ``n`` tokens; 0.0 if now."""
        rate = self.rates.get((project_id, kind), UNLIMITED)
        if rate >= UNLIMITED:
            return 0.0
        bucket = self.buckets.get((project_id, kind))
        tokens = CAPACITY if bucket is None else _refilled(bucket, now)
        needed = min(float(n), CAPACITY)
        if tokens + 1e-9 < needed:
            return min((needed - tokens) / rate, MAX_DELAY)
        return 0.0

    def available(self, project_id: int, kind: str, now: float) -> int | None:
        """Whole tokens the project's ``kind`` bucket holds now; None when it is unlimited."""
        rate = self.rates.get((project_id, kind), UNLIMITED)
        if rate >= UNLIMITED:
            return None
        bucket = self.buckets.get((project_id, kind))
        tokens = CAPACITY if bucket is None else _refilled(bucket, now)
        return max(0, int(tokens + 1e-9))


def _refilled(bucket: Bucket, now: float) -> float:
    if now <= bucket.updated:
        return bucket.tokens
    return min(CAPACITY, bucket.tokens + (now - bucket.updated) * bucket.rate)


def _take(model: Pacing, project_id: int, kind: str, n: int, at: float) -> None:
    key = (project_id, kind)
    rate = model.rates.get(key, UNLIMITED)
    if rate >= UNLIMITED:
        return
    bucket = model.buckets.get(key)
    if bucket is None:
        bucket = model.buckets[key] = Bucket(rate, CAPACITY, at)
    bucket.tokens = _refilled(bucket, at) - n
    bucket.updated = max(bucket.updated, at)


def _set_rates(model: Pacing, project_id: int, assign_rate: float, submit_rate: float) -> None:
    for kind, rate in ((ASSIGN, assign_rate), (SUBMIT, submit_rate)):
        key = (project_id, kind)
        if model.rates.get(key) != rate:
            model.buckets.pop(key, None)  # a new rate: a new, full bucket
        model.rates[key] = rate


def created(model: Pacing, e: pev.ProjectCreated) -> None:
    _set_rates(model, e.project_id, e.assign_rate, e.submit_rate)


def updated(model: Pacing, e: pev.ProjectUpdated) -> None:
    _set_rates(model, e.project_id, e.assign_rate, e.submit_rate)


def assigned(model: Pacing, e: tev.TaskAssigned) -> None:
    _take(model, e.project_id, ASSIGN, 1, e.at)


def batch_assigned(model: Pacing, e: tev.TasksAssigned) -> None:
    _take(model, e.project_id, ASSIGN, len(e.tasks), e.at)


def submitted(model: Pacing, e: tev.TaskSubmitted) -> None:
    if not e.chained_from:  # a chain copy is the tracker's own, not a worker's submission
        _take(model, e.project_id, SUBMIT, 1, e.at)


def bulk_submitted(model: Pacing, e: tev.TasksSubmitted) -> None:
    _take(model, e.project_id, SUBMIT, len(e.tasks), e.at)


HANDLERS = {
    pev.ProjectCreated: created,
    pev.ProjectUpdated: updated,
    tev.TaskAssigned: assigned,
    tev.TasksAssigned: batch_assigned,
    tev.TaskSubmitted: submitted,
    tev.TasksSubmitted: bulk_submitted,
}
