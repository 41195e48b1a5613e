"""Steady worker load on a cluster, and a record of everything the workers saw.

Each worker is bound to one node (worker ``n`` to node ``n % nodes``), so what one node
answers, and when, is that node's alone. In a loop it submits a task (a recipe of its own,
``max_assign_time`` :data:`HOLD`), asks for one (``/task/get``) and releases it closed,
pausing ``pace`` seconds between rounds; every :data:`ABANDON_EVERY`-th task it takes it
keeps without a word, so the scheduler must take it back. Every request is timed by the
monotonic clock and kept per node: answered or not, its status and how long it took. The
record holds every acknowledged submit (``{"ok": true}``), every assignment as the worker
got it (task, worker, when the answer came, when the release was sent and whether it was
``updated``), and each node's acknowledged writes (a submit acknowledged, a task handed
out, a release ``updated``), whose gaps are the node's stalls.

``drain`` stops submitting and abandoning; the workers then take and close what is left.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.processes import Server

HOLD = 2  # seconds a worker may hold a task: abandoned or stranded ones come back after it
ABANDON_EVERY = 20  # one task in this many is kept and never released
REQUEST_TIMEOUT = 10.0  # a request to a frozen node is given up after this (outcome unknown)


@dataclass
class Holding:
    """One assignment as its worker saw it."""

    task: int
    worker: int
    node: int
    got: float  # when the answer that handed it out arrived
    released: float | None = None  # when the release was sent (None: abandoned)
    updated: bool | None = None  # the release's answer (None: none came)


@dataclass
class Request:
    node: int
    route: str
    sent: float
    took: float
    status: int | None  # None: no answer (refused, reset, timed out)


@dataclass
class Record:
    """What the workers saw (see the module's docstring)."""

    nodes: int
    acked: dict[str, float] = field(default_factory=dict)  # recipe -> when acknowledged
    holdings: list[Holding] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    writes: list[list[float]] = field(default_factory=list)  # per node: when acknowledged

    def __post_init__(self) -> None:
        self.writes = [[] for _ in range(self.nodes)]

    def wrote(self, node: int) -> None:
        self.writes[node].append(time.monotonic())


@dataclass
class Load:
    """Workers on ``nodes`` (see the module's docstring); ``run`` until ``stop``."""

    session: aiohttp.ClientSession
    nodes: list[Server]
    project: int
    workers: list[dict[str, str]]
    pace: float = 0.05
    record: Record = field(init=False)
    submitting: bool = True
    stopped: bool = False

    def __post_init__(self) -> None:
        self.record = Record(len(self.nodes))

    async def run(self) -> None:
        await asyncio.gather(*(self._work(n, w) for n, w in enumerate(self.workers)))

    def drain(self) -> None:
        self.submitting = False

    def stop(self) -> None:
        self.stopped = True

    async def call(self, node: int, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any] | None:  # fmt: skip
        """One request to ``node``, recorded; None when no answer came."""
        sent, status, answer = time.monotonic(), None, None
        try:
            async with self.session.request(method, self.nodes[node].url + path, json=body,
                                            headers=headers) as response:  # fmt: skip
                status = response.status
                answer = await response.json(content_type=None)
        except ValueError:  # answered, but not with JSON
            answer = {}
        except (aiohttp.ClientError, TimeoutError):
            status = None  # no answer, or not all of it
        took = time.monotonic() - sent
        self.record.requests.append(Request(node, path.split("/")[2], sent, took, status))
        return None if status is None else (status, answer)

    async def _work(self, n: int, headers: dict[str, str]) -> None:
        node, me, rounds = n % len(self.nodes), int(headers["X-Worker-Id"]), 0
        while not self.stopped:
            rounds += 1
            if self.submitting:
                await self._submit(node, headers, f"w{me}-{rounds}")
            await self._take(
                node, headers, me, abandon=self.submitting and (rounds + n) % ABANDON_EVERY == 0
            )
            await asyncio.sleep(self.pace)  # a worker's pace between rounds, not a wait

    async def _submit(self, node: int, headers: dict[str, str], recipe: str) -> None:
        body = {"project": self.project, "recipe": recipe, "max_assign_time": HOLD}
        answer = await self.call(node, "POST", "/task/submit", body, headers)
        if answer is not None and answer[1] == {"ok": True}:
            self.record.acked[recipe] = time.monotonic()
            self.record.wrote(node)

    async def _take(self, node: int, headers: dict[str, str], me: int, abandon: bool) -> None:
        answer = await self.call(node, "GET", f"/task/get/{self.project}", None, headers)
        if answer is None or answer[0] != 200 or not answer[1].get("ok"):
            return
        self.record.wrote(node)
        holding = Holding(answer[1]["content"]["task"]["id"], me, node, time.monotonic())
        self.record.holdings.append(holding)
        if abandon:
            return
        holding.released = time.monotonic()
        release = {"task_id": holding.task, "result": 0}
        answer = await self.call(node, "POST", "/task/release", release, headers)
        if answer is not None and answer[0] == 200 and answer[1].get("ok"):
            holding.updated = answer[1].get("content") == {"updated": True}
            if holding.updated:
                self.record.wrote(node)
