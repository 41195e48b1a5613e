"""Manager accounts and administration over HTTP: register, login, sessions, the manager
lists, promote and demote, roles on projects, pausing workers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import (
    ANONYMOUS,
    Caller,
    call,
    create_project,
    grant,
    login,
    new_worker,
    register,
    set_role,
    start,
)
from tests.world import tracker_of
from tracker import config, sessions
from tracker.events.store import read_events


@pytest.fixture
async def client(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> TestClient:
    return await start(aiohttp_client, settings, clock)


def head(client: TestClient) -> int:
    return tracker_of(client).state.position


# --- register, login, logout, account ----------------------------------------------------------


async def test_the_first_manager_is_tracker_admin_and_the_next_ones_are_not(client) -> None:
    admin = await register(client, "admin")
    other = await register(client, "other")
    managers = (await call(client, "GET", "/manager/list", other)).content["managers"]
    assert [(m["id"], m["username"], m["tracker_admin"]) for m in managers] == [
        (admin.id, "admin", True),
        (other.id, "other", False),
    ]
    assert all(m["register_time"] == 1_700_000_000 for m in managers)
    assert all(set(m) == {"id", "username", "tracker_admin", "register_time"} for m in managers)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("ab", "password1"),  # 2 bytes
        ("a" * 17, "password1"),  # 17 bytes
        ("ééééééééé", "password1"),  # 9 characters, 18 bytes: counted in bytes
        ("alice", "1234567"),  # 7 bytes
        ("alice", "é" * 3),  # 6 bytes
        ("", ""),
    ],
)
async def test_register_refuses_usernames_and_passwords_outside_the_length_rules(
    client, username: str, password: str
) -> None:
    before = head(client)
    answer = await call(
        client, "POST", "/register", json={"username": username, "password": password}
    )
    assert (answer.status, answer.body) == (
        400,
        {"ok": False, "message": "Invalid register request"},
    )
    assert head(client) == before


async def test_register_accepts_the_length_limits_themselves(client) -> None:
    await register(client, "abc", "12345678")
    await register(client, "éééééééé", "pass word")  # 16 bytes
    await login(client, "abc", "12345678")


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b'{"username": 1, "password": "password1"}', b"null"]
)
async def test_register_and_login_refuse_malformed_bodies(client, body: bytes) -> None:
    for path in ("/register", "/login"):
        answer = await call(client, "POST", path, data=body)
        assert answer.status in (400, 403), answer
        assert answer.ok is False and answer.message
    assert head(client) == 0


async def test_a_username_can_be_registered_once(client) -> None:
    await register(client, "alice")
    answer = await call(
        client, "POST", "/register", json={"username": "alice", "password": "password2"}
    )
    assert (answer.status, answer.ok) == (400, False)
    assert "already taken" in answer.message


async def test_login_refuses_a_wrong_password_and_an_unknown_user_alike(client) -> None:
    await register(client, "alice")
    for username, password in (("alice", "wrong-password"), ("bob", "password1")):
        answer = await call(
            client, "POST", "/login", json={"username": username, "password": password}
        )
        assert (answer.status, answer.body) == (
            403,
            {"ok": False, "message": "Invalid username/password"},
        )


async def test_each_login_gets_a_new_session_id_and_both_sessions_work(client) -> None:
    first = await register(client, "alice")
    second = await login(client, "alice")
    assert first.cookie != second.cookie and len(second.cookie) >= 32
    for session in (first, second):
        account = await call(client, "GET", "/account", session)
        assert account.content == {
            "logged_in": True,
            "manager": {"id": 1, "username": "alice", "tracker_admin": True,
                        "register_time": 1_700_000_000},
        }  # fmt: skip


async def test_logout_ends_the_session_on_the_server(client) -> None:
    alice = await register(client, "alice")
    answer = await call(client, "GET", "/logout", alice)
    assert (answer.status, answer.body) == (204, None)
    account = await call(client, "GET", "/account", alice)
    assert (account.status, account.body) == (200, {"ok": False, "content": {"logged_in": False}})
    assert (await call(client, "GET", "/manager/list", alice)).status == 401


async def test_logout_without_a_session_is_harmless(client) -> None:
    assert (await call(client, "GET", "/logout")).status == 204
    assert (await call(client, "GET", "/logout", Caller(cookie="x" * 500))).status == 204
    assert head(client) == 0


async def test_a_session_expires_on_the_server_after_session_expiration(client, clock) -> None:
    alice = await register(client, "alice")
    clock.advance(8 * 3600 - 1)
    assert (await call(client, "GET", "/manager/list", alice)).status == 200
    clock.advance(1)
    assert (await call(client, "GET", "/manager/list", alice)).status == 401
    assert (await call(client, "GET", "/account", alice)).content == {"logged_in": False}


async def test_the_clean_up_job_ends_expired_sessions_in_the_log_as_the_system(
    client, clock
) -> None:
    alice = await register(client, "alice")
    clock.advance(3600)
    bob = await register(client, "bob")
    tracker = tracker_of(client)
    assert await sessions.end_expired(tracker) == 0
    clock.advance(7 * 3600)  # alice's session (8 h) has expired, bob's has not
    assert await sessions.end_expired(tracker) == 1
    assert await sessions.end_expired(tracker) == 0  # running twice is harmless
    assert len(tracker.state.managers.sessions) == 1
    assert (await call(client, "GET", "/manager/list", bob)).status == 200
    assert (await call(client, "GET", "/manager/list", alice)).status == 401
    last = [r async for r in read_events(tracker.store)][-1].event
    assert (type(last).__name__, last.actor, last.at) == ("SessionEnded", "system", clock.now)


async def test_sessions_survive_a_restart(aiohttp_client, settings, clock, client) -> None:
    alice = await register(client, "alice")
    await client.close()
    restarted = await start(aiohttp_client, settings, clock)
    account = await call(restarted, "GET", "/account", alice)
    assert account.content["logged_in"] is True
    assert account.content["manager"]["username"] == "alice"
    clock.advance(8 * 3600)
    assert (await call(restarted, "GET", "/account", alice)).content == {"logged_in": False}


async def test_a_forged_or_oversized_cookie_is_no_session(client) -> None:
    await register(client, "alice")
    for cookie in ("not-a-session", "x" * 4000):
        answer = await call(client, "GET", "/manager/list", Caller(cookie=cookie))
        assert answer.status == 401


# --- manager lists -----------------------------------------------------------------------------


async def test_manager_list_needs_a_session(client) -> None:
    answer = await call(client, "GET", "/manager/list")
    assert (answer.status, answer.body) == (401, {"ok": False, "message": "Unauthorized"})


async def test_list_for_project_shows_managers_with_a_role_in_id_order(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    project = await create_project(client, bob, "p")
    await set_role(client, bob, project, alice, 5)
    answer = await call(client, "GET", f"/manager/list_for_project/{project}", admin)
    listed = [(item["manager"]["username"], item["role"]) for item in answer.content["managers"]]
    assert listed == [("alice", 5), ("bob", 31)]
    assert answer.content["managers"][0]["manager"] == {
        "id": alice.id, "username": "alice", "tracker_admin": False,
        "register_time": 1_700_000_000,
    }  # fmt: skip


async def test_list_for_project_refuses_bad_ids_anonymous_callers_and_unknown_projects(
    client,
) -> None:
    admin = await register(client, "admin")
    for bad in ("0", "-1", "x", "99999999999999999999"):
        answer = await call(client, "GET", f"/manager/list_for_project/{bad}", admin)
        assert (answer.status, answer.message) == (400, "Invalid project id")
    assert (await call(client, "GET", "/manager/list_for_project/1")).status == 401
    answer = await call(client, "GET", "/manager/list_for_project/7", admin)
    assert (answer.status, answer.message) == (404, "Project not found")


# --- promote and demote ------------------------------------------------------------------------


async def test_promote_takes_effect_at_once_in_the_promoted_managers_session(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    worker = await new_worker(client, "w")
    pause = {"worker": worker.id, "paused": True}
    assert (await call(client, "POST", "/worker/set_paused", alice, json=pause)).status == 403
    answer = await call(client, "GET", f"/manager/promote/{alice.id}", admin)
    assert (answer.status, answer.body) == (204, None)
    assert (await call(client, "POST", "/worker/set_paused", alice, json=pause)).status == 200
    account = await call(client, "GET", "/account", alice)
    assert account.content["manager"]["tracker_admin"] is True


async def test_demote_takes_effect_at_once_in_the_demoted_managers_session(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    await call(client, "GET", f"/manager/promote/{alice.id}", admin)
    hidden = await create_project(client, admin, "hidden", hidden=True)
    assert (await call(client, "GET", f"/project/get/{hidden}", alice)).status == 200
    answer = await call(client, "GET", f"/manager/demote/{alice.id}", admin)
    assert (answer.status, answer.body) == (204, None)
    assert (await call(client, "GET", f"/project/get/{hidden}", alice)).status == 403
    assert (await call(client, "GET", f"/manager/demote/{admin.id}", alice)).status == 403


async def test_promote_and_demote_refuse_as_the_original_did_without_crashing(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    before = head(client)
    cases = [
        ("promote", "x", admin, 400, "Invalid manager id"),
        ("demote", "0", admin, 400, "Invalid manager id"),
        ("promote", str(alice.id), ANONYMOUS, 401, "Unauthorized"),  # the original crashed here
        ("demote", str(alice.id), ANONYMOUS, 401, "Unauthorized"),
        ("promote", str(admin.id), alice, 401, "Unauthorized"),  # not admin: 401 from promote
        ("demote", str(admin.id), alice, 403, "Unauthorized"),  # ... and 403 from demote
        ("promote", "42", admin, 404, "Manager not found"),
        ("demote", "42", admin, 404, "Manager not found"),
    ]
    for verb, target, caller, status, message in cases:
        answer = await call(client, "GET", f"/manager/{verb}/{target}", caller)
        assert (answer.status, answer.message) == (status, message), (verb, target, caller.name)
    for verb, status in (("promote", 401), ("demote", 403)):
        answer = await call(client, "GET", f"/manager/{verb}/{admin.id}", admin)
        assert answer.status == status and "itself" in answer.message
    assert head(client) == before


async def test_promoting_an_admin_or_demoting_a_manager_changes_nothing(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    before = head(client)
    assert (await call(client, "GET", f"/manager/demote/{alice.id}", admin)).status == 204
    await call(client, "GET", f"/manager/promote/{alice.id}", admin)
    assert (await call(client, "GET", f"/manager/promote/{alice.id}", admin)).status == 204
    assert head(client) == before + 1


# --- roles on projects -------------------------------------------------------------------------


async def test_set_role_creates_overwrites_and_removes_a_role(client) -> None:
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    project = await create_project(client, alice, "p", hidden=True)
    assert (await call(client, "GET", f"/project/get/{project}", bob)).status == 403
    answer = await set_role(client, alice, project, bob, 1)
    assert (answer.status, answer.body) == (200, {"ok": True})
    assert (await call(client, "GET", f"/project/get/{project}", bob)).status == 200
    await set_role(client, alice, project, bob, 2)
    assert (await call(client, "GET", f"/project/get/{project}", bob)).status == 403
    await set_role(client, alice, project, bob, 0)
    listed = await call(client, "GET", f"/manager/list_for_project/{project}", bob)
    assert [item["manager"]["username"] for item in listed.content["managers"]] == ["alice"]


async def test_set_role_refuses_bad_input_and_unknown_ids(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    project = await create_project(client, admin, "p")
    before = head(client)
    path = f"/manager/set_role_for_project/{project}"
    cases: list[tuple[str, Any, int, str]] = [
        ("/manager/set_role_for_project/x", {"manager": alice.id, "role": 1}, 400,
         "Invalid project id"),
        (path, b"{", 400, "Could not parse request"),
        (path, {"manager": alice.id, "role": "1"}, 400, "Could not parse request"),
        (path, {"manager": alice.id, "role": 1.5}, 400, "Could not parse request"),
        (path, {"manager": alice.id, "role": 32}, 400, "Invalid role"),
        (path, {"manager": alice.id, "role": -1}, 400, "Invalid role"),
        (path, {"manager": alice.id, "role": 2**40}, 400, "Invalid role"),
        (path, {"manager": 99, "role": 1}, 404, "Manager not found"),
        ("/manager/set_role_for_project/99", {"manager": alice.id, "role": 1}, 404,
         "Project not found"),
    ]  # fmt: skip
    for route, body, status, message in cases:
        if isinstance(body, bytes):
            answer = await call(client, "POST", route, admin, data=body)
        else:
            answer = await call(client, "POST", route, admin, json=body)
        assert answer.status == status and answer.message.startswith(message), (body, answer)
    assert head(client) == before


async def test_set_role_needs_manage_access_on_the_project(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    project = await create_project(client, admin, "p")
    await set_role(client, admin, project, alice, 31 - 4)
    before = head(client)
    for caller in (ANONYMOUS, alice):
        answer = await set_role(client, caller, project, alice, 31)
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert head(client) == before
    await set_role(client, admin, project, alice, 4)
    assert (await set_role(client, alice, project, alice, 31)).status == 200


# --- pausing workers ---------------------------------------------------------------------------


async def test_a_paused_worker_is_refused_tasks_until_unpaused(client) -> None:
    admin = await register(client, "admin")
    project = await create_project(client, admin, "p", public=True)
    worker = await new_worker(client, "w")
    await grant(client, admin, worker, project)
    await call(client, "POST", "/task/submit", worker, json={"project": project, "recipe": "r"})
    body = {"worker": worker.id, "paused": True}
    answer = await call(client, "POST", "/worker/set_paused", admin, json=body)
    assert (answer.status, answer.body) == (200, {"ok": True})
    answer = await call(client, "GET", f"/task/get/{project}", worker)
    assert (answer.status, answer.message) == (400, "A manager has paused you")
    worker_view = await call(client, "GET", f"/worker/get/{worker.id}")
    assert worker_view.content["worker"]["paused"] is True
    body["paused"] = False
    await call(client, "POST", "/worker/set_paused", admin, json=body)
    assert (await call(client, "GET", f"/task/get/{project}", worker)).ok is True


async def test_set_paused_checks_the_caller_before_the_body(client) -> None:
    admin = await register(client, "admin")
    alice = await register(client, "alice")
    worker = await new_worker(client, "w")
    before = head(client)
    for caller in (ANONYMOUS, alice, worker):
        answer = await call(client, "POST", "/worker/set_paused", caller, data=b"{")
        assert (answer.status, answer.message) == (403, "Unauthorized")
    answer = await call(client, "POST", "/worker/set_paused", admin, data=b"{")
    assert (answer.status, answer.message[:23]) == (400, "Could not parse request")
    bad = {"worker": worker.id, "paused": "true"}
    assert (await call(client, "POST", "/worker/set_paused", admin, json=bad)).status == 400
    unknown = {"worker": 999, "paused": True}
    answer = await call(client, "POST", "/worker/set_paused", admin, json=unknown)
    assert (answer.status, answer.message) == (400, "Invalid worker")
    assert head(client) == before


async def test_passwords_are_kept_as_argon2id_hashes_and_never_in_the_log(client) -> None:
    await register(client, "alice", "correct horse")
    stored = tracker_of(client).state.managers.by_name("alice").password_hash
    assert stored.startswith("$argon2id$")
    async for rows in tracker_of(client).store.read():
        assert not any(b"correct horse" in row.data for row in rows)


async def test_the_scheduler_runs_the_clean_up_job_on_its_own(
    aiohttp_client, data_dir, clock
) -> None:
    settings = config.build(
        {"database": {"data_dir": str(data_dir)}, "session": {"cleanup_interval": "50ms"},
         "maintenance": {"reset_timed_out_tasks_interval": "1h"}}
    )  # fmt: skip
    client = await start(aiohttp_client, settings, clock)
    await register(client, "alice")
    clock.advance(8 * 3600)
    managers = tracker_of(client).state.managers
    for _ in range(100):
        if not managers.sessions:
            break
        await asyncio.sleep(0.02)
    assert managers.sessions == {}
