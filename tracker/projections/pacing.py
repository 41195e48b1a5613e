"""Read model of the projects' rate limits: one token bucket per project and kind, folded from
the events that take tokens, with the times those events carry.

So the buckets are the same on every node of a cluster and after every replay, and the
deciders check them (``Pacing.delay``) under the same lock and against the same state as the
rest of a decision. A submitted task takes a submit token (a bulk, one per task; chain copies
take none), an assignment takes an assign token, and so does a request that found no task on
a limited project (``AssignTokenTaken``), as the original's did.
"""

from __future__ import annotations

from tracker.events import projects as project_events
from tracker.events import tasks as ev
from tracker.ratelimit import UNLIMITED, RateLimiter

ASSIGN, SUBMIT = "assign", "submit"


class Pacing(RateLimiter):
    def __init__(self) -> None:
        super().__init__()
        #: (project, kind) -> tokens per second, for limited ones only: the fold of a task
        #: event on an unlimited tracker is one truthiness check.
        self.rates: dict[tuple[int, str], float] = {}

    def rate(self, project_id: int, kind: str) -> float:
        return self.rates.get((project_id, kind), UNLIMITED)

    def wait(self, project_id: int, kind: str, n: int, now: float) -> float:
        """Seconds until ``n`` tokens of the project's ``kind`` may be taken (0.0: now)."""
        return self.delay(project_id, kind, self.rate(project_id, kind), n, now)

    def taken(self, project_id: int, kind: str, n: int, at: float) -> None:
        if self.rates:
            rate = self.rates.get((project_id, kind))
            if rate is not None:
                self.take(project_id, kind, rate, n, at)

    def set_rate(self, project_id: int, kind: str, rate: float) -> None:
        if not 0 < rate < UNLIMITED:  # deciders store 0 ("unlimited") as UNLIMITED already
            self.rates.pop((project_id, kind), None)
        else:
            self.rates[(project_id, kind)] = rate


def created(model: Pacing, e: project_events.ProjectCreated) -> None:
    model.set_rate(e.project_id, ASSIGN, e.assign_rate)
    model.set_rate(e.project_id, SUBMIT, e.submit_rate)


def updated(model: Pacing, e: project_events.ProjectUpdated) -> None:
    model.set_rate(e.project_id, ASSIGN, e.assign_rate)
    model.set_rate(e.project_id, SUBMIT, e.submit_rate)


def submitted(model: Pacing, e: ev.TaskSubmitted) -> None:
    if model.rates and not e.chained_from:
        model.taken(e.project_id, SUBMIT, 1, e.at)


def bulk_submitted(model: Pacing, e: ev.TasksSubmitted) -> None:
    model.taken(e.project_id, SUBMIT, len(e.tasks), e.at)


def assigned(model: Pacing, e: ev.TaskAssigned | ev.AssignTokenTaken) -> None:
    if model.rates:
        model.taken(e.project_id, ASSIGN, 1, e.at)


HANDLERS = {
    project_events.ProjectCreated: created,
    project_events.ProjectUpdated: updated,
    ev.TaskSubmitted: submitted,
    ev.TasksSubmitted: bulk_submitted,
    ev.TaskAssigned: assigned,
    ev.AssignTokenTaken: assigned,
}
