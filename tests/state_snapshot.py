"""A plain-data picture of the read models, to compare states (before/after a restart, a decide).

Queues are listed in assignment order (priority lanes best first, FIFO inside a lane), so two
equal snapshots hand out tasks in the same order.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tracker.projections.state import State


def snapshot(state: State) -> dict[str, Any]:
    board = state.tasks
    return {
        "position": state.position,
        # every field, defaults included (Task omits them when encoded)
        "tasks": {task_id: msgspec.structs.asdict(task) for task_id, task in board.tasks.items()},
        "queues": {
            project_id: {
                "queue": list(tasks.queue),
                "assigned": sorted(tasks.assigned),
                "failed": sorted(tasks.failed),
                "hashes": dict(tasks.hashes),
                "votes": tasks.votes,
                "voted_tasks": tasks.voted_tasks,
                "voted_queued": dict(sorted(tasks.voted_queued.items())),
            }
            for project_id, tasks in board.projects.items()
            if tasks.live or tasks.hashes
        },
        "live_deadlines": sorted(
            (task.deadline, task.id) for task in board.tasks.values() if task.assignee
        ),
        "next_task_id": board.next_id,
        "workers": {wid: msgspec.to_builtins(w) for wid, w in state.workers.by_id.items()},
        "projects": {pid: msgspec.to_builtins(p) for pid, p in state.projects.by_id.items()},
        "project_names": dict(state.projects.by_name),
        "access": {key: msgspec.to_builtins(a) for key, a in state.access.records.items()},
        "managers": {mid: msgspec.to_builtins(m) for mid, m in state.managers.by_id.items()},
        "roles": dict(state.managers.roles),
    }
