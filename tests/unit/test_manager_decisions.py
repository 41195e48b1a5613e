"""Manager decisions as pure functions: given these events, when this command, then these
events (or this refusal). No HTTP, no store, no clock but the ``now`` passed in."""

from __future__ import annotations

import pytest

from tests.unit import given
from tests.unit.given import T0, manager, state_of
from tracker.commands.access import NoAccessRecord, RevokeAccess
from tracker.commands.admin import InvalidRole, SetProjectRole, SetTrackerAdmin, SetWorkerPaused
from tracker.commands.authz import ManagerNotFound, NoSession
from tracker.commands.base import ProjectNotFound
from tracker.commands.decide import decide
from tracker.commands.maintenance import HardReset, ReclaimAssignedTasks, ResetFailedTasks
from tracker.commands.managers import EndExpiredSessions
from tracker.commands.project_admin import (
    InvalidUpdate,
    PublicNotPermitted,
    PushVersion,
    SetWebhookSecret,
    UpdateProject,
    UpdateSettings,
    chain_path,
)
from tracker.errors import TrackerError, Unauthorized
from tracker.events import managers as mev
from tracker.events import projects as pev
from tracker.events import tasks as tev
from tracker.events import workers as wev
from tracker.events.base import SYSTEM, WEBHOOK, Event
from tracker.http.statuses import status_of

NOW = T0 + 100


def chained(project_id: int, chain: int) -> pev.ProjectUpdated:
    return pev.ProjectUpdated(
        at=T0, actor=SYSTEM, project_id=project_id, name=f"p{project_id}", clone_url="",
        git_repo="", version="", priority=0, motd="", public=False, hidden=False, chain=chain,
        paused=False, assign_rate=given.UNLIMITED, submit_rate=given.UNLIMITED,
    )  # fmt: skip


def refusal(state, command) -> TrackerError:  # type: ignore[no-untyped-def]
    with pytest.raises(TrackerError) as caught:
        decide(state, command, NOW)
    return caught.value


# --- promote, demote ---------------------------------------------------------------------------


def test_an_admin_promotes_another_manager_with_itself_as_actor() -> None:
    state = state_of(manager(1, admin=True), manager(2))
    events = decide(state, SetTrackerAdmin(manager_id=1, target=2, tracker_admin=True), NOW)
    assert events == [
        mev.TrackerAdminSet(at=NOW, actor="manager:1", manager_id=2, tracker_admin=True)
    ]


@pytest.mark.parametrize(
    ("promote", "route", "status"),
    [(True, "/manager/promote/{id}", 401), (False, "/manager/demote/{id}", 403)],
)
def test_only_an_admin_promotes_or_demotes_and_never_itself(
    promote: bool, route: str, status: int
) -> None:
    state = state_of(manager(1, admin=True), manager(2), manager(3, admin=True))
    for caller, target in ((2, 3), (1, 1), (3, 3)):
        command = SetTrackerAdmin(manager_id=caller, target=target, tracker_admin=promote)
        error = refusal(state, command)
        assert isinstance(error, Unauthorized) and status_of(error, route) == status
    # no session at all: 401 on both, as the original answered
    error = refusal(state, SetTrackerAdmin(manager_id=0, target=2, tracker_admin=promote))
    assert isinstance(error, NoSession) and status_of(error, route) == 401


def test_promoting_an_unknown_manager_is_refused() -> None:
    state = state_of(manager(1, admin=True))
    command = SetTrackerAdmin(manager_id=1, target=9, tracker_admin=True)
    assert isinstance(refusal(state, command), ManagerNotFound)


def test_a_demoted_admin_can_no_longer_act_as_admin() -> None:
    state = state_of(manager(1, admin=True), manager(2, admin=True), given.worker(1))
    state.apply(decide(state, SetTrackerAdmin(manager_id=1, target=2, tracker_admin=False), NOW)[0])
    assert isinstance(refusal(state, SetWorkerPaused(manager_id=2, worker_id=1, paused=True)),
                      Unauthorized)  # fmt: skip


# --- roles -------------------------------------------------------------------------------------


def test_set_role_needs_manage_access_and_checks_bits_and_the_target() -> None:
    state = state_of(given.project(1), manager(1, p1=4), manager(2, p1=31 - 4), manager(3))
    assert decide(state, SetProjectRole(manager_id=1, project=1, target=3, role=9), NOW) == [
        mev.ProjectRoleSet(at=NOW, actor="manager:1", manager_id=3, project_id=1, role=9)
    ]
    assert isinstance(refusal(state, SetProjectRole(manager_id=2, project=1, target=3, role=1)),
                      Unauthorized)  # fmt: skip
    for role in (-1, 32, 64, 2**31):
        error = refusal(state, SetProjectRole(manager_id=1, project=1, target=3, role=role))
        assert isinstance(error, InvalidRole)
    error = refusal(state, SetProjectRole(manager_id=1, project=1, target=7, role=1))
    assert isinstance(error, ManagerNotFound)
    state = state_of(manager(1, admin=True))
    error = refusal(state, SetProjectRole(manager_id=1, project=5, target=1, role=1))
    assert isinstance(error, ProjectNotFound)


def test_setting_the_role_a_manager_already_has_appends_nothing() -> None:
    state = state_of(given.project(1), manager(1, p1=31), manager(2, p1=3), manager(3))
    assert decide(state, SetProjectRole(manager_id=1, project=1, target=2, role=3), NOW) == []
    assert decide(state, SetProjectRole(manager_id=1, project=1, target=3, role=0), NOW) == []


# --- project update ----------------------------------------------------------------------------


def test_chain_path_finds_loops_of_any_length_through_the_project() -> None:
    state = state_of(
        *(given.project(p) for p in range(1, 6)), chained(2, 3), chained(3, 4), chained(4, 1)
    )
    assert chain_path(state, 1, 2) == [1, 2, 3, 4, 1]
    assert chain_path(state, 5, 2) is None  # 2 → 3 → 4 → 1, no way back to 5
    assert chain_path(state, 1, 5) is None


def test_update_refuses_a_cycle_and_names_it() -> None:
    state = state_of(manager(1, admin=True), given.project(1), given.project(2), chained(2, 1))
    command = UpdateProject(manager_id=1, project=1, settings=UpdateSettings(name="p1", chain=2))
    error = refusal(state, command)
    assert isinstance(error, InvalidUpdate)
    assert error.message == "Invalid request: chaining would make a cycle (1 → 2 → 1)"


def test_update_of_an_unknown_project_is_refused_even_for_an_admin() -> None:
    state = state_of(manager(1, admin=True))
    command = UpdateProject(manager_id=1, project=3, settings=UpdateSettings(name="x"))
    assert isinstance(refusal(state, command), ProjectNotFound)


def test_only_an_admin_turns_a_project_public() -> None:
    state = state_of(manager(1, p1=31), manager(2, admin=True), given.project(1))
    settings = UpdateSettings(name="p1", public=True)
    error = refusal(state, UpdateProject(manager_id=1, project=1, settings=settings))
    assert isinstance(error, PublicNotPermitted)
    [event] = decide(state, UpdateProject(manager_id=2, project=1, settings=settings), NOW)
    assert isinstance(event, pev.ProjectUpdated) and event.public and event.actor == "manager:2"


def test_update_turns_zero_rates_into_unlimited_and_carries_paused() -> None:
    state = state_of(manager(1, p1=2), given.project(1))
    settings = UpdateSettings(name="p1", paused=True, assign_rate=0, submit_rate=2.5)
    [event] = decide(state, UpdateProject(manager_id=1, project=1, settings=settings), NOW)
    assert (event.paused, event.assign_rate, event.submit_rate) == (True, given.UNLIMITED, 2.5)


def test_an_empty_webhook_secret_is_refused() -> None:
    state = state_of(manager(1, admin=True), given.project(1))
    error = refusal(state, SetWebhookSecret(manager_id=1, project=1, webhook_secret=""))
    assert status_of(error) == 400


def test_a_push_records_the_version_as_the_webhook_for_each_project_that_changes() -> None:
    state = state_of(given.project(1), given.project(2))
    events = decide(state, PushVersion(projects=[1, 2], version=""), NOW)
    assert events == []  # both already at ""
    events = decide(state, PushVersion(projects=[1, 2], version="abc"), NOW)
    assert events == [
        pev.ProjectVersionPushed(at=NOW, actor=WEBHOOK, project_id=1, version="abc"),
        pev.ProjectVersionPushed(at=NOW, actor=WEBHOOK, project_id=2, version="abc"),
    ]


# --- access, workers ---------------------------------------------------------------------------


def test_revoking_needs_manage_access_and_an_existing_record() -> None:
    state = state_of(given.project(1), given.worker(1), given.access(1, 1, pending=True),
                     manager(1, p1=4), manager(2, p1=27))  # fmt: skip
    assert decide(state, RevokeAccess(manager_id=1, worker_id=1, project=1), NOW) == [
        pev.AccessRevoked(at=NOW, actor="manager:1", worker_id=1, project_id=1)
    ]
    assert isinstance(refusal(state, RevokeAccess(manager_id=2, worker_id=1, project=1)),
                      Unauthorized)  # fmt: skip
    assert isinstance(refusal(state, RevokeAccess(manager_id=0, worker_id=1, project=1)),
                      Unauthorized)  # fmt: skip
    assert isinstance(refusal(state, RevokeAccess(manager_id=1, worker_id=2, project=1)),
                      NoAccessRecord)  # fmt: skip


def test_pausing_is_for_admins_and_pausing_a_paused_worker_appends_nothing() -> None:
    state = state_of(manager(1, admin=True), given.worker(1, paused=True), given.worker(2))
    assert decide(state, SetWorkerPaused(manager_id=1, worker_id=1, paused=True), NOW) == []
    assert decide(state, SetWorkerPaused(manager_id=1, worker_id=2, paused=True), NOW) == [
        wev.WorkerPauseSet(at=NOW, actor="manager:1", worker_id=2, paused=True)
    ]
    error = refusal(state, SetWorkerPaused(manager_id=1, worker_id=3, paused=True))
    assert (status_of(error), error.message) == (400, "Invalid worker")


# --- maintenance -------------------------------------------------------------------------------


def _workshop() -> list[Event]:
    """Project 1: task 1 waiting, task 2 assigned to worker 1, task 3 FAILED."""
    return [
        *given.workshop(workers=1), *manager(1, p1=16), *manager(2, p1=15),
        given.submitted(1), given.submitted(2), given.submitted(3),
        given.assigned(2, 1), given.assigned(3, 1),
        given.released(3, 1, tev.Outcome.FAILED, result=1),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "event"),
    [
        (ResetFailedTasks, tev.FailedTasksReset(at=NOW, actor="manager:1", project_id=1,
                                                task_ids=[3])),
        (ReclaimAssignedTasks, tev.AssignedTasksReclaimed(at=NOW, actor="manager:1",
                                                          project_id=1, task_ids=[2])),
        (HardReset, tev.ProjectTasksDeleted(at=NOW, actor="manager:1", project_id=1,
                                            task_ids=[1, 2, 3])),
    ],
)  # fmt: skip
def test_maintenance_events_name_the_tasks_they_touch(command, event) -> None:  # type: ignore[no-untyped-def]
    state = state_of(_workshop())
    assert decide(state, command(manager_id=1, project=1), NOW) == [event]
    assert isinstance(refusal(state, command(manager_id=2, project=1)), Unauthorized)
    assert isinstance(refusal(state, command(manager_id=1, project=9)), ProjectNotFound)


def test_maintenance_with_nothing_to_touch_appends_nothing_and_creates_no_entry() -> None:
    state = state_of(given.project(1), manager(1, p1=16))
    for command in (ResetFailedTasks, ReclaimAssignedTasks, HardReset):
        assert decide(state, command(manager_id=1, project=1), NOW) == []
    assert 1 not in state.tasks.projects


# --- sessions ----------------------------------------------------------------------------------


def test_expired_sessions_are_ended_by_the_system() -> None:
    state = state_of(manager(1))
    for key, expires in (("a", NOW - 1), ("b", NOW), ("c", NOW + 1)):
        state.apply(mev.SessionStarted(at=T0, actor="manager:1", session_hash=key, manager_id=1,
                                       expires=expires))  # fmt: skip
    assert decide(state, EndExpiredSessions(), NOW) == [
        mev.SessionEnded(at=NOW, actor=SYSTEM, session_hash="a"),
        mev.SessionEnded(at=NOW, actor=SYSTEM, session_hash="b"),
    ]
