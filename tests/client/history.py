"""What the log says happened to tasks (read through ``tracker events export``), whether the
worker released them one by one (``TaskReleased``) or in batches (``TasksReleased``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator


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


def released(events: list[dict]) -> Iterator[dict]:
    """Every release, in log order: the fields of a ``TaskReleased``, one per task."""
    for record in events:
        if record["type"] == "TaskReleased":
            yield record["event"]
        elif record["type"] == "TasksReleased":
            yield from record["event"]["tasks"]


def assigned(events: list[dict]) -> Iterator[tuple[int, int]]:
    """Every assignment, in log order: (task, worker)."""
    for record in events:
        event = record["event"]
        if record["type"] == "TaskAssigned":
            yield event["task_id"], event["worker_id"]
        elif record["type"] == "TasksAssigned":
            yield from ((entry["task_id"], event["worker_id"]) for entry in event["tasks"])


def releases(events: list[dict], outcome: str) -> Counter[int]:
    """How many releases of each task had ``outcome`` (closed, skipped, failed, retry...)."""
    return Counter(r["task_id"] for r in released(events) if r["outcome"] == outcome)


def reasons(events: list[dict]) -> dict[int, list[str]]:
    """The reasons each task was released with, in order (failures carry one)."""
    found: dict[int, list[str]] = {}
    for release in released(events):
        found.setdefault(release["task_id"], []).append(release.get("reason", ""))
    return found


def verifications(events: list[dict]) -> dict[int, int]:
    """The verification each closed task was released with."""
    return {r["task_id"]: r.get("verification", 0) for r in released(events)
            if r["outcome"] == "closed"}  # fmt: skip
