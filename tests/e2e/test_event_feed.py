"""GET /events?after=N: durable events in log order, gapless for what the caller may read,
paged, long-polling for new ones; the audit token and admins see all, managers their projects."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import ANONYMOUS, Caller, call, set_role, start
from tests.e2e.scripted_run import Cast, audit_settings, scripted_run, submit, token
from tests.world import tracker_of
from tracker import config
from tracker.commands.projects import ROLE_READ


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


@pytest.fixture
async def client(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> TestClient:
    return await start(aiohttp_client, settings, clock)


async def feed(client: TestClient, query: str, caller: Caller = ANONYMOUS, **kwargs: Any) -> Any:
    return await call(client, "GET", f"/events?{query}", caller, **kwargs)


async def follow(client: TestClient, caller: Caller = ANONYMOUS, limit: int = 7,
                 **kwargs: Any) -> list[dict]:  # fmt: skip
    """Every event the caller may read, page by page, following ``next``."""
    found, after = [], 0
    while True:
        page = (await feed(client, f"after={after}&limit={limit}", caller, **kwargs)).content
        found.extend(page["events"])
        if page["next"] == page["head"] and not page["events"]:
            return found
        after = page["next"]


async def test_the_token_pages_through_every_durable_event_in_order(
    client: TestClient, clock: Clock
) -> None:
    await scripted_run(client, clock, rounds=2)
    head = tracker_of(client).state.position

    events = await follow(client, headers=token())

    assert [e["position"] for e in events] == list(range(1, head + 1))
    created = next(e for e in events if e["type"] == "WorkerCreated")
    assert created["event"]["secret"] == "[redacted]" and created["redacted"] == ["secret"]
    registered = next(e for e in events if e["type"] == "ManagerRegistered")
    assert registered["event"]["password_hash"] == "[redacted]"


async def test_a_manager_sees_exactly_the_events_of_projects_they_may_read(
    client: TestClient, clock: Clock
) -> None:
    people: Cast = await scripted_run(client, clock, rounds=2)
    await set_role(client, people.admin, people.chained, people.alice, ROLE_READ)
    everything = await follow(client, headers=token())

    seen = await follow(client, people.alice, limit=5)

    expected = [e for e in everything if e["event"].get("project_id") == people.chained]
    assert seen == expected and len(expected) > 20
    assert await follow(client, people.admin, limit=50) == everything


async def test_the_feed_needs_the_token_or_a_manager_session(
    client: TestClient, clock: Clock
) -> None:
    people = await scripted_run(client, clock, rounds=1)

    assert (await feed(client, "after=0")).status == 401
    assert (await feed(client, "after=0", people.workers[0])).status == 401
    wrong = {"Authorization": "Bearer not-the-audit-token"}
    assert (await feed(client, "after=0", headers=wrong)).status == 401
    nothing = await feed(client, "after=0", people.alice)  # a manager without roles
    assert nothing.status == 200 and nothing.content["events"] == []
    assert (await feed(client, "limit=0", headers=token())).status == 400
    assert (await feed(client, "timeout=61", headers=token())).status == 400
    assert (await feed(client, "after=x", headers=token())).status == 400


async def test_a_long_poll_returns_as_soon_as_a_new_event_is_durable(
    client: TestClient, clock: Clock
) -> None:
    people = await scripted_run(client, clock, rounds=1)
    head = tracker_of(client).state.position

    async def later() -> None:
        await asyncio.sleep(0.3)
        await submit(client, people.workers[0], people.target, 1, 9000)

    started = time.monotonic()
    answer, _ = await asyncio.gather(
        feed(client, f"after={head}&timeout=10", headers=token()), later()
    )

    assert 0.25 < time.monotonic() - started < 5
    assert [e["type"] for e in answer.content["events"]] == ["TasksSubmitted"]
    assert answer.content["events"][0]["position"] == head + 1


async def test_a_long_poll_with_nothing_new_ends_empty_at_its_timeout(
    client: TestClient, clock: Clock
) -> None:
    await scripted_run(client, clock, rounds=1)
    head = tracker_of(client).state.position

    started = time.monotonic()
    answer = await feed(client, f"after={head}&timeout=1", headers=token())

    assert time.monotonic() - started >= 1
    assert answer.content == {"events": [], "next": head, "head": head}
