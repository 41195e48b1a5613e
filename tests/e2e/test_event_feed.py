"""GET /events?after=N: durable events in log order, gapless for what the caller may read,
paged, long-polling for new ones; the audit token and admins see all, managers their projects."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Clock
from tests.e2e.scripted_run import audit_settings, scripted_run, submit, token
from tests.waiting import eventually, suspended_in
from tests.world import Caller, World
from tracker import config
from tracker.audit.feed import wait_for_page
from tracker.commands.projects import ROLE_READ


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


async def feed(caller: Caller, query: str, **kwargs: Any) -> Any:
    return await caller.get(f"/events?{query}", **kwargs)


async def follow(caller: Caller, limit: int = 7, **kwargs: Any) -> list[dict]:
    """Every event the caller may read, page by page, following ``next``."""
    found, after = [], 0
    while True:
        page = (await feed(caller, f"after={after}&limit={limit}", **kwargs)).content
        found.extend(page["events"])
        if page["next"] == page["head"] and not page["events"]:
            return found
        after = page["next"]


async def test_the_token_pages_through_every_durable_event_in_order(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    await scripted_run(world, clock, rounds=2)
    head = world.position()

    events = await follow(world.anonymous, headers=token())

    assert [e["position"] for e in events] == list(range(1, head + 1))
    created = next(e for e in events if e["type"] == "WorkerCreated")
    assert created["event"]["secret"] == "[redacted]" and created["redacted"] == ["secret"]
    registered = next(e for e in events if e["type"] == "ManagerRegistered")
    assert registered["event"]["password_hash"] == "[redacted]"


async def test_a_manager_sees_exactly_the_events_of_projects_they_may_read(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    people = await scripted_run(world, clock, rounds=2)
    await world.set_role(people.chained, people.alice, ROLE_READ)
    everything = await follow(world.anonymous, headers=token())

    seen = await follow(people.alice, limit=5)

    expected = [e for e in everything if e["event"].get("project_id") == people.chained]
    assert seen == expected and len(expected) > 20
    assert await follow(world.admin, limit=50) == everything


async def test_the_feed_needs_the_token_or_a_manager_session(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    people = await scripted_run(world, clock, rounds=1)

    assert (await feed(world.anonymous, "after=0")).status == 401
    assert (await feed(world.workers[0], "after=0")).status == 401
    wrong = {"Authorization": "Bearer not-the-audit-token"}
    assert (await feed(world.anonymous, "after=0", headers=wrong)).status == 401
    nothing = await feed(people.alice, "after=0")  # a manager without roles
    assert nothing.status == 200 and nothing.content["events"] == []
    assert (await feed(world.anonymous, "limit=0", headers=token())).status == 400
    assert (await feed(world.anonymous, "timeout=61", headers=token())).status == 400
    assert (await feed(world.anonymous, "after=x", headers=token())).status == 400


async def test_a_long_poll_returns_as_soon_as_a_new_event_is_durable(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    people = await scripted_run(world, clock, rounds=1)
    head = world.position()

    assert not suspended_in(wait_for_page)
    poll = asyncio.create_task(feed(world.anonymous, f"after={head}&timeout=10", headers=token()))
    await eventually(lambda: suspended_in(wait_for_page), what="the long poll waiting")
    assert not poll.done()
    await submit(world.workers[0], people.target, 1, 9000)
    submitted = time.monotonic()
    answer = await poll

    assert time.monotonic() - submitted < 5  # not at its 10 s timeout
    assert [e["type"] for e in answer.content["events"]] == ["TasksSubmitted"]
    assert answer.content["events"][0]["position"] == head + 1


async def test_a_long_poll_with_nothing_new_ends_empty_at_its_timeout(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    await scripted_run(world, clock, rounds=1)
    head = world.position()

    started = time.monotonic()
    answer = await feed(world.anonymous, f"after={head}&timeout=1", headers=token())

    assert time.monotonic() - started >= 1
    assert answer.content == {"events": [], "next": head, "head": head}
