"""Workers over HTTP: ``GET /``, create, update, get (behavior.md 6.1, 6.2, 4.3)."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import Api, Clock
from tests.e2e.support import (
    forget_session,
    log_head,
    pause_worker,
    position,
    worker_headers,
)

TYPO = "You are now allowed to create a worker"  # sic, the original's message


async def test_the_root_names_the_server_and_its_version(api: Api) -> None:
    response = await api.client.get("/")
    assert response.status == 200
    assert response.headers["Server"] == "task_tracker"
    assert response.content_type == "application/json"
    assert await response.json() == {
        "ok": True,
        "content": {"name": "task_tracker", "version": "1.1"},
    }


async def test_a_created_worker_gets_a_serial_id_the_time_and_a_fresh_secret(
    api: Api, clock: Clock
) -> None:
    body = await api.call("POST", "/worker/create", {"alias": "crawler"}, status=200)
    assert body["ok"] is True and set(body) == {"ok", "content"}
    worker = body["content"]["worker"]
    assert list(worker) == ["id", "created", "alias", "secret", "paused"]
    assert worker["id"] == 1 and worker["created"] == int(clock.now)
    assert worker["alias"] == "crawler" and worker["paused"] is False
    assert len(worker["secret"]) == 44 and len(base64.b64decode(worker["secret"])) == 32

    second = await api.create_worker("crawler")
    assert second["id"] == 2 and second["secret"] != worker["secret"]


@pytest.mark.parametrize("body", [{"alias": ""}, {}, None, {"alias": None}, {"ALIAS": ""}])
async def test_a_worker_created_without_an_alias_gets_the_default_alias(
    api: Api, body: dict | None
) -> None:
    answer = await api.client.post("/worker/create", data=b"null" if body is None else None,
                                   json=body if body is not None else None)  # fmt: skip
    assert answer.status == 200
    assert (await answer.json())["content"]["worker"]["alias"] == "default_alias"


async def test_the_reserved_alias_is_refused_with_the_original_message(api: Api) -> None:
    body = await api.call("POST", "/worker/create", {"alias": "unassigned"}, status=403)
    assert body == {"ok": False, "message": TYPO}
    assert position(api) == 0 and await log_head(api) == 0


async def test_create_with_malformed_json_is_a_400_with_the_envelope(api: Api) -> None:
    response = await api.client.post("/worker/create", data=b"{alias:")
    assert response.status == 400
    body = await response.json()
    assert body["ok"] is False and body["message"].startswith("Could not parse request")
    assert position(api) == 0


async def test_a_worker_reads_back_without_its_secret_for_anonymous_callers(api: Api) -> None:
    worker = await api.create_worker("reader")
    body = await api.call("GET", f"/worker/get/{worker['id']}", status=200)
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


async def test_only_a_tracker_admin_session_sees_the_secret(api: Api) -> None:
    worker = await api.create_worker("w")
    await api.register("admin")  # the first manager is tracker admin
    seen = await api.call("GET", f"/worker/get/{worker['id']}", status=200)
    assert seen["content"]["worker"]["secret"] == worker["secret"]

    forget_session(api)
    await api.register("someone")
    seen = await api.call("GET", f"/worker/get/{worker['id']}", status=200)
    assert seen["content"]["worker"]["secret"] is None


async def test_a_worker_updates_its_own_alias(api: Api) -> None:
    worker = await api.create_worker("old")
    body = await api.call("POST", "/worker/update", {"alias": "new"}, worker=worker, status=200)
    assert body == {"ok": True}
    seen = await api.call("GET", f"/worker/get/{worker['id']}", status=200)
    assert seen["content"]["worker"]["alias"] == "new"


async def test_an_empty_alias_is_left_out_of_the_worker(api: Api) -> None:
    worker = await api.create_worker("named")
    await api.call("POST", "/worker/update", {"alias": ""}, worker=worker, status=200)
    seen = await api.call("GET", f"/worker/get/{worker['id']}", status=200)
    assert "alias" not in seen["content"]["worker"]
    assert list(seen["content"]["worker"]) == ["id", "created", "secret", "paused"]


async def test_updating_to_the_reserved_alias_is_refused(api: Api) -> None:
    worker = await api.create_worker("w")
    before = position(api)
    body = await api.call("POST", "/worker/update", {"alias": "unassigned"}, worker=worker,
                          status=403)  # fmt: skip
    assert body == {"ok": False, "message": TYPO}
    assert position(api) == before


async def test_an_alias_longer_than_1024_bytes_is_refused(api: Api) -> None:
    worker = await api.create_worker("w")
    body = await api.call("POST", "/worker/update", {"alias": "x" * 1025}, worker=worker,
                          status=400)  # fmt: skip
    assert body["ok"] is False and body["message"]


async def test_update_authenticates_the_worker_with_401(api: Api) -> None:
    worker = await api.create_worker("w")
    wrong = {**worker, "secret": base64.b64encode(bytes(32)).decode()}
    body = await api.call("POST", "/worker/update", {"alias": "x"}, worker=wrong, status=401)
    assert body == {"ok": False, "message": "invalid secret"}
    response = await api.client.post("/worker/update", json={"alias": "x"})
    assert response.status == 401
    assert await response.json() == {"ok": False, "message": "worker id not specified"}


async def test_update_with_a_malformed_body_is_refused(api: Api) -> None:
    worker = await api.create_worker("w")
    response = await api.client.post(
        "/worker/update", data=b'{"alias": 5}', headers=worker_headers(worker)
    )
    assert response.status == 400
    assert (await response.json())["message"].startswith("Could not parse request")


async def test_a_paused_worker_reads_back_paused(api: Api) -> None:
    worker = await api.create_worker("w")
    await api.register("admin")
    await pause_worker(api, worker)
    seen = await api.call("GET", f"/worker/get/{worker['id']}", status=200)
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
    api: Api, path_id: str, status: int, message: str
) -> None:
    await api.create_worker("w")
    body = await api.call("GET", f"/worker/get/{path_id}", status=status)
    assert body == {"ok": False, "message": message}


async def test_a_worker_id_with_a_plus_sign_is_read_as_go_does(api: Api) -> None:
    worker = await api.create_worker("w")
    body = await api.call("GET", f"/worker/get/+{worker['id']}", status=200)
    assert body["content"]["worker"]["id"] == worker["id"]
