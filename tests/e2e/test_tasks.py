"""``POST /task/submit`` over HTTP: authentication, validation, Go-style decoding, access
(behavior.md 2.3, 3.1, 6.7)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.world import World


async def refused(world: World, status: int, body: Any, prefix: str) -> None:
    """The submit is refused with ``status`` and a message starting ``prefix``; nothing logged."""
    before, logged = world.position(), await world.log_head()
    data = body if isinstance(body, bytes) else json.dumps(body)
    answer = await world.worker.post("/task/submit", data=data)
    assert answer.status == status, answer
    assert answer["ok"] is False and answer["message"].startswith(prefix), answer
    assert set(answer) == {"ok", "message"}
    assert (world.position(), await world.log_head()) == (before, logged)


async def test_a_submitted_task_is_handed_out_with_every_field(world: World) -> None:
    answer = await world.submit("do the thing", priority=7, max_retries=2, max_assign_time=600,
                                verification_count=3)  # fmt: skip
    assert answer == {"ok": True}
    task = await world.task()
    project = (await world.admin.get(f"/project/get/{world.project}")).content["project"]
    assert task == {
        "id": 1, "priority": 7, "project": project, "assignee": world.worker.id, "retries": 0,
        "max_retries": 2, "status": 1, "recipe": "do the thing", "max_assign_time": 600,
        "assign_time": task["assign_time"], "verification_count": 3,
    }  # fmt: skip
    assert list(task) == list(TASK_KEYS)


TASK_KEYS = ("id", "priority", "project", "assignee", "retries", "max_retries", "status",
             "recipe", "max_assign_time", "assign_time", "verification_count")  # fmt: skip


async def test_verification_count_zero_becomes_one_and_negative_is_kept(world: World) -> None:
    await world.submit("a", priority=1)
    await world.submit("b", verification_count=-3)
    assert (await world.task())["verification_count"] == 1
    assert (await world.task())["verification_count"] == -3


async def test_submits_get_serial_ids(world: World) -> None:
    for n in range(3):
        assert (await world.submit(f"r{n}")) == {"ok": True}
    assert [(await world.task())["id"] for _ in range(3)] == [1, 2, 3]


# --- authentication (3.1: the first failing check decides the message) ----------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "worker id not specified"),
        ({"X-Secret": "c2VjcmV0"}, "worker id not specified"),
        ({"X-Worker-Id": "", "X-Secret": "c2VjcmV0"}, "worker id not specified"),
        ({"X-Worker-Id": "1"}, "secret is not specified"),
        ({"X-Worker-Id": "abc"}, "secret is not specified"),
        ({"X-Worker-Id": "1", "X-Secret": ""}, "secret is not specified"),
        (
            {"X-Worker-Id": "abc", "X-Secret": "x"},
            'strconv.ParseInt: parsing "abc": invalid syntax',
        ),
        (
            {"X-Worker-Id": "1.0", "X-Secret": "x"},
            'strconv.ParseInt: parsing "1.0": invalid syntax',
        ),
        (
            {"X-Worker-Id": "99999999999999999999", "X-Secret": "x"},
            'strconv.ParseInt: parsing "99999999999999999999": value out of range',
        ),
        ({"X-Worker-Id": "999", "X-Secret": "x"}, "worker id does not match any valid worker"),
        ({"X-Worker-Id": "0", "X-Secret": "x"}, "worker id does not match any valid worker"),
        ({"X-Worker-Id": "-1", "X-Secret": "x"}, "worker id does not match any valid worker"),
        ({"X-Worker-Id": "1", "X-Secret": base64.b64encode(bytes(32)).decode()}, "invalid secret"),
        ({"X-Worker-Id": "1", "X-Secret": "not base64!"}, "invalid secret"),
        ({"X-Worker-Id": "2", "X-Secret": "SECRET_OF_1"}, "invalid secret"),
        ({"X-Worker-Id": "1", "X-Secret": "SECRET_OF_1" + "AAAA"}, "invalid secret"),
        ({"X-Worker-Id": "1", "X-Secret": "A" * 5000}, "invalid secret"),
    ],
)
async def test_submit_refuses_bad_credentials_with_401_and_the_original_messages(
    world: World, headers: dict[str, str], message: str
) -> None:
    secret = world.workers[0].worker["secret"]
    headers = {k: v.replace("SECRET_OF_1", secret) for k, v in headers.items()}
    before = world.position()
    body = {"project": world.project, "recipe": "r"}
    answer = await world.anonymous.post("/task/submit", body, headers=headers)
    assert answer.status == 401
    assert answer.body == {"ok": False, "message": message}
    assert world.position() == before


async def test_worker_headers_are_case_insensitive(world: World) -> None:
    worker = world.worker.worker
    headers = {"x-worker-id": str(worker["id"]), "X-SECRET": worker["secret"]}
    body = {"project": world.project, "recipe": "r"}
    answer = await world.anonymous.post("/task/submit", body, headers=headers)
    assert (answer.status, answer.body) == (200, {"ok": True})


async def test_authentication_comes_before_parsing(world: World) -> None:
    answer = await world.anonymous.post("/task/submit", data=b"{broken")
    assert answer.status == 401
    assert answer["message"] == "worker id not specified"


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"recipe": ""}, "recipe must not be empty"),
        ({"recipe": None}, "recipe must not be empty"),
        ({"project": 0}, "project must be a positive project id"),
        ({"project": None}, "project must be a positive project id"),
        ({"max_retries": -1}, "max_retries must be >= 0"),
        ({"max_assign_time": -1}, "max_assign_time must be between 0 and 2147483647 seconds"),
        ({"max_assign_time": 2**31}, "max_assign_time must be between 0 and 2147483647 seconds"),
        ({"hash_u64": 1, "unique_string": "x"}, "give hash_u64 or unique_string, not both"),
        ({"hash64": 1, "unique_string": "x"}, "give hash_u64 or unique_string, not both"),
        ({"hash64": 1, "hash_u64": 2}, "hash_u64 and hash64 disagree"),
    ],
)
async def test_an_invalid_task_is_a_400_naming_the_rule(
    world: World, fields: dict, rule: str
) -> None:
    body = {"project": world.project, "recipe": "r", **fields}
    await refused(world, 400, body, f"Invalid task: {rule}")


@pytest.mark.parametrize(
    "fields",
    [
        {"priority": 32768},
        {"priority": -32769},
        {"max_retries": 32768},
        {"verification_count": 40000},
        {"verification_count": -32769},
        {"max_assign_time": 2**63},
        {"hash_u64": 2**63},
        {"hash_u64": -(2**63) - 1},
        {"project": 2**64},
    ],
)
async def test_integers_outside_their_field_width_cannot_be_parsed(
    world: World, fields: dict
) -> None:
    await refused(world, 400, {"project": world.project, "recipe": "r", **fields},
                  "Could not parse request")  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "value"),
    [
        ({"priority": 32767}, 32767),
        ({"priority": -32768}, -32768),
        ({"max_retries": 32767}, 32767),
        ({"verification_count": 32767}, 32767),
        ({"max_assign_time": 2**31 - 1}, 2**31 - 1),
    ],
)
async def test_the_edges_of_each_field_width_are_accepted(
    world: World, fields: dict, value: int
) -> None:
    assert await world.submit(**fields) == {"ok": True}
    (name,) = fields
    assert (await world.task())[name] == value


@pytest.mark.parametrize(
    "body",
    [
        '{"project": "1", "recipe": "r"}',
        '{"project": 1, "recipe": 5}',
        '{"project": 1, "recipe": "r", "priority": true}',
        '{"project": 1, "recipe": "r", "priority": "3"}',
        '{"project": 1, "recipe": "r", "priority": 1.5}',
        '{"project": 1, "recipe": "r", "priority": 1.0}',
        '{"project": 1, "recipe": "r", "max_assign_time": 1e3}',
        '{"project": 1, "recipe": "r", "hash_u64": 3.0}',
        '{"project": 1, "recipe": "r", "unique_string": 12}',
        '{"project": 1, "recipe": ["r"]}',
        '{"project": {"id": 1}, "recipe": "r"}',
        '[{"project": 1, "recipe": "r"}]',
        '"project"',
        "12",
        "",
        "   ",
        "{",
        '{"project": 1, "recipe": "r"',
        '{"project": 1, "recipe": "r"} trailing',
        "\xff\xfe",
    ],
)
async def test_bodies_of_the_wrong_shape_cannot_be_parsed(world: World, body: str) -> None:
    await refused(world, 400, body.encode("latin-1"), "Could not parse request")


async def test_a_body_of_just_null_is_an_all_zero_request(world: World) -> None:
    await refused(world, 400, b"null", "Invalid task: ")


async def test_null_fields_take_their_zero_value(world: World) -> None:
    body = {"project": world.project, "recipe": "r", "priority": None, "max_retries": None,
            "max_assign_time": None, "verification_count": None, "hash_u64": None,
            "unique_string": None}  # fmt: skip
    assert await world.worker.post("/task/submit", body) == {"ok": True}
    task = await world.task()
    assert (task["priority"], task["max_retries"], task["verification_count"]) == (0, 0, 1)


async def test_keys_match_case_insensitively_and_unknown_keys_are_ignored(world: World) -> None:
    body = {"Project": world.project, "RECIPE": "loud", "Priority": 4, "Max_Retries": 2,
            "colour": "blue", "nested": {"x": [1, 2]}}  # fmt: skip
    assert await world.worker.post("/task/submit", body) == {"ok": True}
    task = await world.task()
    assert (task["recipe"], task["priority"], task["max_retries"]) == ("loud", 4, 2)


async def test_an_exact_key_wins_over_a_case_variant(world: World) -> None:
    for body in (
        {"project": world.project, "recipe": "exact", "Recipe": "variant"},
        {"project": world.project, "Recipe": "variant", "recipe": "exact"},
    ):
        assert await world.worker.post("/task/submit", body) == {"ok": True}
    assert [(await world.task())["recipe"] for _ in range(2)] == ["exact", "exact"]


# --- project and access ---------------------------------------------------------------------


async def test_submitting_to_an_unknown_project_is_404(world: World) -> None:
    await refused(world, 404, {"project": 99, "recipe": "r"}, "Project not found")
    await refused(world, 400, {"project": -5, "recipe": "r"}, "Invalid task: ")


async def test_submitting_needs_granted_submit_access(world: World) -> None:
    stranger = await world.new_worker("stranger")
    pending = await world.new_worker("pending")
    assign_only = await world.new_worker("assign only")
    request = {"project": world.project, "submit": True}
    await pending.post("/project/request_access", request, status=200)
    await world.grant(assign_only, assign=True, submit=False)
    before = world.position()
    for worker in (stranger, pending, assign_only):
        answer = await worker.post("/task/submit", {"project": world.project, "recipe": "r"},
                                   status=400)  # fmt: skip
        assert answer == {"ok": False, "message": "unauthorized task submit"}
    assert world.position() == before


async def test_a_public_project_still_needs_submit_access(world: World) -> None:
    public = await world.create_project("public", public=True)
    answer = await world.worker.post("/task/submit", {"project": public, "recipe": "r"},
                                     status=400)  # fmt: skip
    assert answer["message"] == "unauthorized task submit"


async def test_a_paused_worker_and_a_paused_project_still_accept_submits(world: World) -> None:
    await world.pause_worker(world.worker)
    await world.update_project(paused=True)
    assert await world.submit("while paused") == {"ok": True}
    await world.update_project(paused=False)
    assert (await world.task(by=1))["recipe"] == "while paused"
