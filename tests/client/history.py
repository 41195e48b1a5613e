"""What the log says happened to tasks (read through ``tracker events export``)."""

from __future__ import annotations

from collections import Counter


def submitted(events: list[dict]) -> set[int]:
    ids: set[int] = set()
    for record in events:
        event = record["event"]
        if record["type"] == "TaskSubmitted":
            ids.add(event["task_id"])
        elif record["type"] == "TasksSubmitted":
            first = event["first_task_id"]
            ids.update(range(first, first + len(event["tasks"])))
    return ids


def releases(events: list[dict], outcome: str) -> Counter[int]:
    """How many releases of each task had ``outcome`` (closed, skipped, failed, retry...)."""
    return Counter(
        record["event"]["task_id"]
        for record in events
        if record["type"] == "TaskReleased" and record["event"]["outcome"] == outcome
    )


def verifications(events: list[dict]) -> dict[int, int]:
    """The verification each closed task was released with."""
    return {
        record["event"]["task_id"]: record["event"].get("verification", 0)
        for record in events
        if record["type"] == "TaskReleased" and record["event"]["outcome"] == "closed"
    }
