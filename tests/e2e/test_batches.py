"""``/task/bulk_get`` and ``/task/bulk_release`` over HTTP: every rule of ``/task/get`` and
``/task/release`` holds per task, the answer says per task what happened, one request is one
event and one group commit, and a malformed batch changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Clock
from tests.world import CLOSED, NO_TASK, World, amend
from tracker import config
from tracker.events.store import read_events
from tracker.events.tasks import TasksAssigned, TasksReleased
from tracker.http.routes.tasks import MAX_REASON_BYTES

OK, FAIL, SKIP = 0, 1, 2
MAX_BATCH = 50


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return amend(settings, tasks={"max_batch_size": MAX_BATCH})


def ids(answer: Any) -> list[int]:
    assert answer.status == 200 and answer.ok is True, answer
    return [task["id"] for task in answer.content["tasks"]]


def per_task(answer: Any) -> list[tuple[int, bool, str]]:
    assert answer.status == 200 and answer.ok is True, answer
    return [(t["task_id"], t["updated"], t["outcome"]) for t in answer.content["tasks"]]


async def submit_many(world: World, n: int, **fields: Any) -> None:
    body = {"requests": [{"project": world.project, "recipe": f"r{i}", **fields}
                         for i in range(n)]}  # fmt: skip
    assert (await world.worker.post("/task/bulk_submit", body)).ok is True


async def logged(world: World, kind: type) -> list:
    return [r.event async for r in read_events(world.tracker.store) if isinstance(r.event, kind)]


# --- bulk_get ---------------------------------------------------------------------------


async def test_a_batch_is_the_tasks_single_gets_would_give_best_first(world: World) -> None:
    await world.submit("low")
    await world.submit("high", priority=9)
    await world.submit("middle", priority=5)
    await world.submit("low too")
    answer = await world.take(3)
    assert [t["recipe"] for t in answer.content["tasks"]] == ["high", "middle", "low"]
    single = await world.task(by=1)
    assert single["recipe"] == "low too"
    shapes = {tuple(t) for t in answer.content["tasks"]}
    assert shapes == {tuple(single)}  # each task as /task/get shows it, project included
    assert all(t["assignee"] == world.worker.id for t in answer.content["tasks"])


async def test_one_batch_is_one_event_and_one_commit(world: World) -> None:
    await submit_many(world, 30)
    before, commits = world.position(), world.tracker.writer.batch_sizes.batches
    assert len(ids(await world.take(20))) == 20
    assert world.position() == before + 1
    assert world.tracker.writer.batch_sizes.batches == commits + 1
    [event] = await logged(world, TasksAssigned)
    assert [a.task_id for a in event.tasks] == list(range(1, 21))


async def test_a_batch_takes_what_there_is_then_no_task_is_available(world: World) -> None:
    await submit_many(world, 3)
    assert len(ids(await world.take(10))) == 3
    assert await world.take(10) == NO_TASK


@pytest.mark.parametrize("query", ["", "?count=0", "?count=51", "?count=x", "?count=-1",
                                   "?count=1.5", "?count=99999999999999999999999"])  # fmt: skip
async def test_count_must_be_between_one_and_the_bound(world: World, query: str) -> None:
    await world.submit()
    before = world.position()
    answer = await world.worker.get(f"/task/bulk_get/{world.project}{query}")
    assert answer.status == 400
    assert answer.body == {"ok": False, "message": "Invalid request: count must be a whole "
                           f"number from 1 to {MAX_BATCH}"}  # fmt: skip
    assert world.position() == before


async def test_the_rules_of_task_get_hold_for_a_batch(world: World) -> None:
    await world.submit()
    other = await world.create_project("private")  # nobody has access
    await world.submit("p", by=0, project=world.project)
    assert await world.take(5, project=other) == NO_TASK
    unknown = await world.take(5, project=999)
    assert (unknown.status, unknown.message) == (404, "Project not found")
    bad = await world.worker.get("/task/bulk_get/x?count=1")
    assert (bad.status, bad.message) == (400, "Invalid project id")
    await world.update_project(paused=True)
    assert await world.take(5) == NO_TASK
    await world.update_project(paused=False)
    await world.pause_worker(world.worker)
    paused = await world.take(5)
    assert (paused.status, paused.message) == (400, "A manager has paused you")
    nobody = await world.anonymous.get(f"/task/bulk_get/{world.project}?count=1")
    assert nobody.status == 403 and nobody.body == {
        "ok": False, "message": "worker id not specified"}  # fmt: skip
    assert len(ids(await world.take(5, by=1))) == 2


async def test_a_rate_limited_project_gives_one_task_per_batch(
    bare_world: World, clock: Clock
) -> None:
    world = await bare_world.open(workers=1, assign_rate=2)
    await submit_many(world, 5)
    assert len(ids(await world.take(5))) == 1
    refused = await world.take(5)
    assert (refused.status, refused.body) == (
        429,
        {"ok": False, "message": "Too many requests", "rate_limit_delay": 0.5},
    )
    clock.advance(0.5)
    assert len(ids(await world.take(5))) == 1


async def test_a_worker_gets_no_task_it_already_voted_on(world: World) -> None:
    await submit_many(world, 3, verification_count=2)
    first = ids(await world.take(1))
    vote = {"task_id": first[0], "result": OK, "verification": 7}
    assert per_task(await world.release_all(vote)) == [(1, False, "voted")]
    assert ids(await world.take(5)) == [2, 3]
    assert ids(await world.take(5, by=1)) == [1]


# --- bulk_release -----------------------------------------------------------------------


async def test_each_task_of_a_release_is_answered_for_held_or_not(world: World) -> None:
    await submit_many(world, 5, max_retries=3)
    mine = ids(await world.take(4))  # 1..4
    theirs = ids(await world.take(1, by=1))  # 5
    answer = await world.release_all((1, OK), (2, FAIL), (3, SKIP), (theirs[0], OK), (999, OK))
    assert per_task(answer) == [
        (1, True, "closed"), (2, True, "retry"), (3, True, "skipped"),
        (5, False, "not_assigned"), (999, False, "not_assigned"),
    ]  # fmt: skip
    assert mine == [1, 2, 3, 4]
    assert await world.release(theirs[0], OK, by=1) == CLOSED  # the other worker's, untouched
    state = world.tracker.state
    assert state.tasks.get(1) is None and state.tasks.get(4).assignee == world.worker.id  # type: ignore[union-attr]
    assert state.workers.get(world.worker.id).closed_task_count == 1  # type: ignore[union-attr]
    assert state.projects.get(world.project).closed_task_count == 2  # type: ignore[union-attr]


async def test_tasks_a_worker_released_skip_in_a_batch_are_given_to_it_again(
    world: World,
) -> None:
    """A stopping worker's batch (``tracker work`` on SIGTERM): some tasks OK, those still
    running SKIP. The same worker gets the skipped ones again, after the tasks never taken
    (each goes back to the end of its queue), and then the project has nothing left."""
    await submit_many(world, 12)
    assert ids(await world.take(8)) == list(range(1, 9))
    skipped = (2, 5, 6, 8)
    answer = await world.release_all(*((t, SKIP if t in skipped else OK) for t in range(1, 9)))
    assert [outcome for _, _, outcome in per_task(answer)].count("skipped") == 4
    assert ids(await world.take(MAX_BATCH)) == [9, 10, 11, 12, *skipped]
    answer = await world.release_all(*((t, OK) for t in (9, 10, 11, 12, *skipped)))
    assert {outcome for _, _, outcome in per_task(answer)} == {"closed"}
    assert await world.take(MAX_BATCH) == NO_TASK
    assert world.tracker.state.projects.get(world.project).closed_task_count == 12  # type: ignore[union-attr]


async def test_a_fail_with_no_attempt_left_is_updated_as_in_task_release(world: World) -> None:
    await submit_many(world, 1, max_retries=1)
    ids(await world.take(1))
    assert per_task(await world.release_all((1, FAIL))) == [(1, True, "failed")]
    assert world.tracker.state.tasks.get(1).status == 2  # type: ignore[union-attr]


async def test_verification_counts_two_distinct_workers(world: World) -> None:
    await submit_many(world, 2, verification_count=2)
    ids(await world.take(2))
    votes = [{"task_id": t, "result": OK, "verification": 42} for t in (1, 2)]
    assert per_task(await world.release_all(*votes)) == [(1, False, "voted"), (2, False, "voted")]
    assert await world.take(2) == NO_TASK  # this worker voted on both
    ids(await world.take(2, by=1))
    votes[1]["verification"] = 43
    assert per_task(await world.release_all(*votes, by=1)) == [
        (1, True, "closed"), (2, False, "voted")]  # fmt: skip


async def test_each_task_keeps_its_own_reason_in_the_log_and_its_history(world: World) -> None:
    await submit_many(world, 2, max_retries=5)
    ids(await world.take(2))
    head = "Traceback ...\nKeyError: 'url' \u2014 \u00e9"
    reason = head + "x" * (MAX_REASON_BYTES - len(head.encode()))
    assert len(reason.encode()) == MAX_REASON_BYTES
    await world.release_all({"task_id": 1, "result": FAIL, "reason": reason},
                            {"task_id": 2, "result": FAIL, "reason": "timeout"})  # fmt: skip
    [event] = await logged(world, TasksReleased)
    assert [(r.task_id, r.reason) for r in event.tasks] == [(1, reason), (2, "timeout")]
    history = await world.admin.get("/task/history/2", status=200)
    released = history.content["events"][-1]
    assert released["type"] == "TasksReleased"
    assert (released["event"]["reason"], released["event"]["outcome"]) == ("timeout", "retry")
    assert released["event"]["task_count"] == 2
    assert history.content["task"]["state"] == "queued"


@pytest.mark.parametrize(
    ("releases", "message"),
    [
        ([], "Invalid request: releases must be a non-empty list"),
        ([{"task_id": 1, "result": 0}, {"task_id": 1, "result": 1}],
         "Invalid request: releases[1]: task 1 is listed twice"),
        ([{"task_id": 1, "result": 5}],
         "Invalid request: releases[0]: result must be 0 (OK), 1 (FAIL) or 2 (SKIP)"),
        ([{"task_id": 1, "result": 0}, {"result": 0}],
         "Invalid request: releases[1]: task_id must be positive"),
        ([{"task_id": 1, "result": 1, "reason": "x" * (MAX_REASON_BYTES + 1)}],
         f"Invalid request: releases[0]: reason is longer than {MAX_REASON_BYTES} bytes"),
        ([{"task_id": t, "result": 0} for t in range(1, MAX_BATCH + 2)],
         f"Invalid request: at most {MAX_BATCH} releases per request"),
    ],
)  # fmt: skip
async def test_a_malformed_batch_is_refused_whole_and_changes_nothing(
    world: World, releases: list, message: str
) -> None:
    await submit_many(world, 2)
    ids(await world.take(2))
    before = world.position()
    answer = await world.worker.post("/task/bulk_release", {"releases": releases})
    assert (answer.status, answer.body) == (400, {"ok": False, "message": message})
    assert world.position() == before


async def test_a_bulk_release_authenticates_with_403(world: World) -> None:
    answer = await world.anonymous.post("/task/bulk_release", {"releases": []})
    assert (answer.status, answer.body) == (
        403,
        {"ok": False, "message": "worker id not specified"},
    )


async def test_closed_tasks_of_a_chained_project_are_copied_unless_the_hash_is_taken(
    world: World,
) -> None:
    target = await world.add_project("target")
    await world.update_project(chain=target)
    await world.submit("taken", hash_u64=7)
    await world.submit("free", hash_u64=8)
    await world.submit("taken there", by=0, project=target, hash_u64=7)
    ids(await world.take(2))
    assert per_task(await world.release_all((1, OK), (2, OK))) == [
        (1, True, "closed"), (2, True, "closed")]  # fmt: skip
    copies = (await world.take(5, project=target)).content["tasks"]
    assert [(t["id"], t["recipe"]) for t in copies] == [(3, "taken there"), (4, "free")]
    history = await world.admin.get("/task/history/4", status=200)
    assert history.content["task"]["chained_from"] == 2


async def test_a_closed_hash_may_be_submitted_again(world: World) -> None:
    await world.submit("once", unique_string="u")
    ids(await world.take(1))
    duplicate = await world.submit("twice", unique_string="u")
    assert duplicate.status == 400
    await world.release_all((1, OK))
    assert (await world.submit("again", unique_string="u")).ok is True


async def test_a_paused_worker_still_releases_its_batch(world: World) -> None:
    await submit_many(world, 2)
    ids(await world.take(2))
    await world.pause_worker(world.worker)
    assert per_task(await world.release_all((1, OK), (2, SKIP))) == [
        (1, True, "closed"), (2, True, "skipped")]  # fmt: skip


async def test_batches_survive_a_restart(world: World) -> None:
    await submit_many(world, 4, verification_count=2)
    ids(await world.take(4))
    await world.release_all((1, OK), (2, FAIL), (3, OK))
    before = world.tracker.state.tasks.tasks
    snapshot = {t: (x.assignee, x.votes, x.retries, x.status) for t, x in before.items()}
    await world.restart()
    after = world.tracker.state.tasks.tasks
    assert {t: (x.assignee, x.votes, x.retries, x.status) for t, x in after.items()} == snapshot


async def test_batch_closes_are_counted_where_single_ones_are(world: World) -> None:
    await submit_many(world, 3)
    ids(await world.take(3))
    await world.release_all((1, OK), (2, OK), (3, SKIP))
    stats = await world.anonymous.get("/worker/stats", status=200)
    closed = {s["alias"]: s["closed_task_count"] for s in stats.content["stats"]}
    assert closed[world.worker.name] == 2
    monitoring = await world.admin.get(f"/project/monitoring/{world.project}?count=1")
    assert monitoring.status == 200


# --- off --------------------------------------------------------------------------------


async def test_batches_off_answer_404_as_the_original_and_say_so(
    make_client: Any, settings: config.Settings
) -> None:
    off = amend(settings, tasks={"max_batch_size": 0})
    world = await (await World.start(make_client, off)).open(workers=1)
    await world.submit()
    for answer in (await world.take(1), await world.release_all((1, OK))):
        assert (answer.status, answer.body) == (404, {"ok": False, "message": "Not found"})
    info = await world.anonymous.get("/", status=200)
    assert info.content["max_batch_size"] == 0


@pytest.mark.parametrize(
    "element",
    [
        '{"task_id": 1, "result": 0}',  # every key as Go matches it: read at once
        '{"Task_ID": 1, "RESULT": 0, "reason": null}',  # upper case and null: normalized first
        '{"tas\\u212a_id": 1, "result": 0}',  # the Kelvin sign folds to k, as in Go
        '{"\\u0054ask_id": 1, "result": 0}',  # an escaped upper-case T
        '{"tas\u212a_id": 1, "result": 0, "reason": "caf\u00e9"}',  # the same, unescaped
    ],
)
async def test_release_keys_are_matched_as_the_original_matches_them(
    world: World, element: str
) -> None:
    await submit_many(world, 1)
    ids(await world.take(1))
    body = f'{{"releases": [{element}]}}'.encode()
    answer = await world.worker.post("/task/bulk_release", data=body)
    assert per_task(answer) == [(1, True, "closed")]
