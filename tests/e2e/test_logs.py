"""Worker log lines: ``POST /log/<level>`` from workers, ``POST /logs`` for managers.

Writing answers as the original (204; any failure 400 ``Could not parse request``, here with
the reason after a colon). Reading needs a manager, filters one level and ``since`` as the
original, and comes ordered (worker timestamp, then arrival) in pages.
"""

from __future__ import annotations

import pytest

from tests.conftest import Api, MakeClient
from tests.e2e.support import cheap, forget_session, log_head

NOW = 1_700_000_000


@pytest.fixture
async def worker(api: Api) -> dict:
    await api.register("admin")
    return await api.create_worker("crawler 1")


async def write(api: Api, worker: dict | None, level: str = "info", body: object = None,
                **fields: object) -> tuple[int, str]:  # fmt: skip
    if body is None:
        body = {"scope": "crawler", "message": "hello", "timestamp": NOW, **fields}
    headers = {"X-Worker-Id": str(worker["id"]), "X-Secret": worker["secret"]} if worker else {}
    if isinstance(body, bytes):
        response = await api.client.post(f"/log/{level}", data=body, headers=headers)
    else:
        response = await api.client.post(f"/log/{level}", json=body, headers=headers)
    return response.status, await response.text()


async def read(api: Api, level: int = 5, since: int = 1, status: int = 200, **more: object) -> dict:
    return await api.call("POST", "/logs", {"level": level, "since": since, **more}, status=status)


def messages(answer: dict) -> list[str]:
    return [entry["message"] for entry in answer["content"]["logs"]]


async def test_a_worker_log_line_is_kept_and_served_as_the_original_shaped_it(api, worker) -> None:
    assert await write(api, worker, "warn", message="disk full") == (204, "")
    answer = await read(api, level=4)
    assert answer == {"ok": True, "content": {"logs": [{
        "message": "disk full", "timestamp": NOW,
        "data": f'{{"scope":"crawler","worker":{worker["id"]}}}', "level": 4,
    }]}}  # fmt: skip


@pytest.mark.parametrize(("level", "number"), [("error", 3), ("warn", 4), ("info", 5)])
async def test_each_kept_level_has_its_number_and_queries_match_it_exactly(
    api, worker, level, number
) -> None:
    for name in ("error", "warn", "info"):
        await write(api, worker, name, message=name)
    assert messages(await read(api, level=number)) == [level]


async def test_levels_outside_database_log_levels_are_accepted_but_not_kept(api, worker) -> None:
    head = await log_head(api)
    assert await write(api, worker, "trace") == (204, "")
    assert await log_head(api) == head
    assert messages(await read(api, level=7)) == []


async def test_trace_is_kept_when_configured(make_client: MakeClient, settings) -> None:
    every = cheap(settings, database={"log_levels": ["trace", "error"]})
    api = Api(await make_client(every))
    await api.register("admin")
    worker = await api.create_worker()
    await write(api, worker, "trace", message="step")
    await write(api, worker, "info", message="not kept")
    assert messages(await read(api, level=7)) == ["step"]
    assert messages(await read(api, level=5)) == []


async def test_since_is_exclusive_and_lines_come_ordered_by_time_then_arrival(api, worker) -> None:
    for timestamp, message in ((NOW + 5, "b"), (NOW, "too old"), (NOW + 1, "a"), (NOW + 5, "c")):
        await write(api, worker, message=message, timestamp=timestamp)
    assert messages(await read(api, since=NOW)) == ["a", "b", "c"]


async def test_a_large_log_is_read_in_pages_that_follow_the_cursor(api, worker) -> None:
    for n in range(7):
        await write(api, worker, message=f"m{n}", timestamp=NOW + 10 - n % 3)
    expected = messages(await read(api))
    assert sorted(expected) == [f"m{n}" for n in range(7)] and len(expected) == 7
    pages, after = [], ""
    while True:
        answer = await read(api, limit=3, after=after)
        pages.append(messages(answer))
        after = answer["content"].get("next", "")
        if not after:
            break
    assert pages == [expected[:3], expected[3:6], expected[6:]]


async def test_an_empty_answer_is_an_empty_list(api, worker) -> None:
    assert await read(api, level=1) == {"ok": True, "content": {"logs": []}}


async def test_reading_logs_needs_a_logged_in_manager(api, worker) -> None:
    await write(api, worker)
    forget_session(api)
    answer = await read(api, status=401)
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
async def test_a_bad_log_query_is_refused(api, worker, body, message) -> None:
    answer = await api.call("POST", "/logs", body, status=400)
    assert answer == {"ok": False, "message": message}


@pytest.mark.parametrize("body", [b"", b"{", b'{"since": "1"}', b'{"level": 1.5, "since": 1}'])
async def test_a_malformed_log_query_cannot_be_parsed(api, worker, body) -> None:
    response = await api.client.post("/logs", data=body)
    answer = await response.json()
    assert response.status == 400 and answer["message"].startswith("Could not parse request")


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
async def test_an_invalid_log_line_is_refused_and_not_kept(api, worker, fields, reason) -> None:
    head = await log_head(api)
    status, text = await write(api, worker, **fields)
    assert (status, text) == (400, f'{{"ok":false,"message":"Could not parse request: {reason}"}}')
    assert await log_head(api) == head


@pytest.mark.parametrize("body", [b"", b"not json", b'{"timestamp": "1"}', b"[1]"])
async def test_a_malformed_log_line_cannot_be_parsed(api, worker, body) -> None:
    status, text = await write(api, worker, body=body)
    assert status == 400 and '"message":"Could not parse request' in text


async def test_a_worker_that_fails_the_check_gets_a_400_that_says_why(api, worker) -> None:
    assert await write(api, None) == (
        400, '{"ok":false,"message":"Could not parse request: worker id not specified"}',
    )  # fmt: skip
    wrong = dict(worker, secret="AAAA")
    assert await write(api, wrong) == (
        400, '{"ok":false,"message":"Could not parse request: invalid secret"}',
    )  # fmt: skip


async def test_keys_match_in_any_case_as_in_go(api, worker) -> None:
    body = {"Scope": "crawler", "Message": "capitalised", "TimeStamp": NOW}
    assert await write(api, worker, body=body) == (204, "")
    assert messages(await read(api)) == ["capitalised"]


async def test_only_the_four_worker_levels_exist(api, worker) -> None:
    assert (await write(api, worker, "debug"))[0] == 404


async def test_kept_lines_survive_a_restart(api, worker, make_client: MakeClient) -> None:
    await write(api, worker, message="before")
    await api.client.close()
    restarted = Api(await make_client())
    await restarted.login("admin")
    assert messages(await read(restarted)) == ["before"]


async def test_the_buffer_keeps_the_newest_lines_of_each_level(
    make_client: MakeClient, settings
) -> None:
    small = cheap(settings, database={"log_buffer_entries": 2})
    api = Api(await make_client(small))
    await api.register("admin")
    worker = await api.create_worker()
    for n in range(4):
        await write(api, worker, message=f"info {n}", timestamp=NOW - n)
    await write(api, worker, "error", message="error 0")
    assert messages(await read(api)) == ["info 3", "info 2"]  # the last two written
    assert messages(await read(api, level=3)) == ["error 0"]
    await api.client.close()
    restarted = Api(await make_client(small))
    await restarted.login("admin")
    assert messages(await read(restarted)) == ["info 3", "info 2"]
