#!/usr/bin/env python3
"""What an action on every task matching a filter costs in a project of many queued tasks,
in-process on the read models (no HTTP, no log): resolving the filter to the ids it touches
(the count a confirmation shows, on the read side), the decider (in the writer's turn), and
folding its one event into the read models (live and on replay).

    python scripts/bench_task_actions.py [--tasks 1000000] [--rounds 5]

Figures are CPU seconds, the median of the rounds, each round on a fresh copy of the state.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from tracker.commands.decide import decide
from tracker.commands.task_actions import CancelTasks, ChangePriority
from tracker.events import managers as mev
from tracker.events import projects as pev
from tracker.events import tasks as tev
from tracker.projections.state import State
from tracker.queries.task_actions import targets
from tracker.queries.tasks import TaskFilter, TaskState

UNLIMITED = 1.7976931348623157e308
T0 = 1_700_000_000.0
BULK = 10_000


def project_of(tasks: int) -> State:
    """Project 1 with ``tasks`` queued tasks (recipes ``https://example.com/<n>``, one in a
    hundred also ``...#rare``) and manager 1, its tracker admin."""
    state = State()
    state.apply(mev.ManagerRegistered(at=T0, actor="manager:1", manager_id=1, username="m",
                                      password_hash="x", tracker_admin=True))  # fmt: skip
    state.apply(pev.ProjectCreated(
        at=T0, actor="manager:1", project_id=1, name="p", clone_url="", git_repo="",
        version="", priority=0, motd="", public=False, hidden=False, chain=0,
        assign_rate=UNLIMITED, submit_rate=UNLIMITED, webhook_secret="w"))  # fmt: skip
    for first in range(1, tasks + 1, BULK):
        count = min(BULK, tasks + 1 - first)
        recipes = [f"https://example.com/{n}" + ("#rare" if n % 100 == 0 else "")
                   for n in range(first, first + count)]  # fmt: skip
        state.apply(tev.TasksSubmitted(at=T0, actor="worker:1", project_id=1, first_task_id=first,
                                       tasks=[tev.NewTask(recipe=r) for r in recipes]))  # fmt: skip
    return state


def cpu(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    found = work()
    return time.process_time() - start, found


def measure(tasks: int, kind: type, fields: dict[str, Any], where: TaskFilter) -> dict[str, float]:
    state = project_of(tasks)
    command = kind(manager_id=1, project=1, task_ids=[], **fields)
    resolve, ids = cpu(lambda: targets(state, command, where))
    command = kind(manager_id=1, project=1, task_ids=ids, confirmed=len(ids), **fields)
    decided, events = cpu(lambda: decide(state, command, T0 + 1))
    folded, _ = cpu(lambda: [state.apply(event) for event in events])
    return {"tasks": len(ids), "resolve": resolve, "decide": decided, "fold": folded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cases = [
        ("cancel recipe~#rare", CancelTasks, {}, TaskFilter(project=1, recipe="#rare")),
        ("cancel state=queued", CancelTasks, {}, TaskFilter(project=1,
                                                            state=TaskState.QUEUED)),
        ("priority recipe~#rare", ChangePriority, {"priority": 5},
         TaskFilter(project=1, recipe="#rare")),
    ]  # fmt: skip
    print(f"{args.tasks:,} queued tasks in one project; CPU seconds, median of {args.rounds}")
    for name, kind, fields, where in cases:
        rounds = [measure(args.tasks, kind, fields, where) for _ in range(args.rounds)]
        medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        print(f"{name:24} touches {int(medians['tasks']):>9,}: resolve {medians['resolve']:.3f}"
              f"  decide {medians['decide']:.3f}  fold {medians['fold']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
