"""Builders for "given these events": the facts a unit test starts from.

Each builder returns the event the tracker itself would have recorded, so a test reads as
"given a project, a worker with access and a submitted task, when ..., then ...".
"""

from __future__ import annotations

from tracker.events import managers as mev
from tracker.events import projects as pev
from tracker.events import tasks as tev
from tracker.events import workers as wev
from tracker.events.base import SYSTEM, Event, manager_actor, worker_actor
from tracker.projections.state import State

T0 = 1_700_000_000.0
UNLIMITED = 1.7976931348623157e308


def state_of(*events: Event | list[Event]) -> State:
    """The state after applying ``events`` (lists are flattened) in order."""
    state = State()
    for item in events:
        for event in item if isinstance(item, list) else [item]:
            state.apply(event)
    return state


def worker(worker_id: int, alias: str = "", paused: bool = False) -> list[Event]:
    events: list[Event] = [
        wev.WorkerCreated(
            at=T0, actor=worker_actor(worker_id), worker_id=worker_id,
            alias=alias or f"w{worker_id}", secret=bytes(32),
        )
    ]  # fmt: skip
    if paused:
        events.append(wev.WorkerPauseSet(at=T0, actor=SYSTEM, worker_id=worker_id, paused=True))
    return events


def manager(manager_id: int, admin: bool = False, **roles: int) -> list[Event]:
    """A registered manager; ``roles`` maps ``p<id>`` to role bits on that project."""
    events: list[Event] = [
        mev.ManagerRegistered(
            at=T0, actor=manager_actor(manager_id), manager_id=manager_id,
            username=f"m{manager_id}", password_hash="$argon2id$...", tracker_admin=admin,
        )
    ]  # fmt: skip
    for project, role in roles.items():
        events.append(
            mev.ProjectRoleSet(
                at=T0, actor=SYSTEM, manager_id=manager_id, project_id=int(project[1:]), role=role
            )  # fmt: skip
        )
    return events


def session(manager_id: int, session_hash: str, expires: float = T0 + 3600) -> Event:
    return mev.SessionStarted(at=T0, actor=manager_actor(manager_id), session_hash=session_hash,
                              manager_id=manager_id, expires=expires)  # fmt: skip


def project(project_id: int, *, public: bool = False, hidden: bool = False, chain: int = 0,
            paused: bool = False) -> list[Event]:  # fmt: skip
    fields = dict(
        project_id=project_id, name=f"p{project_id}", clone_url="", git_repo="", version="",
        priority=0, motd="", public=public, hidden=hidden, chain=chain,
        assign_rate=UNLIMITED, submit_rate=UNLIMITED,
    )  # fmt: skip
    events: list[Event] = [pev.ProjectCreated(at=T0, actor=SYSTEM, webhook_secret="w", **fields)]
    if paused:
        events.append(pev.ProjectUpdated(at=T0, actor=SYSTEM, paused=True, **fields))
    return events


def access(worker_id: int, project_id: int, *, assign: bool = True, submit: bool = True,
           pending: bool = False) -> list[Event]:  # fmt: skip
    events: list[Event] = [
        pev.AccessRequested(at=T0, actor=worker_actor(worker_id), worker_id=worker_id,
                            project_id=project_id, assign=assign, submit=submit)
    ]  # fmt: skip
    if not pending:
        events.append(
            pev.AccessGranted(at=T0, actor=SYSTEM, worker_id=worker_id, project_id=project_id)
        )
    return events


def submitted(task_id: int, project_id: int = 1, *, priority: int = 0, max_retries: int = 0,
              max_assign_time: int = 0, verification_count: int = 1, hash: int = 0,
              recipe: str = "", worker_id: int = 1) -> tev.TaskSubmitted:  # fmt: skip
    return tev.TaskSubmitted(
        at=T0, actor=worker_actor(worker_id), task_id=task_id, project_id=project_id,
        recipe=recipe or f"recipe {task_id}", priority=priority, max_retries=max_retries,
        max_assign_time=max_assign_time, verification_count=verification_count, hash=hash,
    )  # fmt: skip


def assigned(task_id: int, worker_id: int, project_id: int = 1, *, at: float = T0,
             deadline: float = T0 + 300) -> tev.TaskAssigned:  # fmt: skip
    return tev.TaskAssigned(
        at=at, actor=worker_actor(worker_id), task_id=task_id, project_id=project_id,
        worker_id=worker_id, deadline=deadline,
    )  # fmt: skip


def released(task_id: int, worker_id: int, outcome: tev.Outcome, project_id: int = 1, *,
             result: int = 0, verification: int = 0) -> tev.TaskReleased:  # fmt: skip
    return tev.TaskReleased(
        at=T0, actor=worker_actor(worker_id), task_id=task_id, project_id=project_id,
        worker_id=worker_id, result=result, outcome=outcome, verification=verification,
    )  # fmt: skip


def expired(task_id: int, worker_id: int, project_id: int = 1) -> tev.AssignmentExpired:
    return tev.AssignmentExpired(
        at=T0, actor=SYSTEM, task_id=task_id, project_id=project_id, worker_id=worker_id
    )


def workshop(*, public: bool = False, workers: int = 3) -> list[Event]:
    """Project 1 and workers 1..n, each with granted assign and submit access."""
    events = project(1, public=public)
    for worker_id in range(1, workers + 1):
        events += worker(worker_id) + access(worker_id, 1)
    return events
