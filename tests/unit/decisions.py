"""Commands and a decide-and-apply helper shared by the decision tests."""

from __future__ import annotations

from tests.unit.given import T0
from tracker.commands.decide import decide
from tracker.commands.tasks import (
    AssignTask,
    ReleaseTask,
    SubmitTask,
)
from tracker.events.tasks import (
    Outcome,
)
from tracker.projections.state import State

NOW = T0 + 1000
DEFAULT_ASSIGN_TIME = 300.0
HELLO_WORLD = 8565956259293726066  # SipHash-2-4 (1, 2) of "Hello, world", section 14
OK, FAIL, SKIP = 0, 1, 2


def submit(
    project: int = 1, recipe: str = "r", worker_id: int = 1, **fields: int | str
) -> SubmitTask:
    return SubmitTask(worker_id=worker_id, project=project, recipe=recipe, **fields)  # type: ignore[arg-type]


def assign(worker_id: int, project: int = 1) -> AssignTask:
    return AssignTask(worker_id=worker_id, project=project, default_assign_time=DEFAULT_ASSIGN_TIME)


def release(worker_id: int, task_id: int, result: int = OK, verification: int = 0) -> ReleaseTask:
    return ReleaseTask(
        worker_id=worker_id, task_id=task_id, result=result, verification=verification
    )


def run(state: State, command: object) -> list:
    """Decide and apply, as the service does; return the events."""
    events = decide(state, command, NOW)  # type: ignore[arg-type]
    for event in events:
        state.apply(event)
    return events


def outcome_of(state: State, command: ReleaseTask) -> Outcome | None:
    events = run(state, command)
    return events[0].outcome if events else None
