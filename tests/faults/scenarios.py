"""The fault scenarios, and one run of a scenario under load, start to verdict.

A run: two nodes on a fresh schema of the harness's own PostgreSQL (tests/faults/cluster.py),
a manager, a project and eight workers (four per node) under steady load
(tests/faults/load.py) with the supervisor watching; ``warmup`` seconds of load, the fault,
``after`` seconds more, then the load drains (no new submit, every task taken and closed),
the log and the nodes are judged (tests/faults/checks.py), and every node is stopped with
SIGTERM. The result holds the figures (tests/faults/measures.py) and the bounds it is held to.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from tests.faults.checks import BEARER, Verdict, judge
from tests.faults.cluster import Cluster, Exit
from tests.faults.load import REQUEST_TIMEOUT, Load
from tests.faults.postgres_server import OwnPostgres
from tests.integration.test_sigkill import prepare
from tests.processes import Servers
from tests.waiting import eventually


@dataclass(frozen=True)
class Fault:
    """What was done: to which node (None: to PostgreSQL, so to all), from when to when."""

    victim: int | None
    start: float
    end: float
    what: str


@dataclass(frozen=True)
class Scenario:
    name: str
    deal: Callable[[Cluster], Awaitable[Fault]]
    stall_bound: float | None = 5.0  # the other nodes' longest stall: 3 s, and a margin
    recovery_bound: float = 15.0  # every node writes again within this after the fault
    expiry_bound: float | None = None  # a kept task handed out again this late at most


async def _leader(cluster: Cluster) -> int:
    def found() -> tuple[int] | None:
        leader = cluster.leader()
        return None if leader is None else (leader,)

    return (await eventually(found, within=30, what="a leader"))[0]


#: Whom a role names (given the leader), how the harness catches it, and how that reads.
ROLES: dict[str, tuple[Callable[[Cluster, int], int], Callable[[Cluster, int], Awaitable[None]],
                       str]] = {
    "turn-holder": (Cluster.other, Cluster.freeze_in_turn, "not the leader, in its writer turn"),
    "leader": (lambda _, leader: leader, Cluster.freeze_out_of_turn, "the leader, out of turn"),
}  # fmt: skip


async def _caught(cluster: Cluster, role: str) -> tuple[int, str]:
    """The node ``role`` names, SIGSTOPped at a moment that fits it; how that reads."""
    victim_of, catch, how = ROLES[role]
    victim = victim_of(cluster, await _leader(cluster))
    await catch(cluster, victim)
    return victim, f"node-{victim} ({how})"


def freeze(role: str, seconds: float) -> Callable[[Cluster], Awaitable[Fault]]:
    async def deal(cluster: Cluster) -> Fault:
        victim, who = await _caught(cluster, role)
        start = time.monotonic()
        await asyncio.sleep(seconds)  # frozen that long: time passing is the scenario
        cluster.nodes[victim].resume()
        return Fault(victim, start, time.monotonic(), f"{who} SIGSTOPped for {seconds:g} s")

    return deal


def kill(role: str, down: float) -> Callable[[Cluster], Awaitable[Fault]]:
    async def deal(cluster: Cluster) -> Fault:
        victim, who = await _caught(cluster, role)  # stopped at that moment, then killed
        cluster.down.add(victim)
        cluster.nodes[victim].kill()
        start = time.monotonic()
        await asyncio.sleep(down)  # kept down that long: time passing is the scenario
        await cluster.restart(victim)
        return Fault(victim, start, time.monotonic(), f"{who} SIGKILLed, {down:g} s down")

    return deal


def terminate_sessions(rounds: int, every: float = 0.5) -> Callable[[Cluster], Awaitable[Fault]]:
    async def deal(cluster: Cluster) -> Fault:
        victim, ended = await _leader(cluster), 0
        start = time.monotonic()
        for _ in range(rounds):
            ended += await cluster.terminate_sessions(victim)
            await asyncio.sleep(every)  # the faults' pace: time passing is the scenario
        what = (f"node-{victim} (the leader): all its PostgreSQL sessions terminated "
                f"{rounds} times, every {every:g} s ({ended} sessions)")  # fmt: skip
        return Fault(victim, start, time.monotonic(), what)

    return deal


def restart_postgres(down: float) -> Callable[[Cluster], Awaitable[Fault]]:
    async def deal(cluster: Cluster) -> Fault:
        start = time.monotonic()
        await asyncio.to_thread(cluster.postgres.stop, "fast")
        await asyncio.sleep(down)  # PostgreSQL kept down: time passing is the scenario
        await asyncio.to_thread(cluster.postgres.start)
        await cluster.reconnect_admin()
        stopped = time.monotonic() - start
        return Fault(None, start, time.monotonic(), f"PostgreSQL restarted (down {stopped:.1f} s)")

    return deal


SCENARIOS = {s.name: s for s in [
    Scenario("freeze-turn-holder-20", freeze("turn-holder", 20)),
    Scenario("freeze-turn-holder-70", freeze("turn-holder", 70)),
    Scenario("kill-turn-holder", kill("turn-holder", 5)),
    Scenario("freeze-leader-20", freeze("leader", 20), expiry_bound=8.0),
    Scenario("freeze-leader-70", freeze("leader", 70), expiry_bound=8.0),
    Scenario("kill-leader", kill("leader", 5), expiry_bound=8.0),
    Scenario("terminate-sessions-10", terminate_sessions(10)),
    Scenario("terminate-sessions-50", terminate_sessions(50)),
    Scenario("restart-postgres", restart_postgres(0.2), stall_bound=None),
    Scenario("postgres-down-20", restart_postgres(20), stall_bound=None),
]}  # fmt: skip
#: The scenarios CI runs (tests/integration/test_cluster_fault_scenarios.py): a few minutes in all.
IN_CI = ("freeze-turn-holder-20", "freeze-leader-20", "terminate-sessions-10", "restart-postgres")


@dataclass
class Outcome:
    """A run's raw material, which tests/faults/report.py measures and judges."""

    scenario: Scenario
    fault: Fault
    load: Load
    after: float
    exits: list[Exit]
    statuses: list[int]  # at the final SIGTERM
    verdict: Verdict


async def run(scenario: Scenario, servers: Servers, postgres: OwnPostgres, *,
              warmup: float = 3.0, after: float = 8.0, pace: float = 0.05) -> Outcome:  # fmt: skip
    """One run of ``scenario`` (see the module's docstring)."""
    cluster = await Cluster.start(servers, postgres, f"faults_{secrets.token_hex(4)}")
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        project, workers = await prepare(session, cluster.nodes[0].url)
        load = Load(session, cluster.nodes, project, workers, pace)
        working = asyncio.create_task(load.run())
        watching = asyncio.create_task(cluster.supervise())
        try:
            await asyncio.sleep(warmup)  # steady load before the fault: time passing
            fault = await scenario.deal(cluster)
            await asyncio.sleep(after)  # the load goes on after the fault: time passing
            load.drain()
            await eventually(lambda: drained(cluster, load), within=120, every=0.2,
                             what="every task taken and closed")  # fmt: skip
        finally:
            load.stop()
            watching.cancel()
            await asyncio.gather(working, watching, return_exceptions=True)
        verdict = await judge(cluster, load.record, session)
    statuses = await cluster.close()
    return Outcome(scenario, fault, load, after, cluster.exits, statuses, verdict)


async def drained(cluster: Cluster, load: Load) -> bool:
    for node in range(len(cluster.nodes)):
        if node in cluster.down:
            continue
        answer = await load.call(node, "GET", f"/project/state/{load.project}", None, BEARER)
        if answer is not None and answer[0] == 200:
            tasks = answer[1]["content"]["tasks"]
            return bool(tasks["queued"] == 0 and tasks["assigned"] == 0)
    return False
