"""Commands on tasks: submit, bulk submit, assign, release, keep alive, expire.

The batch versions of assign and release are in :mod:`tracker.commands.batches`; they apply the
rules written here to each task.

Every decision is a pure function of the state, the command and ``now``; it returns the
events to append, or raises the error that names the broken rule.
"""

from __future__ import annotations

from tracker.commands.base import (
    INT32_MAX,
    Command,
    InvalidTask,
    existing_project,
)
from tracker.errors import InvalidRequest, RateLimited, TrackerError
from tracker.events.base import SYSTEM, Event, worker_actor
from tracker.events.tasks import (
    AssignmentExpired,
    AssignmentExtended,
    NewTask,
    Outcome,
    TaskAssigned,
    TaskReleased,
    TasksSubmitted,
    TaskSubmitted,
)
from tracker.hashing import unique_string_hash
from tracker.projections.pacing import ASSIGN, SUBMIT
from tracker.projections.state import State
from tracker.projections.tasks import Task

OK, FAIL, SKIP = 0, 1, 2


class SubmitTask(Command, frozen=True):
    worker_id: int
    project: int
    recipe: str
    priority: int = 0
    max_retries: int = 0
    max_assign_time: int = 0
    verification_count: int = 0
    hash_u64: int = 0
    hash64: int = 0  # the name API_DOCS and the original UI use (the original ignored it)
    unique_string: str = ""

    @property
    def given_hash(self) -> int:
        return self.hash_u64 or self.hash64


class BulkSubmit(Command, frozen=True):
    worker_id: int
    tasks: list[SubmitTask]


class AssignTask(Command, frozen=True):
    worker_id: int
    project: int
    default_assign_time: float  # seconds; used when the task's max_assign_time is 0


class ReleaseTask(Command, frozen=True):
    worker_id: int
    task_id: int
    result: int
    verification: int = 0
    reason: str = ""


class ExtendAssignment(Command, frozen=True):
    """A keep-alive: move the deadline to ``seconds`` from now (0: the task's max_assign_time)."""

    worker_id: int
    task_id: int
    seconds: float = 0.0
    default_assign_time: float = 300.0  # seconds; when seconds and max_assign_time are 0


class ExpireAssignment(Command, frozen=True):
    task_id: int
    deadline: float


class SubmitNotPermitted(TrackerError):
    message = "unauthorized task submit"


class DuplicateTaskHash(TrackerError):
    message = "A live task of this project already has this hash (hash_u64 / unique_string)"


class MixedBulkProjects(TrackerError):
    message = "All the tasks in a bulk submit must be of the same project"


class InvalidBulkTask(TrackerError):
    message = "Invalid request"


class InvalidProjectId(InvalidRequest):
    message = "Invalid project id"


class WorkerPaused(TrackerError):
    message = "A manager has paused you"


class NotAssigned(TrackerError):
    """The task is not held by the calling worker (answered 409)."""

    message = "The task is not assigned to you"


class NoTaskAvailable(TrackerError):
    """Answered as 200 with ``ok: false``, as the original does."""

    message = "No task available"


def invalid_reason(command: SubmitTask) -> str | None:
    """Why a submitted task is invalid, or None. The original said only "Invalid task"."""
    if command.project <= 0:
        return "project must be a positive project id"
    if not command.recipe:
        return "recipe must not be empty"
    if command.max_retries < 0:
        return "max_retries must be >= 0"
    if not 0 <= command.max_assign_time <= INT32_MAX:
        return f"max_assign_time must be between 0 and {INT32_MAX} seconds"
    if command.hash_u64 and command.hash64 and command.hash_u64 != command.hash64:
        return "hash_u64 and hash64 disagree"
    if command.given_hash and command.unique_string:
        return "give hash_u64 or unique_string, not both"
    return None


def task_hash(command: SubmitTask) -> int:
    if command.unique_string:
        return unique_string_hash(command.unique_string)
    return command.given_hash


def _new_task(command: SubmitTask, task_id: int, now: float, actor: str) -> TaskSubmitted:
    return TaskSubmitted(
        at=now, actor=actor, task_id=task_id, project_id=command.project,
        recipe=command.recipe, priority=command.priority, max_retries=command.max_retries,
        max_assign_time=command.max_assign_time,
        verification_count=command.verification_count or 1, hash=task_hash(command),
    )  # fmt: skip


def check_task(command: SubmitTask) -> int:
    """The project of a well-formed task; ``InvalidTask`` naming the rule otherwise."""
    reason = invalid_reason(command)
    if reason:
        raise InvalidTask(f"Invalid task: {reason}")
    return command.project


def pace(state: State, project_id: int, kind: str, n: int, now: float) -> None:
    """The project's ``kind`` bucket has ``n`` tokens now, or ``RateLimited`` with the wait."""
    delay = state.pacing.delay(project_id, kind, n, now)
    if delay:
        raise RateLimited(delay)


def submit_task(state: State, command: SubmitTask, now: float) -> list[Event]:
    check_task(command)
    existing_project(state, command.project)
    pace(state, command.project, SUBMIT, 1, now)
    if not state.access.can_submit(command.worker_id, command.project):
        raise SubmitNotPermitted()
    event = _new_task(command, state.tasks.next_id, now, worker_actor(command.worker_id))
    if event.hash and event.hash in state.tasks.hashes_of(command.project):
        raise DuplicateTaskHash()
    return [event]


def check_bulk(tasks: list[SubmitTask]) -> int:
    """The project of a well-formed bulk. As in the original, every element is checked for
    validity first, and only then that they all name one project."""
    if not tasks:
        raise InvalidBulkTask("Could not parse request: requests must be a non-empty list")
    for index, task in enumerate(tasks):
        reason = invalid_reason(task)
        if reason:
            raise InvalidBulkTask(f"Invalid request: requests[{index}]: {reason}")
    project_id = tasks[0].project
    if any(task.project != project_id for task in tasks):
        raise MixedBulkProjects()
    return project_id


def bulk_submit(state: State, command: BulkSubmit, now: float) -> list[Event]:
    project_id = check_bulk(command.tasks)
    existing_project(state, project_id)
    pace(state, project_id, SUBMIT, len(command.tasks), now)
    if not state.access.can_submit(command.worker_id, project_id):
        raise SubmitNotPermitted()
    live = state.tasks.hashes_of(project_id)
    seen: set[int] = set()
    new_tasks = []
    for index, task in enumerate(command.tasks):
        new = NewTask(
            task.recipe, task.priority, task.max_retries, task.max_assign_time,
            task.verification_count or 1, task_hash(task),
        )  # fmt: skip
        if new.hash:
            if new.hash in live or new.hash in seen:
                raise DuplicateTaskHash(
                    f"requests[{index}]: {DuplicateTaskHash.message}; nothing was submitted"
                )
            seen.add(new.hash)
        new_tasks.append(new)
    return [
        TasksSubmitted(
            at=now, actor=worker_actor(command.worker_id), project_id=project_id,
            first_task_id=state.tasks.next_id, tasks=new_tasks,
        )
    ]  # fmt: skip


def open_for(state: State, worker_id: int, project_id: int, now: float) -> None:
    """The rules a worker's request for tasks of a project meets before any task is looked
    at, in the original's order (the rate: one token at least); raises the refusal."""
    worker = state.workers.get(worker_id)
    if worker is not None and worker.paused:
        raise WorkerPaused()  # before the project id, as the original
    if project_id <= 0:
        raise InvalidProjectId()
    project = existing_project(state, project_id)
    pace(state, project_id, ASSIGN, 1, now)
    if project.paused:
        raise NoTaskAvailable()
    if not project.public and not state.access.can_assign(worker_id, project_id):
        raise NoTaskAvailable()


def deadline_of(task: Task, now: float, default_assign_time: float) -> float:
    return now + (task.max_assign_time or default_assign_time)


def assign_task(state: State, command: AssignTask, now: float) -> list[Event]:
    open_for(state, command.worker_id, command.project, now)
    task = state.tasks.next_for(command.project, command.worker_id)
    if task is None:
        raise NoTaskAvailable()
    return [
        TaskAssigned(
            at=now, actor=worker_actor(command.worker_id), task_id=task.id,
            project_id=task.project_id, worker_id=command.worker_id,
            deadline=deadline_of(task, now, command.default_assign_time),
        )
    ]  # fmt: skip


def outcome_of(task: Task, result: int, verification: int) -> Outcome | None:
    """What releasing ``task`` with ``result`` does to it (None: an unknown result)."""
    if result == OK:
        if task.verification_count <= 1:
            return Outcome.CLOSED
        votes = list((task.votes or {}).values()) + [verification]
        agreeing = votes.count(verification)
        return Outcome.CLOSED if agreeing >= task.verification_count else Outcome.VOTED
    if result == FAIL:
        return Outcome.FAILED if task.retries + 1 >= task.max_retries else Outcome.RETRY
    if result == SKIP:
        return Outcome.SKIPPED
    return None


def release_task(state: State, command: ReleaseTask, now: float) -> list[Event]:
    task = state.tasks.get(command.task_id)
    if task is None or task.assignee != command.worker_id:
        return []
    outcome = outcome_of(task, command.result, command.verification)
    if outcome is None:
        return []
    actor = worker_actor(command.worker_id)
    events: list[Event] = [
        TaskReleased(
            at=now, actor=actor, task_id=task.id, project_id=task.project_id,
            worker_id=command.worker_id, result=command.result, outcome=outcome,
            verification=command.verification, reason=command.reason,
        )
    ]  # fmt: skip
    if outcome is Outcome.CLOSED and _has_chain(state, task):
        copy = Chains(state).copy(task, now, actor)
        events.extend([copy] if copy else [])
    return events


def _has_chain(state: State, task: Task) -> bool:
    """Whether the task's project chains into another (most do not: no ``Chains`` to build)."""
    project = state.projects.get(task.project_id)
    return project is not None and bool(project.view.chain)


class Chains:
    """Chain copies of closed tasks, decided one after another against the same state: a
    batch's later copies see the ids and hashes its earlier copies and closes took or freed."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.next_id = state.tasks.next_id
        self.taken: set[tuple[int, int]] = set()  # (project, hash) of copies decided here
        self.freed: set[tuple[int, int]] = set()  # (project, hash) of tasks closed here

    def closed(self, task: Task) -> None:
        if task.hash:
            self.freed.add((task.project_id, task.hash))

    def copy(self, task: Task, now: float, actor: str) -> TaskSubmitted | None:
        """The copy of closed ``task`` into its project's chain target, unless its hash is
        taken there (or there is no chain)."""
        state = self.state
        project = state.projects.get(task.project_id)
        if project is None or not project.view.chain:
            return None
        target = project.view.chain
        if state.projects.get(target) is None:
            return None
        key = (target, task.hash)
        if task.hash and (key in self.taken or (
                task.hash in state.tasks.hashes_of(target) and key not in self.freed)):  # fmt: skip
            return None
        if task.hash:
            self.taken.add(key)
            self.freed.discard(key)
        self.next_id += 1
        return TaskSubmitted(
            at=now, actor=actor, task_id=self.next_id - 1, project_id=target,
            recipe=task.recipe, priority=task.priority, max_retries=task.max_retries,
            max_assign_time=task.max_assign_time, verification_count=task.verification_count,
            hash=task.hash, chained_from=task.id,
        )  # fmt: skip


def extend_assignment(state: State, command: ExtendAssignment, now: float) -> list[Event]:
    """A keep-alive moves the deadline later, never earlier: one that would not move it
    appends nothing. A deadline that passed still counts while the task is not taken back."""
    task = state.tasks.get(command.task_id)
    if task is None or task.assignee != command.worker_id:
        raise NotAssigned(
            f"Task {command.task_id} is not assigned to you: it was released, or taken back "
            "when its deadline passed"
        )
    seconds = command.seconds or task.max_assign_time or command.default_assign_time
    if now + seconds <= task.deadline:
        return []
    return [
        AssignmentExtended(
            at=now, actor=worker_actor(command.worker_id), task_id=task.id,
            project_id=task.project_id, worker_id=command.worker_id, deadline=now + seconds,
        )
    ]  # fmt: skip


def expire_assignment(state: State, command: ExpireAssignment, now: float) -> list[Event]:
    task = state.tasks.get(command.task_id)
    if task is None or not task.assignee or task.deadline != command.deadline:
        return []  # released or reassigned since: expiring twice is harmless
    return [
        AssignmentExpired(
            at=now, actor=SYSTEM, task_id=task.id, project_id=task.project_id,
            worker_id=task.assignee,
        )
    ]  # fmt: skip


DECIDERS = {
    SubmitTask: submit_task,
    BulkSubmit: bulk_submit,
    AssignTask: assign_task,
    ReleaseTask: release_task,
    ExtendAssignment: extend_assignment,
    ExpireAssignment: expire_assignment,
}
