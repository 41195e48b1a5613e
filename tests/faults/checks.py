"""What must hold after any fault, judged from the log itself and from what the workers saw.

- every acknowledged submit is in the log and was closed exactly once;
- no task was held by two workers at once: not in the log (an assignment while another
  holds it, ``holders_over_time``), and not as the workers saw it (two assignments of one task
  whose releases were both ``updated``, with overlapping times: each worker held it from before
  its answer came until after its release was sent);
- every node's read models have the digest of a fresh replay of the log, at the log's head.

It also reads, from the log's own times, how late the scheduler took back each assignment
whose deadline passed (``AssignmentExpired.at`` against the ``TaskAssigned.deadline`` it ends).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import aiohttp

from tests.faults.cluster import AUDIT_TOKEN, Cluster
from tests.faults.load import Holding, Record
from tests.integration.test_cluster import replayed
from tests.integration.test_sigkill import holders_over_time
from tests.waiting import eventually
from tracker.events.postgres import PostgresEventStore
from tracker.events.store import read_events
from tracker.events.tasks import (
    AssignmentExpired,
    Outcome,
    TaskAssigned,
    TaskReleased,
    TaskSubmitted,
)

BEARER = {"Authorization": f"Bearer {AUDIT_TOKEN}"}


@dataclass
class Verdict:
    acked: int = 0
    not_once: list[tuple[str, int]] = field(default_factory=list)  # (recipe, times closed)
    held_twice_in_log: str = ""  # the first assignment of a held task, as the log has it
    held_twice_seen: list[tuple[Holding, Holding]] = field(default_factory=list)
    digests_differ: list[str] = field(default_factory=list)  # node names
    head: int = 0
    expiries: list[tuple[float, float]] = field(default_factory=list)  # (deadline, s late)

    def failures(self) -> list[str]:
        found = []
        if self.not_once:
            found.append(f"{len(self.not_once)} acknowledged submits not closed exactly once, "
                         f"e.g. {self.not_once[:3]}")  # fmt: skip
        if self.held_twice_in_log:
            found.append(f"a task held by two workers in the log: {self.held_twice_in_log}")
        if self.held_twice_seen:
            found.append(f"a task held by two workers as seen: {self.held_twice_seen[:2]}")
        if self.digests_differ:
            found.append(f"digests differ from a fresh replay: {', '.join(self.digests_differ)}")
        return found


async def judge(cluster: Cluster, record: Record, session: aiohttp.ClientSession) -> Verdict:
    verdict = Verdict(acked=len(record.acked), held_twice_seen=seen_twice(record.holdings))
    store = await PostgresEventStore.open_reader(cluster.dsn)
    try:
        events = [recorded.event async for recorded in read_events(store)]
    finally:
        await store.close()
    expected = await replayed(
        cluster.dsn, cluster.nodes[0].data_dir.parent / f"{cluster.schema}-replay"
    )
    verdict.head = expected["position"]
    verdict.not_once = closed_not_once(events, record)
    verdict.expiries = expiry_lateness(events)
    try:
        holders_over_time(events)
    except AssertionError as twice:
        verdict.held_twice_in_log = str(twice)
    for node in cluster.nodes:
        found = await node_digest(session, node.url, verdict.head)
        if found != expected["models"]:
            verdict.digests_differ.append(node.name + (" (no answer)" if found is None else ""))
    return verdict


def closed_not_once(events: list, record: Record) -> list[tuple[str, int]]:
    task_of: dict[str, int] = {}
    closed: Counter[int] = Counter()
    for event in events:
        if isinstance(event, TaskSubmitted):
            task_of[event.recipe] = event.task_id
        elif isinstance(event, TaskReleased) and event.outcome is Outcome.CLOSED:
            closed[event.task_id] += 1
    return [(recipe, closed[task_of[recipe]] if recipe in task_of else 0)
            for recipe in record.acked
            if recipe not in task_of or closed[task_of[recipe]] != 1]  # fmt: skip


def expiry_lateness(events: list) -> list[tuple[float, float]]:
    """(deadline, seconds late) of every assignment the scheduler took back (Unix times)."""
    deadlines: dict[int, float] = {}
    late = []
    for event in events:
        if isinstance(event, TaskAssigned):
            deadlines[event.task_id] = event.deadline
        elif isinstance(event, AssignmentExpired):
            deadline = deadlines[event.task_id]
            late.append((deadline, event.at - deadline))
    return late


def seen_twice(holdings: list[Holding]) -> list[tuple[Holding, Holding]]:
    """Pairs of workers that both held one task at one moment, by their own answers."""
    held: dict[int, list[Holding]] = defaultdict(list)
    for holding in holdings:
        if holding.updated and holding.released is not None:
            held[holding.task].append(holding)
    twice = []
    for spans in held.values():
        spans.sort(key=lambda h: h.got)
        for first, then in zip(spans, spans[1:], strict=False):
            if then.got < first.released:  # type: ignore[operator]
                twice.append((first, then))
    return twice


async def node_digest(session: aiohttp.ClientSession, url: str, head: int) -> dict | None:
    """The node's digests once its read models have reached ``head`` (None: it never did, or
    never answered: a wedged node)."""

    async def at_head() -> dict | None:
        try:
            async with session.get(url + "/audit/digest", headers=BEARER) as response:
                if response.status != 200:
                    return None
                content = (await response.json())["content"]
        except (aiohttp.ClientError, TimeoutError):
            return None
        return dict(content["models"]) if content["position"] == head else None

    try:
        return await eventually(at_head, within=30, every=0.1, what=f"{url} at {head}")
    except AssertionError:
        return None
