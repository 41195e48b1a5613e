"""What a node on a shared log runs beside its tracker: the follower and the leader lease."""

from __future__ import annotations

from typing import Any

from tracker.cluster.follower import Follower
from tracker.cluster.leader import Leadership
from tracker.events.postgres import PostgresEventStore


class ClusterNode:
    def __init__(self, follower: Follower, leadership: Leadership) -> None:
        self.follower = follower
        self.leadership = leadership

    async def close(self) -> None:
        await self.leadership.close()
        await self.follower.close()


async def cluster_node(tracker: Any) -> ClusterNode | None:
    """Start following the log and competing for the scheduler, if the log is shared."""
    if tracker.turns is None or not isinstance(tracker.store, PostgresEventStore):
        return None
    follower = Follower(tracker.store, tracker.turns)
    await follower.start()
    leadership = Leadership(tracker.store)
    await leadership.start()
    tracker.cluster = node = ClusterNode(follower, leadership)
    return node
