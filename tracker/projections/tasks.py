"""Read model of live tasks: the tasks themselves, per-project queues, and deadlines.

A task is live from its submission until it is closed or deleted by a hard reset. Each live
task of a project is in exactly one place: the queue (NEW, unassigned), the assigned set, or
the failed set, so maintenance actions never scan other projects' tasks.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from tracker.events import tasks as ev
from tracker.projections.browse import TaskIndex
from tracker.projections.queue import Queue

NEW = 1
FAILED = 2
CLOSED_KEPT = 1000  # closed tasks a project keeps for the task browser, newest last

_NO_HASHES: Mapping[int, int] = MappingProxyType({})
# Outcomes bound once: an enum member looked up on its class costs a few hundred ns (3.11).
_CLOSED, _VOTED, _RETRY, _FAILED = (ev.Outcome.CLOSED, ev.Outcome.VOTED, ev.Outcome.RETRY,
                                    ev.Outcome.FAILED)  # fmt: skip


class Task(msgspec.Struct, omit_defaults=True, gc=False):
    id: int
    project_id: int
    priority: int
    max_retries: int
    max_assign_time: int
    verification_count: int
    recipe: str
    hash: int = 0
    retries: int = 0
    status: int = NEW
    assignee: int = 0
    assign_time: float = 0.0
    deadline: float = 0.0
    votes: dict[int, int] | None = None  # worker id -> verification value
    submitted: float = 0.0  # Unix time of its submission
    reason: str = ""  # the reason its last failed attempt gave (see TaskReleased.reason)


class ProjectTasks:
    __slots__ = ("queue", "assigned", "failed", "hashes", "votes", "voted_tasks", "voted_queued",
                 "index", "closed")  # fmt: skip

    def __init__(self) -> None:
        self.queue = Queue()
        self.assigned: dict[int, None] = {}
        self.failed: dict[int, None] = {}
        self.hashes: dict[int, int] = {}  # hash -> live task id
        self.votes = 0  # verification votes on live tasks
        self.voted_tasks = 0  # live tasks with at least one vote
        # worker id -> queued tasks it has voted on (absent when none): a worker that voted on
        # every queued task learns there is nothing for it without a scan of the queue
        self.voted_queued: dict[int, int] = {}
        self.index = TaskIndex()  # for the task browser
        self.closed: deque[Task] = deque(maxlen=CLOSED_KEPT)  # the last closed, newest last

    @property
    def live(self) -> int:
        return self.queue.size + len(self.assigned) + len(self.failed)


class TaskBoard:
    # The deadline heap is changed by reducers only (``due`` is a query), so it follows from the
    # log alone; digests still leave it out, as its layout is an implementation detail.
    DIGEST_SKIP = ("deadlines",)

    def __init__(self) -> None:
        self.tasks: dict[int, Task] = {}
        self.projects: dict[int, ProjectTasks] = {}
        # heap of (deadline, task id); entries of ended assignments are dropped once they reach
        # the top, so the top is always a live assignment
        self.deadlines: list[tuple[float, int]] = []
        self.next_id = 1

    def get(self, task_id: int) -> Task | None:
        return self.tasks.get(task_id)

    def of(self, project_id: int) -> ProjectTasks:
        tasks = self.projects.get(project_id)
        if tasks is None:
            tasks = self.projects[project_id] = ProjectTasks()
        return tasks

    def hashes_of(self, project_id: int) -> Mapping[int, int]:
        """Hash -> live task id of a project. Read-only: unlike ``of``, never adds an entry."""
        tasks = self.projects.get(project_id)
        return _NO_HASHES if tasks is None else tasks.hashes

    def next_for(self, project_id: int, worker_id: int) -> Task | None:
        """The task that worker would be assigned next: best priority, never one it voted on."""
        tasks = self.projects.get(project_id)
        if tasks is None or not tasks.queue.size:
            return None
        board = self.tasks
        if tasks.voted_tasks:
            if tasks.voted_queued.get(worker_id) == tasks.queue.size:
                return None  # the idle poll of a worker waiting for others' votes: O(1)
            # a scan past the queued tasks this worker voted on, at most that many
            task_id = tasks.queue.first(lambda t: worker_id not in (board[t].votes or ()))
        else:
            task_id = tasks.queue.first()
        return None if task_id is None else board[task_id]

    def next_batch(self, project_id: int, worker_id: int, n: int) -> list[Task]:
        """The tasks ``n`` assignments in a row would give that worker (``next_for`` n times)."""
        tasks = self.projects.get(project_id)
        if tasks is None or not tasks.queue.size or n <= 0:
            return []
        board = self.tasks
        if not tasks.voted_tasks:
            return [board[task_id] for task_id in tasks.queue.take(n)]
        if tasks.voted_queued.get(worker_id) == tasks.queue.size:
            return []
        ids = tasks.queue.take(n, lambda t: worker_id not in (board[t].votes or ()))
        return [board[task_id] for task_id in ids]

    def due(self, now: float) -> list[tuple[int, float]]:
        """Assignments past their deadline, as (task id, deadline), earliest first.

        A query: the heap is left as it is, and an assignment leaves it only when an event
        ends it, so a deadline whose expiry failed is found again at the next tick. The walk
        visits only the heap's entries at or before ``now`` (a heap keeps them at its top).
        """
        heap, tasks, found = self.deadlines, self.tasks, {}
        pending = [0] if heap and heap[0][0] <= now else []
        while pending:
            index = pending.pop()
            deadline, task_id = heap[index]
            task = tasks.get(task_id)
            if task is not None and task.assignee and task.deadline == deadline:
                found[task_id] = deadline
            for child in (2 * index + 1, 2 * index + 2):
                if child < len(heap) and heap[child][0] <= now:
                    pending.append(child)
        return sorted(found.items(), key=lambda item: (item[1], item[0]))


def _prune_deadlines(board: TaskBoard) -> None:
    """Pop the heap's top entries of assignments that have ended (run by the reducers that
    end one, so the top is always live and ``due`` need not change the heap)."""
    heap, tasks = board.deadlines, board.tasks
    while heap:
        deadline, task_id = heap[0]
        task = tasks.get(task_id)
        if task is not None and task.assignee and task.deadline == deadline:
            return
        heapq.heappop(heap)


def _requeue(board: TaskBoard, task: Task) -> None:
    tasks = board.of(task.project_id)
    del tasks.assigned[task.id]
    task.assignee = 0
    _enqueue(tasks, task)


def _enqueue(tasks: ProjectTasks, task: Task) -> None:
    """Queue a task that already has a life (re-queued, reset): its voters are counted."""
    tasks.queue.push(task.priority, task.id)
    if task.votes:
        counts = tasks.voted_queued
        for worker_id in task.votes:
            counts[worker_id] = counts.get(worker_id, 0) + 1


def _dequeue(tasks: ProjectTasks, task: Task) -> None:
    tasks.queue.remove(task.priority, task.id)
    if task.votes:
        counts = tasks.voted_queued
        for worker_id in task.votes:
            if counts[worker_id] == 1:
                del counts[worker_id]
            else:
                counts[worker_id] -= 1


def _forget(board: TaskBoard, task: Task, tasks: ProjectTasks | None = None) -> None:
    """Drop a closed or deleted task (``tasks``: its project's, if the caller has them)."""
    tasks = tasks or board.of(task.project_id)
    del board.tasks[task.id]
    if task.hash and tasks.hashes.get(task.hash) == task.id:
        del tasks.hashes[task.hash]
    if task.votes:
        tasks.votes -= len(task.votes)
        tasks.voted_tasks -= 1
    tasks.index.left(tasks.live, board.tasks)


def moved_priority(board: TaskBoard, task: Task) -> None:
    """Re-index a live task whose priority a reducer just changed (the task browser's index;
    the queue is the reducer's own business)."""
    tasks = board.of(task.project_id)
    tasks.index.moved(task.id, task.priority, tasks.live, board.tasks)


def submitted(board: TaskBoard, e: ev.TaskSubmitted) -> None:
    task = Task(
        e.task_id, e.project_id, e.priority, e.max_retries, e.max_assign_time,
        e.verification_count, e.recipe, e.hash, submitted=e.at,
    )  # fmt: skip
    board.tasks[e.task_id] = task
    tasks = board.of(e.project_id)
    tasks.queue.push(e.priority, e.task_id)
    tasks.index.add(e.task_id, e.priority)
    tasks.index.mark(e.task_id, e.at)
    if e.hash:
        tasks.hashes[e.hash] = e.task_id
    if e.task_id >= board.next_id:
        board.next_id = e.task_id + 1


def bulk_submitted(board: TaskBoard, e: ev.TasksSubmitted) -> None:
    tasks, project_id = board.of(e.project_id), e.project_id
    push, hashes, by_id, at = tasks.queue.push, tasks.hashes, board.tasks, e.at
    index = tasks.index.add
    task_id = e.first_task_id
    for new in e.tasks:
        by_id[task_id] = Task(
            task_id, project_id, new.priority, new.max_retries, new.max_assign_time,
            new.verification_count, new.recipe, new.hash, submitted=at,
        )  # fmt: skip
        push(new.priority, task_id)
        index(task_id, new.priority)
        if new.hash:
            hashes[new.hash] = task_id
        task_id += 1
    tasks.index.mark(e.first_task_id, at)
    if task_id > board.next_id:
        board.next_id = task_id


def _assign(board: TaskBoard, tasks: ProjectTasks, task: Task, worker_id: int, at: float,
            deadline: float) -> None:  # fmt: skip
    _dequeue(tasks, task)
    tasks.assigned[task.id] = None
    task.assignee = worker_id
    task.assign_time = at
    task.deadline = deadline
    _push_deadline(board, deadline, task.id)


def assigned(board: TaskBoard, e: ev.TaskAssigned) -> None:
    _assign(board, board.of(e.project_id), board.tasks[e.task_id], e.worker_id, e.at, e.deadline)


def batch_assigned(board: TaskBoard, e: ev.TasksAssigned) -> None:
    tasks, by_id, worker_id, at = board.of(e.project_id), board.tasks, e.worker_id, e.at
    for assignment in e.tasks:
        _assign(board, tasks, by_id[assignment.task_id], worker_id, at, assignment.deadline)


def extended(board: TaskBoard, e: ev.AssignmentExtended) -> None:
    """A keep-alive: the old heap entry goes stale (its deadline no longer matches)."""
    task = board.tasks[e.task_id]
    task.deadline = e.deadline
    _push_deadline(board, e.deadline, task.id)
    _prune_deadlines(board)


def _push_deadline(board: TaskBoard, deadline: float, task_id: int) -> None:
    heap = board.deadlines
    heapq.heappush(heap, (deadline, task_id))
    if len(heap) % 4096 == 0:
        _compact_deadlines(board)


def _compact_deadlines(board: TaskBoard) -> None:
    """Drop stale heap entries once they outnumber live assignments (bounds memory)."""
    assigned = sum(len(tasks.assigned) for tasks in board.projects.values())
    if assigned * 2 < len(board.deadlines):
        live = [(board.tasks[t].deadline, t) for p in board.projects.values() for t in p.assigned]
        heapq.heapify(live)
        board.deadlines = live


def _release(board: TaskBoard, tasks: ProjectTasks, task: Task, outcome: ev.Outcome,
             worker_id: int, verification: int, reason: str) -> None:  # fmt: skip
    """One task's release (``tasks``: its project's); the caller then prunes the heap once."""
    if outcome is _CLOSED:
        del tasks.assigned[task.id]
        _forget(board, task, tasks)
        tasks.closed.append(task)
        return
    if outcome is _VOTED:
        if not task.votes:
            task.votes = {}
            tasks.voted_tasks += 1
        task.votes[worker_id] = verification
        tasks.votes += 1
    elif outcome is _RETRY:
        task.retries += 1
        task.reason = reason
    elif outcome is _FAILED:
        task.retries += 1
        task.reason = reason
        task.status = FAILED
        del tasks.assigned[task.id]
        task.assignee = 0
        tasks.failed[task.id] = None
        return
    _requeue(board, task)


def released(board: TaskBoard, e: ev.TaskReleased) -> None:
    task = board.tasks[e.task_id]
    tasks = board.of(task.project_id)
    _release(board, tasks, task, e.outcome, e.worker_id, e.verification, e.reason)
    _prune_deadlines(board)


def batch_released(board: TaskBoard, e: ev.TasksReleased) -> None:
    by_id, tasks, worker_id = board.tasks, board.of(e.project_id), e.worker_id
    for release in e.tasks:
        task = by_id[release.task_id]
        _release(
            board, tasks, task, release.outcome, worker_id, release.verification, release.reason
        )
    _prune_deadlines(board)


def expired(board: TaskBoard, e: ev.AssignmentExpired) -> None:
    task = board.tasks[e.task_id]
    task.assign_time = 0.0
    _requeue(board, task)
    _prune_deadlines(board)


def reclaimed(board: TaskBoard, e: ev.AssignedTasksReclaimed) -> None:
    for task_id in e.task_ids:
        task = board.tasks[task_id]
        task.assign_time = 0.0
        _requeue(board, task)
    _prune_deadlines(board)


def failed_reset(board: TaskBoard, e: ev.FailedTasksReset) -> None:
    tasks = board.of(e.project_id)
    for task_id in e.task_ids:
        task = board.tasks[task_id]
        del tasks.failed[task_id]
        task.status, task.retries, task.assign_time = NEW, 0, 0.0
        _enqueue(tasks, task)


def deleted(board: TaskBoard, e: ev.ProjectTasksDeleted) -> None:
    for task_id in e.task_ids:
        _forget(board, board.tasks[task_id])
    tasks = board.of(e.project_id)
    tasks.queue.clear()
    tasks.voted_queued.clear()
    tasks.assigned.clear()
    tasks.failed.clear()
    tasks.index.clear()
    tasks.closed.clear()
    _prune_deadlines(board)


def cancelled(board: TaskBoard, e: ev.QueuedTasksCancelled) -> None:
    tasks = board.of(e.project_id)
    for task_id in e.task_ids:
        task = board.tasks[task_id]
        _dequeue(tasks, task)
        _forget(board, task, tasks)


def reprioritized(board: TaskBoard, e: ev.TasksReprioritized) -> None:
    tasks = board.of(e.project_id)
    for task_id in e.task_ids:
        task = board.tasks[task_id]
        _dequeue(tasks, task)
        task.priority = e.priority
        _enqueue(tasks, task)
        moved_priority(board, task)


HANDLERS = {
    ev.TaskSubmitted: submitted,
    ev.TasksSubmitted: bulk_submitted,
    ev.TaskAssigned: assigned,
    ev.TaskReleased: released,
    ev.AssignmentExpired: expired,
    ev.TasksAssigned: batch_assigned,
    ev.TasksReleased: batch_released,
    ev.AssignmentExtended: extended,
    ev.AssignedTasksReclaimed: reclaimed,
    ev.FailedTasksReset: failed_reset,
    ev.ProjectTasksDeleted: deleted,
    ev.QueuedTasksCancelled: cancelled,
    ev.TasksReprioritized: reprioritized,
}
