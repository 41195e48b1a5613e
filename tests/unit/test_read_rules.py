"""Who may read what, as pure functions of the read models and the caller: given these events
and this caller, then this answer (or this refusal). No HTTP: the same rules the routes, the
UI, ``/metrics`` and the change feed ask."""

from __future__ import annotations

import hashlib

import pytest

from tests.unit import given
from tests.unit.given import T0, manager, state_of
from tracker import config
from tracker.commands.authz import ROLE_ALL, ROLE_MANAGE_ACCESS, ROLE_READ, ROLE_SECRET, NoSession
from tracker.commands.base import ProjectNotFound
from tracker.errors import Unauthenticated, Unauthorized
from tracker.events import tasks as tev
from tracker.http.auth import Credentials, resolve
from tracker.projections.state import State
from tracker.queries import auditing, projects, roles
from tracker.queries.caller import NO_WORKER, NOBODY, Caller, Token

# projects: 1 public, 2 private (neither public nor hidden), 3 hidden
# managers: 1 tracker admin; 2 READ on 3; 3 no role; 4 SECRET and MANAGE_ACCESS on 2
# workers: 1 granted on 2; 2 pending on 2


def world() -> State:
    return state_of(
        given.project(1, public=True), given.project(2), given.project(3, hidden=True),
        manager(1, admin=True), manager(2, p3=ROLE_READ), manager(3),
        manager(4, p2=ROLE_SECRET | ROLE_MANAGE_ACCESS),
        given.worker(1), given.worker(2), given.access(1, 2), given.access(2, 2, pending=True),
    )  # fmt: skip


def as_manager(state: State, manager_id: int, **tokens: Token) -> Caller:
    return Caller(manager=state.managers.by_id[manager_id], **tokens)  # type: ignore[arg-type]


def as_worker(state: State, worker_id: int) -> Caller:
    return Caller(worker=state.workers.by_id[worker_id], worker_refusal="")


# --- projects ----------------------------------------------------------------------------------


def test_a_hidden_project_is_read_by_admins_and_read_role_holders_only() -> None:
    state = world()
    readers = {
        "nobody": NOBODY, "worker": as_worker(state, 1), "admin": as_manager(state, 1),
        "reader": as_manager(state, 2), "no role": as_manager(state, 3),
    }  # fmt: skip
    seen = {
        name: projects.sees(state, who, state.projects.by_id[3]) for name, who in readers.items()
    }
    assert seen == {"nobody": False, "worker": False, "admin": True, "reader": True,
                    "no role": False}  # fmt: skip
    for project_id in (1, 2):  # public and private projects: anyone
        assert all(projects.sees(state, who, state.projects.by_id[project_id])
                   for who in readers.values())  # fmt: skip


def test_readable_refuses_unknown_projects_first_then_the_caller() -> None:
    state = world()
    with pytest.raises(ProjectNotFound):
        projects.readable(state, as_manager(state, 1), 9)
    with pytest.raises(Unauthorized) as refused:
        projects.readable(state, as_manager(state, 3), 3, "You may not read this project")
    assert refused.value.message == "You may not read this project"
    assert projects.readable(state, as_manager(state, 2), 3).id == 3


def test_visible_lists_what_the_caller_may_read_by_name() -> None:
    state = world()
    assert [view.name for view in projects.visible(state, NOBODY)] == ["p1", "p2"]
    assert [view.name for view in projects.visible(state, as_manager(state, 2))] == [
        "p1", "p2", "p3"]  # fmt: skip


def test_statistics_of_a_hidden_project_are_refused_and_of_an_unknown_one_empty() -> None:
    state = world()
    projects.check_statistics(state, NOBODY, 9)  # unknown: not refused, as the original
    projects.check_statistics(state, NOBODY, 1)
    with pytest.raises(Unauthorized):
        projects.check_statistics(state, as_manager(state, 3), 3)
    projects.check_statistics(state, as_manager(state, 2), 3)


# --- roles -------------------------------------------------------------------------------------


def test_roles_are_read_from_the_read_models_and_admins_hold_every_bit() -> None:
    state = world()
    assert roles.roles_on(state, NOBODY, 2) == 0
    assert roles.roles_on(state, as_manager(state, 1), 2) == ROLE_ALL
    assert roles.roles_on(state, as_manager(state, 4), 2) == ROLE_SECRET | ROLE_MANAGE_ACCESS
    assert roles.may(state, as_manager(state, 4), 2, ROLE_SECRET)
    assert not roles.may(state, as_manager(state, 4), 2, ROLE_SECRET | ROLE_READ)
    assert not roles.may(state, as_manager(state, 4), 3, ROLE_SECRET)


def test_require_role_refuses_in_the_deciders_order() -> None:
    state = world()
    with pytest.raises(NoSession):  # no session first, even for an unknown project
        roles.require_role(state, NOBODY, 9, ROLE_READ)
    with pytest.raises(ProjectNotFound):
        roles.require_role(state, as_manager(state, 3), 9, ROLE_READ)
    with pytest.raises(Unauthorized):
        roles.require_role(state, as_manager(state, 3), 2, ROLE_READ)
    assert roles.require_role(state, as_manager(state, 4), 2, ROLE_MANAGE_ACCESS).id == 2


def test_managers_and_admins_are_required_with_their_statuses() -> None:
    state = world()
    with pytest.raises(Unauthenticated):
        roles.require_manager(as_worker(state, 1))
    assert roles.require_manager(as_manager(state, 3)).id == 3
    with pytest.raises(Unauthorized):
        roles.require_admin(as_manager(state, 3))
    assert roles.require_admin(as_manager(state, 1)).id == 1


def test_a_project_secret_is_read_by_granted_workers_and_secret_managers() -> None:
    state = world()
    assert roles.secret_reader(state, as_worker(state, 1), 2).id == 2
    for refused in (as_worker(state, 2), as_manager(state, 3)):
        with pytest.raises(Unauthorized):
            roles.secret_reader(state, refused, 2)
    assert roles.secret_reader(state, as_manager(state, 4), 2).id == 2
    with pytest.raises(ProjectNotFound):
        roles.secret_reader(state, as_worker(state, 1), 9)


# --- the log and the metrics -------------------------------------------------------------------


def test_the_log_is_read_by_the_audit_token_and_managers_and_a_wrong_token_is_refused() -> None:
    state = world()
    with pytest.raises(Unauthenticated):
        auditing.require_reader(NOBODY)
    with pytest.raises(Unauthenticated):
        auditing.require_reader(as_worker(state, 1))
    with pytest.raises(Unauthenticated) as wrong:  # even beside a valid admin session
        auditing.require_reader(as_manager(state, 1, audit=Token.WRONG))
    assert wrong.value.message == "Invalid audit token"
    auditing.require_reader(Caller(audit=Token.MATCHED))
    auditing.require_reader(as_manager(state, 3, audit=Token.ABSENT))


def test_history_needs_read_on_the_project_even_a_public_one() -> None:
    state = world()
    assert auditing.may_read_history(state, Caller(audit=Token.MATCHED), 3)
    assert auditing.may_read_history(state, as_manager(state, 1), 1)
    assert auditing.may_read_history(state, as_manager(state, 2), 3)
    assert not auditing.may_read_history(state, as_manager(state, 3), 1)  # public, no role
    assert not auditing.may_read_history(state, as_manager(state, 4), 2)  # roles, not READ


def test_the_feed_shows_everything_to_the_token_and_admins_else_read_projects() -> None:
    state = world()
    assert auditing.feed_projects(state, Caller(audit=Token.MATCHED)) is None
    assert auditing.feed_projects(state, as_manager(state, 1)) is None
    assert auditing.feed_projects(state, as_manager(state, 2)) == {3}
    assert auditing.feed_projects(state, as_manager(state, 3)) == set()
    with pytest.raises(Unauthorized):
        auditing.require_everything(as_manager(state, 2))
    auditing.require_everything(as_manager(state, 1))


def test_metrics_show_hidden_projects_to_admins_and_the_token_only() -> None:
    state = world()

    def shown(caller: Caller) -> list[int]:
        return [project.id for project in auditing.metrics_projects(state, caller)]

    assert shown(NOBODY) == [1, 2]  # no metrics token: open, without hidden projects
    assert shown(as_manager(state, 2)) == [1, 2]  # a READ role does not open the metrics
    assert shown(as_manager(state, 1)) == [1, 2, 3]
    assert shown(Caller(metrics=Token.MATCHED)) == [1, 2, 3]
    for refused in (Token.ABSENT, Token.WRONG):
        with pytest.raises(Unauthenticated):
            auditing.metrics_projects(state, Caller(metrics=refused))
    assert shown(as_manager(state, 1, metrics=Token.WRONG)) == [1, 2, 3]


# --- lists -------------------------------------------------------------------------------------


def test_assignee_groups_put_the_largest_first_with_the_unassigned_group() -> None:
    state = world()
    for task_id in range(1, 6):
        state.apply(given.submitted(task_id, 2))
    for task_id, worker_id in ((1, 1), (2, 1), (3, 2)):
        state.apply(given.assigned(task_id, worker_id, 2))
    groups = projects.assignee_groups(state, 2)
    assert [(g.assignee, g.task_count) for g in groups] == [
        ("unassigned", 2), ("w1", 2), ("w2", 1)]  # fmt: skip
    assert projects.assignee_groups(state, 9) == []


def test_accesses_list_granted_workers_before_pending_ones() -> None:
    state = world()
    listed = [(a.worker.id, a.request) for a in projects.accesses(state, 2)]
    assert listed == [(1, False), (2, True)]
    assert all(a.worker.secret is None for a in projects.accesses(state, 2))


def test_latest_tasks_show_the_next_queued_and_the_newest_assigned_and_failed() -> None:
    state = world()
    for task_id in range(1, 7):
        state.apply(given.submitted(task_id, 2))
    for task_id in (1, 2, 3):
        state.apply(given.assigned(task_id, 1, 2))
    state.apply(given.released(3, 1, tev.Outcome.FAILED, 2, result=1))
    assert projects.latest_tasks(state, 2, 2) == {
        "queued": [4, 5], "assigned": [2, 1], "failed": [3]}  # fmt: skip
    assert projects.latest_tasks(state, 9, 2) == {"queued": [], "assigned": [], "failed": []}


# --- resolving a request's caller --------------------------------------------------------------

SECRET = "A" * 43 + "="  # base64 of the 32 zero bytes given.worker uses


def test_a_request_s_credentials_are_resolved_to_the_caller_they_prove() -> None:
    state = world()
    state.apply(given.session(3, hashlib.sha256(b"live").hexdigest()))
    state.apply(given.session(2, hashlib.sha256(b"old").hexdigest(), expires=T0 + 10))
    settings = config.build({"audit": {"token": "a" * 16}})
    credentials = Credentials(settings)

    def caller(headers: dict[str, str], cookies: dict[str, str] | None = None) -> Caller:
        return resolve(headers, cookies or {}, state, credentials, lambda: T0 + 100)

    assert caller({}) == Caller(audit=Token.ABSENT)
    found = caller({"X-Worker-Id": "1", "X-Secret": SECRET}, {"tt": "live"})
    assert found.worker is not None and found.worker.id == 1 and found.manager_id == 3
    assert caller({}, {"tt": "old"}).manager is None  # expired
    assert caller({}, {"tt": "é"}).manager is None  # cannot be one of ours
    refusals = {  # the original's messages, in its order of checks
        "": NO_WORKER,
        "1": "secret is not specified",
        f"1:{'A' * 300}": "invalid secret",
        "1:AAAA": "invalid secret",
        "abc:" + SECRET: 'strconv.ParseInt: parsing "abc": invalid syntax',
        "7:" + SECRET: "worker id does not match any valid worker",
    }
    for sent, refusal in refusals.items():
        worker_id, _, secret = sent.partition(":")
        headers = {"X-Worker-Id": worker_id, **({"X-Secret": secret} if secret else {})}
        assert (caller(headers).worker, caller(headers).worker_refusal) == (None, refusal), sent
    assert caller({"Authorization": "Bearer " + "a" * 16}).audit is Token.MATCHED
    assert caller({"Authorization": "Bearer nope"}).audit is Token.WRONG
    assert caller({"Authorization": "Bearer " + "a" * 16}).metrics is Token.UNSET
