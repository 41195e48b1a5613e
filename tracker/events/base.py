"""The shape every event shares.

Events are immutable facts, named in the past tense. Each one records when it was decided
(``at``, Unix seconds) and who caused it (``actor``), so replay never reads a clock and the
log answers "who did what, when". Schema evolution follows msgspec's rules: new fields get
defaults, nothing is renamed or retyped; ``v`` says which revision of a type wrote a record.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import ClassVar

import msgspec

SYSTEM = "system"
WEBHOOK = "webhook"  # a signed git push


def worker_actor(worker_id: int) -> str:
    return f"worker:{worker_id}"


def manager_actor(manager_id: int) -> str:
    return f"manager:{manager_id}"


def actor_worker(actor: str) -> int | None:
    """The worker id in a ``worker:<id>`` actor, None for any other actor."""
    kind, _, number = actor.partition(":")
    return int(number) if kind == "worker" and number.isdigit() else None


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    """Base of all events. Subclasses set ``tag=True`` so the class name is the stored type."""

    at: float
    actor: str
    v: int = 1

    #: Fields that hold a secret (worker, project and webhook secrets, password hashes). They
    #: stay in the log and are shown as "[redacted]" wherever events leave it (export, the
    #: change feed, task history). A new event type with a secret declares it here.
    secret_fields: ClassVar[tuple[str, ...]] = ()

    def concerned_tasks(self) -> Collection[int]:
        """The ids of the tasks this event is about (task history, ``--task`` filters)."""
        return ()

    def concerned_project(self) -> int | None:
        """The project this event is about: every event of a project names it ``project_id``."""
        project = getattr(self, "project_id", None)
        return project if isinstance(project, int) else None

    def concerned_workers(self) -> Collection[int]:
        """The workers this event is about: the one it names and the one who caused it."""
        named, acting = getattr(self, "worker_id", None), actor_worker(self.actor)
        return {w for w in (named, acting) if isinstance(w, int)}


class Recorded(msgspec.Struct, frozen=True, gc=False):
    """An event as the log holds it: its global position and its link in the hash chain."""

    position: int
    event: Event
    hash: bytes = b""
