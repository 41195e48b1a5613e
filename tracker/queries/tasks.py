"""The task browser: a project's tasks filtered, sorted and paged by an opaque cursor.

What is listed: the project's live tasks (queued, awaiting verification, assigned, failed);
with ``state=closed``, the last ``CLOSED_KEPT`` (1,000) closed tasks the read model keeps.
Older closed tasks are in the log and their history, not here.

How it stays fast at a million tasks. The read model keeps, per project, the ids of its tasks
in id order, whole and per priority (``ProjectTasks.index``, ``tracker.projections.browse``),
so a page sorted by id or by priority is a walk from the cursor that stops when the page is
full: it costs the rows it skips, not the project's size. A filter on a state that holds few
tasks (failed, assigned) reads that state's set instead of walking. A filter that matches
rarely (a recipe substring found in one task of a million) would still walk far, so a page
examines at most ``SCAN_BUDGET`` tasks: it may come back short (even empty) with a ``next``
cursor that goes on from where it stopped. The cursor holds the sort key of the last task
examined, so tasks submitted between two pages never shift or repeat the rows (keyset
paging).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import enum
from collections.abc import Callable, Iterable, Iterator

import msgspec

from tracker.commands.base import existing_project
from tracker.errors import InvalidRequest, Unauthorized
from tracker.projections.browse import TaskIndex
from tracker.projections.state import State
from tracker.projections.tasks import FAILED, ProjectTasks, Task
from tracker.queries import auditing
from tracker.queries.caller import Caller

SCAN_BUDGET = 250_000  # tasks one page may examine (about 15-40 ms on a 2-core machine)
CHUNK = 4096  # tasks read from the index at a time
SMALL_SET = 20_000  # a state set this small is read whole rather than walked in the index
MAX_LIMIT = 500
MAX_CURSOR = 64  # characters; the cursors pages give are shorter


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


def find(state: State, project_id: int, task_id: int) -> TaskRow | None:
    """The task as the browser lists it: live, or among the project's last closed tasks."""
    task = state.tasks.get(task_id)
    if task is not None:
        return row(task)
    tasks = state.tasks.projects.get(project_id)
    closed = next((t for t in tasks.closed if t.id == task_id), None) if tasks else None
    return None if closed is None else row(closed, closed=True)


def page(state: State, where: TaskFilter, sort: Sort = Sort.ID, cursor: str | None = None,
         limit: int = 50, budget: int = SCAN_BUDGET) -> Page:  # fmt: skip
    """One page of the project's tasks matching ``where``, in ``sort`` order, after
    ``cursor`` (a page's ``next``), having examined at most about ``budget`` tasks (a chunk
    more). Reading rights are the caller's to check (``require_browser``)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}")
    after = decode_cursor(cursor, sort) if cursor else None
    tests, key, closed = checks(where), sort_key(sort), where.state is TaskState.CLOSED
    found: list[TaskRow] = []
    examined = 0
    for chunk, last, read in chunks(state, where, sort, after):
        for task in kept(chunk, tests):
            found.append(row(task, closed))
            if len(found) == limit:
                return Page(tasks=found, next=encode_cursor(sort, key(task)))
        examined += read
        if examined >= budget:
            return Page(tasks=found, next=encode_cursor(sort, last))
    return Page(tasks=found, next=None)


def matching(state: State, where: TaskFilter) -> Iterator[int]:
    """Every task id matching ``where``, in id order (no budget: for commands on all of
    them)."""
    tests = checks(where)
    for chunk, _, _ in chunks(state, where, Sort.ID, None):
        for task in kept(chunk, tests):
            yield task.id


# -- chunks: the tasks after the cursor in sort order, a superset of the matches ------------

Chunk = tuple[list[Task], Key, int]  # live tasks, the sort key of the last entry, entries read


def chunks(state: State, where: TaskFilter, sort: Sort, after: Key | None
           ) -> Iterator[Chunk]:  # fmt: skip
    tasks = state.tasks.projects.get(where.project)
    if tasks is None:
        return iter(())
    if where.state is TaskState.CLOSED:
        return _sorted(list(tasks.closed), sort, after)
    small = _small_set(tasks, where)
    if small is not None:
        board = state.tasks.tasks
        return _sorted([board[i] for i in small], sort, after)
    low, high = tasks.index.window(where.submitted_from, where.submitted_to)
    if sort is Sort.PRIORITY:
        return _by_priority(state.tasks.tasks, tasks.index, where, after, (low, high))
    if sort is Sort.NEWEST:
        high = min(high, 2**63 if after is None else -after[0])
        return _down(state.tasks.tasks, tasks.index.ids, low, high)
    return _up(state.tasks.tasks, tasks.index.ids, max(low, 0 if after is None else after[0] + 1),
               high)  # fmt: skip


def _sorted(found: list[Task], sort: Sort, after: Key | None) -> Iterator[Chunk]:
    """A small set of tasks as one chunk, sorted, after the cursor."""
    key = sort_key(sort)
    found.sort(key=key)
    if after is not None:
        found = [task for task in found if key(task) > after]
    if found:
        yield found, key(found[-1]), len(found)


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


def _up(board: dict[int, Task], ids: list[int], low: int, high: int) -> Iterator[Chunk]:
    """Live tasks with ids in ``[low, high)``, ascending, a chunk at a time."""
    start, end = bisect.bisect_left(ids, low), bisect.bisect_left(ids, high)
    get = board.get
    for at in range(start, end, CHUNK):
        part = ids[at : min(at + CHUNK, end)]
        yield list(filter(None, map(get, part))), (part[-1],), len(part)


def _down(board: dict[int, Task], ids: list[int], low: int, high: int) -> Iterator[Chunk]:
    """Live tasks with ids in ``[low, high)``, descending, a chunk at a time."""
    start, end = bisect.bisect_left(ids, low), bisect.bisect_left(ids, high)
    get = board.get
    for at in range(end, start, -CHUNK):
        part = ids[max(at - CHUNK, start) : at][::-1]
        yield list(filter(None, map(get, part))), (-part[-1],), len(part)


def _by_priority(board: dict[int, Task], index: TaskIndex, where: TaskFilter,
                 after: Key | None, window: tuple[int, int]) -> Iterator[Chunk]:  # fmt: skip
    """Live tasks by priority (highest first), then id, a chunk at a time."""
    low = -(2**63) if where.priority_min is None else where.priority_min
    high = 2**63 if where.priority_max is None else where.priority_max
    if after is not None:
        high = min(high, -after[0])
    get = board.get
    for priority in sorted((p for p in index.by_priority if low <= p <= high), reverse=True):
        lane = index.by_priority[priority]
        first = window[0]
        if after is not None and -priority == after[0]:
            first = max(first, after[1] + 1)
        start, end = bisect.bisect_left(lane, first), bisect.bisect_left(lane, window[1])
        for at in range(start, end, CHUNK):
            part = lane[at : min(at + CHUNK, end)]
            live = list(filter(None, map(get, part)))
            if index.moves:  # a lane may hold entries of tasks that moved to another priority
                live = [task for task in live if task.priority == priority]
            yield live, (-priority, part[-1]), len(part)


# -- filters, sort keys, cursors -------------------------------------------------------------


_STATE_CHECKS: dict[TaskState, Callable[[Task], bool]] = {
    TaskState.QUEUED: lambda task: not task.assignee and not task.votes and task.status != FAILED,
    TaskState.AWAITING_VERIFICATION: lambda task: (
        not task.assignee and bool(task.votes) and task.status != FAILED
    ),
    TaskState.ASSIGNED: lambda task: task.assignee != 0,  # a failed task has none
    TaskState.FAILED: lambda task: task.status == FAILED,
}


def checks(where: TaskFilter) -> list[Callable[[Task], bool]]:
    """The filter as the checks it needs, the cheapest first (a closed task's state is
    known from where it was found, so a closed filter does not check it)."""
    found: list[Callable[[Task], bool]] = []
    if where.priority_min is not None:
        low = where.priority_min
        found.append(lambda task: task.priority >= low)
    if where.priority_max is not None:
        high = where.priority_max
        found.append(lambda task: task.priority <= high)
    if where.worker is not None:
        worker = where.worker
        found.append(lambda task: task.assignee == worker)
    if where.state is not None and where.state is not TaskState.CLOSED:
        found.append(_STATE_CHECKS[where.state])
    if where.submitted_from is not None:
        since = where.submitted_from
        found.append(lambda task: task.submitted >= since)
    if where.submitted_to is not None:
        until = where.submitted_to
        found.append(lambda task: task.submitted <= until)
    if where.recipe:
        needle = where.recipe
        found.append(lambda task: needle in task.recipe)
    return found


def kept(chunk: list[Task], tests: list[Callable[[Task], bool]]) -> list[Task]:
    """The tasks of a chunk that pass every check: one C-level ``filter`` pass per check."""
    for test in tests:
        chunk = list(filter(test, chunk))
    return chunk


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
    if len(cursor) > MAX_CURSOR:
        raise InvalidCursor()
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        name, _, numbers = text.partition(":")
        key = tuple(int(n) for n in numbers.split(","))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor() from None
    if name != sort.value or len(key) != (2 if sort is Sort.PRIORITY else 1):
        raise InvalidCursor()
    return key


def require_browser(state: State, caller: Caller, project_id: int) -> None:
    """Who may list a project's tasks: whoever may read its tasks' history (the audit token,
    a tracker admin, a manager with the Read role on it): 401 for nobody, 404 for an unknown
    project, 403 for anyone else. Recipes and failure reasons are the project's data, so
    unlike the project itself a public project's tasks are not shown to everyone."""
    auditing.require_reader(caller)
    existing_project(state, project_id)
    if not auditing.may_read_history(state, caller, project_id):
        raise Unauthorized("You need the Read role on this project to list its tasks")
