"""Monitoring snapshots of every project, derived from the log (``/project/monitoring``).

The original sampled the database every ``monitoring.snapshot_interval`` and stored rows that a
restart could not recompute. Here a snapshot is a pure function of the log: the snapshot at
boundary ``b`` (a multiple of the interval in Unix time) holds the project's counts after every
event decided before ``b``. So it is the same after a restart, and changing the interval (then
restarting) recomputes the whole history for the new boundaries.

How it is kept small: each project holds its current counts, plus one frozen copy of the
counts per interval in which they changed (a change point: "from boundary k on, the counts
were these"). A boundary with no change in its interval reads the latest change point before
it, and every boundary after the last change reads the current counts. This answers quiet
periods at query time, exactly and without a timer or tick events in the log: a quiet
boundary's counts can no longer change, because every later event is decided at or after the
time of the query. Memory per project is at most ``history_length / snapshot_interval`` change
points (older ones are dropped as new ones come), and nothing for projects that stay quiet.

Counts, as the original defines them (``behavior.md`` 8.1, 13.35): ``new`` = NEW tasks without
verification votes, assigned ones included; ``failed`` = FAILED tasks; ``closed`` = the
project's cumulative closed counter; ``access`` = worker access records, pending included;
``votes`` = verification votes on live tasks. Each event updates them in O(1); the reducers
read only the event and this model (tasks with votes are tracked here for that purpose).

Two more cumulative counters ride along with them, for the dashboard's recent figures
(``tracker.queries.figures``) and never on the wire: ``releases`` = every release of a task
(closed, voted, retried, failed or skipped) and ``failures`` = the releases whose worker
reported a failure (retried or failed for good).
"""

from __future__ import annotations

import bisect

import msgspec

from tracker.events import projects as pev
from tracker.events import tasks as tev

NEW, FAILED, CLOSED, ACCESS, VOTES, RELEASES, FAILURES = range(7)
DEFAULT_INTERVAL = 120
DEFAULT_HISTORY = 400 * 3600
_PRUNE_BATCH = 32  # drop old change points in batches: amortized O(1) per change
# Outcomes bound once: an enum member looked up on its class costs a few hundred ns (3.11).
_CLOSED, _VOTED, _FAILED = tev.Outcome.CLOSED, tev.Outcome.VOTED, tev.Outcome.FAILED
_RETRY = tev.Outcome.RETRY


class Snapshot(msgspec.Struct, gc=False):
    """The wire shape, fields in the original's order."""

    new_task_count: int
    failed_task_count: int
    closed_task_count: int
    worker_access_count: int
    awaiting_verification_count: int
    time_stamp: int


class History:
    __slots__ = ("born", "open", "counts", "voted", "keys", "values")

    def __init__(self, start: int, born: int = 0) -> None:
        self.born = born  # when the project was created (Unix seconds): all counts 0 before
        self.open = start  # the current counts hold for every boundary from here on
        self.counts = [0, 0, 0, 0, 0, 0, 0]
        self.voted: dict[int, int] = {}  # live task id -> its verification votes
        self.keys: list[int] = []  # change points: values[i] held from keys[i] to keys[i+1]
        self.values: list[tuple[int, ...]] = []

    @property
    def floor(self) -> int:
        """The oldest boundary this history can still answer."""
        return self.keys[0] if self.keys else self.open


class Monitoring:
    def __init__(self) -> None:
        self.interval = DEFAULT_INTERVAL
        self.history_length = DEFAULT_HISTORY
        self.projects: dict[int, History] = {}

    def configure(self, interval: float, history_length: float) -> None:
        """Whole seconds, at least 1 (as the original rounded its timers); before replay."""
        self.interval = max(1, int(interval))
        self.history_length = max(0, int(history_length))

    def boundary_after(self, at: float) -> int:
        return (int(at) // self.interval + 1) * self.interval

    def counts(self, project_id: int) -> list[int] | None:
        """The project's current counts, the five of a snapshot (None: no such project)."""
        history = self.projects.get(project_id)
        return None if history is None else history.counts[:RELEASES]

    def born(self, project_id: int) -> int | None:
        """When the project was created (Unix seconds); None for no such project."""
        history = self.projects.get(project_id)
        return None if history is None else history.born

    def totals(self, project_id: int) -> tuple[int, ...] | None:
        """Every count of the project now, the two off the wire included (None: no project)."""
        history = self.projects.get(project_id)
        return None if history is None else tuple(history.counts)

    def latest(self, project_id: int, now: float) -> Snapshot:
        """The project's current counts as a snapshot taken ``now`` (zeros: no such project)."""
        c = self.counts(project_id) or [0, 0, 0, 0, 0]
        return Snapshot(c[0], c[1], c[2], c[3], c[4], int(now))

    def snapshots(self, project_id: int, newest: int, oldest: int,
                  limit: int | None = None) -> list[Snapshot]:  # fmt: skip
        """Snapshots at the boundaries b with oldest <= b <= newest, newest first."""
        return [Snapshot(c[0], c[1], c[2], c[3], c[4], b)
                for b, c in self.points(project_id, newest, oldest, limit)]  # fmt: skip

    def points(self, project_id: int, newest: int, oldest: int, limit: int | None = None,
               every: int = 1) -> list[tuple[int, tuple[int, ...]]]:  # fmt: skip
        """(boundary, every count) at every ``every``-th boundary b from the newest one at or
        before ``newest`` down to ``oldest``, newest first."""
        history = self.projects.get(project_id)
        if history is None:
            return []
        step = self.interval
        b = newest // step * step
        bottom = max(-(-oldest // step) * step, history.floor)
        keys, values, current = history.keys, history.values, tuple(history.counts)
        i = bisect.bisect_right(keys, b) - 1
        found: list[tuple[int, tuple[int, ...]]] = []
        while b >= bottom and (limit is None or len(found) < limit):
            if b >= history.open:
                found.append((b, current))
            else:
                while keys[i] > b:
                    i -= 1
                found.append((b, values[i]))
            b -= step * every
        return found

    def at(self, project_id: int, moment: float) -> tuple[int, tuple[int, ...]] | None:
        """(boundary, every count) at the newest boundary at or before ``moment``, or at the
        oldest one still kept if that is later; (creation time, zeros) before the project's
        creation; None for no such project."""
        history = self.projects.get(project_id)
        if history is None:
            return None
        if moment < history.born:
            return history.born, (0,) * len(history.counts)
        b = max(int(moment) // self.interval * self.interval, history.floor)
        if b >= history.open:
            return b, tuple(history.counts)
        return b, history.values[bisect.bisect_right(history.keys, b) - 1]

    def touch(self, project_id: int, at: float) -> History | None:
        """The project's history, ready for a change decided at ``at``."""
        history = self.projects.get(project_id)
        if history is not None and at >= history.open:  # the boundary after ``at`` is later
            self._freeze(history, self.boundary_after(at))
        return history

    def _freeze(self, history: History, boundary: int) -> None:
        """First change in a new interval: keep the counts the boundaries before it saw."""
        history.keys.append(history.open)
        history.values.append(tuple(history.counts))
        history.open = boundary
        self._prune(history)

    def _prune(self, history: History) -> None:
        # Keep the change point that covers the cutoff: queries never look further back
        # than history_length before now, and now is at least open - interval.
        cutoff = history.open - self.history_length - self.interval
        covering = bisect.bisect_right(history.keys, cutoff) - 1
        if covering >= _PRUNE_BATCH:
            del history.keys[:covering]
            del history.values[:covering]


def project_created(model: Monitoring, e: pev.ProjectCreated) -> None:
    model.projects[e.project_id] = History(model.boundary_after(e.at), int(e.at))


def access_requested(model: Monitoring, e: pev.AccessRequested) -> None:
    history = model.touch(e.project_id, e.at)
    if history is not None:
        history.counts[ACCESS] += 1


def access_revoked(model: Monitoring, e: pev.AccessRevoked) -> None:
    history = model.touch(e.project_id, e.at)
    if history is not None:
        history.counts[ACCESS] -= 1


def task_submitted(model: Monitoring, e: tev.TaskSubmitted) -> None:
    history = model.touch(e.project_id, e.at)
    if history is not None:
        history.counts[NEW] += 1


def tasks_submitted(model: Monitoring, e: tev.TasksSubmitted) -> None:
    history = model.touch(e.project_id, e.at)
    if history is not None:
        history.counts[NEW] += len(e.tasks)


def task_released(model: Monitoring, e: tev.TaskReleased) -> None:
    history = model.touch(e.project_id, e.at)
    if history is not None:
        _count_release(history, e.task_id, e.outcome)


def tasks_released(model: Monitoring, e: tev.TasksReleased) -> None:
    history = model.touch(e.project_id, e.at) if e.tasks else None
    if history is not None:
        for release in e.tasks:
            _count_release(history, release.task_id, release.outcome)


def _count_release(history: History, task_id: int, outcome: tev.Outcome) -> None:
    """Any release: counted; one that closed a task, voted on it or failed it for good also
    moves the task between the counts (a retried or skipped one stays NEW)."""
    counts, voted = history.counts, history.voted
    counts[RELEASES] += 1
    if outcome is _RETRY:
        counts[FAILURES] += 1
    elif outcome is _CLOSED:
        counts[CLOSED] += 1
        if task_id in voted:
            counts[VOTES] -= voted.pop(task_id)
        else:
            counts[NEW] -= 1
    elif outcome is _VOTED:
        if task_id not in voted:
            counts[NEW] -= 1
        voted[task_id] = voted.get(task_id, 0) + 1
        counts[VOTES] += 1
    elif outcome is _FAILED:
        counts[FAILED] += 1
        counts[FAILURES] += 1
        if task_id not in voted:
            counts[NEW] -= 1


def failed_reset(model: Monitoring, e: tev.FailedTasksReset) -> None:
    history = model.touch(e.project_id, e.at) if e.task_ids else None
    if history is None:
        return
    history.counts[FAILED] -= len(e.task_ids)
    history.counts[NEW] += sum(1 for task_id in e.task_ids if task_id not in history.voted)


def tasks_deleted(model: Monitoring, e: tev.ProjectTasksDeleted) -> None:
    history = model.touch(e.project_id, e.at) if e.task_ids else None
    if history is None:
        return
    history.counts[NEW] = history.counts[FAILED] = history.counts[VOTES] = 0
    history.voted.clear()


def queued_cancelled(model: Monitoring, e: tev.QueuedTasksCancelled) -> None:
    """Queued tasks deleted: each leaves ``new``, or ``votes`` with its votes."""
    history = model.touch(e.project_id, e.at) if e.task_ids else None
    if history is None:
        return
    counts, voted = history.counts, history.voted
    for task_id in e.task_ids:
        if task_id in voted:
            counts[VOTES] -= voted.pop(task_id)
        else:
            counts[NEW] -= 1


HANDLERS = {
    pev.ProjectCreated: project_created,
    pev.AccessRequested: access_requested,
    pev.AccessRevoked: access_revoked,
    tev.TaskSubmitted: task_submitted,
    tev.TasksSubmitted: tasks_submitted,
    tev.TaskReleased: task_released,
    tev.TasksReleased: tasks_released,
    tev.FailedTasksReset: failed_reset,
    tev.ProjectTasksDeleted: tasks_deleted,
    tev.QueuedTasksCancelled: queued_cancelled,
}
