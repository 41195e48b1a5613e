"""Workers over HTTP: ``GET /``, create, update, get (behavior.md 6.1, 6.2, 4.3)."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from tests.conftest import Clock
from tests.world import World

TYPO = "You are now allowed to create a worker"  # sic, the original's message


async def test_the_root_names_the_server_and_its_version(bare_world: World) -> None:
    """The original's two fields first, then the bounds of this tracker's extensions (batches
    and keep-alive), which a client of the original ignores."""
    response = await bare_world.client.get("/")
    assert response.status == 200
    assert response.headers["Server"] == "task_tracker"
    assert response.content_type == "application/json"
    assert await response.json() == {
        "ok": True,
        "content": {"name": "task_tracker", "version": "1.1", "max_batch_size": 1000,
                    "max_keep_alive": 3600.0, "default_max_assign_time": 300.0},
    }  # fmt: skip


async def test_a_created_worker_gets_a_serial_id_the_time_and_a_fresh_secret(
    bare_world: World, clock: Clock
) -> None:
    body = await bare_world.anonymous.post("/worker/create", {"alias": "crawler"}, status=200)
    assert body["ok"] is True and set(body) == {"ok", "content"}
    worker = body["content"]["worker"]
    assert list(worker) == ["id", "created", "alias", "secret", "paused"]
    assert worker["id"] == 1 and worker["created"] == int(clock.now)
    assert worker["alias"] == "crawler" and worker["paused"] is False
    assert len(worker["secret"]) == 44 and len(base64.b64decode(worker["secret"])) == 32

    second = (await bare_world.new_worker("crawler")).worker
    assert second["id"] == 2 and second["secret"] != worker["secret"]


@pytest.mark.parametrize("body", [{"alias": ""}, {}, None, {"alias": None}, {"ALIAS": ""}])
async def test_a_worker_created_without_an_alias_gets_the_default_alias(
    bare_world: World, body: dict | None
) -> None:
    answer = await bare_world.anonymous.post("/worker/create", body,
                                             data=b"null" if body is None else None)  # fmt: skip
    assert answer.status == 200
    assert answer["content"]["worker"]["alias"] == "default_alias"


async def test_the_reserved_alias_is_refused_with_the_original_message(bare_world: World) -> None:
    body = await bare_world.anonymous.post("/worker/create", {"alias": "unassigned"}, status=403)
    assert body == {"ok": False, "message": TYPO}
    assert bare_world.position() == 0 and await bare_world.log_head() == 0


async def test_create_with_malformed_json_is_a_400_with_the_envelope(bare_world: World) -> None:
    body = await bare_world.anonymous.post("/worker/create", data=b"{alias:")
    assert body.status == 400
    assert body["ok"] is False and body["message"].startswith("Could not parse request")
    assert bare_world.position() == 0


async def test_a_worker_reads_back_without_its_secret_for_anonymous_callers(
    bare_world: World,
) -> None:
    worker = (await bare_world.new_worker("reader")).worker
    body = await bare_world.anonymous.get(f"/worker/get/{worker['id']}", status=200)
    assert body == {
        "ok": True,
        "content": {
            "worker": {
                "id": worker["id"],
                "created": worker["created"],
                "alias": "reader",
                "secret": None,
                "paused": False,
            }
        },
    }


async def test_only_a_tracker_admin_session_sees_the_secret(world: World) -> None:
    worker = world.worker.worker
    seen = await world.admin.get(f"/worker/get/{worker['id']}", status=200)
    assert seen["content"]["worker"]["secret"] == worker["secret"]

    someone = await world.register("someone")
    seen = await someone.get(f"/worker/get/{worker['id']}", status=200)
    assert seen["content"]["worker"]["secret"] is None


async def test_a_worker_updates_its_own_alias(world: World) -> None:
    body = await world.worker.post("/worker/update", {"alias": "new"}, status=200)
    assert body == {"ok": True}
    seen = await world.anonymous.get(f"/worker/get/{world.worker.id}", status=200)
    assert seen["content"]["worker"]["alias"] == "new"


async def test_an_empty_alias_is_left_out_of_the_worker(world: World) -> None:
    await world.worker.post("/worker/update", {"alias": ""}, status=200)
    seen = await world.anonymous.get(f"/worker/get/{world.worker.id}", status=200)
    assert "alias" not in seen["content"]["worker"]
    assert list(seen["content"]["worker"]) == ["id", "created", "secret", "paused"]


async def test_updating_to_the_reserved_alias_is_refused(world: World) -> None:
    before = world.position()
    body = await world.worker.post("/worker/update", {"alias": "unassigned"}, status=403)
    assert body == {"ok": False, "message": TYPO}
    assert world.position() == before


async def test_an_alias_longer_than_1024_bytes_is_refused(world: World) -> None:
    body = await world.worker.post("/worker/update", {"alias": "x" * 1025}, status=400)
    assert body["ok"] is False and body["message"]


async def test_update_authenticates_the_worker_with_401(world: World) -> None:
    secret = base64.b64encode(bytes(32)).decode()
    wrong = dataclasses.replace(world.worker, worker={**world.worker.worker, "secret": secret})
    body = await wrong.post("/worker/update", {"alias": "x"}, status=401)
    assert body == {"ok": False, "message": "invalid secret"}
    answer = await world.anonymous.post("/worker/update", {"alias": "x"})
    assert answer.status == 401
    assert answer.body == {"ok": False, "message": "worker id not specified"}


async def test_update_with_a_malformed_body_is_refused(world: World) -> None:
    answer = await world.worker.post("/worker/update", data=b'{"alias": 5}')
    assert answer.status == 400
    assert answer["message"].startswith("Could not parse request")


async def test_a_paused_worker_reads_back_paused(world: World) -> None:
    await world.pause_worker(world.worker)
    seen = await world.admin.get(f"/worker/get/{world.worker.id}", status=200)
    assert seen["content"]["worker"]["paused"] is True


@pytest.mark.parametrize(
    ("path_id", "status", "message"),
    [
        ("abc", 400, 'strconv.ParseInt: parsing "abc": invalid syntax'),
        ("1.5", 400, 'strconv.ParseInt: parsing "1.5": invalid syntax'),
        ("1_0", 400, 'strconv.ParseInt: parsing "1_0": invalid syntax'),
        (
            "99999999999999999999",
            400,
            'strconv.ParseInt: parsing "99999999999999999999": value out of range',
        ),
        ("0", 400, "Invalid worker id"),
        ("-1", 400, "Invalid worker id"),
        ("7", 404, "Worker not found"),
    ],
)
async def test_worker_get_refuses_bad_and_unknown_ids(
    bare_world: World, path_id: str, status: int, message: str
) -> None:
    await bare_world.new_worker("w")
    body = await bare_world.anonymous.get(f"/worker/get/{path_id}", status=status)
    assert body == {"ok": False, "message": message}


async def test_a_worker_id_with_a_plus_sign_is_read_as_go_does(bare_world: World) -> None:
    worker = await bare_world.new_worker("w")
    body = await bare_world.anonymous.get(f"/worker/get/+{worker.id}", status=200)
    assert body["content"]["worker"]["id"] == worker.id
