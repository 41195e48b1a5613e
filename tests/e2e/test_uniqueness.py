"""Task uniqueness over HTTP: ``hash_u64`` / ``hash64`` / ``unique_string`` among the live tasks
of a project (behavior.md 7.6, the SipHash vectors of section 14)."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.e2e.support import (
    HELLO_WORLD,
    Desk,
    add_project,
    log_head,
    open_desk,
    position,
)

OK, FAIL = 0, 1


@pytest.fixture
async def desk(api: Api) -> Desk:
    return await open_desk(api, workers=1)


async def duplicate(desk: Desk, **fields: object) -> None:
    """Submitting ``fields`` is refused as a duplicate, and nothing is appended."""
    before, logged = position(desk.api), await log_head(desk.api)
    answer = await desk.api.call("POST", "/task/submit",
                                 {"project": desk.project, "recipe": "again", **fields},
                                 worker=desk.worker, status=400)  # fmt: skip
    assert answer["ok"] is False and answer["message"], answer
    assert "hash" in answer["message"]
    assert (position(desk.api), await log_head(desk.api)) == (before, logged)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"hash_u64": 77}, {"hash_u64": 77}),
        ({"unique_string": "a page"}, {"unique_string": "a page"}),
        ({"hash64": 77}, {"hash_u64": 77}),
        ({"hash_u64": 77}, {"hash64": 77}),
        ({"unique_string": "Hello, world"}, {"hash_u64": HELLO_WORLD}),
        ({"hash_u64": HELLO_WORLD}, {"unique_string": "Hello, world"}),
        ({"unique_string": "a"}, {"hash_u64": 5158252350249958646}),
        ({"unique_string": "https://example.com/page/1"}, {"hash_u64": 3131938311317662105}),
        ({"unique_string": "This one should work"}, {"hash_u64": -383734471695024599}),
        ({"hash_u64": -(2**63)}, {"hash64": -(2**63)}),
    ],
)
async def test_a_second_live_task_with_the_same_hash_is_refused(
    desk: Desk, first: dict, second: dict
) -> None:
    assert await desk.submit("first", **first) == {"ok": True}
    await duplicate(desk, **second)


async def test_a_different_unique_string_is_accepted(desk: Desk) -> None:
    assert await desk.submit(unique_string="Hello, world") == {"ok": True}
    assert await desk.submit(unique_string="Hello, world!") == {"ok": True}
    assert await desk.submit(unique_string="hello, world") == {"ok": True}


async def test_hash_zero_and_an_empty_unique_string_mean_no_hash(desk: Desk) -> None:
    for fields in ({}, {"hash_u64": 0}, {"unique_string": ""}, {"hash64": 0}, {"hash_u64": 0}):
        assert await desk.submit(**fields) == {"ok": True}


async def test_an_assigned_or_failed_task_still_holds_its_hash(desk: Desk) -> None:
    await desk.submit(hash_u64=1)
    await desk.submit(hash_u64=2, max_retries=0)
    assigned = await desk.task()
    failed = await desk.task()
    assert await desk.release(failed["id"], FAIL) == {"ok": True, "content": {"updated": True}}
    await duplicate(desk, hash_u64=1)
    await duplicate(desk, hash_u64=2)
    assert assigned["id"] == 1


async def test_a_hash_can_be_submitted_again_once_its_task_closed(desk: Desk) -> None:
    await desk.submit("first", unique_string="Hello, world")
    task = await desk.task()
    assert (await desk.release(task["id"], OK))["content"] == {"updated": True}
    assert await desk.submit("second", hash_u64=HELLO_WORLD) == {"ok": True}
    assert (await desk.task())["recipe"] == "second"


async def test_the_same_hash_may_live_in_two_projects(desk: Desk) -> None:
    other = await add_project(desk, "other")
    assert await desk.submit(unique_string="shared") == {"ok": True}
    answer = await desk.api.submit(desk.worker, other, "r", unique_string="shared")
    assert answer == {"ok": True}


async def test_submitting_both_a_hash_and_a_unique_string_is_invalid(desk: Desk) -> None:
    body = {"project": desk.project, "recipe": "r", "hash_u64": 5, "unique_string": "x"}
    answer = await desk.api.call("POST", "/task/submit", body, worker=desk.worker, status=400)
    assert answer["message"].startswith("Invalid task")
