"""Nodes on a PostgreSQL of the harness's own, the roles they hold, and the faults dealt them.

Each node is a ``tracker serve`` process (tests/processes.py) whose sessions carry its name as
``application_name`` (``node-N``, a server setting in its DSN; or ``tracker HOST PID`` where the
node names its sessions itself), so PostgreSQL's own views say which node a session, and a
lock, belongs to:

- the **turn holder** is the node whose session holds the log's append lock (an advisory lock
  keyed ``(APPEND_LOCK, the table's oid)``, granted, in ``pg_locks``);
- the **leader** is the node that last logged that it runs the scheduler's jobs.

``supervise`` stands for the operator's supervisor: a node that exits without being told to is
counted (status, last line) and started again on its data, so a scenario goes on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg

from tests.faults.postgres_server import OwnPostgres
from tests.processes import Server, Servers
from tests.waiting import eventually
from tracker.events import postgres_sql as sql

LEADS = "this node now runs the scheduler's jobs"
LOST = "this node no longer runs the scheduler's jobs"
AUDIT_TOKEN = "a-fault-harness-audit-token-0123456789"
ENV = {"TRACKER_AUDIT_TOKEN": AUDIT_TOKEN, "TRACKER_LOG_LEVEL": "info"}

#: The session names (application_name) of the sessions holding the writer's turn.
HOLDER = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objsubid = 2
"""
#: ... of the sessions running a statement, or holding the writer's turn or waiting for it.
BUSY = """
SELECT a.application_name FROM pg_stat_activity a WHERE a.state = 'active'
    OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory'
               AND l.classid::bigint = $1 AND l.objsubid = 2)
"""
SESSIONS = "SELECT pid, application_name FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
TERMINATE = "SELECT count(*) FILTER (WHERE pg_terminate_backend(p)) FROM unnest($1::int[]) p"


@dataclass
class Exit:
    """A node that exited without being told to."""

    node: int
    status: int
    at: float
    line: str  # its last line on standard error


@dataclass
class Cluster:
    postgres: OwnPostgres
    schema: str
    nodes: list[Server]
    admin: asyncpg.Connection
    down: set[int] = field(default_factory=set)  # stopped or killed on purpose
    exits: list[Exit] = field(default_factory=list)

    @classmethod
    async def start(cls, servers: Servers, postgres: OwnPostgres, schema: str,
                    count: int = 2) -> Cluster:  # fmt: skip
        """``count`` nodes on a fresh schema, started one after another (the first leads)."""
        nodes = [servers.new(f"{schema}-node-{n}", env=ENV,
                             database=postgres.dsn(schema, application_name=f"node-{n}"))
                 for n in range(count)]  # fmt: skip
        for node in nodes:
            await node.astart()
        await nodes[0].line(LEADS, within=30)
        admin = await asyncpg.connect(postgres.dsn("public"))
        return cls(postgres, schema, nodes, admin)

    @property
    def dsn(self) -> str:
        """The log's DSN, for readers that are no node."""
        return self.postgres.dsn(self.schema)

    async def close(self) -> list[int]:
        """Stop every node (SIGTERM): their exit statuses."""
        self.down.update(range(len(self.nodes)))
        statuses = [node.stop() for node in self.nodes]
        await self.admin.close()
        return statuses

    # --- roles -------------------------------------------------------------------------

    def node_of(self, session: str | None) -> int | None:
        """The node a session belongs to, by its name: ``node-N`` as the harness's DSN sets
        it, or ending in the node's pid (``tracker HOST PID``, when the node names its own)."""
        for n, node in enumerate(self.nodes):
            mine = node.process is not None and (session or "").endswith(f" {node.pid}")
            if session == f"node-{n}" or mine:
                return n
        return None

    async def turn_holder(self) -> int | None:
        return self.node_of(await self.admin.fetchval(HOLDER, sql.APPEND_LOCK))

    def leader(self) -> int | None:
        for n, node in enumerate(self.nodes):
            said = [line for line in node.lines() if LEADS in line or LOST in line]
            if n not in self.down and node.running() and said and LEADS in said[-1]:
                return n
        return None

    def other(self, node: int) -> int:
        return (node + 1) % len(self.nodes)

    # --- faults ------------------------------------------------------------------------

    async def freeze_in_turn(self, node: int, within: float = 60) -> None:
        """SIGSTOP ``node`` at a moment it holds the writer's turn (checked after the stop)."""

        async def caught() -> bool:
            if await self.turn_holder() != node:
                return False
            self.nodes[node].pause()
            if await self.turn_holder() == node:
                return True
            self.nodes[node].resume()  # its turn ended before the stop: try again
            return False

        await eventually(caught, within=within, every=0.001, what=f"node-{node} in its turn")

    async def freeze_out_of_turn(self, node: int, within: float = 60) -> None:
        """SIGSTOP ``node`` at a moment none of its sessions runs a statement, holds the
        writer's turn or waits for it (looked at twice, after what was in flight arrived)."""

        async def idle() -> bool:
            busy = await self.admin.fetch(BUSY, sql.APPEND_LOCK)
            return all(self.node_of(row[0]) != node for row in busy)

        async def caught() -> bool:
            self.nodes[node].pause()
            if await idle() and await idle():
                return True
            self.nodes[node].resume()
            return False

        await eventually(caught, within=within, every=0.01, what=f"node-{node} out of turn")

    async def restart(self, node: int) -> None:
        """Start a node that was stopped or killed on purpose; return once it is ready."""
        await self.nodes[node].astart()
        self.down.discard(node)

    async def terminate_sessions(self, node: int) -> int:
        """``pg_terminate_backend`` every session of ``node``: how many there were."""
        sessions = await self.admin.fetch(SESSIONS)
        mine = [pid for pid, name in sessions if self.node_of(name) == node]
        return int(await self.admin.fetchval(TERMINATE, mine))

    async def reconnect_admin(self) -> None:
        """A new admin session, after PostgreSQL restarted."""
        if not self.admin.is_closed():
            self.admin.terminate()
        self.admin = await asyncpg.connect(self.postgres.dsn("public"))

    # --- the supervisor ----------------------------------------------------------------

    async def supervise(self) -> None:
        """Count every node that exits without being told to, and start it again."""
        while True:
            for n, node in enumerate(self.nodes):
                if n in self.down or node.running() or node.process is None:
                    continue
                lines = node.lines()
                self.exits.append(Exit(n, node.wait(), time.monotonic(),
                                       lines[-1] if lines else ""))  # fmt: skip
                self.down.add(n)
                try:
                    await self.restart(n)
                except AssertionError:  # it exited again while starting: counted at next look
                    self.down.discard(n)
            await asyncio.sleep(0.2)  # the supervisor's period between looks
