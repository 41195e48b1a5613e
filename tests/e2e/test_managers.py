"""Manager accounts and administration over HTTP: register, login, sessions, the manager
lists, promote and demote, roles on projects, pausing workers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.waiting import eventually
from tests.world import Caller, World, amend
from tracker.events.store import read_events

# --- register, login, logout, account ----------------------------------------------------------


async def test_the_first_manager_is_tracker_admin_and_the_next_ones_are_not(
    bare_world: World,
) -> None:
    admin = await bare_world.register("admin")
    other = await bare_world.register("other")
    managers = (await other.get("/manager/list")).content["managers"]
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
    bare_world: World, username: str, password: str
) -> None:
    before = bare_world.position()
    answer = await bare_world.anonymous.post(
        "/register", {"username": username, "password": password}
    )
    assert (answer.status, answer.body) == (
        400,
        {"ok": False, "message": "Invalid register request"},
    )
    assert bare_world.position() == before


async def test_register_accepts_the_length_limits_themselves(bare_world: World) -> None:
    await bare_world.register("abc", "12345678")
    await bare_world.register("éééééééé", "pass word")  # 16 bytes
    await bare_world.login("abc", "12345678")


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b'{"username": 1, "password": "password1"}', b"null"]
)
async def test_register_and_login_refuse_malformed_bodies(bare_world: World, body: bytes) -> None:
    for path in ("/register", "/login"):
        answer = await bare_world.anonymous.post(path, data=body)
        assert answer.status in (400, 403), answer
        assert answer.ok is False and answer.message
    assert bare_world.position() == 0


async def test_a_username_can_be_registered_once(bare_world: World) -> None:
    await bare_world.register("alice")
    answer = await bare_world.anonymous.post(
        "/register", {"username": "alice", "password": "password2"}
    )
    assert (answer.status, answer.ok) == (400, False)
    assert "already taken" in answer.message


async def test_login_refuses_a_wrong_password_and_an_unknown_user_alike(
    bare_world: World,
) -> None:
    await bare_world.register("alice")
    for username, password in (("alice", "wrong-password"), ("bob", "password1")):
        answer = await bare_world.anonymous.post(
            "/login", {"username": username, "password": password}
        )
        assert (answer.status, answer.body) == (
            403,
            {"ok": False, "message": "Invalid username/password"},
        )


async def test_each_login_gets_a_new_session_id_and_both_sessions_work(
    bare_world: World,
) -> None:
    first = await bare_world.register("alice")
    second = await bare_world.login("alice")
    assert first.cookie != second.cookie and len(second.cookie) >= 32
    for session in (first, second):
        account = await session.get("/account")
        assert account.content == {
            "logged_in": True,
            "manager": {"id": 1, "username": "alice", "tracker_admin": True,
                        "register_time": 1_700_000_000},
        }  # fmt: skip


async def test_logout_ends_the_session_on_the_server(bare_world: World) -> None:
    alice = await bare_world.register("alice")
    answer = await alice.get("/logout")
    assert (answer.status, answer.body) == (204, None)
    account = await alice.get("/account")
    assert (account.status, account.body) == (200, {"ok": False, "content": {"logged_in": False}})
    assert (await alice.get("/manager/list")).status == 401


async def test_logout_without_a_session_is_harmless(bare_world: World) -> None:
    assert (await bare_world.anonymous.get("/logout")).status == 204
    forged = Caller(bare_world, cookie="x" * 500)
    assert (await forged.get("/logout")).status == 204
    assert bare_world.position() == 0


async def test_a_session_expires_on_the_server_after_session_expiration(
    bare_world: World, clock
) -> None:
    alice = await bare_world.register("alice")
    clock.advance(8 * 3600 - 1)
    assert (await alice.get("/manager/list")).status == 200
    clock.advance(1)
    assert (await alice.get("/manager/list")).status == 401
    assert (await alice.get("/account")).content == {"logged_in": False}


async def test_the_clean_up_job_ends_expired_sessions_in_the_log_as_the_system(
    bare_world: World, clock
) -> None:
    alice = await bare_world.register("alice")
    clock.advance(3600)
    bob = await bare_world.register("bob")
    tracker = bare_world.tracker
    assert await tracker.end_expired_sessions() == 0
    clock.advance(7 * 3600)  # alice's session (8 h) has expired, bob's has not
    assert await tracker.end_expired_sessions() == 1
    assert await tracker.end_expired_sessions() == 0  # running twice is harmless
    assert len(tracker.state.managers.sessions) == 1
    assert (await bob.get("/manager/list")).status == 200
    assert (await alice.get("/manager/list")).status == 401
    last = [r async for r in read_events(tracker.store)][-1].event
    assert (type(last).__name__, last.actor, last.at) == ("SessionEnded", "system", clock.now)


async def test_sessions_survive_a_restart(bare_world: World, clock) -> None:
    alice = await bare_world.register("alice")
    await bare_world.restart()
    account = await alice.get("/account")
    assert account.content["logged_in"] is True
    assert account.content["manager"]["username"] == "alice"
    clock.advance(8 * 3600)
    assert (await alice.get("/account")).content == {"logged_in": False}


async def test_a_forged_or_oversized_cookie_is_no_session(bare_world: World) -> None:
    await bare_world.register("alice")
    for cookie in ("not-a-session", "x" * 4000):
        answer = await Caller(bare_world, cookie=cookie).get("/manager/list")
        assert answer.status == 401


# --- manager lists -----------------------------------------------------------------------------


async def test_manager_list_needs_a_session(bare_world: World) -> None:
    answer = await bare_world.anonymous.get("/manager/list")
    assert (answer.status, answer.body) == (401, {"ok": False, "message": "Unauthorized"})


async def test_list_for_project_shows_managers_with_a_role_in_id_order(world: World) -> None:
    alice = await world.register("alice")
    bob = await world.register("bob")
    project = await world.create_project("p", by=bob)
    await world.set_role(project, alice, 5, by=bob)
    answer = await world.admin.get(f"/manager/list_for_project/{project}")
    listed = [(item["manager"]["username"], item["role"]) for item in answer.content["managers"]]
    assert listed == [("alice", 5), ("bob", 31)]
    assert answer.content["managers"][0]["manager"] == {
        "id": alice.id, "username": "alice", "tracker_admin": False,
        "register_time": 1_700_000_000,
    }  # fmt: skip


async def test_list_for_project_refuses_bad_ids_anonymous_callers_and_unknown_projects(
    world: World,
) -> None:
    admin = world.admin
    for bad in ("0", "-1", "x", "99999999999999999999"):
        answer = await admin.get(f"/manager/list_for_project/{bad}")
        assert (answer.status, answer.message) == (400, "Invalid project id")
    assert (await world.anonymous.get("/manager/list_for_project/1")).status == 401
    answer = await admin.get("/manager/list_for_project/7")
    assert (answer.status, answer.message) == (404, "Project not found")


# --- promote and demote ------------------------------------------------------------------------


async def test_promote_takes_effect_at_once_in_the_promoted_managers_session(
    world: World,
) -> None:
    alice = await world.register("alice")
    pause = {"worker": world.worker.id, "paused": True}
    assert (await alice.post("/worker/set_paused", pause)).status == 403
    answer = await world.admin.get(f"/manager/promote/{alice.id}")
    assert (answer.status, answer.body) == (204, None)
    assert (await alice.post("/worker/set_paused", pause)).status == 200
    account = await alice.get("/account")
    assert account.content["manager"]["tracker_admin"] is True


async def test_demote_takes_effect_at_once_in_the_demoted_managers_session(world: World) -> None:
    admin = world.admin
    alice = await world.register("alice")
    await admin.get(f"/manager/promote/{alice.id}")
    hidden = await world.create_project("hidden", hidden=True)
    assert (await alice.get(f"/project/get/{hidden}")).status == 200
    answer = await admin.get(f"/manager/demote/{alice.id}")
    assert (answer.status, answer.body) == (204, None)
    assert (await alice.get(f"/project/get/{hidden}")).status == 403
    assert (await alice.get(f"/manager/demote/{admin.id}")).status == 403


async def test_promote_and_demote_refuse_as_the_original_did_without_crashing(
    world: World,
) -> None:
    admin, anonymous = world.admin, world.anonymous
    alice = await world.register("alice")
    before = world.position()
    cases = [
        ("promote", "x", admin, 400, "Invalid manager id"),
        ("demote", "0", admin, 400, "Invalid manager id"),
        ("promote", str(alice.id), anonymous, 401, "Unauthorized"),  # the original crashed here
        ("demote", str(alice.id), anonymous, 401, "Unauthorized"),
        ("promote", str(admin.id), alice, 401, "Unauthorized"),  # not admin: 401 from promote
        ("demote", str(admin.id), alice, 403, "Unauthorized"),  # ... and 403 from demote
        ("promote", "42", admin, 404, "Manager not found"),
        ("demote", "42", admin, 404, "Manager not found"),
    ]
    for verb, target, caller, status, message in cases:
        answer = await caller.get(f"/manager/{verb}/{target}")
        assert (answer.status, answer.message) == (status, message), (verb, target, caller.name)
    for verb, status in (("promote", 401), ("demote", 403)):
        answer = await admin.get(f"/manager/{verb}/{admin.id}")
        assert answer.status == status and "itself" in answer.message
    assert world.position() == before


async def test_promoting_an_admin_or_demoting_a_manager_changes_nothing(world: World) -> None:
    admin = world.admin
    alice = await world.register("alice")
    before = world.position()
    assert (await admin.get(f"/manager/demote/{alice.id}")).status == 204
    await admin.get(f"/manager/promote/{alice.id}")
    assert (await admin.get(f"/manager/promote/{alice.id}")).status == 204
    assert world.position() == before + 1


# --- roles on projects -------------------------------------------------------------------------


async def test_set_role_creates_overwrites_and_removes_a_role(bare_world: World) -> None:
    world = bare_world
    alice = await world.register("alice")
    bob = await world.register("bob")
    project = await world.create_project("p", by=alice, hidden=True)
    assert (await bob.get(f"/project/get/{project}")).status == 403
    answer = await world.set_role(project, bob, 1, by=alice)
    assert (answer.status, answer.body) == (200, {"ok": True})
    assert (await bob.get(f"/project/get/{project}")).status == 200
    await world.set_role(project, bob, 2, by=alice)
    assert (await bob.get(f"/project/get/{project}")).status == 403
    await world.set_role(project, bob, 0, by=alice)
    listed = await bob.get(f"/manager/list_for_project/{project}")
    assert [item["manager"]["username"] for item in listed.content["managers"]] == ["alice"]


async def test_set_role_refuses_bad_input_and_unknown_ids(world: World) -> None:
    admin, project = world.admin, world.project
    alice = await world.register("alice")
    before = world.position()
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
            answer = await admin.post(route, data=body)
        else:
            answer = await admin.post(route, body)
        assert answer.status == status and answer.message.startswith(message), (body, answer)
    assert world.position() == before


async def test_set_role_needs_manage_access_on_the_project(world: World) -> None:
    project = world.project
    alice = await world.register("alice")
    await world.set_role(project, alice, 31 - 4)
    before = world.position()
    for caller in (world.anonymous, alice):
        answer = await world.set_role(project, alice, 31, by=caller)
        assert (answer.status, answer.message) == (403, "Unauthorized")
    assert world.position() == before
    await world.set_role(project, alice, 4)
    assert (await world.set_role(project, alice, 31, by=alice)).status == 200


# --- pausing workers ---------------------------------------------------------------------------


async def test_a_paused_worker_is_refused_tasks_until_unpaused(world: World) -> None:
    worker = world.worker
    await world.submit("r")
    body = {"worker": worker.id, "paused": True}
    answer = await world.admin.post("/worker/set_paused", body)
    assert (answer.status, answer.body) == (200, {"ok": True})
    answer = await world.assign()
    assert (answer.status, answer.message) == (400, "A manager has paused you")
    worker_view = await world.anonymous.get(f"/worker/get/{worker.id}")
    assert worker_view.content["worker"]["paused"] is True
    await world.pause_worker(worker, paused=False)
    assert (await world.assign()).ok is True


async def test_set_paused_checks_the_caller_before_the_body(world: World) -> None:
    admin, worker = world.admin, world.worker
    alice = await world.register("alice")
    before = world.position()
    for caller in (world.anonymous, alice, worker):
        answer = await caller.post("/worker/set_paused", data=b"{")
        assert (answer.status, answer.message) == (403, "Unauthorized")
    answer = await admin.post("/worker/set_paused", data=b"{")
    assert (answer.status, answer.message[:23]) == (400, "Could not parse request")
    bad = {"worker": worker.id, "paused": "true"}
    assert (await admin.post("/worker/set_paused", bad)).status == 400
    unknown = {"worker": 999, "paused": True}
    answer = await admin.post("/worker/set_paused", unknown)
    assert (answer.status, answer.message) == (400, "Invalid worker")
    assert world.position() == before


async def test_passwords_are_kept_as_argon2id_hashes_and_never_in_the_log(
    bare_world: World,
) -> None:
    await bare_world.register("alice", "correct horse")
    stored = bare_world.tracker.state.managers.by_name("alice").password_hash
    assert stored.startswith("$argon2id$")
    async for rows in bare_world.tracker.store.read():
        assert not any(b"correct horse" in row.data for row in rows)


async def test_the_scheduler_runs_the_clean_up_job_on_its_own(make_client, settings, clock) -> None:
    world = await World.start(make_client, amend(settings, session={"cleanup_interval": 0.05}))
    await world.register("alice")
    clock.advance(8 * 3600)
    managers = world.tracker.state.managers
    await eventually(lambda: not managers.sessions, what="the expired session ended")
    assert managers.sessions == {}
