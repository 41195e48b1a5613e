"""Worker log lines: ``POST /log/<level>`` from workers, ``POST /logs`` for managers.

Writing answers as the original (204; any failure 400 ``Could not parse request``, here with
the reason after a colon). Reading needs a manager, filters one level and ``since`` as the
original, and comes ordered (worker timestamp, then arrival) in pages.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.world import Answer, Caller, MakeClient, World, amend

NOW = 1_700_000_000


async def write(caller: Caller, level: str = "info", body: object = None,
                **fields: object) -> tuple[int, str]:  # fmt: skip
    """A log line as ``caller`` sends it; the answer's status and its text as sent."""
    if body is None:
        body = {"scope": "crawler", "message": "hello", "timestamp": NOW, **fields}
    client, headers = caller.world.client, caller.headers()
    if isinstance(body, bytes):
        response = await client.post(f"/log/{level}", data=body, headers=headers)
    else:
        response = await client.post(f"/log/{level}", json=body, headers=headers)
    return response.status, await response.text()


async def read(by: Caller, level: int = 5, since: int = 1, status: int = 200,
               **more: object) -> Answer:  # fmt: skip
    return await by.post("/logs", {"level": level, "since": since, **more}, status=status)


def messages(answer: Answer) -> list[str]:
    return [entry["message"] for entry in answer["content"]["logs"]]


async def test_a_worker_log_line_is_kept_and_served_as_the_original_shaped_it(world) -> None:
    assert await write(world.worker, "warn", message="disk full") == (204, "")
    answer = await read(world.admin, level=4)
    assert answer == {"ok": True, "content": {"logs": [{
        "message": "disk full", "timestamp": NOW,
        "data": f'{{"scope":"crawler","worker":{world.worker.id}}}', "level": 4,
    }]}}  # fmt: skip


@pytest.mark.parametrize(("level", "number"), [("error", 3), ("warn", 4), ("info", 5)])
async def test_each_kept_level_has_its_number_and_queries_match_it_exactly(
    world, level, number
) -> None:
    for name in ("error", "warn", "info"):
        await write(world.worker, name, message=name)
    assert messages(await read(world.admin, level=number)) == [level]


async def test_levels_outside_database_log_levels_are_accepted_but_not_kept(world) -> None:
    head = await world.log_head()
    assert await write(world.worker, "trace") == (204, "")
    assert await world.log_head() == head
    assert messages(await read(world.admin, level=7)) == []


async def test_trace_is_kept_when_configured(make_client: MakeClient, settings) -> None:
    every = amend(settings, database={"log_levels": ["trace", "error"]})
    world = await (await World.start(make_client, every)).open()
    await write(world.worker, "trace", message="step")
    await write(world.worker, "info", message="not kept")
    assert messages(await read(world.admin, level=7)) == ["step"]
    assert messages(await read(world.admin, level=5)) == []


async def test_since_is_exclusive_and_lines_come_ordered_by_time_then_arrival(world) -> None:
    for timestamp, message in ((NOW + 5, "b"), (NOW, "too old"), (NOW + 1, "a"), (NOW + 5, "c")):
        await write(world.worker, message=message, timestamp=timestamp)
    assert messages(await read(world.admin, since=NOW)) == ["a", "b", "c"]


async def test_a_large_log_is_read_in_pages_that_follow_the_cursor(world) -> None:
    for n in range(7):
        await write(world.worker, message=f"m{n}", timestamp=NOW + 10 - n % 3)
    expected = messages(await read(world.admin))
    assert sorted(expected) == [f"m{n}" for n in range(7)] and len(expected) == 7
    pages, after = [], ""
    while True:
        answer = await read(world.admin, limit=3, after=after)
        pages.append(messages(answer))
        after = answer["content"].get("next", "")
        if not after:
            break
    assert pages == [expected[:3], expected[3:6], expected[6:]]


async def test_an_empty_answer_is_an_empty_list(world) -> None:
    assert await read(world.admin, level=1) == {"ok": True, "content": {"logs": []}}


async def test_reading_logs_needs_a_logged_in_manager(world) -> None:
    await write(world.worker)
    answer = await read(world.anonymous, status=401)
    assert answer == {"ok": False, "message": "Unauthorized"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"level": 5, "since": 0}, "Invalid log request: since must be a positive Unix time"),
        ({"level": 5}, "Invalid log request: since must be a positive Unix time"),
        ({"since": 1, "limit": 10_001}, "Invalid log request: limit must be between 1 and 10000"),
        ({"since": 1, "limit": -1}, "Invalid log request: limit must be between 1 and 10000"),
        ({"since": 1, "after": "x"},
         "Invalid log request: after must be the next cursor of a previous answer"),
    ],
)  # fmt: skip
async def test_a_bad_log_query_is_refused(world, body, message) -> None:
    answer = await world.admin.post("/logs", body, status=400)
    assert answer == {"ok": False, "message": message}


@pytest.mark.parametrize("body", [b"", b"{", b'{"since": "1"}', b'{"level": 1.5, "since": 1}'])
async def test_a_malformed_log_query_cannot_be_parsed(world, body) -> None:
    answer = await world.admin.post("/logs", data=body)
    assert answer.status == 400 and answer["message"].startswith("Could not parse request")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"message": ""}, "message must not be empty"),
        ({"scope": ""}, "scope must not be empty"),
        ({"timestamp": 0}, "timestamp must be a positive Unix time"),
        ({"timestamp": -5}, "timestamp must be a positive Unix time"),
        ({"message": "x" * 65_537}, "message is limited to 65536 bytes"),
        ({"scope": "s" * 1025}, "scope is limited to 1024 bytes"),
    ],
)
async def test_an_invalid_log_line_is_refused_and_not_kept(world, fields, reason) -> None:
    head = await world.log_head()
    status, text = await write(world.worker, **fields)
    assert (status, text) == (400, f'{{"ok":false,"message":"Could not parse request: {reason}"}}')
    assert await world.log_head() == head


@pytest.mark.parametrize("body", [b"", b"not json", b'{"timestamp": "1"}', b"[1]"])
async def test_a_malformed_log_line_cannot_be_parsed(world, body) -> None:
    status, text = await write(world.worker, body=body)
    assert status == 400 and '"message":"Could not parse request' in text


async def test_a_worker_that_fails_the_check_gets_a_400_that_says_why(world) -> None:
    assert await write(world.anonymous) == (
        400, '{"ok":false,"message":"Could not parse request: worker id not specified"}',
    )  # fmt: skip
    wrong = dataclasses.replace(world.worker, worker=dict(world.worker.worker, secret="AAAA"))
    assert await write(wrong) == (
        400, '{"ok":false,"message":"Could not parse request: invalid secret"}',
    )  # fmt: skip


async def test_keys_match_in_any_case_as_in_go(world) -> None:
    body = {"Scope": "crawler", "Message": "capitalised", "TimeStamp": NOW}
    assert await write(world.worker, body=body) == (204, "")
    assert messages(await read(world.admin)) == ["capitalised"]


async def test_only_the_four_worker_levels_exist(world) -> None:
    assert (await write(world.worker, "debug"))[0] == 404


async def test_kept_lines_survive_a_restart(world) -> None:
    await write(world.worker, message="before")
    await world.restart()
    admin = await world.login("admin")
    assert messages(await read(admin)) == ["before"]


async def test_the_buffer_keeps_the_newest_lines_of_each_level(
    make_client: MakeClient, settings
) -> None:
    small = amend(settings, database={"log_buffer_entries": 2})
    world = await (await World.start(make_client, small)).open()
    for n in range(4):
        await write(world.worker, message=f"info {n}", timestamp=NOW - n)
    await write(world.worker, "error", message="error 0")
    assert messages(await read(world.admin)) == ["info 3", "info 2"]  # the last two written
    assert messages(await read(world.admin, level=3)) == ["error 0"]
    await world.restart(small)
    admin = await world.login("admin")
    assert messages(await read(admin)) == ["info 3", "info 2"]
