"""The task browser: a project's tasks filtered, sorted and paged by an opaque cursor.

What is listed: the project's live tasks (queued, awaiting verification, assigned, failed),
and of its closed tasks the last ``CLOSED_KEPT`` (1,000) the read model keeps; older closed
tasks are in the log and their history, not here.

How it stays fast at a million tasks. The read model keeps, per project, the ids of its tasks
of each priority in id order (``ProjectTasks.by_priority``), so a page sorted by id or by
priority is a walk from the cursor that stops when the page is full: it costs the rows it
skips, not the project's size. A filter on a state that holds few tasks (failed, assigned)
reads that state's set instead of walking. A filter that matches rarely (a recipe substring
found in one task of a million) would still walk far, so a page examines at most
``SCAN_BUDGET`` tasks: it may come back short (even empty) with a ``next`` cursor that goes on
from where it stopped. The cursor holds the sort key of the last task examined, so tasks
submitted between two pages never shift or repeat the rows (keyset paging).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import enum
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator

import msgspec

from tracker.errors import InvalidRequest
from tracker.projections.state import State
from tracker.projections.tasks import FAILED, ProjectTasks, Task

SCAN_BUDGET = 200_000  # tasks one page may examine
SMALL_SET = 20_000  # a state set this small is read whole rather than walked in the index
MAX_LIMIT = 500


class TaskState(enum.StrEnum):
    QUEUED = "queued"
    AWAITING_VERIFICATION = "awaiting_verification"  # queued again, with verification votes
    ASSIGNED = "assigned"
    FAILED = "failed"
    CLOSED = "closed"  # among the last closed tasks the read model keeps


class Sort(enum.StrEnum):
    ID = "id"  # oldest first
    NEWEST = "-id"  # newest first
    PRIORITY = "priority"  # highest priority first, then oldest


class TaskFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which tasks of a project to list; every field left at its default matches all."""

    project: int
    state: TaskState | None = None
    worker: int | None = None  # the assignee (assigned tasks) or the closer (closed tasks)
    priority_min: int | None = None
    priority_max: int | None = None
    recipe: str = ""  # a substring of the recipe, case-sensitive
    submitted_from: float | None = None  # Unix time, inclusive
    submitted_to: float | None = None  # Unix time, inclusive


class TaskRow(msgspec.Struct, kw_only=True):
    id: int
    state: TaskState
    priority: int
    recipe: str
    assignee: int  # for a closed task: the worker that closed it
    retries: int
    max_retries: int
    verification_count: int
    votes: int
    submitted: float
    reason: str  # the last failed attempt's reason, "" if none


class Page(msgspec.Struct, kw_only=True):
    tasks: list[TaskRow]
    next: str | None  # the cursor of the next page; None when the list is complete


class InvalidCursor(InvalidRequest):
    message = "Invalid cursor: take it from the previous page's `next`, with the same sort"


Key = tuple[int, ...]


def state_of(task: Task, closed: bool = False) -> TaskState:
    if closed:
        return TaskState.CLOSED
    if task.status == FAILED:
        return TaskState.FAILED
    if task.assignee:
        return TaskState.ASSIGNED
    return TaskState.AWAITING_VERIFICATION if task.votes else TaskState.QUEUED


def row(task: Task, closed: bool = False) -> TaskRow:
    return TaskRow(
        id=task.id, state=state_of(task, closed), priority=task.priority, recipe=task.recipe,
        assignee=task.assignee, retries=task.retries, max_retries=task.max_retries,
        verification_count=task.verification_count, votes=len(task.votes or ()),
        submitted=task.submitted, reason=task.reason,
    )  # fmt: skip


def page(state: State, where: TaskFilter, sort: Sort = Sort.ID, cursor: str | None = None,
         limit: int = 50) -> Page:  # fmt: skip
    """One page of the project's tasks matching ``where``, in ``sort`` order, after
    ``cursor`` (a page's ``next``). Reading rights are the caller's to check."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}")
    after = decode_cursor(cursor, sort) if cursor else None
    key, keep = sort_key(sort), predicate(where)
    found: list[TaskRow] = []
    last: Key | None = None
    for examined, (task, closed) in enumerate(candidates(state, where, sort, after)):
        if examined == SCAN_BUDGET:
            return Page(tasks=found, next=encode_cursor(sort, last))
        last = key(task)
        if keep(task, closed):
            found.append(row(task, closed))
            if len(found) == limit:
                break
    else:
        return Page(tasks=found, next=None)
    return Page(tasks=found, next=encode_cursor(sort, last))


def matching(state: State, where: TaskFilter) -> Iterator[int]:
    """Every task id matching ``where``, in id order (no budget: for commands on all of
    them; closed tasks come too when the filter's state allows them)."""
    keep = predicate(where)
    for task, closed in candidates(state, where, Sort.ID, None):
        if keep(task, closed):
            yield task.id


# -- candidates: tasks in sort order after the cursor, a superset of the matches ------------


Candidate = tuple[Task, bool]  # the task, and whether it is closed


def candidates(state: State, where: TaskFilter, sort: Sort, after: Key | None
               ) -> Iterator[Candidate]:  # fmt: skip
    tasks = state.tasks.projects.get(where.project)
    if tasks is None:
        return iter(())
    key = sort_key(sort)
    closed = _closed(tasks, where, key, after)
    if where.state is TaskState.CLOSED:
        return closed
    live = _live(state, tasks, where, sort, after)
    if where.state is not None:
        return live
    return heapq.merge(live, closed, key=lambda candidate: key(candidate[0]))


def _closed(tasks: ProjectTasks, where: TaskFilter, key: Callable[[Task], Key],
            after: Key | None) -> Iterator[Candidate]:  # fmt: skip
    if where.state not in (None, TaskState.CLOSED):
        return iter(())
    found = sorted(tasks.closed, key=key)
    if after is not None:
        found = found[bisect.bisect_right([key(t) for t in found], after) :]
    return ((task, True) for task in found)


def _live(state: State, tasks: ProjectTasks, where: TaskFilter, sort: Sort,
          after: Key | None) -> Iterator[Candidate]:  # fmt: skip
    board = state.tasks.tasks
    small = _small_set(tasks, where)
    if small is not None:
        key = sort_key(sort)
        found = sorted((board[i] for i in small), key=key)
        if after is not None:
            found = [t for t in found if key(t) > after]
        return ((task, False) for task in found)
    return ((board[i], False) for i in _walk(board, tasks, where, sort, after))


def _small_set(tasks: ProjectTasks, where: TaskFilter) -> Iterable[int] | None:
    """The ids of the state the filter names, if that state holds few tasks."""
    queued = (TaskState.QUEUED, TaskState.AWAITING_VERIFICATION)
    if where.state is TaskState.FAILED and len(tasks.failed) <= SMALL_SET:
        return tasks.failed
    assigned = where.state is TaskState.ASSIGNED or where.worker is not None
    if assigned and len(tasks.assigned) <= SMALL_SET:
        return tasks.assigned
    if where.state in queued and tasks.queue.size <= SMALL_SET:
        return list(tasks.queue)
    return None


def _walk(board: dict[int, Task], tasks: ProjectTasks, where: TaskFilter, sort: Sort,
          after: Key | None) -> Iterator[int]:  # fmt: skip
    """Live task ids of the project in ``sort`` order after ``after``, from the index."""
    low = -(2**63) if where.priority_min is None else where.priority_min
    high = 2**63 if where.priority_max is None else where.priority_max
    lanes = sorted((p for p in tasks.by_priority if low <= p <= high), reverse=True)
    if sort is Sort.PRIORITY:
        return itertools.chain.from_iterable(
            _lane(board, tasks.by_priority[p], p, _priority_start(p, after)) for p in lanes
            if after is None or -p >= after[0]
        )  # fmt: skip
    if sort is Sort.ID:
        start = 0 if after is None else after[0]
        return heapq.merge(*(_lane(board, tasks.by_priority[p], p, start) for p in lanes))
    end = 2**63 if after is None else -after[0]
    return heapq.merge(*(_lane_down(board, tasks.by_priority[p], p, end) for p in lanes),
                       reverse=True)  # fmt: skip


def _priority_start(priority: int, after: Key | None) -> int:
    return after[1] if after is not None and -priority == after[0] else 0


def _lane(board: dict[int, Task], ids: list[int], priority: int, start: int) -> Iterator[int]:
    """Live ids of one priority above ``start``, ascending (stale entries skipped)."""
    for i in itertools.islice(ids, bisect.bisect_right(ids, start), None):
        task = board.get(i)
        if task is not None and task.priority == priority:
            yield i


def _lane_down(board: dict[int, Task], ids: list[int], priority: int, end: int
               ) -> Iterator[int]:  # fmt: skip
    """Live ids of one priority below ``end``, descending."""
    for index in range(bisect.bisect_left(ids, end) - 1, -1, -1):
        i = ids[index]
        task = board.get(i)
        if task is not None and task.priority == priority:
            yield i


# -- filters, sort keys, cursors -------------------------------------------------------------


def predicate(where: TaskFilter) -> Callable[[Task, bool], bool]:
    """The filter as one function of (task, closed), checking only what the filter sets."""
    checks: list[Callable[[Task, bool], bool]] = []
    if where.state is not None:
        wanted = where.state
        checks.append(lambda task, closed: state_of(task, closed) is wanted)
    if where.worker is not None:
        worker = where.worker
        checks.append(lambda task, closed: task.assignee == worker)
    if where.priority_min is not None:
        low = where.priority_min
        checks.append(lambda task, closed: task.priority >= low)
    if where.priority_max is not None:
        high = where.priority_max
        checks.append(lambda task, closed: task.priority <= high)
    if where.recipe:
        needle = where.recipe
        checks.append(lambda task, closed: needle in task.recipe)
    if where.submitted_from is not None:
        since = where.submitted_from
        checks.append(lambda task, closed: task.submitted >= since)
    if where.submitted_to is not None:
        until = where.submitted_to
        checks.append(lambda task, closed: task.submitted <= until)
    return lambda task, closed: all(check(task, closed) for check in checks)


def sort_key(sort: Sort) -> Callable[[Task], Key]:
    if sort is Sort.PRIORITY:
        return lambda task: (-task.priority, task.id)
    if sort is Sort.NEWEST:
        return lambda task: (-task.id,)
    return lambda task: (task.id,)


def encode_cursor(sort: Sort, key: Key | None) -> str | None:
    if key is None:
        return None
    text = f"{sort.value}:{','.join(map(str, key))}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> Key:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        name, _, numbers = text.partition(":")
        key = tuple(int(n) for n in numbers.split(","))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor() from None
    if name != sort.value or len(key) != (2 if sort is Sort.PRIORITY else 1):
        raise InvalidCursor()
    return key
