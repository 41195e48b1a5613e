"""The task browser's index and pages, folded from events: stale entries dropped once they
outnumber live tasks, submit-time windows, moved priorities, and pages under a scan budget."""

from __future__ import annotations

from tests.unit import given
from tracker.events import tasks as ev
from tracker.projections import tasks as projection
from tracker.projections.state import State
from tracker.queries.tasks import Sort, TaskFilter, TaskState, matching, page

T0 = 1_700_000_000.0


def project() -> State:
    """Project 1 and worker 1, no task yet."""
    return given.state_of(given.project(1), given.worker(1))


def submitted(state: State, first: int, recipes: list[str], at: float = T0,
              priority: int = 0) -> None:  # fmt: skip
    tasks = [ev.NewTask(recipe=recipe, priority=priority) for recipe in recipes]
    state.apply(ev.TasksSubmitted(at=at, actor="worker:1", project_id=1, first_task_id=first,
                                  tasks=tasks))  # fmt: skip


def closed(state: State, task_ids: list[int], worker: int = 1) -> None:
    assigned = [ev.Assignment(task_id=task_id, deadline=T0 + 600) for task_id in task_ids]
    state.apply(ev.TasksAssigned(at=T0, actor="worker:1", project_id=1, worker_id=worker,
                                 tasks=assigned))  # fmt: skip
    done = [
        ev.Release(task_id=task_id, result=0, outcome=ev.Outcome.CLOSED) for task_id in task_ids
    ]
    state.apply(ev.TasksReleased(at=T0, actor="worker:1", project_id=1, worker_id=worker,
                                 tasks=done))  # fmt: skip


def every_page(state: State, where: TaskFilter, sort: Sort = Sort.ID, limit: int = 50,
               budget: int = 250_000) -> tuple[list[int], int]:  # fmt: skip
    """The ids of every page, and how many pages it took."""
    found, cursor, pages = [], None, 0
    while True:
        listed = page(state, where, sort, cursor, limit, budget)
        found += [row.id for row in listed.tasks]
        pages += 1
        if listed.next is None:
            return found, pages
        cursor = listed.next


def test_closed_tasks_leave_the_index_once_they_outnumber_the_live_ones() -> None:
    state = project()
    submitted(state, 1, [f"r{n}" for n in range(1, 3001)])
    closed(state, list(range(1, 2001)))
    index = state.tasks.projects[1].index

    # rebuilt once, when 1,501 had closed (more than the 1,499 live), then 499 more closed
    assert index.stale == 499
    assert index.ids == index.by_priority[0] == list(range(1502, 3001))
    assert every_page(state, TaskFilter(project=1), limit=500)[0] == list(range(2001, 3001))
    kept = every_page(state, TaskFilter(project=1, state=TaskState.CLOSED), limit=500)[0]
    assert kept == list(range(1001, 2001))  # the last 1,000 closed


def test_a_rare_match_is_found_a_budget_at_a_time_and_nothing_is_listed_twice() -> None:
    state = project()
    recipes = ["needle" if n in (7_000, 19_999) else f"hay {n}" for n in range(1, 20_001)]
    submitted(state, 1, recipes)
    where = TaskFilter(project=1, recipe="needle")

    first = page(state, where, budget=4096)
    assert first.tasks == [] and first.next is not None  # nothing in the first stretch
    found, pages = every_page(state, where, budget=4096)
    assert found == [7_000, 19_999]
    assert pages == 5  # 20,000 tasks, 4,096 a page
    assert every_page(state, where, Sort.NEWEST, budget=4096)[0] == [19_999, 7_000]
    assert every_page(state, where, Sort.PRIORITY, budget=4096)[0] == [7_000, 19_999]
    assert list(matching(state, where)) == [7_000, 19_999]


def test_submit_times_narrow_the_walk_to_the_minutes_asked() -> None:
    state = project()
    for minute in range(10):
        submitted(state, 1 + 100 * minute, [f"m{minute}"] * 100, at=T0 + 60 * minute + 5)
    index = state.tasks.projects[1].index

    assert index.window(T0 + 120, T0 + 185) == (201, 401)
    where = TaskFilter(project=1, submitted_from=T0 + 125, submitted_to=T0 + 244)
    assert every_page(state, where, limit=500)[0] == list(range(201, 401))
    assert every_page(state, TaskFilter(project=1, submitted_to=T0), limit=500)[0] == []


def test_a_clock_stepped_back_files_tasks_under_the_minute_before_the_step() -> None:
    state = project()
    submitted(state, 1, ["a"], at=T0 + 600)
    submitted(state, 2, ["b"], at=T0)  # the clock went back ten minutes
    index = state.tasks.projects[1].index

    assert (index.mark_ids, index.window(T0 - 60, T0 + 60)) == ([1], (0, 1))
    where = TaskFilter(project=1, submitted_from=T0 - 60, submitted_to=T0 + 60)
    assert every_page(state, where)[0] == []  # the documented limit: filed after T0 + 600
    assert every_page(state, TaskFilter(project=1))[0] == [1, 2]


def test_a_task_whose_priority_moved_is_listed_once_at_its_new_priority() -> None:
    state = project()
    submitted(state, 1, ["a", "b", "c"], priority=1)
    task = state.tasks.tasks[2]
    tasks = state.tasks.projects[1]
    projection._dequeue(tasks, task)
    task.priority = 9
    projection._enqueue(tasks, task)
    projection.moved_priority(state.tasks, task)

    assert every_page(state, TaskFilter(project=1), Sort.PRIORITY)[0] == [2, 1, 3]
    assert every_page(state, TaskFilter(project=1, priority_max=1), Sort.PRIORITY)[0] == [1, 3]
    assert every_page(state, TaskFilter(project=1))[0] == [1, 2, 3]


def test_a_hard_reset_empties_the_index_and_the_closed_tasks() -> None:
    state = project()
    submitted(state, 1, ["a", "b"])
    closed(state, [1])
    state.apply(ev.ProjectTasksDeleted(at=T0, actor="manager:1", project_id=1, task_ids=[2]))

    assert every_page(state, TaskFilter(project=1))[0] == []
    assert every_page(state, TaskFilter(project=1, state=TaskState.CLOSED))[0] == []
    assert state.tasks.projects[1].index.ids == []
